# GovStore: `make run` serves the demo on 127.0.0.1:8000; `make test` runs the whole suite.
# Both install everything they need first (a local .venv; nothing is installed globally but
# the Debian packages a target needs).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp

.PHONY: run test install lint typecheck format openapi openapi-check migrations-check fuzz bench clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e './sdk[dev]'
	touch $(STAMP)

# GOV.UK Frontend (served by the web pages) and axe-core (the browser tests' accessibility
# checks), exactly as package-lock.json pins them; never committed.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
/usr/bin/chromium:
	apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

install: $(STAMP) $(NPM_STAMP) /usr/bin/chromium

run: install
	$(BIN)/marketplace migrate
	$(BIN)/marketplace demo
	$(BIN)/marketplace serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd sdk && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	cd sdk && ../$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: install
	$(BIN)/marketplace openapi

openapi-check: install
	$(BIN)/marketplace openapi --check

migrations-check: install
	$(BIN)/python scripts/check_migrations.py

fuzz: install
	$(BIN)/pytest tests/marketplace/test_fuzz.py

bench: install
	bash bench/run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache

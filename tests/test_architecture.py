"""The dependency rule: the foundation imports nothing from review/ or kitemarks/; no SDK server imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The assembly may import from every package (STYLE.md): the app, the job/worker wiring, the
# table registry for migrations, the CLI and the demo loader.
ASSEMBLY = {"app.py", "worker.py", "tables.py", "cli.py", "demo/loader.py"}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_foundation_imports_no_capability() -> None:
    offenders = []
    for path in (ROOT / "marketplace").rglob("*.py"):
        if path.relative_to(ROOT / "marketplace").as_posix() in ASSEMBLY:
            continue
        for name in imports_of(path):
            if name.split(".")[0] in {"review", "kitemarks", "catalogue", "transparency"}:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_review_does_not_import_kitemarks() -> None:
    for path in (ROOT / "review").rglob("*.py"):
        assert not any(
            n.split(".")[0] in {"kitemarks", "catalogue", "transparency"} for n in imports_of(path)
        ), path


def test_kitemarks_do_not_import_the_catalogue() -> None:
    # The catalogue builds on consents and grants, never the other way round.
    for path in (ROOT / "kitemarks").rglob("*.py"):
        assert not any(n.split(".")[0] == "catalogue" for n in imports_of(path)), path


def test_transparency_builds_on_trust_only() -> None:
    # The log builds on the foundation and the key ring (kitemarks); kitemarks reach it only
    # through hooks the assembly installs, and it knows nothing of review or the catalogue.
    for path in (ROOT / "kitemarks").rglob("*.py"):
        assert not any(n.split(".")[0] == "transparency" for n in imports_of(path)), path
    for path in (ROOT / "transparency").rglob("*.py"):
        assert not any(n.split(".")[0] in {"review", "catalogue"} for n in imports_of(path)), path


def test_sdk_imports_nothing_from_the_server() -> None:
    for path in (ROOT / "sdk" / "src").rglob("*.py"):
        names = imports_of(path)
        assert not any(
            n.split(".")[0] in {"marketplace", "review", "kitemarks", "catalogue", "transparency"}
            for n in names
        ), path


def test_only_the_assembly_imports_the_web_pages() -> None:
    # The web pages build on every package's services; nothing builds on them but the app.
    allowed = {ROOT / "marketplace" / "app.py"}
    offenders = []
    for package in ("marketplace", "review", "kitemarks", "catalogue"):
        for path in (ROOT / package).rglob("*.py"):
            if path in allowed:
                continue
            if any(n.split(".")[0] == "web" for n in imports_of(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_web_pages_import_no_sdk_and_no_http_client() -> None:
    # Pages call the service functions directly (same rules, same audit events), never the API.
    for path in (ROOT / "web").rglob("*.py"):
        names = {n.split(".")[0] for n in imports_of(path)}
        assert not names & {"govstore", "httpx", "requests"}, path

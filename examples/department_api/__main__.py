"""Serve the example department API: `python -m examples.department_api` from the repo root."""

from __future__ import annotations

import json
import os

import uvicorn

from examples.department_api.app import create_app


def read_incomes(raw: str) -> dict[str, int]:
    """Parse DEPARTMENT_INCOMES: a JSON object from citizen account id to income in pounds."""
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise SystemExit(f"DEPARTMENT_INCOMES is not JSON: {error}") from error
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in value.items()
    ):
        raise SystemExit('DEPARTMENT_INCOMES must look like {"<account id>": 23000}')
    return value


def main() -> None:
    """Read the environment and serve on 127.0.0.1."""
    client_id = os.environ.get("DATA_API_CLIENT_ID", "")
    client_secret = os.environ.get("DATA_API_CLIENT_SECRET", "")
    if not client_id or not client_secret:
        raise SystemExit(
            "set DATA_API_CLIENT_ID and DATA_API_CLIENT_SECRET "
            "(from POST /v1/admin/data-apis on GovStore)"
        )
    raw_port = os.environ.get("PORT", "8100")
    try:
        port = int(raw_port)
    except ValueError:
        raise SystemExit(f"PORT must be a number, not {raw_port!r}") from None
    app = create_app(
        govstore_url=os.environ.get("GOVSTORE_BASE_URL", "http://127.0.0.1:8000"),
        client_id=client_id,
        client_secret=client_secret,
        incomes=read_incomes(os.environ.get("DEPARTMENT_INCOMES", "{}")),
    )
    uvicorn.run(app, host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()

"""The `govstore` command line against the real app, in-process; and its manifest validator
against the server's.

The CLI runs in a worker thread with the sync client, over a transport that hands each
request to the app on the test's event loop (as in test_contract.py): still no server.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from govstore import cli
from govstore.cli._jsonschema import validate
from starlette.applications import Starlette
from testkit import FIXTURES, Actor, manifest_fixture

from marketplace.releases.manifest import manifest_schema, validate_manifest
from tests.kitemarks.conftest import Publish

BASE_URL = "http://127.0.0.1:8000"


class ToEventLoop(httpx.BaseTransport):
    """A sync transport that runs each request through the app on the given event loop."""

    def __init__(self, app: Starlette, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=30)


@pytest.fixture(autouse=True)
def _own_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GOVSTORE_BASE_URL", BASE_URL)
    monkeypatch.delenv("GOVSTORE_TOKEN", raising=False)


def run_cli(transport: httpx.BaseTransport, *argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.run(
        list(argv), stdout=stdout, stderr=stderr, stdin=io.StringIO(), transport=transport
    )
    return code, stdout.getvalue(), stderr.getvalue()


async def test_the_cli_against_the_app(
    app: Starlette,
    client: httpx.AsyncClient,
    provider: Actor,
    publish: Publish,
    tmp_path: Path,
) -> None:
    live = await publish(slug="warm-home-cli")
    kitemarks = await client.get(f"/v1/services/{live.service_id}/kitemarks")
    (credential,) = [item["credential"] for item in kitemarks.json()["items"]]
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps(manifest_fixture("warm-home-grant-checker")))
    invalid = FIXTURES / "manifests" / "invalid" / "wrong-types.json"
    transport = ToEventLoop(app, asyncio.get_running_loop())

    def scenario() -> None:
        code, out, err = run_cli(transport, "login", "--token", provider.token)
        assert code == cli.EXIT_OK, err
        assert "as provider <provider" in out

        code, out, err = run_cli(transport, "manifest", "validate", str(valid))
        assert code == cli.EXIT_OK, out + err
        code, out, _ = run_cli(transport, "manifest", "validate", str(invalid), "--json")
        assert code == cli.EXIT_FAILED
        assert {e["pointer"] for e in json.loads(out)["errors"]} == {
            e.pointer for e in validate_manifest(json.loads(invalid.read_text()))
        }

        code, out, err = run_cli(transport, "status", live.release_id, "--follow", "--json")
        assert code == cli.EXIT_OK, err
        assert json.loads(out.splitlines()[-1])["status"] == "published"

        code, out, err = run_cli(transport, "submit", live.service_id, str(valid), "--json")
        assert code == cli.EXIT_OK, err
        assert json.loads(out)["release"]["number"] == 2
        code, out, _ = run_cli(transport, "submit", "warm-home-cli", str(invalid))
        assert code == cli.EXIT_FAILED
        assert "/manifest/" in out

        code, out, err = run_cli(transport, "catalogue", "search", "--json")
        assert code == cli.EXIT_OK, err
        assert "warm-home-cli" in {item["slug"] for item in json.loads(out)["items"]}

        code, out, err = run_cli(transport, "kitemark", "verify", credential, "--check-status")
        assert code == cli.EXIT_OK, out + err
        assert out.startswith("valid: ")
        assert "status now: active" in out

        code, out, err = run_cli(transport, "status", "rel_unknown")
        assert code == cli.EXIT_API_ERROR

    await asyncio.to_thread(scenario)


# The CLI's validator gives the server's verdicts --------------------------------------------------


def broken_variants() -> list[Any]:
    """Manifests broken in many ways: each fixture's fields removed, retyped, emptied."""
    variants: list[Any] = []
    for name in ("acme-gp-online", "warm-home-grant-checker", "bus-pass-sandbox"):
        manifest = manifest_fixture(name)
        variants.append(manifest)
        for field, value in manifest.items():
            for replacement in (None, 12345, "", [], {}, [value], " padded "):
                variants.append({**manifest, field: replacement})
            variants.append({key: v for key, v in manifest.items() if key != field})
            if isinstance(value, list) and value and isinstance(value[0], dict):
                for inner in value[0]:
                    changed = copy.deepcopy(manifest)
                    changed[field][0][inner] = -1
                    variants.append(changed)
                    changed = copy.deepcopy(manifest)
                    del changed[field][0][inner]
                    variants.append(changed)
                changed = copy.deepcopy(manifest)
                changed[field].append(changed[field][0])
                variants.append(changed)
    for file in sorted((FIXTURES / "manifests" / "invalid").glob("*.json")):
        variants.append(json.loads(file.read_text()))
    return variants


def test_the_cli_validator_agrees_with_the_servers() -> None:
    schema = manifest_schema()
    variants = broken_variants()
    assert len(variants) > 300

    refused = 0
    for manifest in variants:
        server = {error.pointer for error in validate_manifest(manifest)}
        ours = {violation.pointer for violation in validate(manifest, schema)}
        assert ours == server, json.dumps(manifest)[:300]
        refused += bool(server)
    assert refused > 250  # most variants are broken: the comparison means something

"""Fixtures for review tests: reviewers and releases that have been through automated review."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from testkit import Actor, SignUp, manifest_fixture, settle


@pytest.fixture
async def reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="reviewer")


@pytest.fixture
async def second_reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="second")


Submit = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def submit(
    app: Starlette,
    client: httpx.AsyncClient,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
) -> Submit:
    """Create a service, submit a manifest, run the automated review; returns the release."""
    counter = iter(range(1, 1000))

    async def make(
        fixture: str = "acme-gp-online",
        *,
        changes: dict[str, Any] | None = None,
        slug: str | None = None,
        name: str | None = None,
        drop: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        n = next(counter)
        manifest = copy.deepcopy(manifest_fixture(fixture))
        manifest.update(changes or {})
        for key in drop:
            del manifest[key]
        if name:
            manifest["name"] = name
        service = await client.post(
            f"/v1/organisations/{organisation['id']}/services",
            json={"slug": slug or f"service-{n}", "name": manifest["name"]},
            headers=provider.headers,
        )
        assert service.status_code == 201, service.text
        sid = service.json()["id"]
        r = await client.post(
            f"/v1/services/{sid}/releases", json={"manifest": manifest}, headers=provider.headers
        )
        assert r.status_code == 201, r.text
        await settle(app)
        detail = await client.get(
            f"/v1/services/{sid}/releases/{r.json()['id']}", headers=provider.headers
        )
        return dict(detail.json())

    return make

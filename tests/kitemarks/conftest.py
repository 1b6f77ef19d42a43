"""Fixtures for trust tests: a published service with an OAuth client, a data API, the consent flow."""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from testkit import GUIDELINES, Actor, SignUp, manifest_fixture, settle

PASS_ALL = [{"code": g["code"], "result": "pass"} for g in GUIDELINES]
REDIRECT = "https://warmhome.example.org/oauth/callback"
OPTIONAL_USE = {
    "scope": "income.read",
    "purpose": "service_delivery",
    "purpose_description": "Fill in your grant application with your income details",
    "lawful_basis": "consent",
    "retention_days": 30,
    "shared_with_third_parties": False,
    "optional": True,
}


@pytest.fixture
async def reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="reviewer")


@pytest.fixture
async def second_reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="second")


@dataclass
class Published:
    service_id: str
    release_id: str
    client_id: str
    client_secret: str
    release: dict[str, Any]

    @property
    def basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.client_id, self.client_secret)


Publish = Callable[..., Awaitable[Published]]


@pytest.fixture
def publish(
    app: Starlette,
    client: httpx.AsyncClient,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    reviewer: Actor,
    second_reviewer: Actor,
) -> Publish:
    """Submit, review and approve a service (income.verify, optional income.read)."""
    counter = iter(range(1, 1000))

    async def make(
        *,
        slug: str | None = None,
        service_id: str | None = None,
        scopes: tuple[str, ...] = ("income.verify", "income.read"),
        kitemarks: tuple[str, ...] = ("privacy-assured",),
        **changes: Any,
    ) -> Published:
        """`changes` replace top-level manifest fields (name, summary, category, ...)."""
        manifest = copy.deepcopy(manifest_fixture("warm-home-grant-checker"))
        manifest["data_uses"].append(dict(OPTIONAL_USE))
        manifest.update(changes)
        if service_id is None:
            r = await client.post(
                f"/v1/organisations/{organisation['id']}/services",
                json={"slug": slug or f"warm-home-{next(counter)}", "name": manifest["name"]},
                headers=provider.headers,
            )
            assert r.status_code == 201, r.text
            service_id = r.json()["id"]
        r = await client.post(
            f"/v1/services/{service_id}/releases",
            json={"manifest": manifest},
            headers=provider.headers,
        )
        assert r.status_code == 201, r.text
        release_id = r.json()["id"]
        await settle(app)
        detail = await client.get(
            f"/v1/services/{service_id}/releases/{release_id}", headers=provider.headers
        )
        assert detail.json()["status"] == "awaiting_review", [
            (f["code"], f["message"]) for f in detail.json()["findings"] if f["result"] == "fail"
        ]
        r = await client.post(f"/v1/review/releases/{release_id}/claim", headers=reviewer.headers)
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/v1/review/releases/{release_id}/decision",
            json={
                "outcome": "approve",
                "findings": PASS_ALL,
                "kitemarks": list(kitemarks),
                "scopes": list(scopes),
            },
            headers=reviewer.headers,
        )
        assert r.status_code == 200, r.text
        if r.json()["needs_second_approval"]:
            r = await client.post(
                f"/v1/review/releases/{release_id}/second-approval",
                json={},
                headers=second_reviewer.headers,
            )
            assert r.status_code == 200, r.text
        r = await client.post(f"/v1/services/{service_id}/oauth-client", headers=provider.headers)
        assert r.status_code == 200, r.text
        secret = r.json()
        release = await client.get(
            f"/v1/services/{service_id}/releases/{release_id}", headers=provider.headers
        )
        return Published(
            service_id, release_id, secret["client_id"], secret["client_secret"], release.json()
        )

    return make


@dataclass
class DataApi:
    id: str
    client_id: str
    client_secret: str

    @property
    def basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.client_id, self.client_secret)


@pytest.fixture
def register_data_api(client: httpx.AsyncClient, admin: Actor) -> Callable[..., Awaitable[DataApi]]:
    async def make(data_owner: str = "HM Revenue & Customs", name: str = "HMRC income") -> DataApi:
        r = await client.post(
            "/v1/admin/data-apis",
            json={"name": name, "data_owner": data_owner},
            headers=admin.headers,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return DataApi(body["id"], body["client_id"], body["client_secret"])

    return make


@pytest.fixture
async def hmrc(register_data_api: Callable[..., Awaitable[DataApi]]) -> DataApi:
    return await register_data_api()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(
    svc: Published, scope: str, challenge: str | None, *, state: str = "xyz", **extra: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": svc.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra
    return "/oauth/authorize?" + urlencode(params)


@dataclass
class Flow:
    code: str
    verifier: str
    location: str


async def consent_flow(
    client: httpx.AsyncClient,
    citizen: Actor,
    svc: Published,
    *,
    scope: str = "income.verify income.read",
    keep: tuple[str, ...] = ("income.verify", "income.read"),
    days: int = 90,
) -> Flow:
    """The citizen sees the consent screen and allows; returns the code the service receives."""
    verifier, challenge = pkce()
    url = authorize_url(svc, scope, challenge)
    page = await client.get(url, headers=citizen.headers)
    assert page.status_code == 200, page.text
    r = await client.post(
        url,
        data={"confirm": "allow", "scope": list(keep), "expires_in_days": str(days)},
        headers=citizen.headers,
    )
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return Flow(query["code"][0], verifier, location)


async def exchange(client: httpx.AsyncClient, svc: Published, flow: Flow) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": flow.code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=svc.basic,
    )


async def introspect(
    client: httpx.AsyncClient, api: DataApi, token: str, **extra: str
) -> dict[str, Any]:
    r = await client.post("/oauth/introspect", data={"token": token, **extra}, auth=api.basic)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


@pytest.fixture
def settle_app(app: Starlette) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await settle(app)

    return run

"""The OAuth 2 authorization server: consent screen, code + PKCE, refresh rotation, client
credentials, introspection with access events, revocation, metadata."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from testkit import Actor

from kitemarks.oauth.views import introspector
from tests.kitemarks.conftest import (
    REDIRECT,
    DataApi,
    Publish,
    authorize_url,
    consent_flow,
    exchange,
    introspect,
    pkce,
)


async def test_metadata_follows_rfc_8414(client: httpx.AsyncClient) -> None:
    r = await client.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    meta = r.json()
    assert meta["issuer"] == "http://127.0.0.1:8000"
    assert meta["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }
    assert meta["jwks_uri"].endswith("/.well-known/jwks.json")


async def test_the_whole_flow(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    svc = await publish()
    verifier, challenge = pkce()
    url = authorize_url(svc, "income.verify income.read", challenge)
    page = await client.get(url, headers=citizen.headers)
    assert page.status_code == 200
    html = page.text
    # Each scope in plain English, with tier, purpose, retention and whether it is optional.
    assert "Check income is below a threshold" in html
    assert "yes or no answer only" in html
    assert "Warm Home Grant threshold" in html
    assert "0 days" in html and "30 days" in html
    assert 'type="checkbox"' in html and "(optional)" in html
    assert page.headers["cache-control"] == "no-store"

    r = await client.post(
        url,
        data={"confirm": "allow", "scope": ["income.verify"], "expires_in_days": "30"},
        headers=citizen.headers,
    )
    assert r.status_code == 302, r.text
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert r.headers["location"].startswith(REDIRECT + "?")
    assert query["state"] == ["xyz"]

    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=svc.basic,
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    token = r.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "income.verify"
    assert token["access_token"].startswith("gsa_") and token["refresh_token"].startswith("gsr_")

    answer = await introspect(client, hmrc, token["access_token"], case_reference="WHG-42")
    assert answer["active"] is True
    assert answer["scope"] == "income.verify" and answer["tiers"] == {"income.verify": "status"}
    assert answer["sub"] == citizen.id and answer["client_id"] == svc.client_id

    consents = (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"]
    assert len(consents) == 1
    consent = consents[0]
    assert consent["scopes"] == ["income.verify"] and consent["status"] == "active"
    assert consent["last_access_at"] is not None

    r = await client.delete(f"/v1/me/consents/{consent['id']}", headers=citizen.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert await introspect(client, hmrc, token["access_token"]) == {"active": False}
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=svc.basic,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_access_events_record_who_what_why(
    app: Any, client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    from sqlmodel import select

    from kitemarks.models import AccessEvent

    svc = await publish()
    flow = await consent_flow(client, citizen, svc)
    token = (await exchange(client, svc, flow)).json()
    await introspect(client, hmrc, token["access_token"], case_reference="case 7")
    async with app.state.platform.db.session(write=False) as session:
        events = (await session.exec(select(AccessEvent).order_by(AccessEvent.scope))).all()
    # One event per scope read, each with its own tier and the purpose the citizen was shown.
    assert [(e.scope, e.tier, e.purpose, e.case_reference) for e in events] == [
        ("income.read", "record", "service_delivery", "case 7"),
        ("income.verify", "status", "eligibility_check", "case 7"),
    ]
    event = events[0]
    assert (event.account_id, event.service_id, event.data_api_id) == (
        citizen.id,
        svc.service_id,
        hmrc.id,
    )


async def test_pkce_is_required_and_only_s256(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    svc = await publish()
    r = await client.get(authorize_url(svc, "income.verify", None), headers=citizen.headers)
    assert r.status_code == 302
    assert "error=invalid_request" in r.headers["location"]
    _, challenge = pkce()
    url = authorize_url(
        svc, "income.verify", None, code_challenge=challenge, code_challenge_method="plain"
    )
    r = await client.get(url, headers=citizen.headers)
    assert r.status_code == 302 and "error=invalid_request" in r.headers["location"]


async def test_a_wrong_verifier_is_refused(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    svc = await publish()
    flow = await consent_flow(client, citizen, svc)
    flow.verifier = pkce()[0]
    r = await exchange(client, svc, flow)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_redirect_uri_must_match_exactly(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    svc = await publish()
    _, challenge = pkce()
    for uri in (REDIRECT + "/extra", REDIRECT.replace("https", "http"), "https://evil.example/cb"):
        r = await client.get(
            authorize_url(svc, "income.verify", challenge, redirect_uri=uri),
            headers=citizen.headers,
        )
        # Never redirect to an address the service did not register.
        assert r.status_code == 400 and "location" not in r.headers
    r = await client.get(
        authorize_url(svc, "income.verify", challenge, client_id="cli_unknown"),
        headers=citizen.headers,
    )
    assert r.status_code == 400


async def test_sign_in_is_needed(client: httpx.AsyncClient, publish: Publish) -> None:
    svc = await publish()
    r = await client.get(authorize_url(svc, "income.verify", pkce()[1]))
    assert r.status_code == 401 and "Sign in" in r.text


async def test_scopes_not_granted_are_refused(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    svc = await publish(scopes=("income.verify",))
    r = await client.get(
        authorize_url(svc, "income.verify health.summary.read", pkce()[1]), headers=citizen.headers
    )
    assert r.status_code == 302 and "error=invalid_scope" in r.headers["location"]


async def test_deny_and_required_scopes(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    svc = await publish()
    url = authorize_url(svc, "income.verify income.read", pkce()[1])
    r = await client.post(url, data={"confirm": "deny"}, headers=citizen.headers)
    assert r.status_code == 302 and "error=access_denied" in r.headers["location"]
    assert "state=xyz" in r.headers["location"]
    # Unticking a required scope shows the screen again with the error; nothing is recorded.
    r = await client.post(
        url,
        data={"confirm": "allow", "scope": ["income.read"], "expires_in_days": "30"},
        headers=citizen.headers,
    )
    assert r.status_code == 400 and "There is a problem" in r.text
    r = await client.post(
        url,
        data={"confirm": "allow", "scope": ["income.verify"], "expires_in_days": "9999"},
        headers=citizen.headers,
    )
    assert r.status_code == 400
    assert (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"] == []


async def test_a_code_works_once_and_a_replay_revokes_its_tokens(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    svc = await publish()
    flow = await consent_flow(client, citizen, svc)
    first = await exchange(client, svc, flow)
    assert first.status_code == 200
    replay = await exchange(client, svc, flow)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await introspect(client, hmrc, first.json()["access_token"]) == {"active": False}


async def test_refresh_rotates_and_reuse_ends_the_family(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    svc = await publish()
    first = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()

    async def refresh(token: str, **extra: str) -> httpx.Response:
        return await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token, **extra},
            auth=svc.basic,
        )

    r = await refresh(first["refresh_token"], scope="income.verify")
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == "income.verify"
    assert (await introspect(client, hmrc, second["access_token"]))["active"] is True
    r = await refresh(second["refresh_token"], scope="income.verify health.summary.read")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    # The first refresh token again: someone holds a copy. The whole family ends.
    r = await refresh(first["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert await introspect(client, hmrc, second["access_token"]) == {"active": False}
    assert (await refresh(second["refresh_token"])).status_code == 400


async def test_client_credentials(
    client: httpx.AsyncClient, publish: Publish, hmrc: DataApi
) -> None:
    svc = await publish()
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=svc.basic)
    assert r.status_code == 200, r.text
    token = r.json()
    assert set(token["scope"].split()) == {"income.verify", "income.read"}
    assert "refresh_token" not in token and token["expires_in"] <= 600
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "health.summary.read"},
        auth=svc.basic,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    answer = await introspect(client, hmrc, token["access_token"])
    # A service-level token: active, about no citizen, so no access event.
    assert answer["active"] is True and "sub" not in answer
    assert answer["scope"] == "income.read income.verify"


async def test_client_authentication(client: httpx.AsyncClient, publish: Publish) -> None:
    svc = await publish()
    for auth in (httpx.BasicAuth(svc.client_id, "wrong"), httpx.BasicAuth("cli_nobody", "x")):
        r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": svc.client_id,
            "client_secret": svc.client_secret,
        },
    )
    assert r.status_code == 200
    r = await client.post("/oauth/token", data={"grant_type": "password"}, auth=svc.basic)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


async def test_introspection_is_for_data_apis_only(
    client: httpx.AsyncClient, publish: Publish, hmrc: DataApi, register_data_api: Any
) -> None:
    svc = await publish()
    token = (
        await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=svc.basic)
    ).json()["access_token"]
    for auth in (None, svc.basic, httpx.BasicAuth(hmrc.client_id, "wrong")):
        r = await client.post("/oauth/introspect", data={"token": token}, auth=auth)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post("/oauth/introspect", data={}, auth=hmrc.basic)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert await introspect(client, hmrc, "gsa_not-a-token") == {"active": False}
    dwp = await register_data_api("Department for Work and Pensions", "DWP")
    # Another department's API learns nothing about a token not meant for it.
    assert await introspect(client, dwp, token) == {"active": False}


async def test_revocation(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    svc = await publish()
    other = await publish()
    token = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()
    # Another service cannot revoke it, and learns nothing (200 either way).
    r = await client.post("/oauth/revoke", data={"token": token["access_token"]}, auth=other.basic)
    assert r.status_code == 200
    assert (await introspect(client, hmrc, token["access_token"]))["active"] is True
    r = await client.post(
        "/oauth/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
        auth=svc.basic,
    )
    assert r.status_code == 200
    assert await introspect(client, hmrc, token["access_token"]) == {"active": False}
    r = await client.post(
        "/oauth/revoke", data={"token": "x"}, auth=httpx.BasicAuth(svc.client_id, "no")
    )
    assert r.status_code == 401


async def test_suspending_the_service_ends_its_tokens(
    client: httpx.AsyncClient,
    reviewer: Actor,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
    admin: Actor,
    provider: Actor,
) -> None:
    svc = await publish()
    token = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()
    url = f"/v1/services/{svc.service_id}/suspend"
    assert (
        await client.post(url, json={"reason": "nope"}, headers=provider.headers)
    ).status_code == 403
    r = await client.post(
        url, json={"reason": "complaints under investigation"}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    assert await introspect(client, hmrc, token["access_token"]) == {"active": False}
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=svc.basic)
    assert r.status_code == 401
    r = await client.post(
        f"/v1/services/{svc.service_id}/reinstate",
        json={"reason": "cleared"},
        headers=admin.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert (await introspect(client, hmrc, token["access_token"]))["active"] is True


async def test_revoking_a_scope_grant_narrows_tokens(
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
    admin: Actor,
    provider: Actor,
) -> None:
    svc = await publish()
    token = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()
    view = (await client.get(f"/v1/services/{svc.service_id}", headers=provider.headers)).json()
    grant = next(g for g in view["scope_grants"] if g["scope"] == "income.verify")
    url = f"/v1/scope-grants/{grant['id']}/revoke"
    assert (
        await client.post(url, json={"reason": "x y z"}, headers=provider.headers)
    ).status_code == 403
    r = await client.post(url, json={"reason": "not needed any more"}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    answer = await introspect(client, hmrc, token["access_token"])
    assert answer["active"] is True and answer["scope"] == "income.read"
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "income.verify"},
        auth=svc.basic,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


async def test_two_exchanges_racing_for_one_code_leave_one_winner(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    import asyncio

    svc = await publish()
    flow = await consent_flow(client, citizen, svc)
    first, second = await asyncio.gather(exchange(client, svc, flow), exchange(client, svc, flow))
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    loser = first if first.status_code == 400 else second
    assert loser.json()["error"] == "invalid_grant"


async def test_malformed_requests_get_oauth_errors(
    client: httpx.AsyncClient, publish: Publish, hmrc: DataApi
) -> None:
    svc = await publish()
    r = await client.post(
        "/oauth/token",
        content=b"\xff\xfe",
        auth=svc.basic,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code in (400, 401) and "error" in r.json()
    r = await client.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=svc.basic)
    assert r.status_code == 400 and r.json()["error"] in {
        "invalid_request",
        "unsupported_grant_type",
    }
    r = await client.post(
        "/oauth/introspect", data={"token": "x" * 10, "case_reference": "c" * 201}, auth=hmrc.basic
    )
    assert r.status_code == 400
    r = await client.post("/oauth/token", content=b"a" * (2 * 1024 * 1024), auth=svc.basic)
    assert r.status_code == 413
    assert (await client.get("/oauth/token")).status_code == 405


async def test_a_busy_data_api_is_read_once_when_its_cached_entry_expires(
    app: Starlette, publish: Publish, hmrc: DataApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent introspections share one read of the data API's credentials, and of the scope
    table, when the cached copies expire (64 reads at once made the 99th percentile 3x)."""
    await publish()  # the guidelines, with their scopes
    checker = introspector(app.state.platform)
    reads: list[str] = []
    real_api, real_scopes = checker._load_api, checker._load_scopes

    async def load_api(client_id: str) -> Any:
        reads.append("api")
        await asyncio.sleep(0.02)
        return await real_api(client_id)

    async def load_scopes() -> Any:
        reads.append("scopes")
        await asyncio.sleep(0.02)
        return await real_scopes()

    monkeypatch.setattr(checker, "_load_api", load_api)
    monkeypatch.setattr(checker, "_load_scopes", load_scopes)
    checker._apis.clear()
    callers = await asyncio.gather(
        *(checker.authenticate(hmrc.client_id, hmrc.client_secret) for _ in range(20))
    )
    assert reads == ["api"]
    assert all(c is not None and c.id == hmrc.id for c in callers)
    wrong = await checker.authenticate(hmrc.client_id, "not the secret")
    assert wrong is None and reads == ["api"]  # answered from the entry just read
    tables = await asyncio.gather(*(checker._scope_table(reload=True) for _ in range(20)))
    assert reads == ["api", "scopes"]
    assert all(t == tables[0] and "income.verify" in t for t in tables)

"""Consents: list, narrow (never widen), change expiry, revoke with a signed webhook, expire,
signed Kantara receipts; nobody sees another citizen's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
from sqlmodel import col, update
from starlette.applications import Starlette
from testkit import Actor, Receiver, SignUp, assert_problem, running_receiver, settle

from kitemarks.models import Consent
from kitemarks.tasks import expire_grants_and_consents
from marketplace.db import utcnow
from marketplace.webhooks.signing import verify
from tests.kitemarks.conftest import DataApi, Publish, consent_flow, exchange, introspect


async def given(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    svc = await publish()
    token = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()
    [consent] = (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"]
    return svc, token, consent


async def test_list_and_read(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, sign_up: SignUp
) -> None:
    svc, _, consent = await given(client, publish, citizen)
    assert consent["service"]["id"] == svc.service_id
    assert consent["status"] == "active" and consent["scopes"] == ["income.read", "income.verify"]
    uses = {u["scope"]: u for u in consent["uses"]}
    assert uses["income.read"]["optional"] is True and uses["income.read"]["tier"] == "record"
    assert uses["income.verify"]["purpose"] == "eligibility_check"
    assert (
        await client.get(f"/v1/me/consents/{consent['id']}", headers=citizen.headers)
    ).json() == consent
    other = await sign_up("citizen")
    assert (await client.get("/v1/me/consents", headers=other.headers)).json()["items"] == []
    base = f"/v1/me/consents/{consent['id']}"
    assert_problem(await client.get(base, headers=other.headers), 404)
    assert_problem(await client.get(f"{base}/receipt", headers=other.headers), 404)
    assert_problem(await client.patch(base, json={"scopes": []}, headers=other.headers), 404)
    assert_problem(await client.delete(base, headers=other.headers), 404)
    assert_problem(await client.get("/v1/me/consents"), 401)


async def test_a_new_consent_replaces_the_old_one(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    svc, token, _ = await given(client, publish, citizen)
    await consent_flow(client, citizen, svc, keep=("income.verify",))
    items = (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"]
    assert [c["status"] for c in items] == ["active", "revoked"]
    assert items[1]["end_reason"] == "replaced by a new consent"
    assert await introspect(client, hmrc, token["access_token"]) == {"active": False}


async def test_narrow_never_widen(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    _, token, consent = await given(client, publish, citizen)
    url = f"/v1/me/consents/{consent['id']}"
    r = await client.patch(url, json={"scopes": ["income.verify"]}, headers=citizen.headers)
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["income.verify"]
    assert [u["scope"] for u in r.json()["uses"]] == ["income.verify"]
    # The token narrows with it, at once.
    assert (await introspect(client, hmrc, token["access_token"]))["scope"] == "income.verify"
    problem = assert_problem(
        await client.patch(
            url, json={"scopes": ["income.verify", "income.read"]}, headers=citizen.headers
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/scopes"
    assert_problem(await client.patch(url, json={"scopes": []}, headers=citizen.headers), 422)
    assert_problem(await client.patch(url, json={"color": "red"}, headers=citizen.headers), 422)


async def test_change_expiry(client: httpx.AsyncClient, publish: Publish, citizen: Actor) -> None:
    _, _, consent = await given(client, publish, citizen)
    url = f"/v1/me/consents/{consent['id']}"
    soon = (utcnow() + timedelta(days=7)).isoformat()
    r = await client.patch(url, json={"expires_at": soon}, headers=citizen.headers)
    assert r.status_code == 200 and r.json()["expires_at"].startswith(soon[:16])
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert_problem(await client.patch(url, json={"expires_at": past}, headers=citizen.headers), 422)
    far = (utcnow() + timedelta(days=400)).isoformat()
    assert_problem(await client.patch(url, json={"expires_at": far}, headers=citizen.headers), 422)
    assert_problem(
        await client.patch(url, json={"expires_at": "soon"}, headers=citizen.headers), 422
    )


async def test_revoke_sends_a_signed_webhook(
    make_app: Any,
    publish: Publish,
    citizen: Actor,
    provider: Actor,
    organisation: dict[str, Any],
    client: httpx.AsyncClient,
    app: Starlette,
) -> None:
    secret = "a-shared-secret-for-signing-webhooks"
    async with running_receiver() as receiver:
        r = await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": receiver.url, "secret": secret},
            headers=provider.headers,
        )
        assert r.status_code == 200, r.text
        _, _, consent = await given(client, publish, citizen)
        r = await client.delete(f"/v1/me/consents/{consent['id']}", headers=citizen.headers)
        assert r.status_code == 200
        assert_problem(
            await client.delete(f"/v1/me/consents/{consent['id']}", headers=citizen.headers), 409
        )
        await settle(app)
        events = _received(receiver, secret)
    revoked = [p for name, p in events if name == "consent.revoked"]
    assert len(revoked) == 1
    data = revoked[0]["data"]
    assert data["consent_id"] == consent["id"] and data["scopes"] == consent["scopes"]
    # The service learns which consent ended, never who the citizen is.
    assert citizen.id not in json.dumps(revoked[0]) and citizen.email not in json.dumps(revoked[0])
    assert "kitemark.granted" in [name for name, _ in events]


def _received(receiver: Receiver, secret: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for headers, body in receiver.received:
        assert verify(secret, headers["govstore-signature"], body)
        out.append((headers["govstore-event"], json.loads(body)))
    return out


async def test_expired_consents_end_their_tokens(
    app: Starlette, client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    _, token, consent = await given(client, publish, citizen)
    platform = app.state.platform
    async with platform.db.transaction() as session:
        await session.exec(
            update(Consent)
            .where(col(Consent.id) == consent["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await introspect(client, hmrc, token["access_token"]) == {"active": False}
    shown = (await client.get(f"/v1/me/consents/{consent['id']}", headers=citizen.headers)).json()
    assert shown["status"] == "expired"
    assert (await expire_grants_and_consents({"platform": platform}))["consents_expired"] == 1
    shown = (await client.get(f"/v1/me/consents/{consent['id']}", headers=citizen.headers)).json()
    assert shown["status"] == "expired" and shown["end_reason"] == "expired"


async def test_receipt_is_signed_with_kantara_fields(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    _, _, consent = await given(client, publish, citizen)
    r = await client.get(f"/v1/me/consents/{consent['id']}/receipt", headers=citizen.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(body["receipt"])["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    # Checked with PyJWT, not the library that signed it; a receipt has no expiry of its own.
    claims = jwt.decode(
        body["receipt"], key.key, algorithms=["ES256"], issuer="http://127.0.0.1:8000"
    )
    assert claims == body["claims"]
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ):
        assert field in claims, field
    assert claims["version"] == "KI-CR-v1.1.0" and claims["consentReceiptID"] == consent["id"]
    purposes = claims["services"][0]["purposes"]
    assert {p["consentType"] for p in purposes} == {"EXPLICIT"}
    assert claims["sensitive"] is True  # a record-tier scope

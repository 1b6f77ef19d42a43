"""Kitemark grants on approval, signed credentials checked with an independent JOSE library,
status, suspension and revocation, supersession, expiry with warnings, key rotation."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlmodel import col, select, update
from starlette.applications import Starlette
from testkit import Actor, assert_problem

from kitemarks.models import GrantStatus, KitemarkGrant, SigningKey
from kitemarks.tasks import expire_grants_and_consents
from marketplace.db import utcnow
from marketplace.events import AuditEvent
from tests.kitemarks.conftest import Publish


def verify_independently(credential: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """PyJWT, not joserfc (which signed it), with nothing but the published JWKS."""
    kid = jwt.get_unverified_header(credential)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        credential,
        key.key,
        algorithms=["ES256"],
        issuer="http://127.0.0.1:8000",
        options={"require": ["exp", "iat", "iss", "sub"]},
    )
    return claims


async def kitemarks_of(client: httpx.AsyncClient, service_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/services/{service_id}/kitemarks")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_approval_grants_kitemarks_with_verifiable_credentials(
    client: httpx.AsyncClient, publish: Publish, provider: Actor
) -> None:
    svc = await publish()
    [grant] = await kitemarks_of(client, svc.service_id)
    assert grant["scheme"] == "privacy-assured" and grant["status"] == "active" and grant["valid"]
    assert grant["release_id"] == svc.release_id
    evidence = {e["criterion"]: e for e in grant["evidence"]}
    assert evidence["PRIV-1"]["level"] == "independent_validation"
    assert evidence["PRIV-1"]["finding"] == "pass"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert all("d" not in key for key in jwks["keys"])  # public halves only
    claims = verify_independently(grant["credential"], jwks)
    assert claims["sub"] == svc.service_id and claims["scheme"] == "privacy-assured"
    assert claims["release"] == svc.release_id and claims["jti"] == grant["id"]
    assert claims["status_url"] == f"http://127.0.0.1:8000/v1/kitemarks/{grant['id']}/status"
    assert claims["exp"] - claims["iat"] == 365 * 86400
    assert jwt.get_unverified_header(grant["credential"])["typ"] == "kitemark+jwt"
    # A changed byte breaks the signature.
    head, body, sig = grant["credential"].split(".")
    forged = json.loads(jwt.utils.base64url_decode(body))
    forged["scheme"] = "clinically-safe"
    tampered = ".".join(
        [head, jwt.utils.base64url_encode(json.dumps(forged).encode()).decode(), sig]
    )
    with pytest.raises(jwt.InvalidSignatureError):
        verify_independently(tampered, jwks)
    status = (await client.get(f"/v1/kitemarks/{grant['id']}/status")).json()
    assert status == {"status": "active", "valid": True, "expires_at": grant["expires_at"]}
    view = (await client.get(f"/v1/services/{svc.service_id}", headers=provider.headers)).json()
    assert [k["id"] for k in view["kitemarks"]] == [grant["id"]]
    assert {g["scope"]: g["tier"] for g in view["scope_grants"]} == {
        "income.verify": "status",
        "income.read": "record",
    }
    assert view["oauth_client_id"] == svc.client_id
    assert_problem(await client.get("/v1/kitemarks/km_nope/status"), 404)
    assert_problem(await client.get("/v1/services/svc_nope/kitemarks"), 404)


async def test_suspend_reinstate_and_revoke(
    client: httpx.AsyncClient,
    publish: Publish,
    provider: Actor,
    citizen: Actor,
    reviewer: Actor,
    admin: Actor,
) -> None:
    svc = await publish()
    [grant] = await kitemarks_of(client, svc.service_id)
    base = f"/v1/kitemarks/{grant['id']}"
    for actor in (provider, citizen):
        assert_problem(
            await client.post(
                f"{base}/suspend", json={"reason": "spot check"}, headers=actor.headers
            ),
            403,
        )
    assert_problem(await client.post(f"{base}/suspend", json={}, headers=reviewer.headers), 422)
    assert_problem(await client.post(f"{base}/suspend", json={"reason": "x"}), 401)
    r = await client.post(
        f"{base}/suspend", json={"reason": "DPIA out of date"}, headers=reviewer.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended" and r.json()["status_reason"] == "DPIA out of date"
    assert (await client.get(f"{base}/status")).json()["valid"] is False
    assert_problem(
        await client.post(f"{base}/suspend", json={"reason": "again"}, headers=reviewer.headers),
        409,
    )
    r = await client.post(
        f"{base}/reinstate", json={"reason": "DPIA updated"}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await client.post(
        f"{base}/revoke", json={"reason": "misleading claims"}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert (await client.get(f"{base}/status")).json() == {
        "status": "revoked",
        "valid": False,
        "expires_at": grant["expires_at"],
    }
    assert_problem(
        await client.post(f"{base}/reinstate", json={"reason": "oops"}, headers=admin.headers), 409
    )


async def test_a_reviewer_cannot_act_on_their_own_organisation(
    client: httpx.AsyncClient, publish: Publish, provider: Actor, app: Starlette
) -> None:
    from marketplace.accounts.models import Account

    svc = await publish()
    [grant] = await kitemarks_of(client, svc.service_id)
    async with app.state.platform.db.transaction() as session:
        account = await session.get(Account, provider.id)
        assert account is not None
        account.roles = sorted({*account.roles, "reviewer"})
        session.add(account)
    app.state.platform.principals.clear()
    r = await client.post(
        f"/v1/kitemarks/{grant['id']}/revoke", json={"reason": "self"}, headers=provider.headers
    )
    assert_problem(r, 403)
    r = await client.post(
        f"/v1/services/{svc.service_id}/suspend", json={"reason": "self"}, headers=provider.headers
    )
    assert_problem(r, 403)
    [unchanged] = await kitemarks_of(client, svc.service_id)
    assert unchanged["status"] == "active"


async def test_a_newer_release_supersedes_without_a_gap(
    client: httpx.AsyncClient, publish: Publish, provider: Actor
) -> None:
    first = await publish()
    [old] = await kitemarks_of(client, first.service_id)
    second = await publish(service_id=first.service_id)
    grants = await kitemarks_of(client, first.service_id)
    assert [g["release_id"] for g in grants] == [second.release_id]
    assert grants[0]["status"] == "active"
    # The old credential's status says why it no longer counts.
    assert (await client.get(f"/v1/kitemarks/{old['id']}/status")).json()["status"] == "superseded"
    view = (await client.get(f"/v1/services/{first.service_id}", headers=provider.headers)).json()
    statuses = {r["id"]: r["status"] for r in view["releases"]}
    assert statuses == {first.release_id: "superseded", second.release_id: "published"}
    # The client follows the newest release; the same client id carries on.
    assert view["oauth_client_id"] == first.client_id


async def test_expiry_warns_then_expires(
    app: Starlette, client: httpx.AsyncClient, publish: Publish
) -> None:
    svc = await publish()
    [grant] = await kitemarks_of(client, svc.service_id)
    platform = app.state.platform

    async def set_expiry(delta: timedelta) -> None:
        async with platform.db.transaction() as session:
            await session.exec(
                update(KitemarkGrant)
                .where(col(KitemarkGrant.id) == grant["id"])
                .values(expires_at=utcnow() + delta)
            )

    await set_expiry(timedelta(days=20))
    result = await expire_grants_and_consents({"platform": platform})
    assert result["kitemarks_warned"] == 1 and result["kitemarks_expired"] == 0
    # Warned once only.
    assert (await expire_grants_and_consents({"platform": platform}))["kitemarks_warned"] == 0
    await set_expiry(timedelta(seconds=-1))
    # Past its date, the status says so even before the job runs.
    assert (await client.get(f"/v1/kitemarks/{grant['id']}/status")).json()["status"] == "expired"
    assert (await expire_grants_and_consents({"platform": platform}))["kitemarks_expired"] == 1
    async with platform.db.session(write=False) as session:
        row = await session.get(KitemarkGrant, grant["id"])
        tags = [
            e.tag
            for e in (
                await session.exec(select(AuditEvent).where(AuditEvent.subject_id == grant["id"]))
            ).all()
        ]
    assert row is not None and row.status is GrantStatus.EXPIRED
    assert tags == ["kitemark:grant:granted", "kitemark:grant:expiring", "kitemark:grant:expired"]


async def test_key_rotation_keeps_old_keys_published(
    app: Starlette, client: httpx.AsyncClient, publish: Publish
) -> None:
    from kitemarks.grants import keyring

    platform = app.state.platform
    ring = keyring(platform)
    first = await publish()
    [old] = await kitemarks_of(client, first.service_id)
    old_kid = jwt.get_unverified_header(old["credential"])["kid"]
    key_file = platform.settings.data_dir / "signing-keys" / f"{old_kid}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    new_kid = await ring.rotate()
    assert new_kid != old_kid
    second = await publish()
    [new] = await kitemarks_of(client, second.service_id)
    assert jwt.get_unverified_header(new["credential"])["kid"] == new_kid
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in jwks["keys"]} >= {old_kid, new_kid}
    verify_independently(old["credential"], jwks)
    verify_independently(new["credential"], jwks)
    async with platform.db.session(write=False) as session:
        retired = await session.get(SigningKey, old_kid)
    assert retired is not None and retired.retired_at is not None
    assert retired.publish_until is not None
    assert abs((retired.publish_until - utcnow()).days - 365) <= 1


async def test_oauth_client_is_for_members_and_its_secret_shown_once(
    client: httpx.AsyncClient, publish: Publish, provider: Actor, citizen: Actor, organisation: Any
) -> None:
    svc = await publish()
    url = f"/v1/services/{svc.service_id}/oauth-client"
    r = await client.get(url, headers=provider.headers)
    assert r.status_code == 200
    shown = r.json()
    assert shown["client_id"] == svc.client_id and shown["has_secret"] is True
    assert "client_secret" not in shown
    assert shown["redirect_uris"] == [
        "https://warmhome.example.org/oauth/callback",
        "https://app.warmhome.example.org/callback?source=app",
    ]
    assert sorted(shown["scopes"]) == ["income.read", "income.verify"]
    assert_problem(await client.get(url, headers=citizen.headers), 404)
    assert_problem(await client.post(url, headers=citizen.headers), 404)
    assert_problem(await client.get(url), 401)
    rotated = (await client.post(url, headers=provider.headers)).json()
    assert rotated["client_secret"].startswith("gscs_")
    old = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=svc.basic
    )
    assert old.status_code == 401
    new = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(svc.client_id, rotated["client_secret"]),
    )
    assert new.status_code == 200
    # A service without an approved release has no client yet.
    r = await client.post(
        f"/v1/organisations/{organisation['id']}/services",
        json={"slug": "not-yet", "name": "Not Yet"},
        headers=provider.headers,
    )
    assert_problem(
        await client.get(f"/v1/services/{r.json()['id']}/oauth-client", headers=provider.headers),
        404,
    )


async def test_a_suspended_service_holds_no_valid_kitemark(
    client: httpx.AsyncClient, publish: Publish, admin: Actor
) -> None:
    svc = await publish()
    [grant] = await kitemarks_of(client, svc.service_id)
    r = await client.post(
        f"/v1/services/{svc.service_id}/suspend",
        json={"reason": "under investigation"},
        headers=admin.headers,
    )
    assert r.status_code == 200
    status = (await client.get(f"/v1/kitemarks/{grant['id']}/status")).json()
    # The grant itself is untouched; it is not valid while the service is out of the catalogue.
    assert status["status"] == "active" and status["valid"] is False
    assert (await kitemarks_of(client, svc.service_id))[0]["valid"] is False


async def test_a_configured_signing_key_is_used_and_not_rotated_here(
    make_app: Any, settings: Any, tmp_path: Any
) -> None:
    from joserfc.jwk import ECKey

    from kitemarks.grants import keyring

    pem = tmp_path / "signing.pem"
    pem.write_bytes(ECKey.generate_key("P-256").as_pem(private=True))
    app = await make_app(signing_key_file=pem)
    ring = keyring(app.state.platform)
    key = await ring.current()
    assert str(key.kid).startswith("es256-")
    with pytest.raises(RuntimeError, match="GOVSTORE_SIGNING_KEY_FILE"):
        await ring.rotate()
    missing = tmp_path / "missing.pem"
    with pytest.raises(RuntimeError, match="cannot be read"):
        await make_app(signing_key_file=missing)

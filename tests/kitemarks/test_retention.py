"""Spent OAuth credentials are deleted a family at a time, and only once nothing can be done with
them any more, not even a replay that reuse detection must catch (kitemarks/oauth/retention.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette
from testkit import Actor

from kitemarks.models import AccessEvent, AuthorizationCode, Consent, OAuthToken
from kitemarks.tasks import purge_spent_oauth_credentials
from marketplace.auth import hash_token
from marketplace.db import table_of, utcnow
from marketplace.platform import Platform
from tests.kitemarks.conftest import DataApi, Publish, consent_flow, exchange, introspect


async def _age_token(platform: Platform, access: str, *, refresh_days: int = -40) -> None:
    """Move a token's expiries into the past (its refresh expiry by `refresh_days` from now)."""
    t = table_of(OAuthToken)
    now = utcnow()
    async with platform.db.transaction() as session:
        await session.exec(
            sa.update(t)
            .where(t.c.access_hash == hash_token(access))
            .values(
                expires_at=now - timedelta(days=40),
                refresh_expires_at=sa.case(
                    (t.c.refresh_expires_at.is_(None), None),
                    else_=now + timedelta(days=refresh_days),
                ),
            )
        )


async def _age_code(platform: Platform, code: str) -> None:
    c = table_of(AuthorizationCode)
    async with platform.db.transaction() as session:
        await session.exec(
            sa.update(c)
            .where(c.c.code_hash == hash_token(code))
            .values(expires_at=utcnow() - timedelta(days=40))
        )


async def _count(platform: Platform, model: Any, *where: Any) -> int:
    table = table_of(model)
    async with platform.db.session() as session:
        found = await session.exec(sa.select(sa.func.count()).select_from(table).where(*where))
        return int(found.one()[0])


async def test_spent_families_and_codes_go_live_ones_stay_and_replays_are_still_caught(
    app: Starlette, client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    platform: Platform = app.state.platform
    svc = await publish()

    async def refresh(token: str) -> httpx.Response:
        return await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=svc.basic,
        )

    # Family A: exchanged, refreshed once, used by a data API; then wholly spent long ago.
    flow_a = await consent_flow(client, citizen, svc)
    a1 = (await exchange(client, svc, flow_a)).json()
    assert (await introspect(client, hmrc, a1["access_token"]))["active"] is True
    a2 = (await refresh(a1["refresh_token"])).json()
    for token in (a1, a2):
        await _age_token(platform, token["access_token"])
    await _age_code(platform, flow_a.code)
    # Family B: its first token spent long ago, but the newest one's refresh token still works,
    # so the old refresh token must still be recognised if it is replayed.
    flow_b = await consent_flow(client, citizen, svc)
    b1 = (await exchange(client, svc, flow_b)).json()
    b2 = (await refresh(b1["refresh_token"])).json()
    await _age_token(platform, b1["access_token"])
    await _age_token(platform, b2["access_token"], refresh_days=10)
    await _age_code(platform, flow_b.code)
    # A service's own token (no refresh token), long expired; a code never exchanged.
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=svc.basic)
    service_token = r.json()["access_token"]
    await _age_token(platform, service_token)
    unused = await consent_flow(client, citizen, svc)
    await _age_code(platform, unused.code)
    # A fresh code, not yet expired, and never exchanged.
    fresh = await consent_flow(client, citizen, svc)

    consents = await _count(platform, Consent)
    events = await _count(platform, AccessEvent)
    tokens = await _count(platform, OAuthToken)
    result = await purge_spent_oauth_credentials({"platform": platform})
    assert result == {"tokens_deleted": 3, "codes_deleted": 2}  # A's two and the service's
    assert await purge_spent_oauth_credentials({"platform": platform}) == {
        "tokens_deleted": 0,
        "codes_deleted": 0,
    }
    t, c = table_of(OAuthToken), table_of(AuthorizationCode)
    assert await _count(platform, OAuthToken) == tokens - 3
    gone = [hash_token(x["access_token"]) for x in (a1, a2)] + [hash_token(service_token)]
    assert await _count(platform, OAuthToken, t.c.access_hash.in_(gone)) == 0
    kept = [hash_token(x) for x in (flow_b.code, fresh.code)]
    assert await _count(platform, AuthorizationCode, c.c.code_hash.in_(kept)) == 2
    spent = [hash_token(x) for x in (flow_a.code, unused.code)]
    assert await _count(platform, AuthorizationCode, c.c.code_hash.in_(spent)) == 0
    # The citizen's record is untouched.
    assert await _count(platform, Consent) == consents
    assert await _count(platform, AccessEvent) == events
    # Family B's old refresh token, replayed: still caught, and the family ends.
    assert (await introspect(client, hmrc, b2["access_token"]))["active"] is False  # expired
    r = await refresh(b1["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await refresh(b2["refresh_token"])
    assert r.status_code == 400  # the family was revoked by the replay
    # The fresh code still works.
    assert (await exchange(client, svc, fresh)).status_code == 200

"""Per-process caches: expiry, bounds, and what a cached bearer token may and may not outlive."""

from __future__ import annotations

import asyncio

from sqlmodel import col, update
from testkit import PASSWORD, AppFactory, client_for

from marketplace.accounts.models import AccessToken
from marketplace.cache import TTLCache
from marketplace.db import utcnow


async def test_entries_expire() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=0.05)
    cache.set("a", 1)
    assert cache.get("a") == 1
    await asyncio.sleep(0.08)
    assert cache.get("a") is None


def test_bounded_lru() -> None:
    cache: TTLCache[int, int] = TTLCache(ttl=60, max_entries=2)
    cache.set(1, 1)
    cache.set(2, 2)
    assert cache.get(1) == 1  # 1 is now the most recently used
    cache.set(3, 3)
    assert cache.get(2) is None and cache.get(1) == 1 and cache.get(3) == 3


def test_zero_ttl_disables() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=0)
    cache.set("a", 1)
    assert cache.get("a") is None


async def _signed_in(client: object) -> dict[str, str]:
    await client.post(  # type: ignore[attr-defined]
        "/v1/accounts",
        json={"email": "c@c.example", "password": PASSWORD, "display_name": "C", "role": "citizen"},
    )
    r = await client.post(  # type: ignore[attr-defined]
        "/v1/auth/login", json={"email": "c@c.example", "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_revocation_elsewhere_applies_within_the_ttl(make_app: AppFactory) -> None:
    app = await make_app(token_cache_seconds=0.2)
    async with client_for(app) as client:
        headers = await _signed_in(client)
        assert (await client.get("/v1/account", headers=headers)).status_code == 200
        # Another process revokes the token: this one has no event to clear its cache.
        async with app.state.platform.db.transaction() as session:
            await session.exec(update(AccessToken).values(revoked_at=utcnow()))
        assert (await client.get("/v1/account", headers=headers)).status_code == 200
        await asyncio.sleep(0.3)
        assert (await client.get("/v1/account", headers=headers)).status_code == 401


async def test_own_revocation_applies_at_once(make_app: AppFactory) -> None:
    app = await make_app(token_cache_seconds=60)
    async with client_for(app) as client:
        headers = await _signed_in(client)
        assert (await client.get("/v1/account", headers=headers)).status_code == 200
        assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
        assert (await client.get("/v1/account", headers=headers)).status_code == 401


async def test_expired_token_is_never_served_from_cache(make_app: AppFactory) -> None:
    app = await make_app(token_cache_seconds=60)
    async with client_for(app) as client:
        headers = await _signed_in(client)
        assert (await client.get("/v1/account", headers=headers)).status_code == 200
        async with app.state.platform.db.transaction() as session:
            await session.exec(
                update(AccessToken)
                .where(col(AccessToken.kind) == "session")
                .values(expires_at=utcnow())
            )
        for principal in list(app.state.platform.principals._entries.values()):
            object.__setattr__(principal[1], "expires_at", utcnow())
        assert (await client.get("/v1/account", headers=headers)).status_code == 401


async def test_concurrent_requests_with_one_token_verify_it_once(monkeypatch) -> None:
    """When a busy client's cached entry expires, its requests share one lookup."""
    from marketplace import auth, errors
    from marketplace.accounts.models import TokenKind

    lookups: list[str] = []
    release = asyncio.Event()

    async def slow_authenticate(session: object, token: str) -> auth.Principal:
        lookups.append(token)
        await release.wait()
        if token.endswith("bad"):
            raise errors.Unauthenticated("invalid or expired token")
        return auth.Principal(
            "acc_1", "a@example.org", frozenset(), "tok_1", TokenKind.SESSION, frozenset()
        )

    monkeypatch.setattr(auth, "authenticate", slow_authenticate)
    cache: TTLCache[str, auth.Principal] = TTLCache(ttl=60)

    async def verify_all(token: str) -> list[object]:
        tasks = [
            asyncio.create_task(auth.cached_authenticate(None, token, cache)) for _ in range(20)
        ]  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        release.clear()
        return results

    good = await verify_all("gss_good")
    assert lookups == ["gss_good"] and all(p.account_id == "acc_1" for p in good)  # type: ignore[union-attr]
    # A failure reaches every waiting request, and is not remembered.
    bad = await verify_all("gss_bad")
    assert lookups.count("gss_bad") == 1
    assert all(isinstance(e, errors.Unauthenticated) for e in bad)
    # A cancelled first request does not fail the others: they verify for themselves.
    first = asyncio.create_task(auth.cached_authenticate(None, "gss_other", cache))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    others = [
        asyncio.create_task(auth.cached_authenticate(None, "gss_other", cache)) for _ in range(3)
    ]  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*others)
    assert all(p.account_id == "acc_1" for p in results)
    assert first.cancelled()
    assert not auth._verifying._loading

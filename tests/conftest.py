"""Test fixtures: one migrated database per run (SQLite or DATABASE_URL), emptied after each test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from testkit import GUIDELINES, PASSWORD, SCHEMES, SCOPES, Actor, AppFactory, SignUp, client_for

from marketplace.app import create_app
from marketplace.migrate import upgrade
from marketplace.settings import Settings
from marketplace.tables import metadata


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the whole run; migrations are applied once here."""
    data_dir = tmp_path_factory.mktemp("govstore")
    settings = Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        base_url="http://127.0.0.1:8000",
        argon2_memory_kib=512,
        argon2_time_cost=1,
        rate_limit_per_address=100_000,
        rate_limit_per_token=100_000,
    )
    upgrade(settings)
    return settings


async def _empty_database(settings: Settings) -> None:
    engine = create_async_engine(settings.effective_database_url)
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The unmodelled rank-ordered postings (migration 0007) go too.
            everything = ", ".join([*tables, "catalogue_postings"])
            await conn.execute(sa.text(f"TRUNCATE {everything} RESTART IDENTITY CASCADE"))
        else:
            # Unmodelled SQLite full-text tables (catalogue_fts) go too.
            virtual = await conn.execute(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
                )
            )
            for name in [*tables, *virtual.scalars()]:
                await conn.execute(sa.text(f"DELETE FROM {name}"))
    await engine.dispose()


async def _flush_redis(settings: Settings) -> None:
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        await redis.flushdb()
        await redis.aclose()


@pytest.fixture
async def settings(base_settings: Settings) -> AsyncIterator[Settings]:
    await _flush_redis(base_settings)
    yield base_settings
    await _empty_database(base_settings)


@pytest.fixture
async def make_app(settings: Settings) -> AsyncIterator[AppFactory]:
    """Build an app with setting overrides and run its lifespan for the test."""
    stacks: list[Any] = []

    async def factory(**overrides: Any) -> Starlette:
        app = create_app(settings.model_copy(update=overrides))
        context = app.router.lifespan_context(app)
        await context.__aenter__()
        stacks.append(context)
        return app

    yield factory
    for context in reversed(stacks):
        await context.__aexit__(None, None, None)


@pytest.fixture
async def app(make_app: AppFactory) -> Starlette:
    return await make_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture
def sign_up(app: Starlette, client: httpx.AsyncClient) -> SignUp:
    """Register and sign in an account; privileged roles are granted directly in the database."""
    counter = iter(range(1, 10_000))

    async def make(role: str = "citizen", *, roles: tuple[str, ...] = (), name: str = "") -> Actor:
        email = f"{name or role}{next(counter)}@test.example"
        response = await client.post(
            "/v1/accounts",
            json={
                "email": email,
                "password": PASSWORD,
                "display_name": name or role.title(),
                "role": role,
            },
        )
        assert response.status_code == 201, response.text
        account = response.json()
        if roles:
            from marketplace.accounts.models import Account

            platform = app.state.platform
            async with platform.db.transaction() as session:
                stored = await session.get(Account, account["id"])
                stored.roles = sorted({*stored.roles, *roles})
                session.add(stored)
            account["roles"] = sorted({*account["roles"], *roles})
        login = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return Actor(account, login.json()["access_token"])

    return make


@pytest.fixture
async def admin(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("admin",), name="admin")


@pytest.fixture
async def provider(sign_up: SignUp) -> Actor:
    return await sign_up("provider", name="provider")


@pytest.fixture
async def citizen(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", name="citizen")


@pytest.fixture
async def published(client: httpx.AsyncClient, admin: Actor) -> dict[str, Any]:
    """Scopes, kitemark schemes and a published guideline version 2026.1."""
    for scope in SCOPES:
        r = await client.post("/v1/scopes", json=scope, headers=admin.headers)
        assert r.status_code == 201, r.text
    for scheme in SCHEMES:
        r = await client.post("/v1/kitemark-schemes", json=scheme, headers=admin.headers)
        assert r.status_code == 201, r.text
    r = await client.post(
        "/v1/guidelines",
        json={"version": "2026.1", "title": "GovStore guidelines 2026.1", "guidelines": GUIDELINES},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post("/v1/guidelines/2026.1/publish", headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
async def organisation(client: httpx.AsyncClient, provider: Actor) -> dict[str, Any]:
    r = await client.post(
        "/v1/organisations",
        json={"name": "Acme Health Ltd", "contact_email": "team@acme.example"},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
async def service(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post(
        f"/v1/organisations/{organisation['id']}/services",
        json={"slug": "acme-gp-online", "name": "Acme GP Online"},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())

"""The `marketplace` command: create-admin, demo, openapi --check, migrate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from marketplace import cli
from marketplace.accounts.models import Account
from marketplace.demo.loader import demo_data, load_demo
from marketplace.guidelines.models import GuidelineVersion, Scope, VersionStatus
from marketplace.platform import Platform
from marketplace.releases.models import Release, Service
from marketplace.settings import Settings, get_settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("GOVSTORE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("GOVSTORE_ARGON2_MEMORY_KIB", "512")
    monkeypatch.setenv("GOVSTORE_ARGON2_TIME_COST", "1")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


async def _count(settings: Settings, model: type) -> int:
    platform = Platform.create(settings)
    try:
        async with platform.db.session(write=False) as session:
            return int((await session.exec(select(func.count()).select_from(model))).one())
    finally:
        await platform.close()


async def test_create_admin(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    code = await asyncio.to_thread(
        cli.main, ["create-admin", "Boss@Govstore.example", "--password", "a-very-long-secret"]
    )
    assert code == 0
    assert "created admin boss@govstore.example" in capsys.readouterr().out.lower()
    code = await asyncio.to_thread(cli.main, ["create-admin", "boss@govstore.example"])
    assert code == 0
    assert "already existed" in capsys.readouterr().out
    code = await asyncio.to_thread(
        cli.main, ["create-admin", "weak@govstore.example", "--password", "short"]
    )
    assert code == 2
    assert "password" in capsys.readouterr().err
    assert await _count(cli_env, Account) == 1


async def test_bootstrap_admin_from_environment(make_app: object, settings: Settings) -> None:
    await make_app(  # type: ignore[operator]
        bootstrap_admin_email="root@govstore.example",
        bootstrap_admin_password="bootstrap-secret-2026",
    )
    platform = Platform.create(settings)
    try:
        async with platform.db.session(write=False) as session:
            account = (
                await session.exec(select(Account).where(Account.email == "root@govstore.example"))
            ).one()
        assert account.roles == ["admin"]
    finally:
        await platform.close()


async def test_demo_is_complete_and_idempotent(settings: Settings) -> None:
    data = demo_data()
    first = await load_demo(settings)
    assert any("services" in line for line in first)
    services = await _count(settings, Service)
    assert services == sum(len(o["services"]) for o in data["organisations"]) >= 6
    assert await _count(settings, Release) == services
    assert await _count(settings, Scope) >= 6
    second = await load_demo(settings)
    assert "nothing to do" in second[0]
    assert await _count(settings, Service) == services
    platform = Platform.create(settings)
    try:
        async with platform.db.session(write=False) as session:
            version = (await session.exec(select(GuidelineVersion))).one()
            assert version.version == "2026.1" and version.status is VersionStatus.PUBLISHED
            statuses = {r.status.value for r in (await session.exec(select(Release))).all()}
            tiers = {s.tier for s in (await session.exec(select(Scope))).all()}
            owners = {s.data_owner for s in (await session.exec(select(Scope))).all()}
        assert len(tiers) == 3 and len(owners) >= 3
        # Every review page has something real to show.
        assert statuses >= {"published", "awaiting_review", "changes_requested"}
    finally:
        await platform.close()


def test_demo_uses_every_check_and_required_schemes() -> None:
    data = demo_data()
    guidelines = data["guideline_versions"][0]["guidelines"]
    checks = {g["check"] for g in guidelines if g["check"]}
    assert checks >= {
        "data-uses-complete",
        "lowest-sufficient-tier",
        "retention-bounds",
        "https-only",
        "security-contact",
        "accessibility-statement",
        "clinical-safety",
        "name-not-confusable",
        "prohibited-terms",
    }
    slugs = {s["slug"] for s in data["kitemark_schemes"]}
    assert slugs >= {"privacy-assured", "accessible", "clinically-safe", "secure-by-default"}
    categories = {g["category"] for g in guidelines}
    assert categories >= {"privacy", "security", "accessibility", "clinical-safety"}


def test_openapi_check(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["openapi", "--check"]) == 0
    stale = f"{tmp_path}/openapi.json"
    with open(stale, "w") as handle:
        handle.write("{}")
    assert cli.main(["openapi", "--check", "--output", stale]) == 1
    assert "stale" in capsys.readouterr().err


def test_serve_settles_the_heap_before_serving(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`marketplace serve` hides what start-up built from the cyclic collector and collects the
    youngest generation less often (long full collections stalled the event loop), and does so
    before the server starts."""
    import gc
    import types

    import uvicorn

    seen: dict[str, object] = {}

    def fake_run(app: object, **_: object) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["threshold"] = gc.get_threshold()
        seen["app"] = app

    threshold = gc.get_threshold()
    monkeypatch.setattr(uvicorn, "run", fake_run)
    gc.unfreeze()
    try:
        args = types.SimpleNamespace(host="127.0.0.1", port=0, proxy_headers=False)
        assert cli.cmd_serve(get_settings(), args) == 0  # type: ignore[arg-type]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert seen["app"] is not None
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert seen["threshold"] == cli.GC_THRESHOLD

"""Automated review: findings with pointers and fixes, routing, risk, idempotent re-runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import col, select, update
from starlette.applications import Starlette
from testkit import Actor, settle

from marketplace.db import utcnow
from marketplace.releases.models import Release
from review.automated import run_automated_review
from review.models import Finding, ReviewState


async def test_clean_release_enters_the_queue(submit: Any, provider: Actor) -> None:
    release = await submit("acme-gp-online")
    assert release["status"] == "awaiting_review", release
    assert [h["status"] for h in release["history"]] == [
        "submitted",
        "automated_review",
        "awaiting_review",
    ]
    automated = [f for f in release["findings"] if f["source"] == "automated"]
    assert {f["code"] for f in automated} == {"PRIV-1", "PRIV-2", "ACC-1", "CLIN-1"}
    assert not [f for f in automated if f["result"] == "fail" and f["severity"] == "blocking"]
    assert release["queue"]["position"] == 1
    assert release["queue"]["median_time_to_decision_seconds"] is None


async def test_missing_accessibility_statement(submit: Any) -> None:
    release = await submit("acme-gp-online", drop=("accessibility_statement_url",))
    assert release["status"] == "changes_requested"
    failed = [f for f in release["findings"] if f["result"] == "fail"]
    assert [(f["code"], f["pointer"]) for f in failed] == [
        ("ACC-1", "/accessibility_statement_url")
    ]
    assert failed[0]["message"] and failed[0]["fix"]
    assert release["queue"] is None
    assert release["history"][-1]["status"] == "changes_requested"
    assert release["history"][-1]["action"] == "fail_automated_review"


async def test_rerun_replaces_findings(app: Starlette, submit: Any) -> None:
    release = await submit("acme-gp-online")
    platform = app.state.platform
    async with platform.db.transaction() as session:
        stored = await session.get(Release, release["id"])
        from marketplace.releases.lifecycle import ReleaseStatus

        stored.status = ReleaseStatus.AUTOMATED_REVIEW  # as if a worker died mid-way
        session.add(stored)
    await run_automated_review(platform, release["id"])
    await run_automated_review(platform, release["id"])
    async with platform.db.session(write=False) as session:
        findings = (
            await session.exec(select(Finding).where(Finding.release_id == release["id"]))
        ).all()
    assert len(findings) == len(release["findings"])


async def test_stuck_release_is_recovered(app: Starlette, submit: Any) -> None:
    from marketplace.releases.lifecycle import ReleaseStatus
    from review.tasks import recover_automated_reviews

    release = await submit("acme-gp-online")
    platform = app.state.platform
    async with platform.db.transaction() as session:
        await session.exec(
            update(Release)
            .where(col(Release.id) == release["id"])
            .values(status=ReleaseStatus.SUBMITTED, status_changed_at=utcnow() - timedelta(hours=1))
        )
    assert await recover_automated_reviews({"platform": platform}) == 1
    await settle(app)
    async with platform.db.session(write=False) as session:
        stored = await session.get(Release, release["id"])
    assert stored.status is ReleaseStatus.AWAITING_REVIEW


async def test_risk_orders_the_queue(
    app: Starlette, client: httpx.AsyncClient, submit: Any, sign_up: Any
) -> None:
    low = await submit("warm-home-grant-checker")
    high = await submit("acme-gp-online")
    platform = app.state.platform
    async with platform.db.session(write=False) as session:
        states = {s.release_id: s for s in (await session.exec(select(ReviewState))).all()}
    assert states[high["id"]].risk_score > states[low["id"]].risk_score
    assert "new provider: nothing listed yet" in states[high["id"]].risk_factors
    reviewer = await sign_up("citizen", roles=("reviewer",))
    queue = (await client.get("/v1/review/queue", headers=reviewer.headers)).json()["items"]
    assert [q["release_id"] for q in queue] == [high["id"], low["id"]]

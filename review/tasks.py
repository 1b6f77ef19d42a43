"""Review jobs: automated review of submitted releases, lease expiry, recovery after crashes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from marketplace.db import utcnow
from marketplace.jobs import JobRegistry
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.models import Release
from review import services
from review.automated import run_automated_review

if TYPE_CHECKING:
    from marketplace.events import AuditEvent
    from marketplace.platform import Platform

review_jobs = JobRegistry()

# A release still in submitted/automated_review this long after its last change lost its job
# (an in-process server restarted, or a job gave up): the recovery sweep queues it again.
STUCK_AFTER = timedelta(minutes=2)


def automated_review_job_id(release_id: str) -> str:
    return f"automated-review:{release_id}"


@review_jobs.register
async def automated_review(ctx: dict[str, Any], release_id: str) -> str:
    platform: Platform = ctx["platform"]
    return await run_automated_review(platform, release_id)


@review_jobs.every(timedelta(minutes=1))
async def expire_review_leases(ctx: dict[str, Any]) -> int:
    platform: Platform = ctx["platform"]
    async with platform.db.transaction() as session:
        returned = await services.expire_leases(session)
    return len(returned)


@review_jobs.every(timedelta(minutes=5))
async def recover_automated_reviews(ctx: dict[str, Any]) -> int:
    platform: Platform = ctx["platform"]
    async with platform.db.session(write=False) as session:
        stuck = (
            await session.exec(
                select(Release.id, Release.status_changed_at)
                .where(
                    col(Release.status).in_(
                        [ReleaseStatus.SUBMITTED, ReleaseStatus.AUTOMATED_REVIEW]
                    )
                )
                .where(col(Release.status_changed_at) <= utcnow() - STUCK_AFTER)
                .limit(1000)
            )
        ).all()
    for release_id, changed in stuck:
        await platform.jobs.enqueue(
            "automated_review",
            job_id=f"{automated_review_job_id(release_id)}:{int(changed.timestamp())}",
            release_id=release_id,
        )
    return len(stuck)


def submission_hook(platform: Platform) -> Any:
    """After a release is submitted (and committed), queue its automated review."""

    async def hook(events: list[AuditEvent]) -> None:
        for event in events:
            if event.tag == "release:status:changed" and event.body.get("to") == "submitted":
                await platform.jobs.enqueue(
                    "automated_review",
                    job_id=automated_review_job_id(event.subject_id),
                    release_id=event.subject_id,
                )

    return hook

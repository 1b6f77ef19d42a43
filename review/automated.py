"""Automated review: run every guideline's check on a release, record findings, route it on.

A clean run puts the release in the human queue with a risk score; a blocking failure sends it
back as changes_requested. The job is idempotent: it can be run again after a crash at any
point and records one set of findings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.db import utcnow
from marketplace.guidelines.models import Guideline, Scope, Sensitivity, Severity, Tier
from marketplace.releases.lifecycle import Actor, ReleaseStatus, transition
from marketplace.releases.manifest import validate_manifest
from marketplace.releases.models import Release, Service
from review.checks import REGISTRY, CheckContext, ConfusableIndex, ScopeInfo
from review.models import Finding, FindingResult, FindingSource, ReviewState

if TYPE_CHECKING:
    from marketplace.platform import Platform

logger = logging.getLogger("govstore.review.automated")

LISTED = (ReleaseStatus.APPROVED, ReleaseStatus.PUBLISHED, ReleaseStatus.SUSPENDED)
# Each point of risk moves a release this far up the queue, as if it had waited longer.
RISK_WEIGHT = timedelta(hours=2)
MANIFEST_CODE = "MANIFEST"


@dataclass(frozen=True)
class CheckOutcome:
    code: str
    check_id: str | None
    result: FindingResult
    severity: str
    pointer: str
    message: str
    fix: str


class ListedNames:
    """The confusable-name index of listed services, kept up to date incrementally."""

    def __init__(self) -> None:
        self.index = ConfusableIndex()
        self._seen_until: datetime | None = None

    async def refresh(self, session: AsyncSession) -> ConfusableIndex:
        since = self._seen_until
        now = utcnow()
        changed = select(Release.service_id).distinct()
        if since is not None:
            changed = changed.where(col(Release.status_changed_at) > since - timedelta(seconds=5))
        service_ids = list((await session.exec(changed)).all())
        if service_ids:
            listed = set(
                (
                    await session.exec(
                        select(Release.service_id)
                        .where(col(Release.service_id).in_(service_ids))
                        .where(col(Release.status).in_(LISTED))
                        .distinct()
                    )
                ).all()
            )
            names = (
                dict(
                    (
                        await session.exec(
                            select(Service.id, Service.name).where(col(Service.id).in_(listed))
                        )
                    ).all()
                )
                if listed
                else {}
            )
            for service_id in service_ids:
                self.index.remove(service_id)
                if service_id in names:
                    self.index.add(service_id, names[service_id])
        self._seen_until = now
        return self.index


def listed_names(platform: Platform) -> ListedNames:
    cache = platform.caches.setdefault("listed_names", ListedNames())
    assert isinstance(cache, ListedNames)
    return cache


def run_checks(guidelines: list[Guideline], context: CheckContext) -> list[CheckOutcome]:
    """Pure: every guideline with a check gives at least one outcome (pass, fail or n/a)."""
    outcomes: list[CheckOutcome] = []
    schema_errors = validate_manifest(dict(context.manifest))
    for error in schema_errors:
        outcomes.append(
            CheckOutcome(
                MANIFEST_CODE,
                None,
                FindingResult.FAIL,
                Severity.BLOCKING.value,
                error.pointer,
                f"the manifest {error.detail}",
                "correct the field so the manifest matches the published schema",
            )
        )
    if schema_errors:
        return outcomes
    for guideline in guidelines:
        if not guideline.check_id:
            continue
        check = REGISTRY.get(guideline.check_id)
        severity = guideline.severity.value
        if check is None:
            outcomes.append(
                CheckOutcome(
                    guideline.code,
                    guideline.check_id,
                    FindingResult.NOT_APPLICABLE,
                    severity,
                    "",
                    f"no automated check named {guideline.check_id}",
                    "a reviewer assesses this guideline",
                )
            )
            continue
        if not check.applies(context):
            outcomes.append(
                CheckOutcome(
                    guideline.code,
                    check.id,
                    FindingResult.NOT_APPLICABLE,
                    severity,
                    "",
                    f"{check.title}: does not apply to this service",
                    "",
                )
            )
            continue
        issues = check.run(context)
        if not issues:
            outcomes.append(
                CheckOutcome(
                    guideline.code,
                    check.id,
                    FindingResult.PASS,
                    severity,
                    "",
                    f"{check.title}: passed",
                    "",
                )
            )
        for issue in issues:
            outcomes.append(
                CheckOutcome(
                    guideline.code,
                    check.id,
                    FindingResult.FAIL,
                    severity,
                    issue.pointer,
                    issue.message,
                    issue.fix,
                )
            )
    return outcomes


async def risk_of(
    session: AsyncSession, release: Release, scopes: dict[str, Scope], outcomes: list[CheckOutcome]
) -> tuple[int, list[str]]:
    """Risk: sensitive and revealing scopes, a provider with nothing listed yet, advisory failures."""
    score = 0
    factors: list[str] = []
    for use in release.manifest.get("data_uses", []):
        scope = scopes.get(use.get("scope", ""))
        if scope is None:
            continue
        if scope.sensitivity is Sensitivity.HIGH:
            score += 3
            factors.append(f"high-sensitivity scope {scope.name}")
        if scope.tier is Tier.RECORD:
            score += 2
            factors.append(f"record-tier scope {scope.name}")
        elif scope.tier is Tier.SUMMARY:
            score += 1
            factors.append(f"summary-tier scope {scope.name}")
    service = await session.get(Service, release.service_id)
    assert service is not None
    listed_before = (
        await session.exec(
            select(Release.id)
            .join(Service, Service.id == Release.service_id)  # type: ignore[arg-type]
            .where(Service.organisation_id == service.organisation_id)
            .where(col(Release.status).in_((*LISTED, ReleaseStatus.SUPERSEDED)))
            .limit(1)
        )
    ).first()
    if listed_before is None:
        score += 2
        factors.append("new provider: nothing listed yet")
    advisory = [o for o in outcomes if o.result is FindingResult.FAIL and o.severity == "advisory"]
    if advisory:
        score += len(advisory)
        factors.append(f"{len(advisory)} advisory finding(s)")
    return score, factors


async def _state(session: AsyncSession, release_id: str) -> ReviewState:
    state = await session.get(ReviewState, release_id)
    if state is None:
        state = ReviewState(release_id=release_id)
        session.add(state)
    return state


async def run_automated_review(platform: Platform, release_id: str) -> str:
    """Run (or finish) the automated review of one release; returns the release's status."""
    async with platform.db.transaction() as session:
        release = await session.get(Release, release_id, with_for_update=True)
        if release is None:
            return "missing"
        if release.status is ReleaseStatus.SUBMITTED:
            transition(
                session, release, "start_automated_review", actor=Actor.SYSTEM, actor_id=None
            )
        elif release.status is not ReleaseStatus.AUTOMATED_REVIEW:
            return release.status.value
        manifest = dict(release.manifest)
        version_id = release.guideline_version_id
        service_id = release.service_id

    async with platform.db.session(write=False) as session:
        guidelines = list(
            (
                await session.exec(
                    select(Guideline)
                    .where(Guideline.version_id == version_id)
                    .order_by(col(Guideline.position))
                )
            ).all()
        )
        scopes = {s.name: s for s in (await session.exec(select(Scope))).all()}
        names = await listed_names(platform).refresh(session)
    context = CheckContext(
        manifest=manifest,
        service_id=service_id,
        scopes={
            s.name: ScopeInfo(s.name, s.tier.value, s.sensitivity.value, s.data_owner)
            for s in scopes.values()
        },
        names=names,
        sandbox=bool(manifest.get("sandbox")),
    )
    outcomes = run_checks(guidelines, context)
    blocking = [o for o in outcomes if o.result is FindingResult.FAIL and o.severity == "blocking"]

    async with platform.db.transaction() as session:
        release = await session.get(Release, release_id, with_for_update=True)
        if release is None or release.status is not ReleaseStatus.AUTOMATED_REVIEW:
            return release.status.value if release else "missing"
        # A re-run replaces, never adds to, the automated findings.
        await session.exec(
            delete(Finding).where(
                col(Finding.release_id) == release_id,
                col(Finding.source) == FindingSource.AUTOMATED,
            )
        )
        for o in outcomes:
            session.add(
                Finding(
                    release_id=release_id,
                    source=FindingSource.AUTOMATED,
                    code=o.code,
                    check_id=o.check_id,
                    result=o.result,
                    severity=o.severity,
                    pointer=o.pointer,
                    message=o.message,
                    fix=o.fix,
                )
            )
        score, factors = await risk_of(session, release, scopes, outcomes)
        state = await _state(session, release_id)
        now = utcnow()
        state.risk_score, state.risk_factors, state.automated_at = score, factors, now
        details: dict[str, Any] = {
            "findings": len(outcomes),
            "blocking_failures": sorted({o.code for o in blocking}),
            "risk_score": score,
        }
        if blocking:
            transition(
                session,
                release,
                "fail_automated_review",
                actor=Actor.SYSTEM,
                actor_id=None,
                reason="automated review found blocking problems",
                details=details,
            )
        else:
            state.queued, state.queued_at = True, now
            state.queue_key = now - RISK_WEIGHT * score
            transition(
                session,
                release,
                "pass_automated_review",
                actor=Actor.SYSTEM,
                actor_id=None,
                details=details,
            )
        session.add(state)
        return release.status.value

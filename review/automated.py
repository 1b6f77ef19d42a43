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

import sqlalchemy as sa
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
# Statuses a listed release leaves the listing by.
UNLISTING = (ReleaseStatus.WITHDRAWN, ReleaseStatus.SUPERSEDED, ReleaseStatus.REJECTED)
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

    # A name listed in another process reaches this one's index within this long.
    REFRESH_INTERVAL = timedelta(seconds=1)

    def __init__(self) -> None:
        self.index = ConfusableIndex()
        self._seen_until: datetime | None = None
        self._indexed: dict[str, str] = {}  # service id → the name in the index

    async def refresh(self, session: AsyncSession) -> ConfusableIndex:
        since = self._seen_until
        now = utcnow()
        if since is not None and now - since < self.REFRESH_INTERVAL:
            return self.index
        if since is None:
            # First use: every listed service, in one pass (no IN list of 100k ids).
            listed = (
                await session.exec(
                    select(Service.id, Service.name)
                    .join(Release, Release.service_id == Service.id)  # type: ignore[arg-type]
                    .where(col(Release.status).in_(LISTED))
                    .distinct()
                )
            ).all()
            for service_id, name in listed:
                self.index.add(service_id, name)
                self._indexed[service_id] = name
            self._seen_until = now
            return self.index
        changed = (
            await session.exec(
                select(Release.service_id)
                .where(col(Release.status_changed_at) > since - timedelta(seconds=5))
                # Only moves into or out of the listing matter; review traffic does not.
                .where(col(Release.status).in_((*LISTED, *UNLISTING)))
                .distinct()
            )
        ).all()
        for start in range(0, len(changed), 1000):
            await self._apply(session, list(changed[start : start + 1000]))
        self._seen_until = now
        return self.index

    async def _apply(self, session: AsyncSession, service_ids: list[str]) -> None:
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
            # Touch the index only when a service joins, leaves or is renamed: most status
            # changes (releases moving through review) change nothing here.
            wanted, present = names.get(service_id), self._indexed.get(service_id)
            if wanted == present:
                continue
            if present is not None:
                self.index.remove(service_id)
                del self._indexed[service_id]
            if wanted is not None:
                self.index.add(service_id, wanted)
                self._indexed[service_id] = wanted


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


def scope_risk(manifest: dict[str, Any], scopes: dict[str, Scope]) -> tuple[int, list[str]]:
    """Risk from the data asked for: sensitive and revealing scopes."""
    score = 0
    factors: list[str] = []
    for use in manifest.get("data_uses", []):
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
    return score, factors


def risk_of(
    manifest: dict[str, Any],
    scopes: dict[str, Scope],
    outcomes: list[CheckOutcome],
    *,
    new_provider: bool,
) -> tuple[int, list[str]]:
    """Risk: sensitive and revealing scopes, a provider with nothing listed yet, advisory failures."""
    score, factors = scope_risk(manifest, scopes)
    if new_provider:
        score += 2
        factors.append("new provider: nothing listed yet")
    advisory = [o for o in outcomes if o.result is FindingResult.FAIL and o.severity == "advisory"]
    if advisory:
        score += len(advisory)
        factors.append(f"{len(advisory)} advisory finding(s)")
    return score, factors


async def _guidelines(
    platform: Platform, session: AsyncSession, version_id: str
) -> list[Guideline]:
    """A published version's guidelines never change, so each process reads them once."""
    cache: dict[str, list[Guideline]] = platform.caches.setdefault("guidelines_by_version", {})
    if version_id not in cache:
        cache[version_id] = list(
            (
                await session.exec(
                    select(Guideline)
                    .where(Guideline.version_id == version_id)
                    .order_by(col(Guideline.position))
                )
            ).all()
        )
    return cache[version_id]


# Under load a job also takes other waiting submissions, so one pair of transactions serves many
# releases; each release's own job then finds it done. Small enough to keep transactions short.
BATCH_LIMIT = 100


async def _start(platform: Platform, release_id: str) -> tuple[str | None, list[Release]]:
    """First transaction: move the release (and, opportunistically, other submissions) into
    automated_review. Returns (a final status to report, the releases to check)."""
    async with platform.db.session(write=False) as session:
        # Most jobs under load find their release already taken by a batch: no write needed.
        status = (
            await session.exec(select(Release.status).where(Release.id == release_id))
        ).first()
    if status is None:
        return "missing", []
    if status not in (ReleaseStatus.SUBMITTED, ReleaseStatus.AUTOMATED_REVIEW):
        return ReleaseStatus(status).value, []
    async with platform.db.transaction() as session:
        release = await session.get(Release, release_id, with_for_update=True)
        if release is None:
            return "missing", []
        if release.status is ReleaseStatus.AUTOMATED_REVIEW:
            return None, [release]  # resuming after a crash
        if release.status is not ReleaseStatus.SUBMITTED:
            return release.status.value, []
        others = (
            await session.exec(
                select(Release)
                .where(Release.status == ReleaseStatus.SUBMITTED)
                .where(Release.id != release_id)
                .order_by(col(Release.status_changed_at))
                .limit(BATCH_LIMIT - 1)
                .with_for_update(skip_locked=True)
            )
        ).all()
        batch = [release, *others]
        for item in batch:
            transition(session, item, "start_automated_review", actor=Actor.SYSTEM, actor_id=None)
        return None, batch


async def run_automated_review(platform: Platform, release_id: str) -> str:
    """Run (or finish) the automated review of a release; returns the release's status."""
    final, batch = await _start(platform, release_id)
    if final is not None:
        return final
    async with platform.db.session(write=False) as session:
        scopes = {s.name: s for s in (await session.exec(select(Scope))).all()}
        names = await listed_names(platform).refresh(session)
        guidelines = {
            version_id: await _guidelines(platform, session, version_id)
            for version_id in {r.guideline_version_id for r in batch}
        }
    scope_info = {
        s.name: ScopeInfo(s.name, s.tier.value, s.sensitivity.value, s.data_owner)
        for s in scopes.values()
    }
    outcomes: dict[str, list[CheckOutcome]] = {}
    for release in batch:
        manifest = dict(release.manifest)
        context = CheckContext(
            manifest=manifest,
            service_id=release.service_id,
            scopes=scope_info,
            names=names,
            sandbox=bool(manifest.get("sandbox")),
        )
        outcomes[release.id] = run_checks(guidelines[release.guideline_version_id], context)

    async with platform.db.transaction() as session:
        # Only releases still in automated_review: another run may have finished some already.
        current = (
            await session.exec(
                select(Release)
                .where(col(Release.id).in_(list(outcomes)))
                .where(Release.status == ReleaseStatus.AUTOMATED_REVIEW)
                .with_for_update()
            )
        ).all()
        ids = [r.id for r in current]
        if ids:
            # A re-run replaces, never adds to, the automated findings.
            await session.exec(
                delete(Finding).where(
                    col(Finding.release_id).in_(ids), col(Finding.source) == FindingSource.AUTOMATED
                )
            )
            await session.exec(
                sa.insert(Finding),
                params=[
                    {
                        "release_id": rid,
                        "source": FindingSource.AUTOMATED,
                        "code": o.code,
                        "check_id": o.check_id,
                        "result": o.result,
                        "severity": o.severity,
                        "pointer": o.pointer,
                        "message": o.message,
                        "fix": o.fix,
                        "reviewer_id": None,
                        "decision_id": None,
                        "created_at": utcnow(),
                    }
                    for rid in ids
                    for o in outcomes[rid]
                ],
            )
            organisation_of = dict(
                (
                    await session.exec(
                        select(Service.id, Service.organisation_id).where(
                            col(Service.id).in_({r.service_id for r in current})
                        )
                    )
                ).all()
            )
            # Led by the organisations' services (indexed), not by every listed release.
            has_listed = (
                select(Release.id)
                .where(Release.service_id == Service.id)
                .where(col(Release.status).in_((*LISTED, ReleaseStatus.SUPERSEDED)))
                .exists()
            )
            listed_organisations = set(
                (
                    await session.exec(
                        select(Service.organisation_id)
                        .where(col(Service.organisation_id).in_(set(organisation_of.values())))
                        .where(has_listed)
                        .distinct()
                    )
                ).all()
            )
            states = {
                s.release_id: s
                for s in (
                    await session.exec(
                        select(ReviewState).where(col(ReviewState.release_id).in_(ids))
                    )
                ).all()
            }
        new_states: list[dict[str, Any]] = []
        for release in current:
            found = outcomes[release.id]
            blocking = [
                o for o in found if o.result is FindingResult.FAIL and o.severity == "blocking"
            ]
            score, factors = risk_of(
                release.manifest,
                scopes,
                found,
                new_provider=organisation_of.get(release.service_id) not in listed_organisations,
            )
            now = utcnow()
            state = states.get(release.id)
            row: dict[str, Any] = {
                "release_id": release.id,
                "risk_score": score,
                "risk_factors": factors,
                "automated_at": now,
                "queued": not blocking,
                "queued_at": None if blocking else now,
                "queue_key": None if blocking else now - RISK_WEIGHT * score,
                "claimed_by": None,
                "lease_expires_at": None,
                "excluded_reviewers": [],
                "appealed": False,
            }
            details: dict[str, Any] = {
                "findings": len(found),
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
                transition(
                    session,
                    release,
                    "pass_automated_review",
                    actor=Actor.SYSTEM,
                    actor_id=None,
                    details=details,
                )
            if state is None:
                new_states.append(row)
            else:
                # A re-run (say after a crash) keeps the claim and exclusion history it has.
                for key in (
                    "risk_score",
                    "risk_factors",
                    "automated_at",
                    "queued",
                    "queued_at",
                    "queue_key",
                ):
                    setattr(state, key, row[key])
                session.add(state)
        if new_states:
            # Core insert: building ORM objects for a batch costs more than the SQL.
            await session.exec(sa.insert(ReviewState), params=new_states)
        mine = await session.get(Release, release_id)
        return mine.status.value if mine else "missing"

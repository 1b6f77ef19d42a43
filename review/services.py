"""Human review rules: the queue, claims with leases, decisions, four eyes, appeals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import Guideline, KitemarkScheme, Scope, Sensitivity, Severity
from marketplace.ids import new_id
from marketplace.organisations.models import Membership
from marketplace.organisations.services import refuse_own_organisation
from marketplace.releases.approval import Approval, ApprovalHook
from marketplace.releases.lifecycle import Actor, ReleaseStatus, transition
from marketplace.releases.models import Release, Service
from marketplace.releases.services import visible_release
from review.models import Decision, Finding, FindingResult, FindingSource, Outcome, ReviewState

WAITING = (
    ReleaseStatus.AWAITING_REVIEW,
    ReleaseStatus.IN_REVIEW,
    ReleaseStatus.AWAITING_SECOND_APPROVAL,
)
MEDIAN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class FindingInput:
    code: str
    result: FindingResult
    note: str | None


def actor_for(principal: Principal) -> Actor:
    principal.require_role(Role.REVIEWER, Role.ADMIN)
    return Actor.ADMIN if principal.has_role(Role.ADMIN) else Actor.REVIEWER


async def _release_for_reviewer(
    session: AsyncSession, principal: Principal, release_id: str, *, lock: bool = False
) -> tuple[Release, Service]:
    """The release, if the caller may review it: reviewers never act on their own organisation's."""
    actor_for(principal)
    release = await session.get(Release, release_id, with_for_update=lock)
    if release is None:
        raise errors.NotFound("no such release")
    service = await session.get(Service, release.service_id)
    assert service is not None
    await refuse_own_organisation(
        session,
        service.organisation_id,
        principal,
        "you cannot review a release of your own organisation",
    )
    return release, service


async def review_state(session: AsyncSession, release_id: str) -> ReviewState:
    state = await session.get(ReviewState, release_id)
    if state is None:
        state = ReviewState(release_id=release_id)
        session.add(state)
    return state


async def expire_leases(session: AsyncSession) -> list[str]:
    """Return releases whose claim lease ran out to the queue; returns their ids."""
    now = utcnow()
    stale = (
        await session.exec(
            select(ReviewState)
            .where(col(ReviewState.lease_expires_at) <= now)
            .where(col(ReviewState.claimed_by).is_not(None))
            .with_for_update()
        )
    ).all()
    returned = []
    for state in stale:
        release = await session.get(Release, state.release_id, with_for_update=True)
        if release is not None and release.status is ReleaseStatus.IN_REVIEW:
            transition(
                session,
                release,
                "release_claim",
                actor=Actor.SYSTEM,
                actor_id=None,
                reason="the reviewer's claim expired",
                details={"reviewer_id": state.claimed_by},
            )
            state.queued = True
            returned.append(release.id)
        state.claimed_by = None
        state.lease_expires_at = None
        session.add(state)
    return returned


async def claim(
    session: AsyncSession, principal: Principal, release_id: str, *, lease: timedelta
) -> tuple[Release, ReviewState]:
    """Claim a waiting release (or renew your own claim); 409 when another reviewer holds it."""
    release, _ = await _release_for_reviewer(session, principal, release_id, lock=True)
    actor = actor_for(principal)
    state = await review_state(session, release_id)
    now = utcnow()
    if principal.account_id in state.excluded_reviewers:
        raise errors.Forbidden("you decided this release before; an appeal goes to someone else")
    if release.status is ReleaseStatus.IN_REVIEW:
        live = state.lease_expires_at is not None and state.lease_expires_at > now
        if state.claimed_by == principal.account_id:
            state.lease_expires_at = now + lease
            session.add(state)
            return release, state
        if live:
            raise errors.Conflict("another reviewer holds this release")
        # The lease ran out but the sweep has not returned it yet: hand it over.
        transition(
            session,
            release,
            "release_claim",
            actor=Actor.SYSTEM,
            actor_id=None,
            reason="the reviewer's claim expired",
            details={"reviewer_id": state.claimed_by},
        )
    transition(session, release, "claim", actor=actor, actor_id=principal.account_id)
    state.claimed_by = principal.account_id
    state.lease_expires_at = now + lease
    state.queued = False
    session.add(state)
    return release, state


async def release_claim(session: AsyncSession, principal: Principal, release_id: str) -> Release:
    release, _ = await _release_for_reviewer(session, principal, release_id, lock=True)
    state = await review_state(session, release_id)
    if release.status is not ReleaseStatus.IN_REVIEW or state.claimed_by != principal.account_id:
        raise errors.Conflict("you do not hold a claim on this release")
    transition(
        session,
        release,
        "release_claim",
        actor=actor_for(principal),
        actor_id=principal.account_id,
        reason="the reviewer released the claim",
    )
    state.claimed_by, state.lease_expires_at, state.queued = None, None, True
    session.add(state)
    return release


async def _guidelines(session: AsyncSession, release: Release) -> dict[str, Guideline]:
    rows = (
        await session.exec(
            select(Guideline).where(Guideline.version_id == release.guideline_version_id)
        )
    ).all()
    return {g.code: g for g in rows}


async def _check_grants(
    session: AsyncSession,
    release: Release,
    findings: Sequence[FindingInput],
    kitemarks: Sequence[str],
    scopes: Sequence[str],
) -> tuple[list[errors.FieldError], bool]:
    """Grants must have been applied for (a lower tier of a requested scope is allowed)."""
    problems: list[errors.FieldError] = []
    applied = {k.get("scheme") for k in release.manifest.get("kitemarks", [])}
    requested = [u.get("scope") for u in release.manifest.get("data_uses", [])]
    all_scopes = {s.name: s for s in (await session.exec(select(Scope))).all()}
    results = {f.code: f.result for f in findings}
    schemes = (
        {
            s.slug: s
            for s in (
                await session.exec(
                    select(KitemarkScheme).where(col(KitemarkScheme.slug).in_(kitemarks))
                )
            ).all()
        }
        if kitemarks
        else {}
    )
    for i, slug in enumerate(kitemarks):
        if slug not in applied:
            problems.append(
                errors.FieldError(f"/kitemarks/{i}", "the release did not apply for it")
            )
        elif slug in schemes:
            failing = [c for c in schemes[slug].criteria if results.get(c) is FindingResult.FAIL]
            if failing:
                problems.append(
                    errors.FieldError(
                        f"/kitemarks/{i}", f"its criteria failed: {', '.join(sorted(failing))}"
                    )
                )
    high = False
    for i, name in enumerate(scopes):
        scope = all_scopes.get(name)
        if scope is None:
            problems.append(errors.FieldError(f"/scopes/{i}", "no such scope"))
            continue
        lower_tier_of_requested = any(
            (r := all_scopes.get(str(req))) is not None
            and r.data_owner == scope.data_owner
            and r.tier.rank > scope.tier.rank
            for req in requested
        )
        if name not in requested and not lower_tier_of_requested:
            problems.append(
                errors.FieldError(
                    f"/scopes/{i}", "not requested (nor a lower tier of one that was)"
                )
            )
        if scope.sensitivity is Sensitivity.HIGH:
            high = True
    for pointer, values in (("/kitemarks", kitemarks), ("/scopes", scopes)):
        for i, value in enumerate(values):
            if value in values[:i]:
                problems.append(errors.FieldError(f"{pointer}/{i}", "appears twice"))
    return problems, high


async def decide(
    session: AsyncSession,
    principal: Principal,
    release_id: str,
    *,
    outcome: Outcome,
    findings: Sequence[FindingInput],
    kitemarks: Sequence[str],
    scopes: Sequence[str],
    note: str | None,
    on_approved: ApprovalHook | None = None,
) -> Decision:
    """Record a reviewer's decision; needs a finding for every blocking guideline.

    A completed approval is handed to `on_approved` in the same transaction (publication).
    """
    release, _ = await _release_for_reviewer(session, principal, release_id, lock=True)
    actor = actor_for(principal)
    state = await review_state(session, release_id)
    if release.status is not ReleaseStatus.IN_REVIEW:
        raise errors.InvalidTransition(
            release.status.value, "decided", "claim the release before deciding"
        )
    if state.claimed_by != principal.account_id or (
        state.lease_expires_at is not None and state.lease_expires_at <= utcnow()
    ):
        raise errors.Conflict("your claim on this release is missing or expired; claim it again")
    guidelines = await _guidelines(session, release)
    problems: list[errors.FieldError] = []
    seen: set[str] = set()
    for i, f in enumerate(findings):
        if f.code not in guidelines:
            problems.append(
                errors.FieldError(f"/findings/{i}/code", "not a guideline of this version")
            )
        elif f.code in seen:
            problems.append(errors.FieldError(f"/findings/{i}/code", "appears twice"))
        seen.add(f.code)
    missing = sorted(
        code
        for code, g in guidelines.items()
        if g.severity is Severity.BLOCKING and code not in seen
    )
    if missing:
        problems.append(
            errors.FieldError(
                "/findings",
                f"a finding is needed for every blocking guideline: {', '.join(missing)}",
            )
        )
    failed = sorted({f.code for f in findings if f.result is FindingResult.FAIL})
    high = False
    if outcome is Outcome.APPROVE:
        blocking_failed = [
            c for c in failed if guidelines.get(c) and guidelines[c].severity is Severity.BLOCKING
        ]
        if blocking_failed:
            problems.append(
                errors.FieldError(
                    "/outcome",
                    f"cannot approve with failed blocking guidelines: {', '.join(blocking_failed)}",
                )
            )
        grant_problems, high = await _check_grants(session, release, findings, kitemarks, scopes)
        problems += grant_problems
    else:
        if not failed:
            problems.append(
                errors.FieldError(
                    "/findings", "rejecting or requesting changes needs at least one failed finding"
                )
            )
        if kitemarks or scopes:
            problems.append(
                errors.FieldError(
                    "/kitemarks" if kitemarks else "/scopes", "only an approval grants anything"
                )
            )
    if problems:
        raise errors.ValidationFailed(problems)
    decision = Decision(
        id=new_id("dec"),
        release_id=release_id,
        reviewer_id=principal.account_id,
        outcome=outcome,
        reason_codes=failed,
        kitemarks=list(kitemarks),
        scopes=list(scopes),
        note=note,
        needs_second_approval=high,
        queued_at=state.queued_at,
    )
    session.add(decision)
    for f in findings:
        g = guidelines[f.code]
        session.add(
            Finding(
                release_id=release_id,
                source=FindingSource.REVIEWER,
                code=f.code,
                check_id=g.check_id,
                result=f.result,
                severity=g.severity.value,
                message=f.note or "",
                reviewer_id=principal.account_id,
                decision_id=decision.id,
            )
        )
    details = {"decision_id": decision.id, "reason_codes": failed}
    if outcome is Outcome.APPROVE and high:
        transition(
            session,
            release,
            "approve_pending_second",
            actor=actor,
            actor_id=principal.account_id,
            reason=note,
            details=details,
        )
    else:
        action = {
            Outcome.APPROVE: "approve",
            Outcome.REJECT: "reject",
            Outcome.REQUEST_CHANGES: "request_changes",
        }[outcome]
        transition(
            session,
            release,
            action,
            actor=actor,
            actor_id=principal.account_id,
            reason=note,
            details=details,
        )
        decision.completed_at = utcnow()
        if outcome is Outcome.APPROVE:
            await _hand_over(session, release, decision, on_approved)
    if outcome is Outcome.REJECT:
        state.excluded_reviewers = sorted({*state.excluded_reviewers, principal.account_id})
    state.claimed_by, state.lease_expires_at, state.queued = None, None, False
    session.add(state)
    record_event(
        session,
        "review:decision:recorded",
        subject_type="release",
        subject_id=release_id,
        actor_id=principal.account_id,
        body={
            "decision_id": decision.id,
            "outcome": outcome.value,
            "reason_codes": failed,
            "kitemarks": list(kitemarks),
            "scopes": list(scopes),
            "needs_second_approval": high,
        },
    )
    return decision


async def _hand_over(
    session: AsyncSession, release: Release, decision: Decision, on_approved: ApprovalHook | None
) -> None:
    """Give a completed approval to the publisher; without one (review alone) it stays `approved`."""
    if on_approved is None:
        return
    await session.flush()
    results = (
        await session.exec(
            select(Finding.code, Finding.result).where(Finding.decision_id == decision.id)
        )
    ).all()
    reviewers = [decision.reviewer_id]
    if decision.second_reviewer_id:
        reviewers.append(decision.second_reviewer_id)
    await on_approved(
        session,
        release,
        Approval(
            decision_id=decision.id,
            reviewer_ids=tuple(reviewers),
            kitemarks=tuple(decision.kitemarks),
            scopes=tuple(decision.scopes),
            findings={code: str(result) for code, result in results},
        ),
    )


async def latest_decision(session: AsyncSession, release_id: str) -> Decision | None:
    return (
        await session.exec(
            select(Decision)
            .where(Decision.release_id == release_id)
            .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
            .limit(1)
        )
    ).first()


async def second_approval(
    session: AsyncSession,
    principal: Principal,
    release_id: str,
    *,
    outcome: Outcome,
    note: str | None,
    on_approved: ApprovalHook | None = None,
) -> Decision:
    """A second, different reviewer confirms (or overturns) an approval of high-sensitivity scopes."""
    release, _ = await _release_for_reviewer(session, principal, release_id, lock=True)
    actor = actor_for(principal)
    if release.status is not ReleaseStatus.AWAITING_SECOND_APPROVAL:
        raise errors.InvalidTransition(
            release.status.value, "approved", "no approval is waiting for a second reviewer"
        )
    decision = await latest_decision(session, release_id)
    assert decision is not None
    if decision.reviewer_id == principal.account_id:
        raise errors.Forbidden("the second approval must come from a different reviewer")
    state = await review_state(session, release_id)
    if principal.account_id in state.excluded_reviewers:
        raise errors.Forbidden("you decided this release before; an appeal goes to someone else")
    if outcome is not Outcome.APPROVE and not note:
        raise errors.ValidationFailed([errors.FieldError("/note", "say why, when not confirming")])
    action = {
        Outcome.APPROVE: "second_approve",
        Outcome.REJECT: "reject",
        Outcome.REQUEST_CHANGES: "request_changes",
    }[outcome]
    transition(
        session,
        release,
        action,
        actor=actor,
        actor_id=principal.account_id,
        reason=note,
        details={"decision_id": decision.id},
    )
    decision.second_reviewer_id = principal.account_id
    decision.second_outcome = outcome
    decision.second_note = note
    decision.completed_at = utcnow()
    session.add(decision)
    if outcome is Outcome.APPROVE:
        await _hand_over(session, release, decision, on_approved)
    if outcome is Outcome.REJECT:
        state = await review_state(session, release_id)
        state.excluded_reviewers = sorted(
            {*state.excluded_reviewers, principal.account_id, decision.reviewer_id}
        )
        session.add(state)
    record_event(
        session,
        "review:decision:second_approval",
        subject_type="release",
        subject_id=release_id,
        actor_id=principal.account_id,
        body={"decision_id": decision.id, "outcome": outcome.value},
    )
    return decision


async def appeal(
    session: AsyncSession, principal: Principal, service_id: str, release_id: str, reason: str
) -> Release:
    """After a rejection, the provider appeals once; the release goes to a different reviewer."""
    _, release = await visible_release(session, principal, service_id, release_id)
    release = await session.get(Release, release_id, with_for_update=True) or release
    newer = (
        await session.exec(
            select(Release.id)
            .where(Release.service_id == release.service_id)
            .where(col(Release.number) > release.number)
            .limit(1)
        )
    ).first()
    if newer is not None:
        raise errors.Conflict("a newer release of this service exists; appeal only the latest")
    state = await review_state(session, release_id)
    if release.status is ReleaseStatus.REJECTED and state.appealed:
        raise errors.Conflict("this release has already been appealed once")
    transition(
        session,
        release,
        "appeal",
        actor=Actor.PROVIDER,
        actor_id=principal.account_id,
        reason=reason,
    )
    now = utcnow()
    state.appealed, state.queued, state.queued_at = True, True, now
    state.queue_key = now
    session.add(state)
    return release


async def queue_position(session: AsyncSession, release_id: str) -> int | None:
    """1 for the next release a reviewer would take; None when not waiting in the queue."""
    release = await session.get(Release, release_id)
    state = await session.get(ReviewState, release_id)
    if (
        release is None
        or release.status is not ReleaseStatus.AWAITING_REVIEW
        or state is None
        or state.queue_key is None
    ):
        return None
    ahead = (
        await session.exec(
            select(func.count())
            .select_from(ReviewState)
            .join(Release, Release.id == ReviewState.release_id)  # type: ignore[arg-type]
            .where(
                Release.status == ReleaseStatus.AWAITING_REVIEW,
                (col(ReviewState.queue_key) < state.queue_key)
                | (
                    (col(ReviewState.queue_key) == state.queue_key)
                    & (col(ReviewState.release_id) < state.release_id)
                ),
            )
        )
    ).one()
    return int(ahead) + 1


async def median_time_to_decision(session: AsyncSession) -> float | None:
    """Median seconds from entering the queue to a final decision, over the last 30 days."""
    since = utcnow() - MEDIAN_WINDOW
    rows = (
        await session.exec(
            select(Decision.queued_at, Decision.completed_at)
            .where(col(Decision.completed_at) >= since)
            .where(col(Decision.queued_at).is_not(None))
            .order_by(col(Decision.completed_at).desc())
            .limit(1000)
        )
    ).all()
    durations = [(done - queued).total_seconds() for queued, done in rows if queued and done]
    return statistics.median(durations) if durations else None


async def second_approval_queue(
    session: AsyncSession, principal: Principal
) -> list[tuple[Release, Service, Decision | None]]:
    """Approvals waiting for a second reviewer that this reviewer may give (not their own
    decision, not their own organisation's release), oldest first."""
    actor_for(principal)
    mine = select(Membership.organisation_id).where(Membership.account_id == principal.account_id)
    rows = (
        await session.exec(
            select(Release, Service)
            .join(Service, col(Service.id) == col(Release.service_id))
            .where(Release.status == ReleaseStatus.AWAITING_SECOND_APPROVAL)
            .where(col(Service.organisation_id).not_in(mine))
            .order_by(col(Release.status_changed_at))
        )
    ).all()
    found = []
    for release, service in rows:
        decision = await latest_decision(session, release.id)
        if decision is not None and decision.reviewer_id == principal.account_id:
            continue
        found.append((release, service, decision))
    return found

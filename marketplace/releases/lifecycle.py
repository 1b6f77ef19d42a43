"""The release state machine, as data: every allowed transition, who may trigger it, what it records.

Everything that changes a release's status calls `transition`; nothing else writes `status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from marketplace import errors
from marketplace.db import utcnow
from marketplace.events import record_event

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from marketplace.releases.models import Release


class ReleaseStatus(StrEnum):
    SUBMITTED = "submitted"
    AUTOMATED_REVIEW = "automated_review"
    CHANGES_REQUESTED = "changes_requested"
    AWAITING_REVIEW = "awaiting_review"
    IN_REVIEW = "in_review"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class Actor(StrEnum):
    PROVIDER = "provider"  # a member of the service's organisation
    REVIEWER = "reviewer"
    ADMIN = "admin"
    SYSTEM = "system"  # automated review, lease expiry, complaint thresholds


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[ReleaseStatus]
    target: ReleaseStatus
    actors: frozenset[Actor]


S = ReleaseStatus
_IN_FLIGHT = frozenset(
    {S.SUBMITTED, S.AUTOMATED_REVIEW, S.AWAITING_REVIEW, S.IN_REVIEW, S.AWAITING_SECOND_APPROVAL}
)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "start_automated_review",
            frozenset({S.SUBMITTED}),
            S.AUTOMATED_REVIEW,
            frozenset({Actor.SYSTEM}),
        ),
        Transition(
            "fail_automated_review",
            frozenset({S.AUTOMATED_REVIEW}),
            S.CHANGES_REQUESTED,
            frozenset({Actor.SYSTEM}),
        ),
        Transition(
            "pass_automated_review",
            frozenset({S.AUTOMATED_REVIEW}),
            S.AWAITING_REVIEW,
            frozenset({Actor.SYSTEM}),
        ),
        Transition(
            "claim",
            frozenset({S.AWAITING_REVIEW}),
            S.IN_REVIEW,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "release_claim",
            frozenset({S.IN_REVIEW}),
            S.AWAITING_REVIEW,
            frozenset({Actor.SYSTEM, Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "approve",
            frozenset({S.IN_REVIEW}),
            S.APPROVED,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "approve_pending_second",
            frozenset({S.IN_REVIEW}),
            S.AWAITING_SECOND_APPROVAL,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "second_approve",
            frozenset({S.AWAITING_SECOND_APPROVAL}),
            S.APPROVED,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "reject",
            frozenset({S.IN_REVIEW, S.AWAITING_SECOND_APPROVAL}),
            S.REJECTED,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "request_changes",
            frozenset({S.IN_REVIEW, S.AWAITING_SECOND_APPROVAL}),
            S.CHANGES_REQUESTED,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "appeal", frozenset({S.REJECTED}), S.AWAITING_REVIEW, frozenset({Actor.PROVIDER})
        ),
        Transition("publish", frozenset({S.APPROVED}), S.PUBLISHED, frozenset({Actor.SYSTEM})),
        Transition(
            "reopen_review",
            frozenset({S.PUBLISHED}),
            S.AWAITING_REVIEW,
            frozenset({Actor.SYSTEM, Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition(
            "suspend",
            frozenset({S.PUBLISHED}),
            S.SUSPENDED,
            frozenset({Actor.REVIEWER, Actor.ADMIN}),
        ),
        Transition("reinstate", frozenset({S.SUSPENDED}), S.PUBLISHED, frozenset({Actor.ADMIN})),
        Transition(
            "supersede",
            frozenset({S.PUBLISHED, S.SUSPENDED}),
            S.SUPERSEDED,
            frozenset({Actor.SYSTEM}),
        ),
        Transition(
            "withdraw",
            _IN_FLIGHT | {S.APPROVED, S.CHANGES_REQUESTED, S.PUBLISHED, S.SUSPENDED},
            S.WITHDRAWN,
            frozenset({Actor.PROVIDER}),
        ),
    ]
}

# A service has at most one release moving through review at a time.
IN_FLIGHT = _IN_FLIGHT

# A published release keeps serving while complaints send it back to review: its OAuth client
# works, its kitemarks stay valid and the catalogue lists it as "under review". Only releases
# that were published are ever referenced by a client, a grant or a catalogue entry, so "in
# flight" here always means "re-review".
SERVING = frozenset(
    {S.PUBLISHED, S.AWAITING_REVIEW, S.IN_REVIEW, S.AWAITING_SECOND_APPROVAL, S.APPROVED}
)
SERVING_SQL = "(" + ", ".join(f"'{s.value}'" for s in sorted(SERVING)) + ")"


def allowed_actions(status: ReleaseStatus, actor: Actor) -> list[str]:
    return [t.action for t in TRANSITIONS.values() if status in t.sources and actor in t.actors]


def transition(
    session: AsyncSession,
    release: Release,
    action: str,
    *,
    actor: Actor,
    actor_id: str | None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ReleaseStatus:
    """Apply `action` to `release`, or raise InvalidTransition/Forbidden. Records the audit event."""
    rule = TRANSITIONS[action]
    if actor not in rule.actors:
        raise errors.Forbidden(f"a {actor.value} cannot {action.replace('_', ' ')} a release")
    current = release.status
    if current not in rule.sources:
        raise errors.InvalidTransition(
            current.value,
            rule.target.value,
            f"cannot {action.replace('_', ' ')} a release that is {current.value!r}",
        )
    release.status = rule.target
    release.status_changed_at = utcnow()
    session.add(release)
    body: dict[str, Any] = {
        "service_id": release.service_id,
        "from": current.value,
        "to": rule.target.value,
        "action": action,
        "actor": actor.value,
    }
    if reason:
        body["reason"] = reason
    if details:
        body.update(details)
    record_event(
        session,
        "release:status:changed",
        subject_type="release",
        subject_id=release.id,
        actor_id=actor_id,
        body=body,
    )
    return rule.target

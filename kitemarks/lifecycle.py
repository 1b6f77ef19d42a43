"""The kitemark-grant, scope-grant and consent state machines, as data: transitions, who may trigger them, what each records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kitemarks.models import ConsentStatus, GrantStatus
from marketplace import errors
from marketplace.db import utcnow
from marketplace.events import record_event

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from kitemarks.models import Consent, KitemarkGrant, ScopeGrant


class Actor(StrEnum):
    REVIEWER = "reviewer"
    ADMIN = "admin"
    CITIZEN = "citizen"
    SYSTEM = "system"  # approval hand-over, expiry sweeps, service suspension


S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S]):
    action: str
    sources: frozenset[S]
    target: S
    actors: frozenset[Actor]
    tag: str  # the audit event it records


G = GrantStatus
_LIVE = frozenset({G.ACTIVE, G.SUSPENDED})
_STAFF = frozenset({Actor.REVIEWER, Actor.ADMIN})
_SYSTEM = frozenset({Actor.SYSTEM})


def _table(*transitions: Transition[S]) -> dict[str, Transition[S]]:
    return {t.action: t for t in transitions}


KITEMARK: dict[str, Transition[GrantStatus]] = _table(
    Transition("suspend", frozenset({G.ACTIVE}), G.SUSPENDED, _STAFF, "kitemark:grant:suspended"),
    Transition(
        "reinstate", frozenset({G.SUSPENDED}), G.ACTIVE, _STAFF, "kitemark:grant:reinstated"
    ),
    Transition("revoke", _LIVE, G.REVOKED, _STAFF, "kitemark:grant:revoked"),
    Transition("expire", _LIVE, G.EXPIRED, _SYSTEM, "kitemark:grant:expired"),
    Transition("supersede", _LIVE, G.SUPERSEDED, _SYSTEM, "kitemark:grant:superseded"),
)

# A suspended service keeps its scope grants as they are: its OAuth client works only while its
# release is published, so suspension needs no transition here.
SCOPE: dict[str, Transition[GrantStatus]] = _table(
    Transition("revoke", _LIVE, G.REVOKED, _STAFF | _SYSTEM, "scope:grant:revoked"),
    Transition("supersede", _LIVE, G.SUPERSEDED, _SYSTEM, "scope:grant:superseded"),
)

C = ConsentStatus
CONSENT: dict[str, Transition[ConsentStatus]] = _table(
    Transition(
        "revoke",
        frozenset({C.ACTIVE}),
        C.REVOKED,
        frozenset({Actor.CITIZEN, Actor.SYSTEM}),
        "consent:consent:revoked",
    ),
    Transition("expire", frozenset({C.ACTIVE}), C.EXPIRED, _SYSTEM, "consent:consent:expired"),
)


def _check(rule: Transition[Any], current: StrEnum, actor: Actor, noun: str) -> None:
    if actor not in rule.actors:
        raise errors.Forbidden(f"a {actor.value} cannot {rule.action} a {noun}")
    if current not in rule.sources:
        raise errors.InvalidTransition(
            current.value,
            rule.target.value,
            f"cannot {rule.action} a {noun} that is {current.value!r}",
        )


def _change_grant(
    session: AsyncSession,
    rule: Transition[GrantStatus],
    grant: KitemarkGrant | ScopeGrant,
    *,
    noun: str,
    subject_type: str,
    actor: Actor,
    actor_id: str | None,
    reason: str | None,
    details: dict[str, Any],
) -> None:
    """Check and apply one grant transition and record its event (kitemark or scope grant)."""
    _check(rule, grant.status, actor, noun)
    previous = grant.status
    grant.status, grant.status_changed_at, grant.status_reason = rule.target, utcnow(), reason
    session.add(grant)
    record_event(
        session,
        rule.tag,
        subject_type=subject_type,
        subject_id=grant.id,
        actor_id=actor_id,
        body={
            "service_id": grant.service_id,
            "release_id": grant.release_id,
            **details,
            "from": previous.value,
            "to": rule.target.value,
            "reason": reason,
        },
    )


def transition_kitemark(
    session: AsyncSession,
    grant: KitemarkGrant,
    action: str,
    *,
    actor: Actor,
    actor_id: str | None,
    reason: str | None = None,
) -> None:
    _change_grant(
        session,
        KITEMARK[action],
        grant,
        noun="kitemark",
        subject_type="kitemark",
        actor=actor,
        actor_id=actor_id,
        reason=reason,
        details={"scheme": grant.scheme, "actor": actor.value},
    )


def transition_scope(
    session: AsyncSession,
    grant: ScopeGrant,
    action: str,
    *,
    actor: Actor,
    actor_id: str | None,
    reason: str | None = None,
) -> None:
    _change_grant(
        session,
        SCOPE[action],
        grant,
        noun="scope grant",
        subject_type="scope_grant",
        actor=actor,
        actor_id=actor_id,
        reason=reason,
        details={"scope": grant.scope, "tier": grant.tier.value},
    )


def transition_consent(
    session: AsyncSession,
    consent: Consent,
    action: str,
    *,
    actor: Actor,
    actor_id: str | None,
    reason: str,
) -> None:
    rule = CONSENT[action]
    _check(rule, consent.status, actor, "consent")
    consent.status, consent.ended_at, consent.end_reason = rule.target, utcnow(), reason
    session.add(consent)
    # No citizen identifier in the body: it feeds the service's webhook and the public log.
    record_event(
        session,
        rule.tag,
        subject_type="consent",
        subject_id=consent.id,
        actor_id=actor_id,
        body={
            "service_id": consent.service_id,
            "scopes": list(consent.scopes),
            "reason": reason,
            "actor": actor.value,
        },
    )

"""Publication: an approval becomes kitemark grants with signed credentials, scope grants and an OAuth client.

Also the grants' later life: suspension, revocation, reinstatement, expiry with warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.keys import KeyRing
from kitemarks.lifecycle import Actor, transition_kitemark, transition_scope
from kitemarks.models import GrantStatus, KitemarkGrant, OAuthClient, ScopeGrant
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import KitemarkScheme, Scope
from marketplace.ids import new_id
from marketplace.organisations.services import refuse_own_organisation
from marketplace.releases.approval import Approval, ApprovalHook
from marketplace.releases.lifecycle import SERVING, ReleaseStatus, transition
from marketplace.releases.lifecycle import Actor as ReleaseActor
from marketplace.releases.models import Release, Service

if TYPE_CHECKING:
    from marketplace.platform import Platform

CREDENTIAL_TYPE = "kitemark+jwt"
LIVE = (GrantStatus.ACTIVE, GrantStatus.SUSPENDED)


def keyring(platform: Platform) -> KeyRing:
    ring: KeyRing = platform.services["keyring"]
    return ring


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def status_url(platform: Platform, grant_id: str) -> str:
    return f"{platform.settings.base_url}/v1/kitemarks/{grant_id}/status"


def credential_claims(
    platform: Platform,
    grant: KitemarkGrant,
    scheme: KitemarkScheme,
    service: Service,
    release: Release,
) -> dict[str, Any]:
    """What a kitemark credential asserts; verifiers need only these claims and the JWKS."""
    return {
        "iss": platform.settings.base_url,
        "sub": service.id,
        "jti": grant.id,
        "iat": _epoch(grant.granted_at),
        "nbf": _epoch(grant.granted_at),
        "exp": _epoch(grant.expires_at),
        "scheme": scheme.slug,
        "scheme_title": scheme.title,
        "service_slug": service.slug,
        "service_name": service.name,
        "release": release.id,
        "release_number": release.number,
        "evidence": grant.evidence,
        "status_url": status_url(platform, grant.id),
    }


def _evidence(
    release: Release, scheme: KitemarkScheme, findings: dict[str, str]
) -> list[dict[str, Any]]:
    """Per criterion: the evidence the provider claimed, and the reviewer's finding that accepted it."""
    applied: dict[str, Any] = next(
        (k for k in release.manifest.get("kitemarks", []) if k.get("scheme") == scheme.slug), {}
    )
    claimed = {e.get("criterion"): e for e in applied.get("evidence", []) if isinstance(e, dict)}
    out = []
    for criterion in scheme.criteria:
        item = claimed.get(criterion, {})
        out.append(
            {
                "criterion": criterion,
                # No evidence claimed: the reviewer's own assessment is what was accepted.
                "level": item.get("level", "reviewer_assessment"),
                "reference": item.get("reference"),
                "finding": findings.get(criterion, "not_recorded"),
            }
        )
    return out


async def _supersede_older(session: AsyncSession, release: Release) -> None:
    """The service's previous live release, and its grants, give way to the new one (no gap)."""
    older = (
        await session.exec(
            select(Release)
            .where(Release.service_id == release.service_id)
            .where(Release.id != release.id)
            .where(col(Release.status).in_([ReleaseStatus.PUBLISHED, ReleaseStatus.SUSPENDED]))
        )
    ).all()
    for previous in older:
        transition(
            session,
            previous,
            "supersede",
            actor=ReleaseActor.SYSTEM,
            actor_id=None,
            details={"superseded_by": release.id},
        )
    kinds: list[tuple[Any, Any]] = [
        (KitemarkGrant, transition_kitemark),
        (ScopeGrant, transition_scope),
    ]
    for model, change in kinds:
        for grant in (
            await session.exec(
                # Every live grant, this release's own too: a release approved again after a
                # re-review gets the grants of the new decision, not both sets.
                select(model)
                .where(model.service_id == release.service_id)
                .where(col(model.status).in_(LIVE))
            )
        ).all():
            change(
                session, grant, "supersede", actor=Actor.SYSTEM, actor_id=None, reason=release.id
            )


async def publish_release(
    session: AsyncSession, platform: Platform, release: Release, approval: Approval
) -> None:
    """Publish an approved release: grants, credentials, OAuth client, all in the approving transaction."""
    service = await session.get(Service, release.service_id)
    assert service is not None
    await _supersede_older(session, release)
    transition(
        session,
        release,
        "publish",
        actor=ReleaseActor.SYSTEM,
        actor_id=None,
        details={"decision_id": approval.decision_id},
    )
    now = utcnow().replace(microsecond=0)
    schemes = {
        s.slug: s
        for s in (
            await session.exec(
                select(KitemarkScheme).where(col(KitemarkScheme.slug).in_(approval.kitemarks))
            )
        ).all()
    }
    ring = keyring(platform)
    for slug in approval.kitemarks:
        scheme = schemes[slug]
        grant = KitemarkGrant(
            id=new_id("km"),
            service_id=service.id,
            release_id=release.id,
            scheme=slug,
            status=GrantStatus.ACTIVE,
            evidence=_evidence(release, scheme, approval.findings),
            granted_by=approval.reviewer_ids[-1],
            granted_at=now,
            expires_at=now + timedelta(days=scheme.validity_days),
            status_changed_at=now,
            kid="",
            credential="",
        )
        grant.kid, grant.credential = await ring.sign(
            credential_claims(platform, grant, scheme, service, release), typ=CREDENTIAL_TYPE
        )
        session.add(grant)
        record_event(
            session,
            "kitemark:grant:granted",
            subject_type="kitemark",
            subject_id=grant.id,
            actor_id=grant.granted_by,
            body={
                "service_id": service.id,
                "release_id": release.id,
                "scheme": slug,
                "expires_at": grant.expires_at.isoformat(),
                "decision_id": approval.decision_id,
            },
        )
    for name in approval.scopes:
        scope = await session.get(Scope, name)
        assert scope is not None
        scope_grant = ScopeGrant(
            id=new_id("sg"),
            service_id=service.id,
            release_id=release.id,
            scope=name,
            tier=scope.tier,
            status=GrantStatus.ACTIVE,
            granted_by=approval.reviewer_ids[-1],
            granted_at=now,
            status_changed_at=now,
        )
        session.add(scope_grant)
        record_event(
            session,
            "scope:grant:granted",
            subject_type="scope_grant",
            subject_id=scope_grant.id,
            actor_id=scope_grant.granted_by,
            body={
                "service_id": service.id,
                "release_id": release.id,
                "scope": name,
                "tier": scope.tier.value,
                "decision_id": approval.decision_id,
            },
        )
    await _update_client(session, service, release, list(approval.scopes))


async def _update_client(
    session: AsyncSession, service: Service, release: Release, scopes: list[str]
) -> OAuthClient:
    client = (
        await session.exec(select(OAuthClient).where(OAuthClient.service_id == service.id))
    ).first()
    created = client is None
    if client is None:
        client = OAuthClient(client_id=new_id("cli"), service_id=service.id, release_id=release.id)
    client.release_id = release.id
    client.redirect_uris = [str(u) for u in release.manifest.get("redirect_uris", [])]
    client.scopes = sorted(scopes)
    session.add(client)
    record_event(
        session,
        "oauth:client:created" if created else "oauth:client:updated",
        subject_type="oauth_client",
        subject_id=client.client_id,
        actor_id=None,
        body={
            "service_id": service.id,
            "release_id": release.id,
            "redirect_uris": client.redirect_uris,
            "scopes": client.scopes,
        },
    )
    return client


def publisher(platform: Platform) -> ApprovalHook:
    """The approval hand-over the assembly installs on the platform."""

    async def hand_over(session: AsyncSession, release: Release, approval: Approval) -> None:
        await publish_release(session, platform, release, approval)

    return hand_over


# -- the grants' later life ------------------------------------------------------------------


G = TypeVar("G", KitemarkGrant, ScopeGrant)


async def _grant_for_staff(
    session: AsyncSession, principal: Principal, model: type[G], grant_id: str, noun: str
) -> tuple[G, Actor]:
    """A grant a reviewer or admin may act on (never their own organisation's), locked."""
    principal.require_role(Role.REVIEWER, Role.ADMIN)
    actor = Actor.ADMIN if principal.has_role(Role.ADMIN) else Actor.REVIEWER
    grant = await session.get(model, grant_id, with_for_update=True)
    if grant is None:
        raise errors.NotFound(f"no such {noun}")
    service = await session.get(Service, grant.service_id)
    assert service is not None
    await refuse_own_organisation(
        session,
        service.organisation_id,
        principal,
        f"you cannot act on a {noun} of your own organisation",
    )
    return grant, actor


async def change_kitemark(
    session: AsyncSession, principal: Principal, grant_id: str, action: str, reason: str
) -> KitemarkGrant:
    """Suspend, revoke or reinstate a kitemark (reviewers and admins, with a reason)."""
    grant, actor = await _grant_for_staff(session, principal, KitemarkGrant, grant_id, "kitemark")
    if action == "reinstate" and grant.expires_at <= utcnow():
        raise errors.InvalidTransition(
            grant.status.value, "active", "the kitemark has expired; it cannot be reinstated"
        )
    transition_kitemark(
        session, grant, action, actor=actor, actor_id=principal.account_id, reason=reason
    )
    return grant


@dataclass(frozen=True)
class KitemarkStatus:
    status: GrantStatus
    valid: bool
    expires_at: datetime


def status_of(
    grant: KitemarkGrant, release_status: ReleaseStatus, now: datetime | None = None
) -> KitemarkStatus:
    """The status a verifier should trust: an active grant past its expiry is expired already,
    and a kitemark is valid only while its release is published (not suspended or withdrawn)."""
    now = now or utcnow()
    status = grant.status
    if status in LIVE and grant.expires_at <= now:
        status = GrantStatus.EXPIRED
    valid = status is GrantStatus.ACTIVE and release_status in SERVING
    return KitemarkStatus(status, valid, grant.expires_at)


async def grant_with_release_status(
    session: AsyncSession, grant_id: str
) -> tuple[KitemarkGrant, ReleaseStatus] | None:
    """One primary-key join: the status endpoint's only read."""
    row = (
        await session.exec(
            select(KitemarkGrant, Release.status)
            .join(Release, col(Release.id) == col(KitemarkGrant.release_id))
            .where(KitemarkGrant.id == grant_id)
        )
    ).first()
    return (row[0], ReleaseStatus(row[1])) if row else None


def current_kitemarks(service_id: str) -> Any:
    """A service's current grants (superseded ones are history) with their release's status."""
    return (
        select(KitemarkGrant, Release.status)
        .join(Release, col(Release.id) == col(KitemarkGrant.release_id))
        .where(KitemarkGrant.service_id == service_id)
        .where(KitemarkGrant.status != GrantStatus.SUPERSEDED)
    )


async def service_kitemarks(
    session: AsyncSession, service_id: str
) -> list[tuple[KitemarkGrant, ReleaseStatus]]:
    """All of `current_kitemarks`, newest first."""
    rows = (
        await session.exec(current_kitemarks(service_id).order_by(col(KitemarkGrant.id).desc()))
    ).all()
    return [(grant, ReleaseStatus(status)) for grant, status in rows]


async def service_scope_grants(session: AsyncSession, service_id: str) -> list[ScopeGrant]:
    return list(
        (
            await session.exec(
                select(ScopeGrant)
                .where(ScopeGrant.service_id == service_id)
                .where(ScopeGrant.status != GrantStatus.SUPERSEDED)
                .order_by(col(ScopeGrant.scope))
            )
        ).all()
    )


async def revoke_scope_grant(
    session: AsyncSession, principal: Principal, grant_id: str, reason: str
) -> ScopeGrant:
    """Take a scope away from a service: its tokens lose it at the next request or introspection."""
    grant, actor = await _grant_for_staff(session, principal, ScopeGrant, grant_id, "scope grant")
    transition_scope(
        session, grant, "revoke", actor=actor, actor_id=principal.account_id, reason=reason
    )
    client = (
        await session.exec(
            select(OAuthClient).where(OAuthClient.service_id == grant.service_id).with_for_update()
        )
    ).first()
    if client is not None and grant.release_id == client.release_id:
        client.scopes = [s for s in client.scopes if s != grant.scope]
        session.add(client)
    return grant


async def expire_kitemarks(session: AsyncSession, warning: timedelta) -> tuple[int, int]:
    """Expire grants past their date; warn (once) about those expiring within `warning`."""
    now = utcnow()
    expired = (
        await session.exec(
            select(KitemarkGrant)
            .where(col(KitemarkGrant.status).in_(LIVE))
            .where(col(KitemarkGrant.expires_at) <= now)
            .with_for_update()
            .limit(1000)
        )
    ).all()
    for grant in expired:
        transition_kitemark(session, grant, "expire", actor=Actor.SYSTEM, actor_id=None)
    expiring = (
        await session.exec(
            select(KitemarkGrant)
            .where(KitemarkGrant.status == GrantStatus.ACTIVE)
            .where(col(KitemarkGrant.expires_at) > now)
            .where(col(KitemarkGrant.expires_at) <= now + warning)
            .where(col(KitemarkGrant.expiry_warned_at).is_(None))
            .with_for_update()
            .limit(1000)
        )
    ).all()
    for grant in expiring:
        grant.expiry_warned_at = now
        session.add(grant)
        record_event(
            session,
            "kitemark:grant:expiring",
            subject_type="kitemark",
            subject_id=grant.id,
            actor_id=None,
            body={
                "service_id": grant.service_id,
                "release_id": grant.release_id,
                "scheme": grant.scheme,
                "expires_at": grant.expires_at.isoformat(),
            },
        )
    return len(expired), len(expiring)

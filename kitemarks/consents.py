"""Citizens' consents: granting through the consent screen, narrowing, revoking, expiring, signed receipts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.lifecycle import Actor, transition_consent
from kitemarks.models import Consent, ConsentStatus, OAuthToken
from marketplace import errors
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import Scope
from marketplace.ids import new_id
from marketplace.organisations.models import Organisation
from marketplace.releases.models import Release, Service

if TYPE_CHECKING:
    from kitemarks.keys import KeyRing
    from kitemarks.oauth.server import ClientRow

RECEIPT_TYPE = "consent-receipt+jwt"
TIER_MEANING = {
    "status": "a yes or no answer only, never the data itself",
    "summary": "a summary of the data",
    "record": "the full record",
}


async def data_uses(
    session: AsyncSession, release: Release, scopes: list[str]
) -> list[dict[str, Any]]:
    """What the citizen is shown for each scope: plain English, tier, purpose, retention, sharing."""
    declared = {u.get("scope"): u for u in release.manifest.get("data_uses", [])}
    known = {
        s.name: s
        for s in (await session.exec(select(Scope).where(col(Scope.name).in_(scopes)))).all()
    }
    uses = []
    for name in scopes:
        use = declared.get(name, {})
        scope = known.get(name)
        tier = scope.tier.value if scope else "record"
        uses.append(
            {
                "scope": name,
                "title": scope.title if scope else name,
                "description": scope.description if scope else "",
                "data_owner": scope.data_owner if scope else "",
                "tier": tier,
                "tier_meaning": TIER_MEANING[tier],
                "purpose": use.get("purpose", "service_delivery"),
                "purpose_description": use.get("purpose_description", ""),
                "lawful_basis": use.get("lawful_basis", "consent"),
                "retention_days": use.get("retention_days"),
                "shared_with_third_parties": bool(use.get("shared_with_third_parties", False)),
                "optional": bool(use.get("optional", False)),
            }
        )
    return uses


async def grant_consent(
    session: AsyncSession,
    *,
    account_id: str,
    client: ClientRow,
    scopes: list[str],
    expires_at: datetime,
) -> Consent:
    """Record the citizen's choice; an earlier consent to the same service is replaced."""
    release = await session.get(Release, client.release_id)
    assert release is not None
    for earlier in (
        await session.exec(
            select(Consent)
            .where(Consent.account_id == account_id)
            .where(Consent.service_id == client.service_id)
            .where(Consent.status == ConsentStatus.ACTIVE)
            .with_for_update()
        )
    ).all():
        await _end(
            session, earlier, "revoke", Actor.SYSTEM, account_id, "replaced by a new consent"
        )
    consent = Consent(
        id=new_id("cns"),
        account_id=account_id,
        service_id=client.service_id,
        release_id=release.id,
        client_id=client.client_id,
        scopes=sorted(scopes),
        uses=await data_uses(session, release, sorted(scopes)),
        status=ConsentStatus.ACTIVE,
        expires_at=expires_at,
    )
    session.add(consent)
    await session.flush()  # codes refer to it
    record_event(
        session,
        "consent:consent:granted",
        subject_type="consent",
        subject_id=consent.id,
        actor_id=account_id,
        body={
            "service_id": consent.service_id,
            "scopes": consent.scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return consent


async def _end(
    session: AsyncSession,
    consent: Consent,
    action: str,
    actor: Actor,
    actor_id: str | None,
    reason: str,
) -> None:
    transition_consent(session, consent, action, actor=actor, actor_id=actor_id, reason=reason)
    # The tokens die with it (introspection checks the consent too; this keeps the rows honest).
    await session.exec(
        update(OAuthToken)
        .where(col(OAuthToken.consent_id) == consent.id)
        .where(col(OAuthToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def own_consent(
    session: AsyncSession, principal: Principal, consent_id: str, *, lock: bool = False
) -> Consent:
    consent = await session.get(Consent, consent_id, with_for_update=lock)
    if consent is None or consent.account_id != principal.account_id:
        raise errors.NotFound("no such consent")
    return consent


async def revoke_consent(session: AsyncSession, principal: Principal, consent_id: str) -> Consent:
    """Revoke now: every token issued under it is inactive from this commit on."""
    consent = await own_consent(session, principal, consent_id, lock=True)
    await _end(
        session, consent, "revoke", Actor.CITIZEN, principal.account_id, "revoked by the citizen"
    )
    return consent


async def change_consent(
    session: AsyncSession,
    principal: Principal,
    consent_id: str,
    *,
    scopes: list[str] | None,
    expires_at: datetime | None,
    max_days: int,
) -> Consent:
    """Narrow the scopes or move the expiry; never add a scope (that takes a new consent screen)."""
    consent = await own_consent(session, principal, consent_id, lock=True)
    if consent.status is not ConsentStatus.ACTIVE or consent.expires_at <= utcnow():
        raise errors.InvalidTransition(
            consent.status.value, "active", "only an active consent can be changed"
        )
    problems: list[errors.FieldError] = []
    if scopes is not None:
        widened = sorted(set(scopes) - set(consent.scopes))
        if widened:
            problems.append(
                errors.FieldError(
                    "/scopes", f"a consent can only be narrowed; not in it: {', '.join(widened)}"
                )
            )
        elif not scopes:
            problems.append(
                errors.FieldError("/scopes", "keep at least one scope, or revoke the consent")
            )
    if expires_at is not None:
        latest = consent.granted_at + timedelta(days=max_days)
        if expires_at <= utcnow():
            problems.append(errors.FieldError("/expires_at", "must be in the future"))
        elif expires_at > latest:
            problems.append(
                errors.FieldError(
                    "/expires_at",
                    f"a consent lasts at most {max_days} days from when it was given "
                    f"({latest.isoformat()})",
                )
            )
    if problems:
        raise errors.ValidationFailed(problems)
    body: dict[str, Any] = {"service_id": consent.service_id}
    if scopes is not None and set(scopes) != set(consent.scopes):
        body["removed_scopes"] = sorted(set(consent.scopes) - set(scopes))
        consent.scopes = sorted(set(scopes))
        consent.uses = [u for u in consent.uses if u["scope"] in consent.scopes]
    if expires_at is not None:
        consent.expires_at = expires_at
        body["expires_at"] = expires_at.isoformat()
    body["scopes"] = consent.scopes
    session.add(consent)
    record_event(
        session,
        "consent:consent:changed",
        subject_type="consent",
        subject_id=consent.id,
        actor_id=principal.account_id,
        body=body,
    )
    return consent


async def expire_consents(session: AsyncSession) -> int:
    """End consents past their expiry, like a revocation (their tokens already answer inactive)."""
    due = (
        await session.exec(
            select(Consent)
            .where(Consent.status == ConsentStatus.ACTIVE)
            .where(col(Consent.expires_at) <= utcnow())
            .with_for_update()
            .limit(1000)
        )
    ).all()
    for consent in due:
        await _end(session, consent, "expire", Actor.SYSTEM, None, "expired")
    return len(due)


async def receipt(
    session: AsyncSession, ring: KeyRing, principal: Principal, consent_id: str, issuer: str
) -> tuple[dict[str, Any], str]:
    """A Kantara Consent Receipt (v1.1) for the consent, and the same signed as a compact JWS."""
    consent = await own_consent(session, principal, consent_id)
    service = await session.get(Service, consent.service_id)
    release = await session.get(Release, consent.release_id)
    assert service is not None and release is not None
    organisation = await session.get(Organisation, service.organisation_id)
    assert organisation is not None
    manifest = release.manifest
    claims: dict[str, Any] = {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "GB",
        "consentTimestamp": int(consent.granted_at.timestamp()),
        "collectionMethod": "GovStore OAuth consent screen",
        "consentReceiptID": consent.id,
        "publicKey": None,
        "language": "en",
        "piiPrincipalId": consent.account_id,
        "piiControllers": [
            {
                "piiController": organisation.name,
                "onBehalf": False,
                "contact": manifest.get("support_email") or organisation.contact_email,
                "address": None,
                "email": organisation.contact_email,
                "phone": None,
                "piiControllerUrl": manifest.get("website_url"),
            }
        ],
        "policyUrl": manifest.get("privacy_policy_url"),
        "services": [
            {
                "service": service.name,
                "purposes": [
                    {
                        "purpose": use["purpose_description"] or use["purpose"],
                        "purposeCategory": [use["purpose"]],
                        "consentType": "EXPLICIT",
                        "piiCategory": [f"{use['title']} ({use['scope']}, tier {use['tier']})"],
                        "primaryPurpose": not use["optional"],
                        "termination": (
                            f"consent ends {consent.expires_at.isoformat()} or when revoked; "
                            f"data kept {use['retention_days']} days"
                        ),
                        "thirdPartyDisclosure": use["shared_with_third_parties"],
                        "thirdPartyName": None,
                    }
                    for use in consent.uses
                ],
            }
        ],
        "sensitive": any(use["tier"] == "record" for use in consent.uses),
        "spiCat": [],
        # Beyond Kantara's fields: where the receipt comes from and the consent's state now.
        "iss": issuer,
        "iat": int(utcnow().timestamp()),
        "status": consent.status.value,
        "expires_at": consent.expires_at.isoformat(),
    }
    _, token = await ring.sign(claims, typ=RECEIPT_TYPE)
    return claims, token

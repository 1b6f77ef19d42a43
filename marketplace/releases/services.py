"""Service and release rules: who may see and change them, submission, withdrawal, history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal
from marketplace.events import AuditEvent, events_for, record_event
from marketplace.guidelines.models import KitemarkScheme, Scope
from marketplace.guidelines.services import current_version
from marketplace.ids import new_id
from marketplace.organisations.services import (
    membership_of,
    refuse_own_organisation,
    visible_organisation,
)
from marketplace.releases.lifecycle import IN_FLIGHT, Actor, ReleaseStatus, transition
from marketplace.releases.manifest import manifest_references, validate_manifest
from marketplace.releases.models import Release, Service


async def create_service(
    session: AsyncSession, principal: Principal, organisation_id: str, *, slug: str, name: str
) -> Service:
    await visible_organisation(session, principal, organisation_id)
    principal.require_role(Role.PROVIDER)
    existing = (await session.exec(select(Service).where(Service.slug == slug))).first()
    if existing is not None:
        raise errors.Conflict(f"the slug {slug!r} is taken")
    service = Service(
        id=new_id("svc"),
        organisation_id=organisation_id,
        slug=slug,
        name=name.strip(),
        created_by=principal.account_id,
    )
    session.add(service)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict(f"the slug {slug!r} is taken") from None
    record_event(
        session,
        "service:service:created",
        subject_type="service",
        subject_id=service.id,
        actor_id=principal.account_id,
        body={"organisation_id": organisation_id, "slug": slug},
    )
    return service


async def visible_service(session: AsyncSession, principal: Principal, service_id: str) -> Service:
    """The service if the caller belongs to its organisation; 404 otherwise (existence stays private)."""
    service = await session.get(Service, service_id)
    if (
        service is None
        or await membership_of(session, service.organisation_id, principal.account_id) is None
    ):
        raise errors.NotFound("no such service")
    return service


async def visible_release(
    session: AsyncSession, principal: Principal, service_id: str, release_id: str
) -> tuple[Service, Release]:
    service = await visible_service(session, principal, service_id)
    release = await session.get(Release, release_id)
    if release is None or release.service_id != service.id:
        raise errors.NotFound("no such release")
    return service, release


async def _reference_problems(
    session: AsyncSession, manifest: dict[str, Any]
) -> list[errors.FieldError]:
    scope_refs, scheme_refs = manifest_references(manifest)
    problems: list[errors.FieldError] = []
    names = {name for _, name in scope_refs}
    known_scopes = (
        set((await session.exec(select(Scope.name).where(col(Scope.name).in_(names)))).all())
        if names
        else set()
    )
    for pointer, name in scope_refs:
        if name not in known_scopes:
            problems.append(errors.FieldError("/manifest" + pointer, f"no scope named {name!r}"))
    slugs = {slug for _, slug in scheme_refs}
    schemes = (
        {
            s.slug: s
            for s in (
                await session.exec(
                    select(KitemarkScheme).where(col(KitemarkScheme.slug).in_(slugs))
                )
            ).all()
        }
        if slugs
        else {}
    )
    for pointer, slug in scheme_refs:
        if slug not in schemes:
            problems.append(
                errors.FieldError("/manifest" + pointer, f"no kitemark scheme named {slug!r}")
            )
    for index, kitemark in enumerate(manifest.get("kitemarks", [])):
        scheme = schemes.get(kitemark.get("scheme", ""))
        if scheme is None:
            continue
        for j, evidence in enumerate(kitemark.get("evidence", [])):
            if evidence.get("criterion") not in scheme.criteria:
                problems.append(
                    errors.FieldError(
                        f"/manifest/kitemarks/{index}/evidence/{j}/criterion",
                        f"is not a criterion of {scheme.slug}",
                    )
                )
    seen_uses: set[tuple[str, str]] = set()
    for index, use in enumerate(manifest.get("data_uses", [])):
        pair = (str(use.get("scope")), str(use.get("purpose")))
        if pair in seen_uses:
            problems.append(
                errors.FieldError(
                    f"/manifest/data_uses/{index}",
                    "repeats the scope and purpose of another data use",
                )
            )
        seen_uses.add(pair)
    return problems


async def submit_release(
    session: AsyncSession, principal: Principal, service_id: str, manifest: dict[str, Any]
) -> Release:
    """Validate and store a release in `submitted`, linked to the service's previous release."""
    service = await visible_service(session, principal, service_id)
    principal.require_role(Role.PROVIDER)
    problems = [
        errors.FieldError("/manifest" + e.pointer, e.detail) for e in validate_manifest(manifest)
    ]
    if not problems:
        problems = await _reference_problems(session, manifest)
    if problems:
        raise errors.ValidationFailed(problems)
    version = await current_version(session)
    if version is None:
        raise errors.Conflict("no guideline version is published yet; releases cannot be reviewed")
    latest = (
        await session.exec(
            select(Release)
            .where(Release.service_id == service.id)
            .order_by(col(Release.number).desc())
            .limit(1)
        )
    ).first()
    if latest is not None and latest.status in IN_FLIGHT:
        raise errors.Conflict(
            f"release {latest.number} is still {latest.status.value}; withdraw it or wait for "
            "its decision before submitting another"
        )
    release = Release(
        id=new_id("rel"),
        service_id=service.id,
        number=(latest.number + 1) if latest else 1,
        manifest=manifest,
        guideline_version_id=version.id,
        status=ReleaseStatus.SUBMITTED,
        previous_release_id=latest.id if latest else None,
        submitted_by=principal.account_id,
    )
    session.add(release)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict("another release was submitted at the same time; retry") from None
    record_event(
        session,
        "release:status:changed",
        subject_type="release",
        subject_id=release.id,
        actor_id=principal.account_id,
        body={
            "service_id": service.id,
            "from": None,
            "to": ReleaseStatus.SUBMITTED.value,
            "action": "submit",
            "actor": Actor.PROVIDER.value,
            "number": release.number,
            "guideline_version": version.version,
        },
    )
    return release


async def withdraw_release(
    session: AsyncSession,
    principal: Principal,
    service_id: str,
    release_id: str,
    reason: str | None,
) -> Release:
    _, release = await visible_release(session, principal, service_id, release_id)
    transition(
        session,
        release,
        "withdraw",
        actor=Actor.PROVIDER,
        actor_id=principal.account_id,
        reason=reason,
    )
    return release


async def history(session: AsyncSession, release: Release) -> list[AuditEvent]:
    return [e for e in await events_for(session, release.id) if e.tag == "release:status:changed"]


def manifest_changes(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Top-level manifest fields that differ from the previous release (added, removed or changed)."""
    keys = sorted(set(previous) | set(current))
    return [f"/{k}" for k in keys if previous.get(k) != current.get(k)]


async def suspend_service(
    session: AsyncSession, principal: Principal, service_id: str, action: str, reason: str
) -> Release:
    """Suspend (reviewers, admins) or reinstate (admins) a service's published release.

    Its OAuth client works only while that release is published, so tokens stop (or start)
    being issued and answering active at once.
    """
    principal.require_role(Role.REVIEWER, Role.ADMIN)
    actor = Actor.ADMIN if principal.has_role(Role.ADMIN) else Actor.REVIEWER
    service = await session.get(Service, service_id)
    if service is None:
        raise errors.NotFound("no such service")
    await refuse_own_organisation(
        session,
        service.organisation_id,
        principal,
        "you cannot act on a service of your own organisation",
    )
    source = ReleaseStatus.PUBLISHED if action == "suspend" else ReleaseStatus.SUSPENDED
    release = (
        await session.exec(
            select(Release)
            .where(Release.service_id == service_id)
            .where(Release.status == source)
            .with_for_update()
        )
    ).first()
    if release is None:
        raise errors.InvalidTransition(
            "none",
            "suspended" if action == "suspend" else "published",
            f"the service has no {source.value} release to {action}",
        )
    transition(session, release, action, actor=actor, actor_id=principal.account_id, reason=reason)
    return release

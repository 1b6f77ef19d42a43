"""Rules for the guideline authority's publications: drafting, publishing (then immutable), scopes, schemes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal, hash_token
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import (
    DataApi,
    Guideline,
    GuidelineVersion,
    KitemarkScheme,
    Scope,
    Sensitivity,
    Severity,
    Tier,
    VersionStatus,
)
from marketplace.ids import new_id

DATA_API_SECRET_PREFIX = "gsd_"


@dataclass(frozen=True)
class GuidelineDraft:
    code: str
    title: str
    text: str
    category: str
    severity: Severity
    check: str | None
    kitemarks: list[str]


async def _unknown_schemes(
    session: AsyncSession, drafts: Sequence[GuidelineDraft]
) -> list[errors.FieldError]:
    known = set((await session.exec(select(KitemarkScheme.slug))).all())
    problems = []
    for i, draft in enumerate(drafts):
        for j, slug in enumerate(draft.kitemarks):
            if slug not in known:
                problems.append(
                    errors.FieldError(f"/guidelines/{i}/kitemarks/{j}", "no such kitemark scheme")
                )
    return problems


def _duplicate_codes(drafts: Sequence[GuidelineDraft]) -> list[errors.FieldError]:
    seen: set[str] = set()
    problems = []
    for i, draft in enumerate(drafts):
        if draft.code in seen:
            problems.append(errors.FieldError(f"/guidelines/{i}/code", "appears twice"))
        seen.add(draft.code)
    return problems


def _unknown_checks(
    drafts: Sequence[GuidelineDraft], known_checks: frozenset[str]
) -> list[errors.FieldError]:
    if not known_checks:
        return []
    return [
        errors.FieldError(
            f"/guidelines/{i}/check", "no automated check with this id (GET /v1/checks)"
        )
        for i, draft in enumerate(drafts)
        if draft.check is not None and draft.check not in known_checks
    ]


async def _write_guidelines(
    session: AsyncSession,
    version: GuidelineVersion,
    drafts: Sequence[GuidelineDraft],
    known_checks: frozenset[str] = frozenset(),
) -> None:
    problems = (
        _duplicate_codes(drafts)
        + _unknown_checks(drafts, known_checks)
        + await _unknown_schemes(session, drafts)
    )
    if problems:
        raise errors.ValidationFailed(problems)
    for position, draft in enumerate(drafts):
        session.add(
            Guideline(
                version_id=version.id,
                position=position,
                code=draft.code,
                title=draft.title,
                text=draft.text,
                category=draft.category,
                severity=draft.severity,
                check_id=draft.check,
                kitemarks=list(draft.kitemarks),
            )
        )


async def create_version(
    session: AsyncSession,
    principal: Principal,
    *,
    version: str,
    title: str,
    guidelines: Sequence[GuidelineDraft],
    known_checks: frozenset[str] = frozenset(),
) -> GuidelineVersion:
    principal.require_role(Role.ADMIN)
    existing = (
        await session.exec(select(GuidelineVersion).where(GuidelineVersion.version == version))
    ).first()
    if existing is not None:
        raise errors.Conflict(f"guideline version {version} already exists")
    record = GuidelineVersion(
        id=new_id("gv"),
        version=version,
        title=title,
        status=VersionStatus.DRAFT,
        created_by=principal.account_id,
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict(f"guideline version {version} already exists") from None
    await _write_guidelines(session, record, guidelines, known_checks)
    record_event(
        session,
        "guideline:version:drafted",
        subject_type="guideline_version",
        subject_id=record.id,
        actor_id=principal.account_id,
        body={"version": version, "guidelines": len(guidelines)},
    )
    return record


async def get_version(session: AsyncSession, version: str) -> GuidelineVersion:
    record = (
        await session.exec(select(GuidelineVersion).where(GuidelineVersion.version == version))
    ).first()
    if record is None:
        raise errors.NotFound(f"no guideline version {version}")
    return record


async def readable_version(
    session: AsyncSession, principal: Principal | None, version: str
) -> GuidelineVersion:
    """Published versions are public; drafts only to admins (404 for everyone else)."""
    record = await get_version(session, version)
    if record.status is VersionStatus.DRAFT and (
        principal is None or not principal.has_role(Role.ADMIN)
    ):
        raise errors.NotFound(f"no guideline version {version}")
    return record


async def replace_draft(
    session: AsyncSession,
    principal: Principal,
    version: str,
    *,
    title: str,
    guidelines: Sequence[GuidelineDraft],
    known_checks: frozenset[str] = frozenset(),
) -> GuidelineVersion:
    principal.require_role(Role.ADMIN)
    record = await get_version(session, version)
    if record.status is VersionStatus.PUBLISHED:
        raise errors.InvalidTransition(
            record.status.value, "draft", f"guideline version {version} is published and immutable"
        )
    await session.exec(delete(Guideline).where(Guideline.version_id == record.id))  # type: ignore[arg-type]
    record.title = title
    session.add(record)
    await _write_guidelines(session, record, guidelines, known_checks)
    record_event(
        session,
        "guideline:version:revised",
        subject_type="guideline_version",
        subject_id=record.id,
        actor_id=principal.account_id,
        body={"guidelines": len(guidelines)},
    )
    return record


async def publish_version(
    session: AsyncSession, principal: Principal, version: str
) -> GuidelineVersion:
    principal.require_role(Role.ADMIN)
    record = await get_version(session, version)
    if record.status is VersionStatus.PUBLISHED:
        raise errors.InvalidTransition(
            record.status.value, "published", f"guideline version {version} is already published"
        )
    if not await guidelines_of(session, record):
        raise errors.Conflict("a guideline version needs at least one guideline")
    record.status = VersionStatus.PUBLISHED
    record.published_at = utcnow()
    session.add(record)
    record_event(
        session,
        "guideline:version:published",
        subject_type="guideline_version",
        subject_id=record.id,
        actor_id=principal.account_id,
        body={"version": version},
    )
    return record


async def guidelines_of(session: AsyncSession, version: GuidelineVersion) -> list[Guideline]:
    result = await session.exec(
        select(Guideline)
        .where(Guideline.version_id == version.id)
        .order_by(col(Guideline.position))
    )
    return list(result.all())


async def current_version(session: AsyncSession) -> GuidelineVersion | None:
    """The most recently published version: new releases are reviewed against it."""
    result = await session.exec(
        select(GuidelineVersion)
        .where(GuidelineVersion.status == VersionStatus.PUBLISHED)
        .order_by(col(GuidelineVersion.published_at).desc(), col(GuidelineVersion.id).desc())
        .limit(1)
    )
    return result.first()


async def create_scope(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    title: str,
    description: str,
    tier: Tier,
    sensitivity: Sensitivity,
    data_owner: str,
) -> Scope:
    principal.require_role(Role.ADMIN)
    if await session.get(Scope, name) is not None:
        raise errors.Conflict(f"scope {name} already exists")
    scope = Scope(
        name=name,
        title=title,
        description=description,
        tier=tier,
        sensitivity=sensitivity,
        data_owner=data_owner,
    )
    session.add(scope)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict(f"scope {name} already exists") from None
    record_event(
        session,
        "guideline:scope:created",
        subject_type="scope",
        subject_id=name,
        actor_id=principal.account_id,
        body={"tier": tier.value, "sensitivity": sensitivity.value},
    )
    return scope


async def create_scheme(
    session: AsyncSession,
    principal: Principal,
    *,
    slug: str,
    title: str,
    description: str,
    criteria: list[str],
    validity_days: int,
) -> KitemarkScheme:
    principal.require_role(Role.ADMIN)
    if await session.get(KitemarkScheme, slug) is not None:
        raise errors.Conflict(f"kitemark scheme {slug} already exists")
    duplicates = [
        errors.FieldError(f"/criteria/{i}", "appears twice")
        for i, code in enumerate(criteria)
        if code in criteria[:i]
    ]
    if duplicates:
        raise errors.ValidationFailed(duplicates)
    scheme = KitemarkScheme(
        slug=slug,
        title=title,
        description=description,
        criteria=criteria,
        validity_days=validity_days,
    )
    session.add(scheme)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict(f"kitemark scheme {slug} already exists") from None
    record_event(
        session,
        "guideline:kitemark_scheme:created",
        subject_type="kitemark_scheme",
        subject_id=slug,
        actor_id=principal.account_id,
        body={"criteria": criteria},
    )
    return scheme


async def register_data_api(
    session: AsyncSession, principal: Principal, *, name: str, data_owner: str
) -> tuple[DataApi, str]:
    """Register a department's data API; returns it with its client secret (shown once)."""
    principal.require_role(Role.ADMIN)
    secret = DATA_API_SECRET_PREFIX + secrets.token_urlsafe(32)
    data_api = DataApi(
        id=new_id("dapi"),
        name=name,
        data_owner=data_owner,
        client_id=new_id("dapic"),
        client_secret_hash=hash_token(secret),
        created_by=principal.account_id,
    )
    session.add(data_api)
    record_event(
        session,
        "guideline:data_api:registered",
        subject_type="data_api",
        subject_id=data_api.id,
        actor_id=principal.account_id,
        body={"name": name, "data_owner": data_owner},
    )
    return data_api, secret

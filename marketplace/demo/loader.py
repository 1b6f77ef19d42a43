"""`marketplace demo`: loads data.json through the ordinary service functions; safe to run again."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogue.assembly import install_catalogue
from kitemarks.assembly import install_kitemarks, start_kitemarks
from marketplace import errors
from marketplace.accounts import services as accounts
from marketplace.accounts.models import BASE_ROLES, Account, Role, TokenKind
from marketplace.auth import Principal
from marketplace.guidelines import services as guidelines
from marketplace.guidelines.models import (
    GuidelineVersion,
    KitemarkScheme,
    Scope,
    Sensitivity,
    Severity,
    Tier,
    VersionStatus,
)
from marketplace.organisations import services as organisations
from marketplace.organisations.models import MemberRole, Organisation
from marketplace.platform import Platform
from marketplace.releases import services as releases
from marketplace.releases.models import Service
from marketplace.settings import Settings


def demo_data() -> dict[str, Any]:
    text = resources.files("marketplace.demo").joinpath("data.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _acting_as(account: Account) -> Principal:
    return Principal(
        account_id=account.id,
        email=account.email,
        roles=frozenset(account.roles),
        token_id="demo-loader",
        token_kind=TokenKind.SESSION,
        scopes=frozenset(),
    )


async def _accounts(
    platform: Platform, session: AsyncSession, data: dict[str, Any]
) -> dict[str, Account]:
    by_email: dict[str, Account] = {}
    for entry in data["accounts"]:
        account = await accounts.account_by_email(session, entry["email"])
        if account is None:
            roles = [Role(r) for r in entry["roles"]]
            base = next((r for r in roles if r in BASE_ROLES), Role.CITIZEN)
            account = await accounts.register(
                platform,
                session,
                email=entry["email"],
                password=entry["password"],
                display_name=entry["display_name"],
                role=base,
                extra_roles=frozenset(r for r in roles if r not in BASE_ROLES),
            )
            if base not in roles:
                account.roles = sorted(r.value for r in roles)
                session.add(account)
        by_email[account.email] = account
    return by_email


async def _review_demo(platform: Platform, data: dict[str, Any]) -> list[str]:
    """Run automated review on new demo releases, then record the demo's reviewer decisions."""
    from datetime import timedelta

    from marketplace.releases.lifecycle import ReleaseStatus
    from marketplace.releases.models import Release
    from review import services as review
    from review.automated import run_automated_review
    from review.models import FindingResult, Outcome

    done: list[str] = []
    async with platform.db.session(write=False) as session:
        pending = (
            await session.exec(select(Release.id).where(Release.status == ReleaseStatus.SUBMITTED))
        ).all()
    for release_id in pending:
        await run_automated_review(platform, release_id)
        done.append("automated reviews")
    reviewers = [a for a in data["accounts"] if Role.REVIEWER.value in a["roles"]]
    async with platform.db.transaction() as session:
        first, second = (
            _acting_as(account)
            for account in [
                await accounts.account_by_email(session, r["email"]) for r in reviewers[:2]
            ]
            if account is not None
        )
        for org in data["organisations"]:
            for entry in org["services"]:
                plan = entry.get("review")
                if not plan:
                    continue
                service = (
                    await session.exec(select(Service).where(Service.slug == entry["slug"]))
                ).one()
                release = (
                    await session.exec(
                        select(Release)
                        .where(Release.service_id == service.id)
                        .where(Release.status == ReleaseStatus.AWAITING_REVIEW)
                    )
                ).first()
                if release is None:
                    continue
                guidelines_ = await review._guidelines(session, release)
                await review.claim(session, first, release.id, lease=timedelta(minutes=30))
                decision = await review.decide(
                    session,
                    first,
                    release.id,
                    outcome=Outcome(plan["outcome"]),
                    findings=[
                        review.FindingInput(code, FindingResult.PASS, None)
                        for code in sorted(guidelines_)
                    ],
                    kitemarks=plan.get("kitemarks", []),
                    scopes=plan.get("scopes", []),
                    note=plan.get("note"),
                    on_approved=platform.on_approval,
                )
                if decision.needs_second_approval:
                    await review.second_approval(
                        session,
                        second,
                        release.id,
                        outcome=Outcome.APPROVE,
                        note="Second reviewer: agreed.",
                        on_approved=platform.on_approval,
                    )
                done.append("review decisions")
    return done


async def _activity_demo(platform: Platform, data: dict[str, Any]) -> list[str]:
    """Citizens using the published services: consents (one withdrawn), reads of their data,
    ratings, a complaint and providers' outcome figures, so every web page shows something."""
    from datetime import timedelta

    from catalogue import feedback
    from catalogue.models import ComplaintCategory
    from kitemarks import consents
    from kitemarks.models import AccessEvent, Consent, OAuthClient
    from kitemarks.oauth import tokens
    from marketplace.db import utcnow
    from marketplace.guidelines.models import DataApi

    plan = data.get("activity")
    if not plan:
        return []
    done: list[str] = []
    async with platform.db.transaction() as session:
        people = {
            a["email"]: await accounts.account_by_email(session, a["email"])
            for a in data["accounts"]
        }
        first = people[plan["consents"][0]["citizen"]]
        assert first is not None
        if (await session.exec(select(Consent).where(Consent.account_id == first.id))).first():
            return []
        admin = next(a for a in people.values() if a is not None and Role.ADMIN.value in a.roles)
        apis: dict[str, DataApi] = {}
        for entry in plan["data_apis"]:
            found = (
                await session.exec(select(DataApi).where(DataApi.name == entry["name"]))
            ).first()
            if found is None:
                found, _ = await guidelines.register_data_api(
                    session, _acting_as(admin), name=entry["name"], data_owner=entry["data_owner"]
                )
                done.append("data APIs")
            apis[entry["name"]] = found
        services = {s.slug: s for s in (await session.exec(select(Service))).all()}
        now = utcnow()
        for entry in plan["consents"]:
            citizen = people[entry["citizen"]]
            assert citizen is not None
            service = services[entry["service"]]
            row = (
                await session.exec(select(OAuthClient).where(OAuthClient.service_id == service.id))
            ).one()
            client = await tokens.load_client(platform.db, row.client_id)
            assert client is not None
            consent = await consents.grant_consent(
                session,
                account_id=citizen.id,
                client=client.row,
                scopes=entry["scopes"],
                expires_at=now + timedelta(days=entry["days"]),
            )
            done.append("consents")
            await session.flush()
            uses = {u["scope"]: u for u in consent.uses}
            for read in entry["reads"]:
                at = now - timedelta(days=read["days_ago"])
                session.add(
                    AccessEvent(
                        account_id=citizen.id,
                        consent_id=consent.id,
                        service_id=service.id,
                        token_id="demo",
                        scope=read["scope"],
                        tier=uses[read["scope"]]["tier"],
                        purpose=uses[read["scope"]]["purpose"],
                        data_api_id=apis[read["data_api"]].id,
                        case_reference=read["case_reference"],
                        created_at=at,
                    )
                )
                consent.last_access_at = max(consent.last_access_at or at, at)
                session.add(consent)
                done.append("reads of citizens' data")
            if entry.get("revoke"):
                await consents.revoke_consent(session, _acting_as(citizen), consent.id)
        await session.flush()
        for entry in plan["ratings"]:
            citizen = people[entry["citizen"]]
            assert citizen is not None
            await feedback.rate(
                session, _acting_as(citizen), entry["service"], entry["stars"], entry["comment"]
            )
            done.append("ratings")
        for entry in plan["complaints"]:
            citizen = people[entry["citizen"]]
            assert citizen is not None
            await feedback.complain(
                session,
                _acting_as(citizen),
                entry["service"],
                ComplaintCategory(entry["category"]),
                entry["description"],
                threshold=platform.settings.complaint_review_threshold,
                window_days=platform.settings.complaint_review_window_days,
            )
            done.append("complaints")
        owners = {org["name"]: people[org["owner"]] for org in data["organisations"]}
        for entry in plan["outcomes"]:
            service = services[entry["service"]]
            organisation = await session.get(Organisation, service.organisation_id)
            assert organisation is not None
            owner = owners[organisation.name]
            assert owner is not None
            await feedback.report_outcome(
                session,
                _acting_as(owner),
                service.id,
                period=entry["period"],
                metric=entry["metric"],
                value=entry["value"],
            )
            done.append("outcome reports")
    return done


async def load_demo(settings: Settings) -> list[str]:
    """Create whatever of the demo set is missing; returns a summary, one line per kind."""
    data = demo_data()
    platform = Platform.create(settings)
    install_kitemarks(platform)
    install_catalogue(platform)
    created: dict[str, int] = {}

    def count(kind: str) -> None:
        created[kind] = created.get(kind, 0) + 1

    try:
        await start_kitemarks(platform)
        async with platform.db.transaction() as session:
            people = await _accounts(platform, session, data)
            admin = _acting_as(next(a for a in people.values() if Role.ADMIN.value in a.roles))
            for scope in data["scopes"]:
                if await session.get(Scope, scope["name"]) is None:
                    await guidelines.create_scope(
                        session,
                        admin,
                        name=scope["name"],
                        title=scope["title"],
                        description=scope["description"],
                        tier=Tier(scope["tier"]),
                        sensitivity=Sensitivity(scope["sensitivity"]),
                        data_owner=scope["data_owner"],
                    )
                    count("scopes")
            for scheme in data["kitemark_schemes"]:
                if await session.get(KitemarkScheme, scheme["slug"]) is None:
                    await guidelines.create_scheme(
                        session,
                        admin,
                        slug=scheme["slug"],
                        title=scheme["title"],
                        description=scheme["description"],
                        criteria=scheme["criteria"],
                        validity_days=scheme["validity_days"],
                    )
                    count("kitemark schemes")
            await session.flush()
            for version in data["guideline_versions"]:
                record = (
                    await session.exec(
                        select(GuidelineVersion).where(
                            GuidelineVersion.version == version["version"]
                        )
                    )
                ).first()
                if record is None:
                    record = await guidelines.create_version(
                        session,
                        admin,
                        version=version["version"],
                        title=version["title"],
                        guidelines=[
                            guidelines.GuidelineDraft(
                                code=g["code"],
                                title=g["title"],
                                text=g["text"],
                                category=g["category"],
                                severity=Severity(g["severity"]),
                                check=g["check"],
                                kitemarks=g["kitemarks"],
                            )
                            for g in version["guidelines"]
                        ],
                    )
                    count("guideline versions")
                    await session.flush()
                if version.get("publish") and record.status is VersionStatus.DRAFT:
                    await guidelines.publish_version(session, admin, version["version"])
            await session.flush()
            for org in data["organisations"]:
                owner = _acting_as(people[org["owner"]])
                existing = (
                    await session.exec(select(Organisation).where(Organisation.name == org["name"]))
                ).first()
                if existing is None:
                    existing = await organisations.create_organisation(
                        session,
                        owner,
                        name=org["name"],
                        contact_email=org["contact_email"],
                        company_number=org.get("company_number"),
                    )
                    count("organisations")
                    await session.flush()
                for email in org.get("developers", []):
                    member = await organisations.membership_of(
                        session, existing.id, people[email].id
                    )
                    if member is None:
                        await organisations.add_member(
                            session, owner, existing.id, email=email, role=MemberRole.DEVELOPER
                        )
                for entry in org["services"]:
                    service = (
                        await session.exec(select(Service).where(Service.slug == entry["slug"]))
                    ).first()
                    if service is not None:
                        continue
                    service = await releases.create_service(
                        session, owner, existing.id, slug=entry["slug"], name=entry["name"]
                    )
                    count("services")
                    try:
                        await releases.submit_release(session, owner, service.id, entry["manifest"])
                    except errors.ValidationFailed as exc:
                        details = "; ".join(f"{e.pointer} {e.detail}" for e in exc.errors)
                        raise RuntimeError(
                            f"demo manifest {entry['slug']} is invalid: {details}"
                        ) from exc
                    count("releases")
        for line in await _review_demo(platform, data):
            count(line)
        for line in await _activity_demo(platform, data):
            count(line)
        lines = [f"created {n} {kind}" for kind, n in created.items()] or [
            "demo data already loaded; nothing to do"
        ]
        lines.append("demo sign-ins: see README.md (Demo accounts)")
        return lines
    finally:
        await platform.close()

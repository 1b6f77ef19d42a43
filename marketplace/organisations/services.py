"""Organisation rules: who may see and change an organisation, and membership."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import Account, Role
from marketplace.accounts.services import account_by_email, email_problems, normalise_email
from marketplace.auth import Principal
from marketplace.events import record_event
from marketplace.ids import new_id
from marketplace.organisations.models import MemberRole, Membership, Organisation

COMPANY_NUMBER = re.compile(r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$")


async def membership_of(
    session: AsyncSession, organisation_id: str, account_id: str
) -> Membership | None:
    result = await session.exec(
        select(Membership).where(
            Membership.organisation_id == organisation_id, Membership.account_id == account_id
        )
    )
    return result.first()


async def refuse_own_organisation(
    session: AsyncSession, organisation_id: str, principal: Principal, refusal: str
) -> None:
    """Reviewers and admins never act on their own organisation's services, releases or grants
    (a conflict of interest): 403 with `refusal` when the caller is a member."""
    if await membership_of(session, organisation_id, principal.account_id) is not None:
        raise errors.Forbidden(refusal)


async def visible_organisation(
    session: AsyncSession, principal: Principal, organisation_id: str, *, owner: bool = False
) -> tuple[Organisation, Membership]:
    """The organisation if the caller is a member (an owner, when asked); otherwise 404 or 403."""
    organisation = await session.get(Organisation, organisation_id)
    membership = (
        await membership_of(session, organisation_id, principal.account_id)
        if organisation is not None
        else None
    )
    if organisation is None or membership is None:
        raise errors.NotFound("no such organisation")
    if owner and membership.role is not MemberRole.OWNER:
        raise errors.Forbidden("only an owner of the organisation can do this")
    return organisation, membership


async def create_organisation(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    contact_email: str,
    company_number: str | None,
) -> Organisation:
    principal.require_role(Role.PROVIDER)
    contact_email = normalise_email(contact_email)
    problems = email_problems(contact_email, "/contact_email")
    if company_number is not None:
        company_number = company_number.strip().upper()
        if not COMPANY_NUMBER.match(company_number):
            problems.append(
                errors.FieldError(
                    "/company_number", "must be a Companies House number such as 01234567"
                )
            )
    if problems:
        raise errors.ValidationFailed(problems)
    organisation = Organisation(
        id=new_id("org"),
        name=name.strip(),
        contact_email=contact_email,
        company_number=company_number,
    )
    session.add(organisation)
    await session.flush()
    session.add(
        Membership(
            organisation_id=organisation.id, account_id=principal.account_id, role=MemberRole.OWNER
        )
    )
    record_event(
        session,
        "organisation:organisation:created",
        subject_type="organisation",
        subject_id=organisation.id,
        actor_id=principal.account_id,
        body={"name": organisation.name},
    )
    return organisation


async def add_member(
    session: AsyncSession,
    principal: Principal,
    organisation_id: str,
    *,
    email: str,
    role: MemberRole,
) -> Membership:
    await visible_organisation(session, principal, organisation_id, owner=True)
    account = await account_by_email(session, email)
    if account is None:
        raise errors.ValidationFailed(
            [errors.FieldError("/email", "no account has this email; ask them to register first")]
        )
    if not account.has_role(Role.PROVIDER):
        raise errors.ValidationFailed(
            [errors.FieldError("/email", "this account is not a provider account")]
        )
    if await membership_of(session, organisation_id, account.id) is not None:
        raise errors.Conflict("this account is already a member")
    membership = Membership(organisation_id=organisation_id, account_id=account.id, role=role)
    session.add(membership)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict("this account is already a member") from None
    record_event(
        session,
        "organisation:member:added",
        subject_type="organisation",
        subject_id=organisation_id,
        actor_id=principal.account_id,
        body={"account_id": account.id, "role": role.value},
    )
    return membership


async def members(session: AsyncSession, organisation_id: str) -> list[tuple[Membership, Account]]:
    result = await session.exec(
        select(Membership, Account)
        .join(Account, Account.id == Membership.account_id)  # type: ignore[arg-type]
        .where(Membership.organisation_id == organisation_id)
        .order_by(col(Membership.id))
    )
    return list(result.all())


async def organisation_ids_of(session: AsyncSession, account_id: str) -> list[str]:
    result = await session.exec(
        select(Membership.organisation_id).where(Membership.account_id == account_id)
    )
    return list(result.all())

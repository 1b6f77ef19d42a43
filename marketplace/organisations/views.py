"""HTTP API for organisations and their members."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal
from marketplace.organisations import services
from marketplace.organisations.models import MemberRole, Membership, Organisation
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.routing import Input, Output, Router

router = Router("organisations")


class OrganisationCreate(Input):
    name: str = Field(min_length=2, max_length=120, pattern=r"\S")
    contact_email: str = Field(min_length=3, max_length=254)
    company_number: str | None = Field(
        default=None, max_length=8, description="Companies House number, if registered"
    )


class MemberIn(Input):
    email: str = Field(min_length=3, max_length=254)
    role: Literal["owner", "developer"]


class MemberOut(Output):
    account_id: str
    email: str
    display_name: str
    role: MemberRole
    joined_at: datetime


class OrganisationOut(Output):
    id: str
    name: str
    contact_email: str
    company_number: str | None
    created_at: datetime
    members: list[MemberOut]


class OrganisationSummary(Output):
    id: str
    name: str
    role: MemberRole = Field(description="your role in it")
    created_at: datetime


async def _out(session: AsyncSession, organisation: Organisation) -> OrganisationOut:
    members = await services.members(session, organisation.id)
    return OrganisationOut(
        id=organisation.id,
        name=organisation.name,
        contact_email=organisation.contact_email,
        company_number=organisation.company_number,
        created_at=organisation.created_at,
        members=[
            MemberOut(
                account_id=a.id,
                email=a.email,
                display_name=a.display_name,
                role=m.role,
                joined_at=m.created_at,
            )
            for m, a in members
        ],
    )


@router.post(
    "/v1/organisations",
    summary="Create an organisation",
    status_code=201,
    creates=True,
    scope=TokenScope.ORGANISATIONS_WRITE,
    errors=(403, 422),
)
async def create_organisation(
    session: AsyncSession, principal: Principal, body: OrganisationCreate
) -> OrganisationOut:
    """Register a provider organisation; you become its owner."""
    organisation = await services.create_organisation(
        session,
        principal,
        name=body.name,
        contact_email=body.contact_email,
        company_number=body.company_number,
    )
    return await _out(session, organisation)


@router.get("/v1/organisations", summary="Your organisations")
async def list_organisations(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[OrganisationSummary]:
    """The organisations you are a member of."""
    statement = (
        select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)  # type: ignore[arg-type]
        .where(Membership.account_id == principal.account_id)
    )
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(Organisation.id)],
        key_of=lambda r: [r[0].id],
        query=query,
    )
    return Page[OrganisationSummary](
        items=[
            OrganisationSummary(id=o.id, name=o.name, role=role, created_at=o.created_at)
            for o, role in rows
        ],
        next_cursor=cursor,
    )


@router.get("/v1/organisations/{org_id}", summary="An organisation", errors=(404,))
async def get_organisation(
    session: AsyncSession, principal: Principal, org_id: str
) -> OrganisationOut:
    """Members only; anyone else gets 404."""
    organisation, _ = await services.visible_organisation(session, principal, org_id)
    return await _out(session, organisation)


@router.post(
    "/v1/organisations/{org_id}/members",
    summary="Add a member",
    status_code=201,
    creates=True,
    scope=TokenScope.ORGANISATIONS_WRITE,
    errors=(403, 404, 409, 422),
)
async def add_member(
    session: AsyncSession, principal: Principal, org_id: str, body: MemberIn
) -> OrganisationOut:
    """Owners add registered provider accounts as owners or developers."""
    await services.add_member(
        session, principal, org_id, email=body.email, role=MemberRole(body.role)
    )
    organisation, _ = await services.visible_organisation(session, principal, org_id)
    return await _out(session, organisation)

"""Organisation and membership tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, ts_column, utcnow


class MemberRole(StrEnum):
    OWNER = "owner"  # manages members, webhooks and everything a developer can
    DEVELOPER = "developer"  # creates services, submits and withdraws releases


class Organisation(SQLModel, table=True):
    """A provider organisation; services belong to one."""

    __tablename__ = "organisations"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    contact_email: str = Field(max_length=254)
    company_number: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Membership(SQLModel, table=True):
    """An account's role in an organisation."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisations.id", ondelete="CASCADE", max_length=40)
    account_id: str = Field(
        foreign_key="accounts.id", ondelete="CASCADE", max_length=40, index=True
    )
    role: MemberRole = Field(sa_column=enum_column(MemberRole, name="member_role"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""Account and access-token tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow


class Role(StrEnum):
    CITIZEN = "citizen"
    PROVIDER = "provider"
    REVIEWER = "reviewer"
    ADMIN = "admin"


BASE_ROLES = frozenset({Role.CITIZEN, Role.PROVIDER})
PRIVILEGED_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})


class TokenKind(StrEnum):
    SESSION = "session"  # from POST /v1/auth/login: short-lived, every scope
    API = "api"  # minted by the account: long-lived, scoped, prefix gst_


class TokenScope(StrEnum):
    """What a provider API token may do; session tokens may do everything the account may."""

    READ = "read"
    ORGANISATIONS_WRITE = "organisations:write"
    SERVICES_WRITE = "services:write"
    REVIEW_WRITE = "review:write"
    ADMIN_WRITE = "admin:write"


class Account(SQLModel, table=True):
    """A person who signs in: citizen, provider, reviewer or admin (roles combine)."""

    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=40)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=100)
    roles: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


class AccessToken(SQLModel, table=True):
    """A bearer token, stored only as a SHA-256 hash of its high-entropy secret."""

    __tablename__ = "access_tokens"
    __table_args__ = (sa.Index("ix_access_tokens_account_kind", "account_id", "kind"),)

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", ondelete="CASCADE", max_length=40)
    kind: TokenKind = Field(sa_column=enum_column(TokenKind, name="token_kind"))
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column(index=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))

"""Trust tables: signing keys, kitemark and scope grants, OAuth clients, codes, tokens, consents, access events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow
from marketplace.guidelines.models import Tier


class GrantStatus(StrEnum):
    """Kitemark and scope grants. `superseded`: a newer approved release holds the grant now."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class ConsentStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class SigningKey(SQLModel, table=True):
    """The public half of a platform signing key; the private half stays in the data directory."""

    __tablename__ = "signing_keys"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=16)
    public_jwk: dict[str, Any] = Field(sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    retired_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # A retired key stays in the JWKS until everything it signed has expired.
    publish_until: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class KitemarkGrant(SQLModel, table=True):
    """A kitemark held by a service through one approved release, with its signed credential."""

    __tablename__ = "kitemark_grants"
    __table_args__ = (
        sa.UniqueConstraint("release_id", "scheme"),
        sa.Index("ix_kitemark_grants_service_status", "service_id", "status"),
        sa.Index("ix_kitemark_grants_status_expires", "status", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    release_id: str = Field(foreign_key="releases.id", ondelete="CASCADE", max_length=40)
    scheme: str = Field(foreign_key="kitemark_schemes.slug", max_length=60)
    status: GrantStatus = Field(sa_column=enum_column(GrantStatus, name="grant_status"))
    # Per criterion: the evidence level the provider claimed and the reviewer accepted.
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    granted_by: str | None = Field(default=None, max_length=40)
    granted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column())
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    status_reason: str | None = Field(default=None, max_length=500)
    kid: str = Field(max_length=64)
    credential: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    expiry_warned_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class ScopeGrant(SQLModel, table=True):
    """A scope (at its tier) a service may request from citizens, granted by a review decision."""

    __tablename__ = "scope_grants"
    __table_args__ = (
        sa.UniqueConstraint("release_id", "scope"),
        sa.Index("ix_scope_grants_service_status", "service_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    release_id: str = Field(foreign_key="releases.id", ondelete="CASCADE", max_length=40)
    scope: str = Field(foreign_key="scopes.name", max_length=100)
    tier: Tier = Field(sa_column=enum_column(Tier, name="grant_tier"))
    status: GrantStatus = Field(sa_column=enum_column(GrantStatus, name="scope_grant_status"))
    granted_by: str | None = Field(default=None, max_length=40)
    granted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    status_reason: str | None = Field(default=None, max_length=500)


class OAuthClient(SQLModel, table=True):
    """A published service's OAuth client. `scopes` mirrors its active scope grants (hot path).

    It works only while `release_id` (the newest approved release) is `published`: suspending or
    withdrawing the service ends its tokens without touching this row. No secret exists until the
    provider asks for one (it is shown once).
    """

    __tablename__ = "oauth_clients"

    client_id: str = Field(primary_key=True, max_length=60)
    service_id: str = Field(
        foreign_key="services.id",
        ondelete="CASCADE",
        max_length=40,
        sa_column_kwargs={"unique": True},
    )
    release_id: str = Field(foreign_key="releases.id", max_length=40)
    secret_hash: str | None = Field(default=None, max_length=64)
    redirect_uris: list[str] = Field(default_factory=list, sa_column=json_column())
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    secret_rotated_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Consent(SQLModel, table=True):
    """A citizen's scoped, expiring permission for one service; `uses` snapshots what they read."""

    __tablename__ = "consents"
    __table_args__ = (
        sa.Index("ix_consents_account_status", "account_id", "status"),
        sa.Index("ix_consents_status_expires", "status", "expires_at"),
        sa.Index("ix_consents_service", "service_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", ondelete="CASCADE", max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    release_id: str = Field(foreign_key="releases.id", max_length=40)
    client_id: str = Field(max_length=60)
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    # Per scope, what the citizen was shown: tier, purpose, lawful basis, retention, sharing.
    uses: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    status: ConsentStatus = Field(sa_column=enum_column(ConsentStatus, name="consent_status"))
    granted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column())
    ended_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    end_reason: str | None = Field(default=None, max_length=200)
    last_access_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class AuthorizationCode(SQLModel, table=True):
    """A one-time authorization code (stored hashed), bound to a consent and a PKCE challenge."""

    __tablename__ = "oauth_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=60)
    consent_id: str = Field(foreign_key="consents.id", ondelete="CASCADE", max_length=40)
    account_id: str = Field(max_length=40)
    redirect_uri: str = Field(max_length=2000)
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column())
    used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # The family of the tokens issued for it: a replayed code revokes them (RFC 6749 §4.1.2).
    family_id: str | None = Field(default=None, max_length=40)


class OAuthToken(SQLModel, table=True):
    """An access token (and maybe a refresh token), both stored as SHA-256 hashes.

    A refresh rotation issues a new row in the same family; presenting a rotated refresh token
    again revokes the whole family (reuse detection).
    """

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        sa.Index("ix_oauth_tokens_consent", "consent_id"),
        sa.Index("ix_oauth_tokens_family", "family_id"),
        sa.Index("ix_oauth_tokens_expires", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    access_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    refresh_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    family_id: str = Field(max_length=40)
    client_id: str = Field(max_length=60)
    service_id: str = Field(max_length=40)
    consent_id: str | None = Field(
        default=None, foreign_key="consents.id", ondelete="CASCADE", max_length=40
    )
    account_id: str | None = Field(default=None, max_length=40)
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    issued_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column())
    refresh_expires_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    rotated_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class AccessEvent(SQLModel, table=True):
    """One read of a citizen's data: which service, which scope at which tier, why, through which data API."""

    __tablename__ = "access_events"
    __table_args__ = (
        sa.Index("ix_access_events_account_time", "account_id", "created_at"),
        sa.Index("ix_access_events_consent", "consent_id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    account_id: str = Field(max_length=40)
    consent_id: str = Field(max_length=40)
    service_id: str = Field(max_length=40)
    token_id: str = Field(max_length=40)
    scope: str = Field(max_length=100)
    tier: str = Field(max_length=20)
    purpose: str = Field(max_length=40)
    data_api_id: str = Field(max_length=40)
    case_reference: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class OAuthEpoch(SQLModel, table=True):
    """One row, bumped in the same transaction as any change that can end or narrow a token.

    Introspection answers from a per-process cache, and its group commit reads this value once
    per batch: an answer cached before a revocation is never given after it.
    """

    __tablename__ = "oauth_epoch"

    id: int = Field(primary_key=True)
    value: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False, server_default="0")
    )

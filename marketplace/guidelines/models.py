"""Tables for guideline versions and guidelines, scopes, kitemark schemes and registered data APIs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Severity(StrEnum):
    BLOCKING = "blocking"
    ADVISORY = "advisory"


class Tier(StrEnum):
    """Tiers of access, least revealing first: yes/no answers, summaries, whole records."""

    STATUS = "status"
    SUMMARY = "summary"
    RECORD = "record"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


class Sensitivity(StrEnum):
    LOW = "low"
    HIGH = "high"  # a second, different reviewer must confirm the grant


class GuidelineVersion(SQLModel, table=True):
    """A numbered set of guidelines; immutable once published."""

    __tablename__ = "guideline_versions"

    id: str = Field(primary_key=True, max_length=40)
    version: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    title: str = Field(max_length=200)
    status: VersionStatus = Field(sa_column=enum_column(VersionStatus, name="version_status"))
    created_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    published_at: datetime | None = Field(
        default=None, sa_column=ts_column(nullable=True, index=True)
    )


class Guideline(SQLModel, table=True):
    """One guideline in a version: what providers must (blocking) or should (advisory) do."""

    __tablename__ = "guidelines"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(foreign_key="guideline_versions.id", ondelete="CASCADE", max_length=40)
    position: int
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    category: str = Field(max_length=40)
    severity: Severity = Field(sa_column=enum_column(Severity, name="severity"))
    check_id: str | None = Field(default=None, max_length=60)
    kitemarks: list[str] = Field(default_factory=list, sa_column=json_column())


class Scope(SQLModel, table=True):
    """An API scope: access to one kind of government data, at one tier."""

    __tablename__ = "scopes"

    name: str = Field(primary_key=True, max_length=100)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    tier: Tier = Field(sa_column=enum_column(Tier, name="tier"))
    sensitivity: Sensitivity = Field(sa_column=enum_column(Sensitivity, name="sensitivity"))
    data_owner: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class KitemarkScheme(SQLModel, table=True):
    """A certification mark and the guideline codes a service must meet to hold it."""

    __tablename__ = "kitemark_schemes"

    slug: str = Field(primary_key=True, max_length=60)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    criteria: list[str] = Field(default_factory=list, sa_column=json_column())
    validity_days: int = Field(
        sa_column=sa.Column(
            sa.Integer(),
            sa.CheckConstraint("validity_days > 0", name="validity_positive"),
            nullable=False,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class DataApi(SQLModel, table=True):
    """A department's resource server, allowed to introspect tokens (its secret stored hashed)."""

    __tablename__ = "data_apis"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    data_owner: str = Field(max_length=200)
    client_id: str = Field(max_length=60, sa_column_kwargs={"unique": True})
    client_secret_hash: str = Field(max_length=64)
    created_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    disabled_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))

"""Service and release tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow
from marketplace.releases.lifecycle import ReleaseStatus


class Service(SQLModel, table=True):
    """A digital service an organisation offers; its content lives in releases."""

    __tablename__ = "services"

    id: str = Field(primary_key=True, max_length=40)
    organisation_id: str = Field(
        foreign_key="organisations.id", ondelete="RESTRICT", max_length=40, index=True
    )
    slug: str = Field(max_length=60, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=80)
    created_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Release(SQLModel, table=True):
    """One submitted manifest of a service, reviewed against one guideline version."""

    __tablename__ = "releases"
    __table_args__ = (
        sa.UniqueConstraint("service_id", "number"),
        sa.Index("ix_releases_status_changed", "status", "status_changed_at"),
        # "What changed since" scans (the confusable-name index refresh).
        sa.Index("ix_releases_changed_at", "status_changed_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    number: int = Field(ge=1)
    manifest: dict[str, Any] = Field(sa_column=json_column())
    guideline_version_id: str = Field(foreign_key="guideline_versions.id", max_length=40)
    status: ReleaseStatus = Field(sa_column=enum_column(ReleaseStatus, name="release_status"))
    previous_release_id: str | None = Field(default=None, foreign_key="releases.id", max_length=40)
    submitted_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

"""The catalogue's read model, and what citizens and providers add to it: ratings, complaints, outcomes.

`catalogue_entries` is a read model: one row per listed service, rebuilt by `catalogue.index`
from the releases, grants and ratings whenever one of them changes (in the same transaction),
with the listing card pre-rendered. The full-text index beside it (FTS5 tables on SQLite;
`tsvector` columns with a GIN index, and the rank-ordered `catalogue_postings`, on PostgreSQL)
is written by the same code path. None of it is in the models: the FTS5 tables are virtual and
SQLite-only, the `name_vector`/`search_vector` columns and `catalogue_postings` exist on
PostgreSQL only; migrations 0006 and 0007 create them (`marketplace.migrate.modelled` keeps
autogenerate away from the tables).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, ts_column, utcnow


class CatalogueEntry(SQLModel, table=True):
    __tablename__ = "catalogue_entries"
    __table_args__ = (
        sa.Index("ix_catalogue_entries_category_rank", "category", "rank_key"),
        sa.Index("ix_catalogue_entries_name", "name_key", "doc_id"),
    )

    # Integer key: the full-text index's row id, and the "newest" order (listed later, higher).
    doc_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    service_id: str = Field(
        foreign_key="services.id",
        ondelete="CASCADE",
        max_length=40,
        sa_column_kwargs={"unique": True},
    )
    # "Better rated, then newer" as one ascending integer (catalogue.search.rank_key); on
    # SQLite also the row id of the listing's full-text row.
    rank_key: int = Field(
        sa_column=sa.Column(sa.BigInteger(), nullable=False, unique=True),
    )
    slug: str = Field(max_length=60, sa_column_kwargs={"unique": True})
    release_id: str = Field(max_length=40)
    organisation_id: str = Field(max_length=40)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80)
    category: str = Field(max_length=40)
    under_review: bool = False
    rating_count: int = 0
    # Computed from the ratings table on every change of a rating (never set by hand); 0 when none.
    rating_mean: float = 0.0
    listed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # The listing card as JSON text, ready to be joined into a response.
    card: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class CatalogueKitemark(SQLModel, table=True):
    """An active kitemark of a listed service (the `kitemark` filter)."""

    __tablename__ = "catalogue_kitemarks"

    scheme: str = Field(primary_key=True, max_length=60)
    doc_id: int = Field(
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("catalogue_entries.doc_id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    expires_at: datetime = Field(sa_column=ts_column())


class CatalogueScope(SQLModel, table=True):
    """A granted scope of a listed service (the `scope` filter)."""

    __tablename__ = "catalogue_scopes"

    scope: str = Field(primary_key=True, max_length=100)
    doc_id: int = Field(
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("catalogue_entries.doc_id", ondelete="CASCADE"),
            primary_key=True,
        )
    )


class CatalogueVersion(SQLModel, table=True):
    """One row: goes up in the same transaction as any change to the read model (cache key, ETag)."""

    __tablename__ = "catalogue_version"

    id: int = Field(default=1, primary_key=True)
    value: int = 0


class ServiceFigures(SQLModel, table=True):
    """Public counters per service, kept from the audit events as they commit.

    Counted from events rather than rows so that they survive a citizen's erasure: the consents
    go, the figure stays.
    """

    __tablename__ = "service_figures"

    service_id: str = Field(primary_key=True, max_length=40)
    opt_ins: int = 0
    revocations: int = 0
    expiries: int = 0
    complaints: int = 0


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (
        sa.UniqueConstraint("service_id", "account_id"),
        sa.Index("ix_ratings_service_updated", "service_id", "updated_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    # NULL once the citizen erased their account: the rating stays, unlinked.
    account_id: str | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL", max_length=40
    )
    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ComplaintCategory(StrEnum):
    DATA_MISUSE = "data_misuse"
    PRIVACY = "privacy"
    SECURITY = "security"
    ACCESSIBILITY = "accessibility"
    ACCURACY = "accuracy"
    SERVICE_QUALITY = "service_quality"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESPONDED = "responded"
    RESOLVED = "resolved"


class Complaint(SQLModel, table=True):
    __tablename__ = "complaints"
    __table_args__ = (
        sa.Index("ix_complaints_service_created", "service_id", "created_at"),
        sa.Index("ix_complaints_account", "account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    # The release that was live when the complaint was made (re-review attaches to it).
    release_id: str = Field(max_length=40)
    account_id: str | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL", max_length=40
    )
    category: ComplaintCategory = Field(
        sa_column=enum_column(ComplaintCategory, name="complaint_category")
    )
    description: str = Field(max_length=5000)
    status: ComplaintStatus = Field(
        sa_column=enum_column(ComplaintStatus, name="complaint_status", index=True)
    )
    resolution: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # Set when this complaint was among those that sent the release back to review.
    escalated_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class ComplaintResponse(SQLModel, table=True):
    __tablename__ = "complaint_responses"

    id: str = Field(primary_key=True, max_length=40)
    complaint_id: str = Field(
        foreign_key="complaints.id", ondelete="CASCADE", max_length=40, index=True
    )
    author_id: str | None = Field(default=None, max_length=40)
    # provider or reviewer: how the complainant sees who answered.
    author_role: str = Field(max_length=20)
    message: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class OutcomeReport(SQLModel, table=True):
    """One reported value; a later report for the same period and metric replaces it (history kept)."""

    __tablename__ = "outcome_reports"
    __table_args__ = (
        sa.Index("ix_outcome_reports_service_metric", "service_id", "metric", "period"),
    )

    id: str = Field(primary_key=True, max_length=40)
    service_id: str = Field(foreign_key="services.id", ondelete="CASCADE", max_length=40)
    release_id: str = Field(max_length=40)
    period: str = Field(max_length=10)
    metric: str = Field(max_length=64)
    value: float
    reported_by: str | None = Field(default=None, max_length=40)
    reported_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

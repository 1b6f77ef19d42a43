"""Review tables: findings, claims (leases), decisions, and each release's place in the queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow


class FindingSource(StrEnum):
    AUTOMATED = "automated"
    REVIEWER = "reviewer"


class FindingResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class Finding(SQLModel, table=True):
    """One guideline's result for one release, from an automated check or from a reviewer."""

    __tablename__ = "findings"
    __table_args__ = (sa.Index("ix_findings_release_source", "release_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: str = Field(foreign_key="releases.id", ondelete="CASCADE", max_length=40)
    source: FindingSource = Field(sa_column=enum_column(FindingSource, name="finding_source"))
    code: str = Field(max_length=20, description="guideline code")
    check_id: str | None = Field(default=None, max_length=60)
    result: FindingResult = Field(sa_column=enum_column(FindingResult, name="finding_result"))
    severity: str = Field(max_length=20)
    pointer: str = Field(default="", max_length=300)
    message: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    fix: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    reviewer_id: str | None = Field(default=None, max_length=40)
    decision_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ReviewState(SQLModel, table=True):
    """A release's review bookkeeping: risk, queue order, its current claim, appeal exclusions."""

    __tablename__ = "review_states"
    __table_args__ = (sa.Index("ix_review_states_queue", "queued", "queue_key"),)

    release_id: str = Field(
        primary_key=True, foreign_key="releases.id", ondelete="CASCADE", max_length=40
    )
    risk_score: int = 0
    risk_factors: list[str] = Field(default_factory=list, sa_column=json_column())
    automated_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # In the human queue (awaiting_review)? queue_key orders it: older and riskier first.
    queued: bool = Field(default=False)
    queued_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    queue_key: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=40, index=True)
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=ts_column(nullable=True, index=True)
    )
    # Reviewers who may not take this release again (an appeal goes to someone else).
    excluded_reviewers: list[str] = Field(default_factory=list, sa_column=json_column())
    appealed: bool = False


class Decision(SQLModel, table=True):
    """A reviewer's decision on a release, with reason codes and what it grants."""

    __tablename__ = "decisions"

    id: str = Field(primary_key=True, max_length=40)
    release_id: str = Field(
        foreign_key="releases.id", ondelete="CASCADE", max_length=40, index=True
    )
    reviewer_id: str = Field(max_length=40)
    outcome: Outcome = Field(sa_column=enum_column(Outcome, name="decision_outcome"))
    reason_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    kitemarks: list[str] = Field(default_factory=list, sa_column=json_column())
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    needs_second_approval: bool = False
    second_reviewer_id: str | None = Field(default=None, max_length=40)
    second_outcome: Outcome | None = Field(
        default=None, sa_column=enum_column(Outcome, name="second_outcome", nullable=True)
    )
    second_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    queued_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    decided_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(index=True))
    completed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))

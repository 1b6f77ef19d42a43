"""Webhook endpoint, delivery and event-cursor tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import enum_column, json_column, ts_column, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class WebhookEndpoint(SQLModel, table=True):
    """Where an organisation receives events; the signing secret is sealed, never stored plain."""

    __tablename__ = "webhook_endpoints"

    organisation_id: str = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE", max_length=40
    )
    url: str = Field(max_length=2000)
    secret_sealed: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or being sent) to one organisation, with its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "organisation_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    organisation_id: str = Field(
        foreign_key="organisations.id", ondelete="CASCADE", max_length=40, index=True
    )
    event_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    event: str = Field(max_length=60)
    url: str = Field(max_length=2000)
    payload: dict[str, Any] = Field(sa_column=json_column())
    status: DeliveryStatus = Field(sa_column=enum_column(DeliveryStatus, name="delivery_status"))
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    delivered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class EventCursor(SQLModel, table=True):
    """How far a consumer of audit events (the webhook dispatcher) has read."""

    __tablename__ = "event_cursors"

    name: str = Field(primary_key=True, max_length=40)
    last_event_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))

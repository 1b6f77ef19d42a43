"""Audit events: every state change records one, in the same transaction, tagged `source:subject:action`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.db import json_column, ts_column, utcnow

_TAG = re.compile(r"^[a-z_]+:[a-z_]+:[a-z_]+$")


class AuditEvent(SQLModel, table=True):
    """An append-only record of a state change; transparency log and webhooks are fed from here."""

    __tablename__ = "audit_events"

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    tag: str = Field(max_length=100, index=True)
    actor_id: str | None = Field(default=None, max_length=40, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=200, index=True)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


def record_event(
    session: AsyncSession,
    tag: str,
    *,
    subject_type: str,
    subject_id: str,
    actor_id: str | None,
    body: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits (or not) with the change it describes."""
    if not _TAG.match(tag):
        raise ValueError(f"audit tag {tag!r} is not source:subject:action")
    event = AuditEvent(
        tag=tag,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        body=body or {},
    )
    session.add(event)
    session.info.setdefault("events", []).append(event)
    return event


async def events_for(session: AsyncSession, subject_id: str) -> list[AuditEvent]:
    result = await session.exec(
        select(AuditEvent).where(AuditEvent.subject_id == subject_id).order_by(col(AuditEvent.id))
    )
    return list(result.all())

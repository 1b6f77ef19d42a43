"""What scenarios share: the Target a benchmark drives, and helpers for loading rows in bulk.

A scenario is a module in `bench/scenarios/` exposing

    async def load(database_url: str, size: int) -> Context
    def targets(ctx: Context) -> list[Target]

`load` writes straight into the freshly migrated database (SQLAlchemy core, executemany),
never through the HTTP API, and returns whatever the targets need: ids, bearer tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncConnection

from marketplace.accounts.models import TokenKind
from marketplace.auth import SESSION_TOKEN_PREFIX, display_prefix, hash_token, new_token
from marketplace.db import utcnow
from marketplace.ids import new_id
from marketplace.settings import Settings
from marketplace.tables import metadata

# Rows per INSERT batch: large enough to be fast, small enough for asyncpg's parameter limit
# (32767 bind parameters per statement) once SQLAlchemy turns executemany into multi-VALUES.
BATCH_ROWS = 1000


class Target(NamedTuple):
    """One endpoint to drive: `headers` and `body` are sent on every request.

    With `bodies`, each request sends the next of them instead (`body` is then ignored): wrk's
    threads take interleaved strides, and the probe, the warm-up and the measurement each start
    after the last body the one before used, so no body is sent twice in a run unless they run
    out (the harness then starts over and says so). Use it for single-use values (authorization
    codes) or to spread requests over many rows (tokens). Bodies are one line each.

    `check`, if given, reads the probe's response body and returns what is wrong with it (None
    when it is the answer the endpoint should give): a run whose probe fails it is a failed run.

    With `paths`, requests cycle through them (each wrk thread from its own offset) instead of
    `path`, which the probe still uses; a path may carry a tab and an `If-None-Match` value.
    """

    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    bodies: Sequence[str] = ()
    check: Callable[[bytes], str | None] | None = None
    paths: Sequence[str] = ()


HEALTHZ = Target("GET /healthz", "GET", "/healthz", {}, None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def table(name: str) -> sa.Table:
    return metadata.tables[name]


async def insert_rows(
    conn: AsyncConnection, table_name: str, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert `rows` with executemany in batches; returns how many were written."""
    target = table(table_name)
    for start in range(0, len(rows), BATCH_ROWS):
        await conn.execute(sa.insert(target), list(rows[start : start + BATCH_ROWS]))
    return len(rows)


def password_hash(password: str) -> str:
    """One argon2id hash at the server's configured cost, to reuse for every bulk account."""
    settings = Settings()
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )
    return hasher.hash(password)


def session_token(account_id: str, *, now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """A first-party session token (as `POST /v1/auth/login` issues): plaintext and its row."""
    now = now or utcnow()
    token = new_token(SESSION_TOKEN_PREFIX)
    row = {
        "id": new_id("tok"),
        "account_id": account_id,
        "kind": TokenKind.SESSION,
        "name": "sign-in",
        "prefix": display_prefix(token),
        "token_hash": hash_token(token),
        "scopes": [],
        "created_at": now,
        # Long enough to outlive any run; the server's own session tokens last an hour.
        "expires_at": now + timedelta(days=1),
        "revoked_at": None,
    }
    return token, row


def event_row(
    tag: str,
    *,
    subject_type: str,
    subject_id: str,
    actor_id: str | None,
    body: Mapping[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """An `audit_events` row, as `marketplace.events.record_event` would add it."""
    return {
        "tag": tag,
        "actor_id": actor_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "body": dict(body),
        "created_at": at,
    }


def spread(count: int, *, days: int = 365, now: datetime | None = None) -> list[datetime]:
    """`count` timestamps spread evenly over the last `days` days, oldest first."""
    now = now or utcnow()
    step = timedelta(days=days) / max(count, 1)
    return [now - step * (count - i) for i in range(count)]


def rename(document: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A deep copy of a JSON document with some top-level fields replaced."""
    copy: dict[str, Any] = json.loads(json.dumps(document))
    copy.update(fields)
    return copy

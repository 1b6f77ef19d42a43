"""Spent OAuth credentials are deleted once they can no longer matter.

Every token request stores a row (the hashes of an access token and maybe a refresh token) and
every authorization a code; without this the tables only grow. A row is kept while anything can
still be done with it, including being replayed: a rotated refresh token or a used code presented
again revokes its whole family (reuse detection), so rows go a family at a time, only once every
token in the family is past both its access and its refresh expiry, plus the retention period
(`GOVSTORE_OAUTH_RETENTION_DAYS`). A code goes once it has expired and its family (if it was
ever exchanged) is gone. Consents, their receipts and the access events (the citizen's record of
who read what) are not touched.

Deletes run in batches, each in its own short transaction, so SQLite's one writer is never held
for long.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kitemarks.models import AuthorizationCode, OAuthToken
from marketplace.db import Database, table_of

BATCH = 2000


def _spent_families(cutoff: datetime) -> sa.Delete:
    t = table_of(OAuthToken)
    families = (
        sa.select(t.c.family_id)
        .group_by(t.c.family_id)
        .having(
            sa.and_(
                sa.func.max(t.c.expires_at) < cutoff,
                sa.func.max(sa.func.coalesce(t.c.refresh_expires_at, t.c.expires_at)) < cutoff,
            )
        )
        .limit(BATCH)
    )
    return sa.delete(t).where(t.c.family_id.in_(families))


def _spent_codes(cutoff: datetime) -> sa.Delete:
    c, t = table_of(AuthorizationCode), table_of(OAuthToken)
    family_alive = sa.exists().where(t.c.family_id == c.c.family_id)
    codes = (
        sa.select(c.c.code_hash)
        .where(c.c.expires_at < cutoff, sa.or_(c.c.family_id.is_(None), ~family_alive))
        .limit(BATCH)
    )
    return sa.delete(c).where(c.c.code_hash.in_(codes))


async def _until_done(db: Database, statement: Any) -> int:
    total = 0
    while True:
        async with db.transaction() as session:
            deleted = int((await session.exec(statement)).rowcount or 0)
        total += deleted
        if deleted == 0:
            return total


async def purge_spent_credentials(db: Database, cutoff: datetime) -> dict[str, int]:
    """Delete token families wholly expired before `cutoff`, then codes expired before it whose
    family is gone. Idempotent; returns how many rows of each went."""
    tokens = await _until_done(db, _spent_families(cutoff))
    codes = await _until_done(db, _spent_codes(cutoff))
    return {"tokens_deleted": tokens, "codes_deleted": codes}

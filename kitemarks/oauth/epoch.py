"""The revocation epoch: one counter every token-ending change bumps in its own transaction.

Every state change records an audit event in the same transaction (STYLE.md), so the bump hangs
off the session's commit: when the events about to commit include one that can end or narrow a
token (a consent revoked or narrowed, a scope grant revoked, a release suspended or superseded,
a client changed, tokens revoked), the counter goes up in that same transaction. Readers compare
the epoch their cached answer was built at with the current one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

# Audit tags (by prefix) that can change whether a token is active or what it may read.
BUMPING = (
    "consent:consent:revoked",
    "consent:consent:expired",
    "consent:consent:changed",
    "scope:grant:",
    "release:status:changed",
    "oauth:client:",
    "oauth:token:",
)

READ_SQL = "SELECT COALESCE((SELECT value FROM oauth_epoch WHERE id = 1), 0)"
BUMP = sa.text(
    "INSERT INTO oauth_epoch (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = oauth_epoch.value + 1"
)


def _before_commit(session: Session) -> None:
    events: list[Any] = session.info.get("events", [])
    bumps = any(getattr(e, "tag", "").startswith(BUMPING) for e in events)
    if bumps and not session.info.get("epoch_bumped"):
        session.execute(BUMP)
        session.info["epoch_bumped"] = True


def _after_end(session: Session) -> None:
    session.info.pop("epoch_bumped", None)


def install() -> None:
    """Listen on every ORM session (idempotent). AsyncSession runs these inside its greenlet."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_end)
        event.listen(Session, "after_rollback", _after_end)

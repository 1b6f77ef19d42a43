"""Wires the transparency log into a platform: the outbox listener, the access-event companion, the sequencer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks import keys
from kitemarks.keys import KeyRing
from kitemarks.oauth.access_log import AccessLogWriter
from marketplace.db import utcnow
from marketplace.platform import Platform
from marketplace.rawdb import RawTransaction
from transparency import entries
from transparency.models import TreeHead
from transparency.sequencer import Sequencer
from transparency.store import NodeCache

logger = logging.getLogger("govstore.transparency")

# A retired key that signed the latest head stays in the JWKS at least this long; the sequencer
# signs the head again under the new key within one interval of the rotation.
HEAD_KEY_GRACE = timedelta(hours=1)


async def _head_key_retention(session: AsyncSession, kid: str) -> datetime | None:
    latest = (
        await session.exec(select(TreeHead.kid).order_by(col(TreeHead.id).desc()).limit(1))
    ).first()
    return utcnow() + HEAD_KEY_GRACE if latest == kid else None


def keep_head_keys() -> None:
    """Make key rotation keep a retired key published while it signed the latest head (idempotent;
    `marketplace rotate-keys` calls it too, as it rotates without building a platform)."""
    if _head_key_retention not in keys.RETENTION_RULES:
        keys.RETENTION_RULES.append(_head_key_retention)


def install_transparency(platform: Platform) -> None:
    entries.install()
    ring: KeyRing = platform.services["keyring"]
    sequencer = Sequencer(
        platform.db,
        ring,
        batch_size=platform.settings.transparency_batch_size,
        interval_seconds=platform.settings.transparency_interval_seconds,
    )
    platform.services["transparency"] = sequencer
    platform.services["transparency_nodes"] = NodeCache()
    platform.on_close.append(sequencer.close)
    keep_head_keys()

    async def kick_on_commit(events: list[Any]) -> None:
        if any(entries.log_entry_of(e.tag, e.subject_id, e.body or {}) for e in events):
            sequencer.kick()

    platform.db.event_hooks.append(kick_on_commit)

    async def with_access_events(tx: RawTransaction, rows: list[dict[str, Any]]) -> None:
        # In the introspection batch's own transaction: the entry commits with the access event.
        await tx.executemany(entries.INSERT_PENDING, entries.access_rows(rows))
        sequencer.kick()

    writer: AccessLogWriter = platform.services["access_log"]
    writer.companions.append(with_access_events)


async def start_transparency(platform: Platform) -> None:
    """Run this process's sequencer (several processes may; one sequences at a time)."""
    sequencer: Sequencer = platform.services["transparency"]
    sequencer.start()
    sequencer.kick()

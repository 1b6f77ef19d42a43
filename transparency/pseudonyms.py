"""Citizens in the log: a pseudonym per citizen from a secret key of their own, and crypto-shredding.

pseudonym = "cz_" + hex(HMAC-SHA256(key, account id))[:32]. The key is random, kept only in
`citizen_keys`, and made the first time the sequencer logs something about the citizen. Without
the key nobody (the platform included) can tell whose entries carry a pseudonym, so erasing an
account deletes the key (`forget_citizen`) and the entries stay, linked to no one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transparency.entries import stage_events
from transparency.models import CitizenKey, PendingEntry

PREFIX = "cz_"


def pseudonym(secret: bytes, account_id: str) -> str:
    digest = hmac.new(secret, account_id.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]


def unlinkable() -> str:
    """A pseudonym from a key that is thrown away at once: it links to nobody."""
    return pseudonym(secrets.token_bytes(32), secrets.token_hex(16))


def new_secret() -> bytes:
    return secrets.token_bytes(32)


async def pseudonym_of(session: AsyncSession, account_id: str) -> str | None:
    """The citizen's pseudonym, or None if nothing about them has been logged (no key yet)."""
    key = await session.get(CitizenKey, account_id)
    return None if key is None else pseudonym(key.secret, account_id)


async def forget_citizen(session: AsyncSession, account_id: str) -> None:
    """Crypto-shredding, in the erasing transaction: pending rows about the citizen get their
    pseudonym now (from the key, while it exists), then the key is deleted. Events recorded in
    this transaction so far are staged first, so consent revocations of the erasure itself are
    covered; any recorded later in it get a one-off pseudonym."""
    await session.run_sync(stage_events)
    mine = col(PendingEntry.account_id) == account_id
    # Take the citizen's pending rows first: on PostgreSQL this waits for a sequencer that holds
    # them (and may have just made the key), so the key read next is the one that counts.
    await session.exec(sa.update(PendingEntry).where(mine).values(account_id=account_id))
    secret = (
        await session.exec(select(CitizenKey.secret).where(CitizenKey.account_id == account_id))
    ).first()
    name = pseudonym(secret, account_id) if secret is not None else unlinkable()
    await session.exec(sa.update(PendingEntry).where(mine).values(account_id=None, citizen=name))
    await session.exec(sa.delete(CitizenKey).where(col(CitizenKey.account_id) == account_id))
    session.info.setdefault("transparency_forgotten", {})[account_id] = unlinkable()

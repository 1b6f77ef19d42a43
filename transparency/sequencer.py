"""The sequencer: pending entries become leaves with contiguous indices, then a signed tree head.

One batch is one write transaction: take up to `batch_size` pending rows (whichever exist,
never "ids above the last seen": PostgreSQL commits out of id order), give each the next leaf
index, store its canonical bytes and leaf hash and every subtree hash that became complete,
delete the pending rows and sign the new head. On PostgreSQL the transaction first takes an
advisory lock, so however many processes run a sequencer, one sequences at a time and the next
starts from what the last committed; on SQLite the write lock does the same. Requests never
wait on it: they only insert pending rows in their own transaction.

Before it signs, a batch checks that the stored frontier still hashes to the last signed root,
so a new head is always an extension of (consistent with) the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from kitemarks.keys import KeyRing
from marketplace.db import Database, utcnow
from marketplace.rawdb import RawTransaction
from transparency import rfc9162, store
from transparency.entries import entry_bytes
from transparency.pseudonyms import new_secret, pseudonym

logger = logging.getLogger("govstore.transparency")

HEAD_TYPE = "tree-head+jwt"
# pg_advisory_xact_lock key: "GSTL" (GovStore transparency log).
LOCK_KEY = 0x4753544C
# After a kick, wait this long so a burst of commits lands in one batch.
GATHER_SECONDS = 0.02
# At shutdown, how long a batch in progress may take to finish before it is cancelled.
CLOSE_GRACE_SECONDS = 10.0

INSERT_ENTRY = (
    "INSERT INTO transparency_entries (leaf_index, leaf_hash, kind, citizen, entry)"
    " VALUES (?, ?, ?, ?, ?)"
)
INSERT_NODE = "INSERT INTO transparency_nodes (node_id, hash) VALUES (?, ?)"
INSERT_HEAD = (
    "INSERT INTO transparency_heads (tree_size, root_hash, timestamp, kid, signature)"
    " VALUES (?, ?, ?, ?, ?)"
)
INSERT_KEY = (
    "INSERT INTO citizen_keys (account_id, secret, created_at) VALUES (?, ?, ?)"
    " ON CONFLICT (account_id) DO NOTHING"
)
DELETE_PENDING = "DELETE FROM transparency_pending WHERE id = ?"
ANY_PENDING = "SELECT id FROM transparency_pending LIMIT 1"


class TreeMismatch(RuntimeError):
    """The stored nodes no longer produce the last signed root: refuse to sign anything."""


class Sequencer:
    def __init__(
        self, db: Database, ring: KeyRing, *, batch_size: int, interval_seconds: float
    ) -> None:
        self.db = db
        self.ring = ring
        self.batch_size = batch_size
        self.interval = interval_seconds
        self._kicked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._head_kid: str | None = None
        self._closing = False

    async def _pending(self, tx: RawTransaction) -> list[tuple[Any, ...]]:
        lock = "" if self.db.is_sqlite else " FOR UPDATE"
        return await tx.fetchall(
            "SELECT id, kind, time, body, account_id, citizen FROM transparency_pending"  # noqa: S608 (a fixed clause)
            f" ORDER BY id LIMIT ?{lock}",
            (self.batch_size,),
        )

    async def _pseudonyms(self, tx: RawTransaction, accounts: list[str]) -> dict[str, str]:
        if not accounts:
            return {}
        marks = ", ".join("?" for _ in accounts)
        select = f"SELECT account_id, secret FROM citizen_keys WHERE account_id IN ({marks})"  # noqa: S608
        found = {str(r[0]): bytes(r[1]) for r in await tx.fetchall(select, accounts)}
        missing = [a for a in accounts if a not in found]
        if missing:
            now = tx.timestamp(utcnow())
            await tx.executemany(INSERT_KEY, [(a, new_secret(), now) for a in missing])
            found = {str(r[0]): bytes(r[1]) for r in await tx.fetchall(select, accounts)}
        return {account: pseudonym(secret, account) for account, secret in found.items()}

    async def _sign(
        self, tx: RawTransaction, size: int, root: bytes, previous: store.Head | None
    ) -> store.Head:
        timestamp = int(time.time() * 1000)
        if previous is not None:
            timestamp = max(timestamp, previous.timestamp)
        claims = {"root_hash": store.b64(root), "timestamp": timestamp, "tree_size": size}
        kid, token = await self.ring.sign(claims, typ=HEAD_TYPE)
        await tx.executemany(INSERT_HEAD, [(size, root, timestamp, kid, token)])
        self._head_kid = kid
        return store.Head(0, size, root, timestamp, kid, token)

    async def run_once(self) -> int:
        """Sequence one batch; returns how many entries it appended."""
        async with self.db.raw_transaction() as tx:
            if not self.db.is_sqlite:
                await tx.fetchall("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY,))
            head = await store.latest_head(tx.fetchall)
            size = head.tree_size if head else 0
            rows = await self._pending(tx)
            if not rows:
                current = await self.ring.current()
                if head is None or head.kid != current.kid:
                    # The first head (of the empty tree), or the latest head again under a new
                    # key after a rotation, so the current head always verifies with the JWKS.
                    await self._sign(tx, size, head.root_hash if head else rfc9162.EMPTY_ROOT, head)
                else:
                    self._head_kid = head.kid
                return 0
            keys = rfc9162.frontier(size)
            nodes = await store.fetch_nodes(tx.fetchall, keys)
            edge = [nodes[k] for k in keys]
            if rfc9162.root_of(edge) != (head.root_hash if head else rfc9162.EMPTY_ROOT):
                raise TreeMismatch(f"the stored tree of size {size} does not match its signed head")
            names = await self._pseudonyms(tx, sorted({str(r[4]) for r in rows if r[4]}))
            entries: list[tuple[Any, ...]] = []
            for offset, (_, kind, at, body_text, account, citizen) in enumerate(rows):
                body = json.loads(body_text)
                who = names.get(account) if account else citizen
                if who:
                    body["citizen"] = who
                data = entry_bytes(kind, at, body)
                entries.append((size + offset, rfc9162.leaf_hash(data), kind, who, data.decode()))
            new_size, new_edge, created = rfc9162.append(size, edge, [e[1] for e in entries])
            await tx.executemany(INSERT_ENTRY, entries)
            await tx.executemany(
                INSERT_NODE, [(rfc9162.node_id(level, i), h) for level, i, h in created]
            )
            await tx.executemany(DELETE_PENDING, [(r[0],) for r in rows])
            await self._sign(tx, new_size, rfc9162.root_of(new_edge), head)
            return len(rows)

    async def run_until_idle(self) -> int:
        total = 0
        while True:
            done = await self.run_once()
            total += done
            if done < self.batch_size or self._closing:
                return total

    async def _idle(self) -> bool:
        """Nothing to do, by one read (no write lock): no pending rows, head under the current key."""
        if await self.db.raw.fetchrow(ANY_PENDING, ()) is not None:
            return False
        current = await self.ring.current()
        return self._head_kid == current.kid

    def kick(self) -> None:
        self._kicked.set()

    async def _loop(self) -> None:
        while not self._closing:
            try:
                async with asyncio.timeout(self.interval):
                    await self._kicked.wait()
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(GATHER_SECONDS)
            self._kicked.clear()
            if self._closing:
                return
            try:
                if not await self._idle():
                    await self.run_until_idle()
            except Exception:  # the database may be down; the next round tries again
                logger.exception("transparency: sequencing failed")

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        """Let a batch in progress finish, then stop. Cancelling it mid-statement would leave a
        worker thread on the SQLite connection that the database is about to close."""
        if self._task is None:
            return
        self._closing = True
        self._kicked.set()
        _, pending = await asyncio.wait({self._task}, timeout=CLOSE_GRACE_SECONDS)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

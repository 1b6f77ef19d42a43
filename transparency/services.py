"""Reading the log: the current signed head, ranges of entries, proofs, and a citizen's own entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.db import Database
from marketplace.pagination import ListQuery, paginate
from transparency import store
from transparency.models import LogEntry
from transparency.pseudonyms import pseudonym_of

MAX_RANGE = 1000


def _bad(parameter: str, detail: str) -> errors.MalformedRequest:
    return errors.MalformedRequest(
        f"{parameter}: {detail}",
        [errors.FieldError(pointer="", detail=detail, parameter=parameter)],
    )


async def current_head(db: Database) -> store.Head:
    head = await store.latest_head(db.raw.fetchall)
    if head is None:
        raise errors.Unavailable("the log has no signed tree head yet; try again in a moment")
    return head


@dataclass(frozen=True)
class Entry:
    leaf_index: int
    leaf_hash: bytes
    entry: str

    def fields(self) -> dict[str, Any]:
        document = json.loads(self.entry)
        return {
            "leaf_index": self.leaf_index,
            "leaf_hash": store.b64(self.leaf_hash),
            "kind": document["kind"],
            "time": document["time"],
            "body": document["body"],
            "entry": self.entry,
        }


async def entries(db: Database, start: int, end: int | None) -> list[Entry]:
    """Entries [start, end) of the current tree; end defaults to start + 100 (or the size)."""
    size = (await current_head(db)).tree_size
    if start >= size:
        raise _bad("start", f"must be below the tree size, {size}")
    if end is None:
        end = min(start + 100, size)
    if end <= start:
        raise _bad("end", "must be greater than start")
    if end > size:
        raise _bad("end", f"must be at most the tree size, {size}")
    if end - start > MAX_RANGE:
        raise _bad("end", f"a range holds at most {MAX_RANGE} entries")
    rows = await db.raw.fetchall(
        "SELECT leaf_index, leaf_hash, entry FROM transparency_entries"
        " WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
        (start, end),
    )
    return [Entry(int(r[0]), bytes(r[1]), str(r[2])) for r in rows]


async def inclusion_proof(
    db: Database, leaf_index: int, tree_size: int, cache: store.NodeCache | None = None
) -> list[bytes]:
    size = (await current_head(db)).tree_size
    if tree_size > size:
        raise _bad("tree_size", f"must be at most the current tree size, {size}")
    if leaf_index >= tree_size:
        raise _bad("leaf_index", f"must be below tree_size, {tree_size}")
    return await store.inclusion_path(db.raw.fetchall, leaf_index, tree_size, cache)


async def consistency_proof(
    db: Database, first: int, second: int, cache: store.NodeCache | None = None
) -> list[bytes]:
    size = (await current_head(db)).tree_size
    if second > size:
        raise _bad("second", f"must be at most the current tree size, {size}")
    if first > second:
        raise _bad("first", f"must be at most second, {second}")
    return await store.consistency_proof(db.raw.fetchall, first, second, cache)


async def my_entries(
    session: AsyncSession, account_id: str, query: ListQuery
) -> tuple[list[Entry], str | None]:
    """The citizen's own entries (by their pseudonym), newest first."""
    name = await pseudonym_of(session, account_id)
    if name is None:
        return [], None
    rows, cursor = await paginate(
        session,
        select(LogEntry).where(LogEntry.citizen == name),
        keys=[col(LogEntry.leaf_index)],
        key_of=lambda row: [row.leaf_index],
        query=query,
        descending=True,
    )
    return [Entry(int(r.leaf_index), bytes(r.leaf_hash), r.entry) for r in rows], cursor

"""Reading the stored tree: heads, entries and the O(log n) nodes a proof needs, in one query each."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from transparency import rfc9162

Fetch = Callable[[str, Sequence[Any]], Awaitable[list[tuple[Any, ...]]]]

LATEST_HEAD = (
    "SELECT id, tree_size, root_hash, timestamp, kid, signature"
    " FROM transparency_heads ORDER BY id DESC LIMIT 1"
)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@dataclass(frozen=True)
class Head:
    id: int
    tree_size: int
    root_hash: bytes
    timestamp: int
    kid: str
    signature: str

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> Head:
        return cls(int(row[0]), int(row[1]), bytes(row[2]), int(row[3]), str(row[4]), str(row[5]))

    def claims(self) -> dict[str, Any]:
        """What the signature covers (canonical JSON of exactly these, sorted)."""
        return {
            "root_hash": b64(self.root_hash),
            "timestamp": self.timestamp,
            "tree_size": self.tree_size,
        }


async def latest_head(fetch: Fetch) -> Head | None:
    rows = await fetch(LATEST_HEAD, ())
    return Head.of(rows[0]) if rows else None


def node_query(keys: Sequence[rfc9162.NodeKey]) -> tuple[str, list[Any]]:
    """One statement for the given nodes: leaves from the entries, the rest from stored nodes."""
    leaves = [index for level, index in keys if level == 0]
    inner = [(level, index) for level, index in keys if level > 0]
    parts: list[str] = []
    params: list[Any] = []
    if leaves:
        marks = ", ".join("?" for _ in leaves)
        parts.append(
            "SELECT 0, leaf_index, leaf_hash FROM transparency_entries"  # noqa: S608 (placeholders)
            f" WHERE leaf_index IN ({marks})"
        )
        params.extend(leaves)
    if inner:
        marks = ", ".join("?" for _ in inner)
        parts.append(
            f"SELECT -1, node_id, hash FROM transparency_nodes WHERE node_id IN ({marks})"  # noqa: S608
        )
        params.extend(rfc9162.node_id(level, index) for level, index in inner)
    return " UNION ALL ".join(parts), params


class NodeCache:
    """Upper nodes kept in memory: a stored node never changes, so a copy is never stale.

    Only nodes over at least 2^MIN_LEVEL leaves are kept: a few per million entries (about
    2,000 at 1,000,000), read by every proof, while the many low nodes stay in the database.
    """

    MIN_LEVEL = 10
    MAX_ENTRIES = 200_000

    def __init__(self) -> None:
        self._nodes: dict[rfc9162.NodeKey, bytes] = {}

    def get(self, key: rfc9162.NodeKey) -> bytes | None:
        return self._nodes.get(key)

    def keep(self, found: dict[rfc9162.NodeKey, bytes]) -> None:
        if len(self._nodes) >= self.MAX_ENTRIES:
            self._nodes.clear()
        for key, digest in found.items():
            if key[0] >= self.MIN_LEVEL:
                self._nodes[key] = digest


async def fetch_nodes(
    fetch: Fetch, keys: Sequence[rfc9162.NodeKey], cache: NodeCache | None = None
) -> dict[rfc9162.NodeKey, bytes]:
    held: dict[rfc9162.NodeKey, bytes] = {}
    if cache is not None:
        for key in keys:
            digest = cache.get(key)
            if digest is not None:
                held[key] = digest
        keys = [key for key in keys if key not in held]
    if not keys:
        return held
    sql, params = node_query(keys)
    found: dict[rfc9162.NodeKey, bytes] = {}
    for level, key, digest in await fetch(sql, params):
        if level == 0:
            found[(0, int(key))] = bytes(digest)
        else:  # a stored node: level and index from its id
            found[(int(key) >> 48, int(key) & ((1 << 48) - 1))] = bytes(digest)
    missing = [k for k in keys if k not in found]
    if missing:
        raise LookupError(f"the stored tree lacks nodes {missing[:5]}")
    if cache is not None:
        cache.keep(found)
    return found | held


async def prove(
    fetch: Fetch, ranges: list[tuple[int, int]], cache: NodeCache | None = None
) -> list[bytes]:
    """The hashes of a proof's subtree ranges, from the stored nodes, fetched in one read."""
    nodes = await fetch_nodes(fetch, rfc9162.nodes_of(ranges), cache)
    return rfc9162.hashes_of(lambda level, index: nodes[(level, index)], ranges)


async def inclusion_path(
    fetch: Fetch, index: int, size: int, cache: NodeCache | None = None
) -> list[bytes]:
    return await prove(fetch, rfc9162.inclusion_ranges(index, size), cache)


async def consistency_proof(
    fetch: Fetch, first: int, second: int, cache: NodeCache | None = None
) -> list[bytes]:
    return await prove(fetch, rfc9162.consistency_ranges(first, second), cache)

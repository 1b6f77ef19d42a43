"""`marketplace verify-log`: recompute the whole tree from the stored entries and check every head.

It trusts nothing the sequencer stored about the tree: each entry's leaf hash is recomputed from
its bytes, every complete subtree is rebuilt and compared with the stored node, each kept head's
root must be the root of that many entries, and each head's signature must verify with the
stored public key of its `kid` (kept for retired keys too). Heads come in order of signing and
never shrink, so, all being roots of prefixes of one sequence, each is consistent with the last.
The first index whose entry (or the stored tree over it) is wrong is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from marketplace.db import Database
from transparency import rfc9162, store
from transparency.entries import canonical
from transparency.sequencer import HEAD_TYPE

CHUNK = 5000


@dataclass
class Report:
    entries: int = 0
    heads: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_index: int | None = None
    # Ranges of entries found bad, narrowest first (an entry, then nodes level by level): a
    # broader finding over one of them (a higher node, a head's root) does not move the index.
    bad_ranges: list[tuple[int, int]] = field(default_factory=list)

    def bad_range(self, first: int, end: int, problem: str) -> None:
        covered = any(first <= a and b <= end for a, b in self.bad_ranges)
        self.bad_ranges.append((first, end))
        self.bad(None if covered else first, problem)

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad(self, index: int | None, problem: str) -> None:
        self.problems.append(problem)
        if index is not None and (self.first_bad_index is None or index < self.first_bad_index):
            self.first_bad_index = index


def _signature_problem(head: store.Head, keys: dict[str, dict[str, Any]]) -> str | None:
    jwk = keys.get(head.kid)
    if jwk is None:
        return f"no stored public key {head.kid!r}"
    try:
        key = ECKey.import_key(jwk)
        token = jws.deserialize_compact(head.signature, key, algorithms=["ES256"])
    except (JoseError, ValueError) as exc:
        return f"the signature does not verify ({exc})"
    header = token.protected
    if header.get("typ") != HEAD_TYPE or header.get("kid") != head.kid:
        return "the signature's header is not a tree head's"
    if token.payload != canonical(head.claims()):
        return "the signed payload differs from the stored head"
    return None


async def verify_log(db: Database) -> Report:
    report = Report()
    fetch = db.raw.fetchall
    keys: dict[str, dict[str, Any]] = {}
    for kid, jwk in await fetch("SELECT kid, public_jwk FROM signing_keys", ()):
        keys[str(kid)] = jwk if isinstance(jwk, dict) else json.loads(jwk)
    heads = [
        store.Head.of(r)
        for r in await fetch(
            "SELECT id, tree_size, root_hash, timestamp, kid, signature"
            " FROM transparency_heads ORDER BY id",
            (),
        )
    ]
    report.heads = len(heads)
    previous: store.Head | None = None
    for head in heads:
        problem = _signature_problem(head, keys)
        if problem:
            report.bad(None, f"head {head.id} (size {head.tree_size}): {problem}")
        if previous is not None and (
            head.tree_size < previous.tree_size or head.timestamp < previous.timestamp
        ):
            report.bad(None, f"head {head.id} goes back from head {previous.id}")
        previous = head
    by_size: dict[int, list[store.Head]] = {}
    for head in heads:
        by_size.setdefault(head.tree_size, []).append(head)
    for head in by_size.get(0, []):
        if head.root_hash != rfc9162.EMPTY_ROOT:
            report.bad(None, f"head {head.id}: the empty tree's root is wrong")

    size, edge = 0, list[bytes]()
    while True:
        rows = await fetch(
            "SELECT leaf_index, leaf_hash, entry FROM transparency_entries"
            " WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
            (size, CHUNK),
        )
        if not rows:
            break
        leaves: list[bytes] = []
        for offset, (index, stored, entry) in enumerate(rows):
            if int(index) != size + offset:
                report.bad(size + offset, f"entry {size + offset} is missing")
                return report
            computed = rfc9162.leaf_hash(str(entry).encode())
            if computed != bytes(stored):
                report.bad_range(
                    int(index),
                    int(index) + 1,
                    f"entry {index}: its bytes do not hash to its leaf hash",
                )
            leaves.append(computed)
        # Append up to each head size in the chunk, so every head's root is checked.
        start = size
        cuts = sorted(s for s in by_size if start < s <= start + len(leaves))
        created: list[tuple[int, int, bytes]] = []
        wrong_heads: list[tuple[store.Head, int]] = []
        for cut in [*cuts, start + len(leaves)]:
            if cut <= size:
                continue
            size, edge, made = rfc9162.append(size, edge, leaves[size - start : cut - start])
            created.extend(made)
            wrong_heads += [
                (head, size)
                for head in by_size.get(size, [])
                if rfc9162.root_of(edge) != head.root_hash
            ]
        await _check_nodes(fetch, created, report)
        for head, at in wrong_heads:
            # Not an entry's fault by itself: an entry or node above says which (or the head
            # itself was altered), so this names no index.
            report.bad(None, f"head {head.id}: the entries do not hash to its root (size {at})")
        report.entries = size
    latest = heads[-1].tree_size if heads else 0
    if size != latest:
        report.bad(min(size, latest), f"{size} entries stored but the latest head has {latest}")
    return report


async def _check_nodes(
    fetch: store.Fetch, created: list[tuple[int, int, bytes]], report: Report
) -> None:
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for level, index, digest in created:
        by_level.setdefault(level, []).append((index, digest))
    for level, nodes in sorted(by_level.items()):
        low, high = nodes[0][0], nodes[-1][0]
        stored = {
            int(r[0]) & ((1 << 48) - 1): bytes(r[1])
            for r in await fetch(
                "SELECT node_id, hash FROM transparency_nodes WHERE node_id >= ? AND node_id <= ?",
                (rfc9162.node_id(level, low), rfc9162.node_id(level, high)),
            )
        }
        for index, digest in nodes:
            if stored.get(index) != digest:
                first, end = index << level, (index + 1) << level
                report.bad_range(
                    first,
                    end,
                    f"stored node ({level}, {index}) over entries [{first}, {end}) does not match them",
                )

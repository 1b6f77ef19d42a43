"""Merkle tree hashing and proofs of RFC 9162 §2.1 (https://www.rfc-editor.org/rfc/rfc9162#section-2.1).

Framework-free and storage-free. A tree of size n is addressed by its complete subtrees: the
node at (level, index) covers leaves [index·2^level, (index+1)·2^level) and, once the tree has
that many leaves, never changes. Every hash RFC 9162 asks for in a proof is either such a node
or the hash of a right-edge range built from at most log2(n) of them, so a proof needs only
O(log n) stored nodes. A proof is planned as subtree ranges (`inclusion_ranges`,
`consistency_ranges`), whose nodes (`nodes_of`) are fetched in one read, then hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index)
Lookup = Callable[[int, int], bytes]


def node_id(level: int, index: int) -> int:
    """One integer per node, for storage: the level in the high bits, then the index."""
    return level << 48 | index


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_hash(lookup: Lookup, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that the RFC's recursion produces (aligned on its split)."""
    size = end - start
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return lookup(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(lookup, start, start + k), subtree_hash(lookup, start + k, end))


def frontier(size: int) -> list[NodeKey]:
    """The complete subtrees that make up a tree of `size` leaves, left to right."""
    keys: list[NodeKey] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def root_of(hashes: list[bytes]) -> bytes:
    """The root from the frontier's hashes (left to right): folded from the right."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def append(
    size: int, edge: list[bytes], leaves: Iterable[bytes]
) -> tuple[int, list[bytes], list[tuple[int, int, bytes]]]:
    """Append leaf hashes to a tree given by its size and frontier hashes.

    Returns the new size, the new frontier hashes and every node of level ≥ 1 that became
    complete (level, index, hash): the nodes to store.
    """
    stack = list(edge)
    levels = [key[0] for key in frontier(size)]
    created: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        stack.append(leaf)
        levels.append(0)
        index = size
        level = 0
        # Merge while the last two subtrees have the same height: the new one is complete.
        while len(levels) >= 2 and levels[-1] == levels[-2]:
            right, left = stack.pop(), stack.pop()
            levels.pop()
            level = levels[-1] + 1
            levels[-1] = level
            merged = node_hash(left, right)
            stack.append(merged)
            index >>= 1
            created.append((level, index, merged))
        size += 1
    return size, stack, created


def _range_keys(start: int, end: int, keys: list[NodeKey]) -> None:
    """The stored nodes `subtree_hash(start, end)` reads, left to right."""
    while True:
        size = end - start
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            keys.append((level, start >> level))
            return
        k = _split(size)
        _range_keys(start, start + k, keys)
        start += k


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtree ranges of PATH(m, D[n]) (RFC 9162 §2.1.3.1), in proof order."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The subtree ranges of PROOF(m, D[n]) (RFC 9162 §2.1.4.1), in proof order."""
    if not 0 < first <= second:
        raise ValueError("sizes out of range")
    ranges: list[tuple[int, int]] = []
    start, end, complete = 0, second, True
    m = first
    while True:
        size = end - start
        if m == size:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(size)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    ranges.reverse()
    return ranges


def nodes_of(ranges: list[tuple[int, int]]) -> list[NodeKey]:
    """Every stored node the hashes of `ranges` need (what to fetch, in one read)."""
    keys: list[NodeKey] = []
    for start, end in ranges:
        _range_keys(start, end, keys)
    return keys


def hashes_of(lookup: Lookup, ranges: list[tuple[int, int]]) -> list[bytes]:
    return [subtree_hash(lookup, start, end) for start, end in ranges]


def inclusion_path(lookup: Lookup, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    return hashes_of(lookup, inclusion_ranges(index, size))


def consistency_proof(lookup: Lookup, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (empty when m == n)."""
    return hashes_of(lookup, consistency_ranges(first, second))


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2): used by the sequencer's self-check -------


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes
) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0

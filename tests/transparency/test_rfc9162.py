"""The server's tree code against the RFC's recursive definition and an independent verifier."""

from __future__ import annotations

import pytest

from tests.transparency.rfc6962 import consistency_ok, inclusion_ok, mth
from transparency import rfc9162


def stored(entries: list[bytes], split: int) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    """Append in two batches, as the sequencer would; every node it says to store, by key."""
    leaves = [rfc9162.leaf_hash(e) for e in entries]
    size, edge, first = rfc9162.append(0, [], leaves[:split])
    size, edge, second = rfc9162.append(size, edge, leaves[split:])
    assert size == len(entries)
    nodes = {(0, i): leaf for i, leaf in enumerate(leaves)}
    for level, index, digest in first + second:
        assert (level, index) not in nodes  # each node is made once, when it completes
        nodes[(level, index)] = digest
    return edge, nodes


@pytest.mark.parametrize("size", [*range(0, 34), 63, 64, 65, 100])
def test_roots_and_proofs_match_the_rfc(size: int) -> None:
    entries = [f"entry {i}".encode() for i in range(size)]
    edge, nodes = stored(entries, size // 3)
    assert rfc9162.root_of(edge) == mth(entries)
    assert [nodes[k] for k in rfc9162.frontier(size)] == edge
    lookup = lambda level, index: nodes[(level, index)]  # noqa: E731
    for index in range(size):
        path = rfc9162.inclusion_path(lookup, index, size)
        leaf = rfc9162.leaf_hash(entries[index])
        assert inclusion_ok(index, size, leaf, path, mth(entries))
        assert rfc9162.verify_inclusion(leaf, index, size, path, mth(entries))
    for first in range(1, size + 1):
        proof = rfc9162.consistency_proof(lookup, first, size)
        assert consistency_ok(first, size, proof, mth(entries[:first]), mth(entries))
        assert rfc9162.verify_consistency(first, size, proof, mth(entries[:first]), mth(entries))


def test_a_proof_reads_only_logarithmically_many_nodes() -> None:
    for size in (1000, 1_000_000, 1_000_000_007):
        for index in (0, size // 2, size - 1):
            keys = rfc9162.nodes_of(rfc9162.inclusion_ranges(index, size))
            assert len(keys) <= 2 * size.bit_length()
        keys = rfc9162.nodes_of(rfc9162.consistency_ranges(size // 3, size))
        assert len(keys) <= 2 * size.bit_length()


def test_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        rfc9162.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        rfc9162.consistency_ranges(0, 5)
    with pytest.raises(ValueError):
        rfc9162.consistency_ranges(6, 5)
    assert not rfc9162.verify_consistency(4, 8, [], b"a" * 32, b"b" * 32)

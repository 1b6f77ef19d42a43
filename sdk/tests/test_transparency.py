"""Transparency log checks offline: inclusion and consistency proofs, signed tree heads.

The trees and proofs here come from an independent reference: RFC 9162's own
recursive definitions (MTH §2.1.1, PATH §2.1.3.1, PROOF/SUBPROOF §2.1.4.1), written
out directly, so the verifier is checked against the specification rather than
against itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey
from pydantic import BaseModel

import govstore

SIZES = range(1, 71)


# RFC 9162 §2.1, as written ---------------------------------------------------------------


def entry(index: int) -> bytes:
    return f"entry {index}".encode()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = k_split(n)
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = k_split(n)
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def proof(m: int, entries: list[bytes]) -> list[bytes]:
    return subproof(m, entries, True)


def subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if b else [mth(entries)]
    k = k_split(n)
    if m <= k:
        return [*subproof(m, entries[:k], b), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


ENTRIES = [entry(i) for i in range(max(SIZES))]
ROOTS = {n: mth(ENTRIES[:n]) for n in SIZES}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


# leaf_hash ----------------------------------------------------------------------------------


def test_leaf_hash_is_sha256_of_zero_and_the_entry() -> None:
    assert govstore.leaf_hash(b"hello") == sha256(b"\x00hello")
    assert govstore.leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_leaf_hash_takes_bytes_only() -> None:
    with pytest.raises(TypeError):
        govstore.leaf_hash("hello")  # type: ignore[arg-type]


# Inclusion ----------------------------------------------------------------------------------


def test_every_inclusion_proof_of_every_tree_up_to_70_verifies() -> None:
    for n in SIZES:
        for m in range(n):
            leaf = govstore.leaf_hash(ENTRIES[m])
            govstore.verify_inclusion(leaf, m, n, path(m, ENTRIES[:n]), ROOTS[n])


def test_base64_hashes_are_accepted_as_the_api_sends_them() -> None:
    n, m = 13, 6
    audit_path = [b64(node) for node in path(m, ENTRIES[:n])]

    govstore.verify_inclusion(b64(govstore.leaf_hash(ENTRIES[m])), m, n, audit_path, b64(ROOTS[n]))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 31, 64, 70])
def test_a_tampered_inclusion_proof_fails(n: int) -> None:
    for m in range(n):
        leaf = govstore.leaf_hash(ENTRIES[m])
        audit_path = path(m, ENTRIES[:n])
        refusals: list[tuple[bytes, int, int, list[bytes], bytes]] = [
            (govstore.leaf_hash(b"another entry"), m, n, audit_path, ROOTS[n]),
            (leaf, m, n, audit_path, flip(ROOTS[n])),
            (leaf, m, n, [*audit_path, ROOTS[n]], ROOTS[n]),  # one step too many
        ]
        if audit_path:
            refusals.append((leaf, m, n, audit_path[:-1], ROOTS[n]))  # one too few
            for i in range(len(audit_path)):
                changed = list(audit_path)
                changed[i] = flip(changed[i])
                refusals.append((leaf, m, n, changed, ROOTS[n]))
        for other in (m - 1, m + 1):
            if 0 <= other < n:
                refusals.append((leaf, other, n, audit_path, ROOTS[n]))
        # Another size with that size's root. (The same root with another size of the
        # same shape can pass: the root, from a signed head, is what binds the size.)
        for size in (n - 1, n + 1):
            if m < size and size in ROOTS:
                refusals.append((leaf, m, size, audit_path, ROOTS[size]))
        for args in refusals:
            with pytest.raises(govstore.ProofError):
                govstore.verify_inclusion(*args)


def test_a_leaf_beyond_the_tree_is_refused() -> None:
    with pytest.raises(govstore.ProofError, match="not in a tree of 4"):
        govstore.verify_inclusion(govstore.leaf_hash(b"x"), 4, 4, [], ROOTS[4])


@pytest.mark.parametrize(
    ("leaf", "root", "message"),
    [
        ("not base64!", b64(ROOTS[1]), "leaf_hash is not standard base64"),
        (b64(b"short"), b64(ROOTS[1]), "leaf_hash is 5 bytes"),
        (b64(ROOTS[1]), b"\x00" * 31, "root_hash is 31 bytes"),
    ],
)
def test_hashes_that_are_not_sha256_are_refused(leaf: str, root: Any, message: str) -> None:
    with pytest.raises(govstore.ProofError, match=message):
        govstore.verify_inclusion(leaf, 0, 1, [], root)


def test_sizes_and_indices_must_be_ints() -> None:
    leaf = govstore.leaf_hash(ENTRIES[0])
    with pytest.raises(TypeError):
        govstore.verify_inclusion(leaf, "0", 1, [], ROOTS[1])  # type: ignore[arg-type]
    with pytest.raises(govstore.ProofError):
        govstore.verify_inclusion(leaf, -1, 1, [], ROOTS[1])
    with pytest.raises(govstore.ProofError):
        govstore.verify_inclusion(leaf, 0, 0, [], ROOTS[1])


# Consistency --------------------------------------------------------------------------------


def test_every_consistency_proof_between_trees_up_to_70_verifies() -> None:
    for n in SIZES:
        for m in range(1, n + 1):
            govstore.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof(m, ENTRIES[:n]))


def test_consistency_accepts_base64() -> None:
    govstore.verify_consistency(
        5, 12, b64(ROOTS[5]), b64(ROOTS[12]), [b64(node) for node in proof(5, ENTRIES[:12])]
    )


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9, 16, 17, 33, 64, 70])
def test_a_tampered_consistency_proof_fails(n: int) -> None:
    for m in range(1, n):
        nodes = proof(m, ENTRIES[:n])
        refusals: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (m, n, flip(ROOTS[m]), ROOTS[n], nodes),
            (m, n, ROOTS[m], flip(ROOTS[n]), nodes),
            (m, n, ROOTS[m], ROOTS[n], nodes[:-1]),
            (m, n, ROOTS[m], ROOTS[n], [*nodes, ROOTS[n]]),
            (m, n, ROOTS[m], ROOTS[n], []),
            (n, m, ROOTS[n], ROOTS[m], nodes),  # sizes swapped: the log would have shrunk
        ]
        for i in range(len(nodes)):
            changed = list(nodes)
            changed[i] = flip(changed[i])
            refusals.append((m, n, ROOTS[m], ROOTS[n], changed))
        for size in (m - 1, m + 1):
            if 1 <= size < n:
                refusals.append((size, n, ROOTS[size], ROOTS[n], nodes))
        if n + 1 in ROOTS:
            refusals.append((m, n + 1, ROOTS[m], ROOTS[n + 1], nodes))
        # A rewritten history: the same sizes, but an earlier entry changed.
        rewritten = [b"forged", *ENTRIES[1:n]]
        refusals.append((m, n, ROOTS[m], mth(rewritten), proof(m, rewritten)))
        for args in refusals:
            with pytest.raises(govstore.ProofError):
                govstore.verify_consistency(*args)


def test_equal_sizes_need_equal_roots_and_no_proof() -> None:
    govstore.verify_consistency(9, 9, ROOTS[9], ROOTS[9], [])
    with pytest.raises(govstore.ProofError, match="two different roots"):
        govstore.verify_consistency(9, 9, ROOTS[9], flip(ROOTS[9]), [])
    with pytest.raises(govstore.ProofError, match="empty consistency proof"):
        govstore.verify_consistency(9, 9, ROOTS[9], ROOTS[9], [ROOTS[9]])


def test_an_empty_first_tree_is_refused() -> None:
    with pytest.raises(govstore.ProofError, match="first_size 0"):
        govstore.verify_consistency(0, 3, sha256(b""), ROOTS[3], [])


# Signed tree heads --------------------------------------------------------------------------


def new_key() -> ECKey:
    key = ECKey.generate_key("P-256")
    return ECKey.import_key(key.as_pem(private=True), parameters={"kid": str(key.thumbprint())})


def public_jwks(*keys: ECKey) -> dict[str, Any]:
    published = []
    for key in keys:
        jwk: dict[str, Any] = dict(key.as_dict(private=False))
        jwk.update({"kid": key.kid, "alg": "ES256", "use": "sig"})
        published.append(jwk)
    return {"keys": published}


TIMESTAMP = 1_796_000_000_123


def signed_head(
    key: ECKey,
    tree_size: int = 9,
    *,
    signed: dict[str, Any] | None = None,
    typ: str = "tree-head+jwt",
    alg: str = "ES256",
) -> dict[str, Any]:
    """A tree head as the server signs it: canonical JSON of size, root and time; ES256."""
    head = {"tree_size": tree_size, "root_hash": b64(ROOTS[tree_size]), "timestamp": TIMESTAMP}
    payload = json.dumps(head if signed is None else signed, sort_keys=True, separators=(",", ":"))
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    return {**head, "signature": jws.serialize_compact(header, payload.encode(), key)}


@pytest.fixture(scope="module")
def key() -> ECKey:
    return new_key()


@pytest.fixture(scope="module")
def jwks(key: ECKey) -> dict[str, Any]:
    return public_jwks(new_key(), key)


def test_a_signed_tree_head_verifies(key: ECKey, jwks: dict[str, Any]) -> None:
    verified = govstore.verify_tree_head(signed_head(key), jwks)

    assert verified.tree_size == 9
    assert verified.root_hash == ROOTS[9]
    assert verified.root_hash_base64 == b64(ROOTS[9])
    assert verified.timestamp == datetime.fromtimestamp(TIMESTAMP / 1000, UTC)
    assert verified.kid == key.kid


def test_a_model_with_the_fields_and_a_jwks_model_are_accepted(
    key: ECKey, jwks: dict[str, Any]
) -> None:
    class TreeHead(BaseModel):
        tree_size: int
        root_hash: str
        timestamp: int
        signature: str

    head = TreeHead.model_validate(signed_head(key))

    verified = govstore.verify_tree_head(head, govstore.Jwks.model_validate(jwks))
    assert verified.tree_size == 9


def test_the_verified_root_checks_an_inclusion_proof(key: ECKey, jwks: dict[str, Any]) -> None:
    verified = govstore.verify_tree_head(signed_head(key, 21), jwks)

    govstore.verify_inclusion(
        govstore.leaf_hash(ENTRIES[17]),
        17,
        verified.tree_size,
        path(17, ENTRIES[:21]),
        verified.root_hash,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tree_size": 10}, "over another tree head"),
        ({"root_hash": b64(ROOTS[8])}, "over another tree head"),
        ({"timestamp": TIMESTAMP + 1}, "over another tree head"),
        ({"tree_size": "9"}, "tree_size is not a size"),
        ({"timestamp": 1.5}, "timestamp is not milliseconds"),
        ({"root_hash": "%%%"}, "root_hash is not standard base64"),
        ({"signature": "not-a-jws"}, "not a compact JWS"),
    ],
)
def test_a_head_that_differs_from_what_was_signed_is_refused(
    key: ECKey, jwks: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    head = {**signed_head(key), **change}

    with pytest.raises(govstore.ProofError, match=message):
        govstore.verify_tree_head(head, jwks)


def test_a_signature_over_other_values_is_refused(key: ECKey, jwks: dict[str, Any]) -> None:
    head = signed_head(key, signed={"tree_size": 9, "root_hash": b64(ROOTS[8]), "timestamp": 1})

    with pytest.raises(govstore.ProofError, match="over another tree head"):
        govstore.verify_tree_head(head, jwks)


def test_a_changed_signature_is_refused(key: ECKey, jwks: dict[str, Any]) -> None:
    head = signed_head(key)
    protected, payload, signature = head["signature"].split(".")
    other = signed_head(key, 10)["signature"].split(".")[1]

    for forged in (
        f"{protected}.{other}.{signature}",
        f"{protected}.{payload}.{signature[:-4]}AAAA",
    ):
        with pytest.raises(govstore.ProofError):
            govstore.verify_tree_head({**head, "signature": forged}, jwks)


def test_a_key_outside_the_jwks_is_refused(jwks: dict[str, Any]) -> None:
    with pytest.raises(govstore.ProofError, match="no key"):
        govstore.verify_tree_head(signed_head(new_key()), jwks)


def test_a_key_with_the_same_kid_but_another_point_is_refused(key: ECKey) -> None:
    impostor = ECKey.import_key(new_key().as_pem(private=True), parameters={"kid": key.kid})

    with pytest.raises(govstore.ProofError, match="does not verify"):
        govstore.verify_tree_head(signed_head(impostor), public_jwks(key))


def test_a_kitemark_credential_is_not_a_tree_head(key: ECKey, jwks: dict[str, Any]) -> None:
    with pytest.raises(govstore.ProofError, match="typ is 'kitemark\\+jwt'"):
        govstore.verify_tree_head(signed_head(key, typ="kitemark+jwt"), jwks)


def test_a_missing_field_is_refused(key: ECKey, jwks: dict[str, Any]) -> None:
    head = signed_head(key)
    del head["timestamp"]

    with pytest.raises(govstore.ProofError, match="no timestamp"):
        govstore.verify_tree_head(head, jwks)

"""Checking the transparency log offline: inclusion and consistency proofs, signed tree heads.

The log is an RFC 9162 Merkle tree (§2.1) over SHA-256: a leaf's hash is
`H(0x00 || entry)` and an inner node's `H(0x01 || left || right)`, so these checks
accept the proofs of any RFC 6962/9162 log, and any RFC 9162 verifier accepts GovStore's.

- `verify_inclusion` (RFC 9162 §2.1.3.2): an entry is at `leaf_index` in the tree of
  `tree_size` leaves whose root is `root_hash`.
- `verify_consistency` (§2.1.4.2): the tree of `second_size` leaves extends the tree
  of `first_size` leaves, appending only: nothing logged before was changed or dropped.
- `verify_tree_head`: the server signed this tree head (size, root, time) with a key
  in its JWKS, so a root can be trusted without trusting the connection it came over.

Hashes may be given as bytes or as standard base64 text, as the API sends them.
Every refusal raises `ProofError`; nothing is fetched from the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._credentials import verified_payload
from ._exceptions import ProofError
from ._models import Jwks

__all__ = [
    "VerifiedTreeHead",
    "leaf_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_tree_head",
]

HASH_SIZE = 32
TREE_HEAD_TYPES = frozenset({"tree-head+jwt", "application/tree-head+jwt"})

Hash = bytes | str


def leaf_hash(entry: bytes) -> bytes:
    """The hash of a log entry as a leaf of the tree: SHA-256 of `0x00 || entry`."""
    if not isinstance(entry, bytes | bytearray | memoryview):
        raise TypeError("a log entry is bytes: encode it exactly as the log stores it")
    return hashlib.sha256(b"\x00" + bytes(entry)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node from its children's: SHA-256 of `0x01 || left || right`."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    leaf_hash: Hash,
    leaf_index: int,
    tree_size: int,
    audit_path: Sequence[Hash],
    root_hash: Hash,
) -> None:
    """Check that `leaf_hash` is leaf `leaf_index` of the tree with `root_hash`, or raise.

    `audit_path` is the inclusion proof (`/v1/transparency/proofs/inclusion`), from
    the leaf's sibling up; `root_hash` must come from a tree head you trust
    (`verify_tree_head`) for `tree_size` leaves. Raises `ProofError` when the proof
    does not lead from the leaf to that root. RFC 9162 §2.1.3.2.
    """
    leaf = _hash(leaf_hash, "leaf_hash")
    root = _hash(root_hash, "root_hash")
    path = [_hash(item, f"audit_path[{i}]") for i, item in enumerate(audit_path)]
    _check_size(tree_size, "tree_size", minimum=1)
    _check_size(leaf_index, "leaf_index", minimum=0)
    if leaf_index >= tree_size:
        raise ProofError(f"leaf {leaf_index} is not in a tree of {tree_size} leaves")

    fn, sn = leaf_index, tree_size - 1
    computed = leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree is deep")
    if computed != root:
        raise ProofError(
            f"the audit path does not lead from this leaf at {leaf_index} to the root of the "
            f"tree of {tree_size} leaves: the entry, the proof or the root was changed"
        )


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: Hash,
    second_root: Hash,
    proof: Sequence[Hash],
) -> None:
    """Check that the tree of `second_size` leaves extends the one of `first_size`, or raise.

    `first_root` and `second_root` are the roots of the two trees (from tree heads you
    have verified), `proof` the consistency proof
    (`/v1/transparency/proofs/consistency`). Passing means the later tree holds the
    earlier one's entries unchanged, in order, followed only by new ones. Equal sizes
    need an empty proof and equal roots. RFC 9162 §2.1.4.2.
    """
    first = _hash(first_root, "first_root")
    second = _hash(second_root, "second_root")
    path = [_hash(item, f"proof[{i}]") for i, item in enumerate(proof)]
    _check_size(first_size, "first_size", minimum=1)
    _check_size(second_size, "second_size", minimum=1)
    if first_size > second_size:
        raise ProofError(
            f"a tree of {second_size} leaves cannot extend one of {first_size}: the log shrank"
        )
    if first_size == second_size:
        if path:
            raise ProofError("trees of the same size need an empty consistency proof")
        if first != second:
            raise ProofError(
                f"two different roots for the same tree size {first_size}: the log was changed"
            )
        return
    if not path:
        raise ProofError("the consistency proof is empty")

    if first_size & (first_size - 1) == 0:  # an exact power of two: the old root is a node
        path = [first, *path]
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_computed = second_computed = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            first_computed = node_hash(node, first_computed)
            second_computed = node_hash(node, second_computed)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            second_computed = node_hash(second_computed, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if first_computed != first:
        raise ProofError(
            f"the proof does not rebuild the root of the first {first_size} leaves: the log "
            "was changed, or the proof or a root is wrong"
        )
    if second_computed != second:
        raise ProofError(
            f"the proof does not lead to the root of the tree of {second_size} leaves: the "
            "log was changed, or the proof or a root is wrong"
        )


@dataclass(frozen=True, slots=True)
class VerifiedTreeHead:
    """A tree head whose signature verified: the log's size and root at `timestamp`.

    `root_hash` is raw bytes (32 of them); `timestamp` is when the log signed it
    (timezone-aware, UTC); `kid` names the key that signed it.
    """

    tree_size: int
    root_hash: bytes
    timestamp: datetime
    kid: str

    @property
    def root_hash_base64(self) -> str:
        """The root as the API writes it: standard base64 with padding."""
        return base64.b64encode(self.root_hash).decode("ascii")


def verify_tree_head(
    head: Mapping[str, Any] | Any, jwks: Mapping[str, Any] | Jwks
) -> VerifiedTreeHead:
    """Check a signed tree head (`/v1/transparency/tree-head`) against the server's keys.

    `head` has `tree_size`, `root_hash` (base64), `timestamp` (milliseconds since the
    epoch) and `signature`: a compact JWS (`alg` ES256, `typ` `tree-head+jwt`) by a key
    of `jwks` (`client.well_known.jwks()` or the JSON of `/.well-known/jwks.json`),
    whose payload holds the same three values. `head` may be the dict the API sends or
    any object with those attributes. Returns the head with its root as bytes; raises
    `ProofError` when the signature does not verify or signs other values.
    """
    tree_size, root_text, timestamp, signature = (
        _field(head, name) for name in ("tree_size", "root_hash", "timestamp", "signature")
    )
    if isinstance(tree_size, bool) or not isinstance(tree_size, int) or tree_size < 0:
        raise ProofError("the tree head's tree_size is not a size")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ProofError("the tree head's timestamp is not milliseconds since the epoch")
    if not isinstance(root_text, str):
        raise ProofError("the tree head's root_hash is not base64 text")
    root = _hash(root_text, "root_hash")
    payload, kid = verified_payload(
        signature,
        jwks,
        types=TREE_HEAD_TYPES,
        subject="the tree head's signature",
        kind="a tree head signature",
        error=ProofError,
    )
    signed = {"root_hash": root_text, "timestamp": timestamp, "tree_size": tree_size}
    if not isinstance(payload, dict) or payload != signed:
        raise ProofError(
            "the signature is over another tree head: its signed size, root or time differ "
            "from the head's"
        )
    return VerifiedTreeHead(
        tree_size=tree_size,
        root_hash=root,
        timestamp=datetime.fromtimestamp(timestamp / 1000, UTC),
        kid=kid,
    )


def _field(head: Mapping[str, Any] | Any, name: str) -> Any:
    if isinstance(head, Mapping):
        if name not in head:
            raise ProofError(f"the tree head has no {name}")
        return head[name]
    if not hasattr(head, name):
        raise ProofError(f"the tree head has no {name}")
    return getattr(head, name)


def _hash(value: Hash, name: str) -> bytes:
    if isinstance(value, str):
        try:
            value = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise ProofError(f"{name} is not standard base64") from error
    elif isinstance(value, bytearray | memoryview):
        value = bytes(value)
    elif not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes or base64 text, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not a SHA-256 hash ({HASH_SIZE})")
    return value


def _check_size(value: int, name: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ProofError(f"{name} {value} is less than {minimum}")

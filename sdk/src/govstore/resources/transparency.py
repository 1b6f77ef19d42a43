"""`/v1/transparency`: the public, append-only log of grants, decisions, consents and data access.

Every answer here is public and needs no sign-in. Check what you fetch offline: a tree head's
signature against the JWKS, an entry's inclusion in a signed tree, and that each newer tree
extends the older one. A citizen's own entries are `client.me.transparency()`.
"""

from __future__ import annotations

from .._models import ConsistencyProof, InclusionProof, TransparencyEntries, TreeHead
from .._request import RequestSpec, parse_model, without_none
from ._core import M, Resource, endpoint


class Transparency(Resource[M]):
    """The transparency log (RFC 9162 Merkle tree, SHA-256): its signed head, entries and proofs."""

    @endpoint
    def tree_head(self) -> RequestSpec[TreeHead]:
        """The newest signed tree head. `ServerError` (503) until the first head is signed."""
        return RequestSpec("GET", "/v1/transparency/tree-head", parse_model(TreeHead))

    @endpoint
    def entries(self, start: int, end: int | None = None) -> RequestSpec[TransparencyEntries]:
        """Entries `[start, end)` in leaf order, at most 1000 at a time (`end` defaults to
        `start + 100`, capped at the tree size). Out-of-range values raise `BadRequestError`."""
        return RequestSpec(
            "GET",
            "/v1/transparency/entries",
            parse_model(TransparencyEntries),
            params=without_none(start=start, end=end),
        )

    @endpoint
    def inclusion_proof(self, leaf_index: int, tree_size: int) -> RequestSpec[InclusionProof]:
        """The audit path of leaf `leaf_index` in the tree of `tree_size` leaves (at most the
        current size)."""
        return RequestSpec(
            "GET",
            "/v1/transparency/proofs/inclusion",
            parse_model(InclusionProof),
            params={"leaf_index": leaf_index, "tree_size": tree_size},
        )

    @endpoint
    def consistency_proof(self, first: int, second: int) -> RequestSpec[ConsistencyProof]:
        """The proof that the tree of `second` leaves extends the tree of `first` leaves
        (1 ≤ first ≤ second ≤ the current size)."""
        return RequestSpec(
            "GET",
            "/v1/transparency/proofs/consistency",
            parse_model(ConsistencyProof),
            params={"first": first, "second": second},
        )

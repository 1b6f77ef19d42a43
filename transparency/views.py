"""HTTP API of the transparency log: the signed tree head, entries, proofs (public) and the citizen's own entries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.auth import Principal
from marketplace.pagination import ListQuery, Page
from marketplace.platform import Platform
from marketplace.routing import Auth, Output, Router
from transparency import services, store

router = Router("transparency")
me_router = Router("citizen")

BASE64 = "base64 (standard alphabet, padded)"


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TreeHeadOut(Output):
    tree_size: int = Field(description="leaves in the tree")
    root_hash: str = Field(description=f"RFC 9162 Merkle tree hash, {BASE64}")
    timestamp: int = Field(description="when it was signed, milliseconds since the Unix epoch")
    signature: str = Field(
        description="compact JWS (ES256, `typ` tree-head+jwt) whose payload is the canonical JSON "
        "of {root_hash, timestamp, tree_size}; keys at /.well-known/jwks.json"
    )


class EntryOut(Output):
    leaf_index: int
    leaf_hash: str = Field(description=f"SHA-256(0x00 || entry), {BASE64}")
    kind: str
    time: str = Field(description="RFC 3339, UTC, milliseconds")
    body: dict[str, Any]
    entry: str = Field(
        description="the exact bytes that were hashed, as text (ASCII, canonical JSON of "
        "{body, kind, time}): leaf_hash = SHA-256(0x00 || UTF-8 bytes of this)"
    )


class EntriesOut(Output):
    tree_size: int = Field(description="the size of the current signed tree")
    items: list[EntryOut]


class EntriesQuery(Query):
    start: int = Field(ge=0, description="first leaf index")
    end: int | None = Field(
        default=None,
        ge=1,
        description=f"after the last leaf index (exclusive); at most start + {services.MAX_RANGE};"
        " default start + 100, capped at the tree size",
    )


class InclusionQuery(Query):
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1, description="at most the current tree size")


class InclusionOut(Output):
    leaf_index: int
    tree_size: int
    audit_path: list[str] = Field(description=f"RFC 9162 §2.1.3 inclusion path, {BASE64}")


class ConsistencyQuery(Query):
    first: int = Field(ge=1)
    second: int = Field(ge=1, description="at most the current tree size")


class ConsistencyOut(Output):
    first: int
    second: int
    proof: list[str] = Field(description=f"RFC 9162 §2.1.4 consistency proof, {BASE64}")


def _entry(entry: services.Entry) -> EntryOut:
    return EntryOut(**entry.fields())


@router.get(
    "/v1/transparency/tree-head",
    summary="The current signed tree head",
    auth=Auth.PUBLIC,
    errors=(503,),
)
async def tree_head(platform: Platform) -> TreeHeadOut:
    """The newest signed tree head. Verify `signature` with the JWKS; its payload must equal the
    canonical JSON of `{root_hash, timestamp, tree_size}` as given here. 503 until the first
    head is signed (moments after the first start)."""
    head = await services.current_head(platform.db)
    return TreeHeadOut(signature=head.signature, **head.claims())


@router.get(
    "/v1/transparency/entries",
    summary="Entries of the log",
    auth=Auth.PUBLIC,
    errors=(400, 503),
)
async def list_entries(platform: Platform, query: EntriesQuery) -> EntriesOut:
    """Entries `[start, end)` of the current tree, in leaf order, at most 1000 at a time. Each
    carries the exact canonical bytes it was hashed from (`entry`)."""
    found = await services.entries(platform.db, query.start, query.end)
    head = await services.current_head(platform.db)
    return EntriesOut(tree_size=head.tree_size, items=[_entry(e) for e in found])


@router.get(
    "/v1/transparency/proofs/inclusion",
    summary="Proof that an entry is in the tree",
    auth=Auth.PUBLIC,
    errors=(400, 503),
)
async def inclusion_proof(platform: Platform, query: InclusionQuery) -> InclusionOut:
    """The RFC 9162 audit path of leaf `leaf_index` in the tree of `tree_size` leaves."""
    path = await services.inclusion_proof(
        platform.db, query.leaf_index, query.tree_size, platform.services["transparency_nodes"]
    )
    return InclusionOut(
        leaf_index=query.leaf_index,
        tree_size=query.tree_size,
        audit_path=[store.b64(h) for h in path],
    )


@router.get(
    "/v1/transparency/proofs/consistency",
    summary="Proof that one tree extends another",
    auth=Auth.PUBLIC,
    errors=(400, 503),
)
async def consistency_proof(platform: Platform, query: ConsistencyQuery) -> ConsistencyOut:
    """The RFC 9162 consistency proof between the trees of `first` and `second` leaves (empty
    when they are equal)."""
    proof = await services.consistency_proof(
        platform.db, query.first, query.second, platform.services["transparency_nodes"]
    )
    return ConsistencyOut(
        first=query.first, second=query.second, proof=[store.b64(h) for h in proof]
    )


@me_router.get("/v1/me/transparency", summary="Your entries in the transparency log")
async def my_transparency(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[EntryOut]:
    """Entries about you (consents, reads of your data), newest first, with their leaf indices:
    ask `/v1/transparency/proofs/inclusion` to check each is in the signed tree. They carry your
    pseudonym (`body.citizen`), never your account; erasing your account deletes the key that
    links the two."""
    found, cursor = await services.my_entries(session, principal.account_id, query)
    return Page[EntryOut](items=[_entry(e) for e in found], next_cursor=cursor)

"""Tables of the transparency log: pending entries, sequenced entries, stored nodes, signed heads, citizen keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.db import ts_column, utcnow


def _bigint_key(*, autoincrement: bool) -> sa.Column[int]:
    return sa.Column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=autoincrement,
    )


class PendingEntry(SQLModel, table=True):
    """The outbox: an entry written in the same transaction as what it records, not yet in the tree.

    `account_id` names the citizen only until the sequencer replaces it with a pseudonym (or
    erasure does, with the key it is about to delete); it never reaches the public log.
    """

    __tablename__ = "transparency_pending"

    id: int | None = Field(default=None, sa_column=_bigint_key(autoincrement=True))
    kind: str = Field(max_length=40)
    time: str = Field(max_length=32, description="RFC 3339, UTC, milliseconds")
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    account_id: str | None = Field(default=None, max_length=40, index=True)
    citizen: str | None = Field(default=None, max_length=64)


class LogEntry(SQLModel, table=True):
    """One leaf of the tree: the exact canonical bytes that were hashed, and their leaf hash."""

    __tablename__ = "transparency_entries"
    __table_args__ = (sa.Index("ix_transparency_entries_citizen", "citizen", "leaf_index"),)

    leaf_index: int | None = Field(default=None, sa_column=_bigint_key(autoincrement=False))
    leaf_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary(32), nullable=False))
    kind: str = Field(max_length=40)
    citizen: str | None = Field(default=None, max_length=64)
    entry: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class LogNode(SQLModel, table=True):
    """A complete subtree's hash (level ≥ 1; level 0 is the entry's leaf hash); never changes.

    Keyed by one integer, `level << 48 | index` (`rfc9162.node_id`): on SQLite the row id
    itself, so a proof's nodes are one `IN` list over one B-tree.
    """

    __tablename__ = "transparency_nodes"

    node_id: int | None = Field(default=None, sa_column=_bigint_key(autoincrement=False))
    hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary(32), nullable=False))


class TreeHead(SQLModel, table=True):
    """A signed tree head; every head is kept. The newest (highest id) is the current one."""

    __tablename__ = "transparency_heads"

    id: int | None = Field(default=None, sa_column=_bigint_key(autoincrement=True))
    tree_size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, index=True))
    root_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary(32), nullable=False))
    timestamp: int = Field(
        sa_column=sa.Column(sa.BigInteger(), nullable=False),
        description="milliseconds since the Unix epoch",
    )
    kid: str = Field(max_length=64)
    signature: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class CitizenKey(SQLModel, table=True):
    """The per-citizen secret that derives their pseudonym; erasure deletes it (crypto-shredding)."""

    __tablename__ = "citizen_keys"

    account_id: str = Field(primary_key=True, max_length=40)
    secret: bytes = Field(sa_column=sa.Column(sa.LargeBinary(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

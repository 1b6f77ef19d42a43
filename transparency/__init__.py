"""The transparency log: an append-only RFC 9162 Merkle tree over grants, decisions, consents and data access."""

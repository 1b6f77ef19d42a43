"""OAuth 2.0 Token Introspection, RFC 7662 (https://www.rfc-editor.org/rfc/rfc7662), for registered data APIs.

The hot path answers from a per-process cache of what one indexed query (token, client, release
and consent joined by key) returned, tagged with the revocation epoch it was read at. The access
events of an active answer are group-committed (access_log.py) in a transaction that also reads
the current epoch: if anything that can end or narrow a token happened since the cached read,
the request reads the token again before answering. So a revocation, suspension or narrowing
applies to the very next introspection in every process, while the common case costs no read.

A data API learns only about the scopes of its own data owner: a token carrying none of them is
inactive to it. An active answer for a citizen token records one access event per scope, and the
answer waits until those events are committed.
"""

from __future__ import annotations

import functools
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from kitemarks.oauth.access_log import AccessLogWriter
from marketplace.auth import hash_token
from marketplace.cache import SingleFlight
from marketplace.db import Database, table_of, utcnow
from marketplace.guidelines.models import DataApi, Scope
from marketplace.rawdb import KeyedReads, parse_json, parse_timestamp
from marketplace.releases.lifecycle import SERVING_SQL

CACHE_SECONDS = 5.0
MAX_CACHED_TOKENS = 250_000
INACTIVE: dict[str, Any] = {"active": False}


# One indexed read through the driver by the token's hash (`KeyedReads`: on SQLite, concurrent
# requests' reads are one statement off the event loop): the token, its client and release, its
# consent, and the revocation epoch, all from one snapshot. Timestamps are compared in Python
# (the row may be answered from the cache later); everything else that can end a token is
# decided here.
LOOKUP = f"""SELECT t.id, t.scopes, t.expires_at, t.issued_at, t.account_id, t.consent_id,
       t.client_id, t.service_id, c.scopes, k.expires_at, k.scopes, k.uses,
       CASE WHEN t.revoked_at IS NULL AND r.status IN {SERVING_SQL}
                 AND (t.consent_id IS NULL OR k.status = 'active')
            THEN 1 ELSE 0 END,
       COALESCE((SELECT value FROM oauth_epoch WHERE id = 1), 0)
FROM oauth_tokens t
JOIN oauth_clients c ON c.client_id = t.client_id
JOIN releases r ON r.id = c.release_id
LEFT JOIN consents k ON k.id = t.consent_id"""  # noqa: S608 (a fixed list of statuses)
LOOKUP_KEY = "t.access_hash"


@functools.lru_cache(maxsize=4096)
def scope_set(stored: str | None) -> frozenset[str]:
    """A JSON list of scopes as a set; the same few lists recur, so each is parsed once."""
    return frozenset(parse_json(stored) or ())


class TokenView(NamedTuple):
    """What introspection needs of one token, as read at `epoch` (a tuple: cheap to build)."""

    id: str
    scopes: frozenset[str]
    expires_at: datetime
    issued_at: datetime
    account_id: str | None
    consent_id: str | None
    client_id: str
    service_id: str
    client_scopes: frozenset[str]
    consent_expires_at: datetime | None
    consent_scopes: frozenset[str]
    uses: str | None  # the consent's data uses, as stored (parsed only when needed)
    live: bool
    epoch: int

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> TokenView:
        expires_at, issued_at = parse_timestamp(row[2]), parse_timestamp(row[3])
        assert expires_at is not None and issued_at is not None
        uses = row[11]
        return cls(
            row[0],
            scope_set(_text(row[1])),
            expires_at,
            issued_at,
            row[4],
            row[5],
            row[6],
            row[7],
            scope_set(_text(row[8])),
            parse_timestamp(row[9]),
            scope_set(_text(row[10])),
            uses if uses is None or isinstance(uses, str) else json.dumps(uses),
            bool(row[12]),
            int(row[13]),
        )


def _text(value: Any) -> str | None:
    """JSON as text (both drivers give text; a decoded value is put back as text)."""
    return value if value is None or isinstance(value, str) else json.dumps(value)


# A data API as cached: id, secret hash, data owner, enabled.
ApiEntry = tuple[str, str | None, str, bool]


@dataclass(frozen=True)
class Caller:
    """An authenticated data API."""

    id: str
    client_id: str
    data_owner: str


def owner_key(data_owner: str) -> str:
    return " ".join(data_owner.casefold().split())


class Introspector:
    def __init__(self, db: Database, writer: AccessLogWriter, issuer: str) -> None:
        self.db = db
        self.writer = writer
        self.issuer = issuer
        self._apis: dict[str, tuple[float, ApiEntry | None]] = {}
        self._scopes: tuple[float, dict[str, tuple[str, str]]] = (0.0, {})
        self._api_loads: SingleFlight[str, tuple[float, ApiEntry | None]] = SingleFlight()
        self._scope_loads: SingleFlight[str, tuple[float, dict[str, tuple[str, str]]]] = (
            SingleFlight()
        )
        # Token rows by access-token hash, as read at the epoch they carry.
        self._tokens: dict[str, TokenView] = {}
        self._purposes: dict[str, dict[str, str]] = {}
        self._reads = KeyedReads(db.raw, LOOKUP, LOOKUP_KEY)

    async def close(self) -> None:
        await self._reads.close()

    async def authenticate(self, client_id: str, secret: str) -> Caller | None:
        """A registered, enabled data API with that secret (compared in constant time)."""
        cached = self._apis.get(client_id)
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            # One read for a busy data API's concurrent requests when its entry expires.
            cached = await self._api_loads.run(client_id, lambda: self._load_api(client_id))
        entry = cached[1]
        # Compare even for an unknown id, so timing does not say which ids exist.
        expected = entry[1] if entry and entry[1] else "0" * 64
        matches = hmac.compare_digest(expected, hash_token(secret))
        if entry is None or not entry[3] or not matches:
            return None
        return Caller(entry[0], client_id, entry[2])

    async def _load_api(self, client_id: str) -> tuple[float, ApiEntry | None]:
        now = time.monotonic()
        table = table_of(DataApi)
        async with self.db.read_engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        table.c.id,
                        table.c.client_secret_hash,
                        table.c.data_owner,
                        table.c.disabled_at,
                    ).where(table.c.client_id == client_id)
                )
            ).first()
        entry = (row[0], row[1], row[2], row[3] is None) if row else None
        if len(self._apis) > 10_000:
            self._apis.clear()
        cached = self._apis[client_id] = (now, entry)
        return cached

    async def _scope_table(self, *, reload: bool = False) -> dict[str, tuple[str, str]]:
        loaded_at, scopes = self._scopes
        if reload or time.monotonic() - loaded_at > CACHE_SECONDS * 6:
            scopes = (await self._scope_loads.run("scopes", self._load_scopes))[1]
        return scopes

    async def _load_scopes(self) -> tuple[float, dict[str, tuple[str, str]]]:
        table = table_of(Scope)
        async with self.db.read_engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(table.c.name, table.c.tier, table.c.data_owner))
            ).all()
        self._scopes = (
            time.monotonic(),
            {str(r[0]): (str(r[1]), owner_key(str(r[2]))) for r in rows},
        )
        return self._scopes

    def _purposes_of(self, row: TokenView) -> dict[str, str]:
        """Purpose per scope from the consent's data uses; a consent's purposes never change
        (narrowing only drops scopes), so they are parsed once per consent per process."""
        assert row.consent_id is not None
        purposes = self._purposes.get(row.consent_id)
        if purposes is None:
            uses = parse_json(row.uses) or []
            purposes = {u["scope"]: u.get("purpose", "service_delivery") for u in uses}
            if len(self._purposes) >= MAX_CACHED_TOKENS:
                self._purposes.clear()
            self._purposes[row.consent_id] = purposes
        return purposes

    async def _lookup(self, digest: str) -> TokenView | None:
        raw = await self._reads.get(digest)
        if raw is None:
            return None
        view = TokenView.of(raw)
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens.clear()
        self._tokens[digest] = view
        return view

    def _evaluate(
        self, row: TokenView, caller: Caller, table: dict[str, tuple[str, str]]
    ) -> list[str]:
        """The scopes this caller may be told about now; empty means inactive."""
        now = utcnow()
        # Not live: revoked, its service not published (suspended, withdrawn), consent ended.
        if not row.live or row.expires_at <= now:
            return []
        scopes = row.scopes & row.client_scopes
        if row.consent_id is not None:
            if row.consent_expires_at is None or row.consent_expires_at <= now:
                return []
            scopes &= row.consent_scopes
        mine = owner_key(caller.data_owner)
        return sorted(s for s in scopes if s in table and table[s][1] == mine)

    async def introspect(
        self, caller: Caller, token: str, case_reference: str | None
    ) -> dict[str, Any]:
        digest = hash_token(token)
        table = await self._scope_table()
        row: TokenView | None = self._tokens.get(digest)
        fresh = row is None
        if row is None:
            row = await self._lookup(digest)
            if row is None:
                return INACTIVE
        if not set(row.scopes) <= table.keys():
            table = await self._scope_table(reload=True)  # a scope newer than the cache
        for _ in range(3):
            scopes = self._evaluate(row, caller, table)
            if not scopes and not fresh:
                # A cached row says inactive: it may be out of date (a reinstatement).
                row, fresh = await self._lookup(digest), True
                if row is None:
                    return INACTIVE
                continue
            if not scopes:
                return INACTIVE
            now = utcnow()
            rows = []
            if row.consent_id is not None and row.account_id is not None:
                purposes = self._purposes_of(row)
                rows = [
                    {
                        "account_id": row.account_id,
                        "consent_id": row.consent_id,
                        "service_id": row.service_id,
                        "token_id": row.id,
                        "scope": scope,
                        "tier": table[scope][0],
                        "purpose": purposes.get(scope, "service_delivery"),
                        "data_api_id": caller.id,
                        "case_reference": case_reference,
                        "created_at": now,
                    }
                    for scope in scopes
                ]
            if await self.writer.record(rows, int(row.epoch)):
                return self._answer(row, scopes, table)
            # Something changed since this row was read: read it again and decide afresh.
            row, fresh = await self._lookup(digest), True
            if row is None:
                return INACTIVE
        raise RuntimeError("the token kept changing while it was being introspected")

    def _answer(
        self, row: TokenView, scopes: list[str], table: dict[str, tuple[str, str]]
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "active": True,
            "scope": " ".join(scopes),
            "client_id": row.client_id,
            "token_type": "Bearer",
            "exp": _epoch(row.expires_at),
            "iat": _epoch(row.issued_at),
            "iss": self.issuer,
            "service_id": row.service_id,
            "tiers": {scope: table[scope][0] for scope in scopes},
        }
        if row.account_id is not None:
            answer["sub"] = row.account_id
            answer["consent_id"] = row.consent_id
        return answer


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())

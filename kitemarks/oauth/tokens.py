"""Loading what an OAuth request needs before authlib runs, and persisting what it decided after.

Secrets (codes, access and refresh tokens, client secrets) are stored only as SHA-256 hashes.
Single use is enforced by conditional updates, so two requests racing with one code or one
refresh token leave one winner; the loser's presentation counts as a replay.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.models import (
    AuthorizationCode,
    Consent,
    ConsentStatus,
    OAuthToken,
)
from kitemarks.oauth.server import (
    Client,
    ClientRow,
    Code,
    CodeRow,
    ConsentRow,
    Exchange,
    IssuedToken,
    RefreshCredential,
    RefreshRow,
    StarletteRequest,
)
from marketplace.auth import hash_token
from marketplace.db import Database, utcnow
from marketplace.events import record_event
from marketplace.groupcommit import GroupCommit
from marketplace.ids import new_id
from marketplace.rawdb import RawTransaction, parse_json, parse_timestamp
from marketplace.releases.lifecycle import SERVING


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """HTTP Basic client credentials (RFC 6749 §2.3.1: form-urlencoded, then base64)."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote(client_id), unquote(secret)


def client_id_of(request: StarletteRequest) -> str | None:
    basic = basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        return basic[0]
    return request.payload.data.get("client_id")


CLIENT = """
SELECT c.client_id, c.service_id, c.release_id, c.secret_hash, c.redirect_uris, c.scopes,
       r.status
FROM oauth_clients c JOIN releases r ON r.id = c.release_id
WHERE c.client_id = ?
"""
# Both end with the consent's columns (see _consent). The code's query also brings its own
# client (the one that must be presenting it), to spare a second read.
CODE = """
SELECT c.client_id, c.service_id, c.release_id, c.secret_hash, c.redirect_uris, c.scopes,
       r.status,
       a.code_hash, a.client_id, a.consent_id, a.account_id, a.redirect_uri, a.scopes,
       a.code_challenge, a.code_challenge_method, a.expires_at, a.used_at, a.family_id,
       k.id, k.account_id, k.service_id, k.scopes, k.status, k.expires_at
FROM oauth_codes a
JOIN consents k ON k.id = a.consent_id
JOIN oauth_clients c ON c.client_id = a.client_id
JOIN releases r ON r.id = c.release_id
WHERE a.code_hash = ?
"""
REFRESH = """
SELECT t.id, t.family_id, t.client_id, t.service_id, t.consent_id, t.account_id, t.scopes,
       t.refresh_expires_at, t.rotated_at, t.revoked_at,
       k.id, k.account_id, k.service_id, k.scopes, k.status, k.expires_at
FROM oauth_tokens t JOIN consents k ON k.id = t.consent_id
WHERE t.refresh_hash = ?
"""


@functools.lru_cache(maxsize=4096)
def _json_list(stored: str) -> tuple[str, ...]:
    return tuple(parse_json(stored) or ())


def json_list(stored: Any) -> tuple[str, ...]:
    """A stored JSON list of strings; the same few lists recur, so each is parsed once."""
    if stored is None:
        return ()
    return _json_list(stored if isinstance(stored, str) else json.dumps(stored))


def _required(value: Any) -> datetime:
    moment = parse_timestamp(value)
    assert moment is not None, "a NOT NULL timestamp"
    return moment


def _consent(row: tuple[Any, ...]) -> ConsentRow:
    """The consent columns that end each of the queries above."""
    consent_id, account_id, service_id, scopes, status, expires_at = row[-6:]
    return ConsentRow(
        id=consent_id,
        account_id=account_id,
        service_id=service_id,
        scopes=parse_json(scopes),
        status=ConsentStatus(status),
        expires_at=_required(expires_at),
    )


async def load_client(db: Database, client_id: str) -> Client | None:
    row = await db.raw.fetchrow(CLIENT, (client_id,))
    return None if row is None else _client(row)


def _client(row: tuple[Any, ...]) -> Client:
    """The client columns that start CLIENT and CODE."""
    client = ClientRow(
        client_id=row[0],
        service_id=row[1],
        release_id=row[2],
        secret_hash=row[3],
        redirect_uris=json_list(row[4]),
        scopes=json_list(row[5]),
    )
    return Client(client, row[6] in SERVING_VALUES)


SERVING_VALUES = frozenset(s.value for s in SERVING)


def consent_usable(consent: ConsentRow | None, now: datetime) -> bool:
    return (
        consent is not None and consent.status is ConsentStatus.ACTIVE and consent.expires_at > now
    )


def effective_scopes(*scope_sets: Sequence[str]) -> str:
    """What a token may carry now: granted to the service, consented by the citizen, asked for."""
    result = set(scope_sets[0])
    for scopes in scope_sets[1:]:
        result &= set(scopes)
    return " ".join(sorted(result))


async def load_exchange(db: Database, request: StarletteRequest) -> Exchange:
    """Everything authlib may ask of a token request, read (through the driver) before it runs."""
    exchange = Exchange()
    client_id = client_id_of(request)
    if not client_id:
        return exchange
    form = request.form
    now = utcnow()
    grant_type = form.get("grant_type")
    code_row = None
    if grant_type == "authorization_code" and form.get("code"):
        code_row = await db.raw.fetchrow(CODE, (hash_token(form["code"]),))
    if code_row is not None and code_row[0] == client_id:
        client: Client | None = _client(code_row)
    else:
        client = await load_client(db, client_id)
    if client is None:
        return exchange
    exchange.clients[client.row.client_id] = client
    if code_row is not None:
        row = code_row[7:]
        code = CodeRow(
            code_hash=row[0],
            client_id=row[1],
            consent_id=row[2],
            account_id=row[3],
            redirect_uri=row[4],
            scopes=parse_json(row[5]),
            code_challenge=row[6],
            code_challenge_method=row[7],
            expires_at=_required(row[8]),
            used_at=parse_timestamp(row[9]),
            family_id=row[10],
        )
        consent = _consent(row)
        if code.used_at is not None:
            exchange.replayed_family = code.family_id
        elif code.expires_at > now and consent_usable(consent, now):
            exchange.consent = consent
            exchange.code = Code(
                code, effective_scopes(code.scopes, consent.scopes, client.row.scopes)
            )
    elif grant_type == "refresh_token" and form.get("refresh_token"):
        found = await db.raw.fetchrow(REFRESH, (hash_token(form["refresh_token"]),))
        if found is None:
            return exchange
        row = found
        token = RefreshRow(
            id=row[0],
            family_id=row[1],
            client_id=row[2],
            service_id=row[3],
            consent_id=row[4],
            account_id=row[5],
            scopes=parse_json(row[6]),
            refresh_expires_at=parse_timestamp(row[7]),
            rotated_at=parse_timestamp(row[8]),
            revoked_at=parse_timestamp(row[9]),
        )
        consent = _consent(row)
        if token.rotated_at is not None:
            exchange.refresh = RefreshCredential(token, "")
        elif consent_usable(consent, now):
            exchange.consent = consent
            exchange.refresh = RefreshCredential(
                token, effective_scopes(token.scopes, consent.scopes, client.row.scopes)
            )
    return exchange


def _token_row(
    issued: IssuedToken, client: ClientRow, family_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id("tok"),
        "access_hash": hash_token(issued.access_token),
        "refresh_hash": hash_token(issued.refresh_token) if issued.refresh_token else None,
        "family_id": family_id,
        "client_id": client.client_id,
        "service_id": client.service_id,
        "consent_id": issued.citizen.consent_id if issued.citizen else None,
        "account_id": issued.citizen.account_id if issued.citizen else None,
        "scopes": issued.scopes,
        "issued_at": now,
        "expires_at": issued.expires_at,
        "refresh_expires_at": issued.refresh_expires_at,
        "rotated_at": None,
        "revoked_at": None,
    }


TOKEN_COLUMNS = (
    "id",
    "access_hash",
    "refresh_hash",
    "family_id",
    "client_id",
    "service_id",
    "consent_id",
    "account_id",
    "scopes",
    "issued_at",
    "expires_at",
    "refresh_expires_at",
    "rotated_at",
    "revoked_at",
)
INSERT_TOKEN = (
    f"INSERT INTO oauth_tokens ({', '.join(TOKEN_COLUMNS)}) "  # noqa: S608 (fixed names)
    f"VALUES ({', '.join('?' for _ in TOKEN_COLUMNS)})"
)
_TIMES = {"issued_at", "expires_at", "refresh_expires_at", "rotated_at", "revoked_at"}


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


@dataclass(frozen=True, slots=True)
class Issue:
    """One token request's writes: use up a code or rotate a refresh token, then store tokens."""

    tokens: list[dict[str, Any]]
    code_hash: str | None = None
    rotate_token_id: str | None = None


class TokenWriter(GroupCommit[Issue, bool]):
    """Token requests share commits. Single use is still decided per request: one conditional
    UPDATE ... RETURNING per batch says which codes and refresh tokens were still unused, and
    only the first request presenting each one wins (a loser stores nothing)."""

    async def commit(self, tx: RawTransaction, items: list[Issue]) -> list[bool]:
        now = tx.timestamp(utcnow())
        codes = sorted({i.code_hash for i in items if i.code_hash is not None})
        rotations = sorted({i.rotate_token_id for i in items if i.rotate_token_id is not None})
        fresh_codes: set[str] = set()
        fresh_tokens: set[str] = set()
        if codes:
            rows = await tx.fetchall(
                f"UPDATE oauth_codes SET used_at = ? WHERE code_hash IN ({_marks(len(codes))})"  # noqa: S608
                " AND used_at IS NULL RETURNING code_hash",
                [now, *codes],
            )
            fresh_codes = {r[0] for r in rows}
        if rotations:
            rows = await tx.fetchall(
                f"UPDATE oauth_tokens SET rotated_at = ? WHERE id IN ({_marks(len(rotations))})"  # noqa: S608
                " AND rotated_at IS NULL AND revoked_at IS NULL RETURNING id",
                [now, *rotations],
            )
            fresh_tokens = {r[0] for r in rows}
        won = []
        stored = []
        for item in items:
            ok = True
            if item.code_hash is not None:
                ok = item.code_hash in fresh_codes
                fresh_codes.discard(item.code_hash)  # a second request with it loses
            if ok and item.rotate_token_id is not None:
                ok = item.rotate_token_id in fresh_tokens
                fresh_tokens.discard(item.rotate_token_id)
            won.append(ok)
            if ok:
                stored += item.tokens
        await tx.executemany(
            INSERT_TOKEN,
            [
                tuple(
                    tx.timestamp(row[c])
                    if c in _TIMES
                    else tx.json(row[c])
                    if c == "scopes"
                    else row[c]
                    for c in TOKEN_COLUMNS
                )
                for row in stored
            ],
        )
        return won


async def persist_exchange(writer: TokenWriter, exchange: Exchange) -> bool:
    """Store the tokens authlib issued and use up the code or refresh token; False if it lost a race."""
    now = utcnow()
    family_id = new_id("fam")
    code_hash = None
    rotate = None
    if exchange.code is not None and exchange.code_used:
        code_hash = exchange.code.row.code_hash
        # Tokens from a code share the family the code was given, so a replay can end them.
        family_id = exchange.code.row.family_id or family_id
    if exchange.refresh is not None and exchange.rotated:
        family_id = exchange.refresh.row.family_id
        rotate = exchange.refresh.row.id
    client = next(iter(exchange.clients.values())).row
    rows = [_token_row(issued, client, family_id, now) for issued in exchange.issued]
    won = await writer.submit(Issue(rows, code_hash, rotate))
    if not won and rotate is not None:
        exchange.replayed_family = family_id
    return won


async def revoke_family(session: AsyncSession, family_id: str, reason: str) -> int:
    """End every token descended from one code (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""
    result = await session.exec(
        update(OAuthToken)
        .where(col(OAuthToken.family_id) == family_id)
        .where(col(OAuthToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    record_event(
        session,
        "oauth:token:family_revoked",
        subject_type="token_family",
        subject_id=family_id,
        actor_id=None,
        body={"reason": reason, "tokens": result.rowcount},
    )
    return int(result.rowcount)


async def save_authorization(
    session: AsyncSession,
    *,
    code: str,
    client: ClientRow,
    consent: Consent,
    redirect_uri: str,
    code_challenge: str,
    code_ttl: timedelta,
) -> None:
    session.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            client_id=client.client_id,
            consent_id=consent.id,
            account_id=consent.account_id,
            redirect_uri=redirect_uri,
            scopes=list(consent.scopes),
            code_challenge=code_challenge,
            code_challenge_method="S256",
            expires_at=utcnow() + code_ttl,
            family_id=new_id("fam"),
        )
    )

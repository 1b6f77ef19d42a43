"""Idempotency-Key on creating POSTs: a replay returns the first response, stored with the creation."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from marketplace import errors
from marketplace.auth import Principal
from marketplace.db import Database, ts_column, utcnow
from marketplace.sealing import Sealer

MAX_KEY_LENGTH = 255


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a creating POST, keyed by caller and Idempotency-Key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("caller", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    caller: str = Field(max_length=80)
    key: str = Field(max_length=MAX_KEY_LENGTH)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column(index=True))


def key_from(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.MalformedRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


def _caller(principal: Principal | None, request: Request) -> str:
    if principal is not None:
        return f"acct:{principal.account_id}"
    return f"addr:{request.client.host if request.client else 'unknown'}"


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.url.path.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _context(record_caller: str, key: str) -> str:
    return f"idempotency:{record_caller}:{key}"


def _replay(record: IdempotencyRecord, sealer: Sealer) -> Response:
    # Responses are sealed at rest: a created API token's secret must not sit in plain text.
    try:
        body = sealer.unseal(record.response_body, _context(record.caller, record.key))
    except (InvalidTag, ValueError):
        # Sealed under a key this server no longer has: the first response cannot be replayed.
        raise errors.Conflict(
            "this Idempotency-Key was used before, but its response can no longer be replayed; "
            "use a new key"
        ) from None
    return Response(
        body,
        status_code=record.status_code,
        media_type="application/json",
        headers={"Idempotency-Replayed": "true"},
    )


async def lookup(
    session: AsyncSession,
    sealer: Sealer,
    key: str,
    principal: Principal | None,
    request: Request,
    body: bytes,
) -> Response | None:
    record = (
        await session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.caller == _caller(principal, request),
                IdempotencyRecord.key == key,
                IdempotencyRecord.expires_at > utcnow(),
            )
        )
    ).first()
    if record is None:
        return None
    if record.request_hash != _fingerprint(request, body):
        raise errors.IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; use a new key"
        )
    return _replay(record, sealer)


async def store(
    session: AsyncSession,
    sealer: Sealer,
    key: str,
    principal: Principal | None,
    request: Request,
    body: bytes,
    response: Response,
    *,
    ttl_hours: int,
) -> None:
    caller = _caller(principal, request)
    # An expired record with the same key may linger until the sweep; it no longer counts.
    await session.exec(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller,  # type: ignore[arg-type]
            IdempotencyRecord.key == key,  # type: ignore[arg-type]
            IdempotencyRecord.expires_at <= utcnow(),  # type: ignore[arg-type]
        )
    )
    session.add(
        IdempotencyRecord(
            caller=caller,
            key=key,
            method=request.method,
            path=request.url.path,
            request_hash=_fingerprint(request, body),
            status_code=response.status_code,
            response_body=sealer.seal(bytes(response.body).decode(), _context(caller, key)),
            expires_at=utcnow() + timedelta(hours=ttl_hours),
        )
    )
    await session.flush()


def is_duplicate_key(exc: BaseException) -> bool:
    if not isinstance(exc, IntegrityError):
        return False
    text = str(exc.orig).lower()
    return "idempotency_records" in text or "uq_idempotency_records" in text


async def replay_after_race(
    db: Database,
    sealer: Sealer,
    key: str,
    principal: Principal | None,
    request: Request,
    body: bytes,
) -> Response:
    """Two requests with one key raced; the other committed first, so answer with its response."""
    async with db.session(write=False) as session:
        replay = await lookup(session, sealer, key, principal, request, body)
    if replay is None:
        from marketplace.problems import problem_response

        return problem_response(409, detail="a request with this Idempotency-Key is in progress")
    return replay

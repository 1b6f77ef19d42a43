"""Loading what an OAuth request needs before authlib runs, and persisting what it decided after.

Secrets (codes, access and refresh tokens, client secrets) are stored only as SHA-256 hashes.
Single use is enforced by conditional updates, so two requests racing with one code or one
refresh token leave one winner; the loser's presentation counts as a replay.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.models import (
    AuthorizationCode,
    Consent,
    ConsentStatus,
    OAuthClient,
    OAuthToken,
)
from kitemarks.oauth.server import (
    Client,
    Code,
    Exchange,
    IssuedToken,
    RefreshCredential,
    StarletteRequest,
)
from marketplace.auth import hash_token
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.ids import new_id
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.models import Release


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


async def load_client(session: AsyncSession, client_id: str) -> Client | None:
    row = (
        await session.exec(
            select(OAuthClient, Release.status)
            .join(Release, col(Release.id) == col(OAuthClient.release_id))
            .where(OAuthClient.client_id == client_id)
        )
    ).first()
    if row is None:
        return None
    client, status = row
    return Client(client, status is ReleaseStatus.PUBLISHED)


def consent_usable(consent: Consent | None, now: datetime) -> bool:
    return (
        consent is not None and consent.status is ConsentStatus.ACTIVE and consent.expires_at > now
    )


def effective_scopes(*scope_sets: list[str]) -> str:
    """What a token may carry now: granted to the service, consented by the citizen, asked for."""
    result = set(scope_sets[0])
    for scopes in scope_sets[1:]:
        result &= set(scopes)
    return " ".join(sorted(result))


async def load_exchange(session: AsyncSession, request: StarletteRequest) -> Exchange:
    """Everything authlib may ask of a token request, read before it runs."""
    exchange = Exchange()
    client_id = client_id_of(request)
    client = await load_client(session, client_id) if client_id else None
    if client is not None:
        exchange.clients[client.row.client_id] = client
    form = request.form
    now = utcnow()
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code" and form.get("code") and client is not None:
        row = await session.get(AuthorizationCode, hash_token(form["code"]))
        if row is not None and row.used_at is not None:
            exchange.replayed_family = row.family_id
        elif row is not None and row.expires_at > now:
            consent = await session.get(Consent, row.consent_id)
            if consent_usable(consent, now):
                assert consent is not None
                exchange.consent = consent
                exchange.code = Code(
                    row, effective_scopes(row.scopes, consent.scopes, client.row.scopes)
                )
    elif grant_type == "refresh_token" and form.get("refresh_token") and client is not None:
        token = (
            await session.exec(
                select(OAuthToken).where(
                    OAuthToken.refresh_hash == hash_token(form["refresh_token"])
                )
            )
        ).first()
        if token is not None and token.consent_id is not None:
            consent = await session.get(Consent, token.consent_id)
            if token.rotated_at is not None:
                exchange.refresh = RefreshCredential(token, "")
            elif consent_usable(consent, now):
                assert consent is not None
                exchange.consent = consent
                exchange.refresh = RefreshCredential(
                    token, effective_scopes(token.scopes, consent.scopes, client.row.scopes)
                )
    return exchange


def _token_row(
    issued: IssuedToken, client: OAuthClient, family_id: str, now: datetime
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


async def persist_exchange(session: AsyncSession, exchange: Exchange) -> bool:
    """Store the tokens authlib issued and use up the code or refresh token; False if it lost a race."""
    now = utcnow()
    family_id = new_id("fam")
    if exchange.code is not None and exchange.code_used:
        used = await session.exec(
            update(AuthorizationCode)
            .where(col(AuthorizationCode.code_hash) == exchange.code.row.code_hash)
            .where(col(AuthorizationCode.used_at).is_(None))
            .values(used_at=now, family_id=family_id)
        )
        if used.rowcount != 1:
            return False
    if exchange.refresh is not None and exchange.rotated:
        family_id = exchange.refresh.row.family_id
        rotated = await session.exec(
            update(OAuthToken)
            .where(col(OAuthToken.id) == exchange.refresh.row.id)
            .where(col(OAuthToken.rotated_at).is_(None))
            .where(col(OAuthToken.revoked_at).is_(None))
            .values(rotated_at=now)
        )
        if rotated.rowcount != 1:
            exchange.replayed_family = family_id
            return False
    if exchange.issued:
        client = next(iter(exchange.clients.values())).row
        await session.exec(
            sa.insert(OAuthToken),
            params=[_token_row(issued, client, family_id, now) for issued in exchange.issued],
        )
    return True


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
    client: OAuthClient,
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
        )
    )

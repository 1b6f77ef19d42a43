"""OAuth 2.0 Token Revocation, RFC 7009 (https://www.rfc-editor.org/rfc/rfc7009), for services' own tokens.

The client authenticates; a token that is unknown, already dead or another client's is answered
200 all the same (§2.2), so the endpoint says nothing about tokens the caller does not hold.
Revoking a refresh token ends its whole family, access tokens included (§2.1).
"""

from __future__ import annotations

from sqlmodel import col, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.models import OAuthToken
from marketplace.auth import hash_token
from marketplace.db import utcnow
from marketplace.events import record_event


async def revoke(session: AsyncSession, client_id: str, token: str, hint: str | None) -> bool:
    """Revoke `token` if it is this client's; True if something was revoked."""
    digest = hash_token(token)
    if hint == "refresh_token":
        condition = col(OAuthToken.refresh_hash) == digest
    elif hint == "access_token":
        condition = col(OAuthToken.access_hash) == digest
    else:
        condition = or_(
            col(OAuthToken.access_hash) == digest, col(OAuthToken.refresh_hash) == digest
        )
    row = (await session.exec(select(OAuthToken).where(condition))).first()
    if row is None and hint is not None:
        # §2.1: a wrong hint only widens the search.
        row = (
            await session.exec(
                select(OAuthToken).where(
                    or_(
                        col(OAuthToken.access_hash) == digest,
                        col(OAuthToken.refresh_hash) == digest,
                    )
                )
            )
        ).first()
    if row is None or row.client_id != client_id or row.revoked_at is not None:
        return False
    target = col(OAuthToken.id) == row.id
    if row.refresh_hash == digest:
        target = col(OAuthToken.family_id) == row.family_id
    result = await session.exec(
        update(OAuthToken)
        .where(target)
        .where(col(OAuthToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    record_event(
        session,
        "oauth:token:revoked",
        subject_type="token_family",
        subject_id=row.family_id,
        actor_id=None,
        body={
            "client_id": client_id,
            "tokens": result.rowcount,
            "whole_family": row.refresh_hash == digest,
        },
    )
    return bool(result.rowcount)

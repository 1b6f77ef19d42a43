"""Authentication: who is calling (bearer tokens), and the role and token-scope checks routes ask for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import AccessToken, Account, Role, TokenKind, TokenScope
from marketplace.cache import SingleFlight, TTLCache
from marketplace.db import utcnow

SESSION_TOKEN_PREFIX = "gss_"
API_TOKEN_PREFIX = "gst_"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    account_id: str
    email: str
    roles: frozenset[str]
    token_id: str
    token_kind: TokenKind
    scopes: frozenset[str]
    expires_at: datetime | None = None

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    def require_role(self, *roles: Role) -> None:
        if not any(self.has_role(r) for r in roles):
            names = " or ".join(r.value for r in roles)
            raise errors.Forbidden(f"this needs the {names} role")

    def may_use(self, scope: TokenScope) -> bool:
        return self.token_kind is TokenKind.SESSION or scope.value in self.scopes

    def require_scope(self, scope: TokenScope) -> None:
        if not self.may_use(scope):
            raise errors.Forbidden(f"this API token lacks the {scope.value!r} scope")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def display_prefix(token: str) -> str:
    """Enough of the token to recognise it in a list, never enough to use it."""
    return token[:12]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return value.strip()


async def cached_authenticate(
    session: AsyncSession, token: str, cache: TTLCache[str, Principal]
) -> Principal:
    """`authenticate`, remembering verified tokens for the cache's TTL (never past expiry)."""
    digest = hash_token(token)
    principal = cache.get(digest)
    if principal is not None and (principal.expires_at is None or principal.expires_at > utcnow()):
        return principal

    # One lookup per token at a time: when a busy client's entry expires, its concurrent
    # requests wait for the first one's read instead of each reading the same row.
    async def verify() -> Principal:
        verified = await authenticate(session, token)
        cache.set(digest, verified)
        return verified

    return await _verifying.run(digest, verify)


_verifying: SingleFlight[str, Principal] = SingleFlight()


async def authenticate(session: AsyncSession, token: str) -> Principal:
    """Resolve a bearer token; unknown, expired and revoked tokens all fail the same way."""
    if not token.startswith((SESSION_TOKEN_PREFIX, API_TOKEN_PREFIX)) or len(token) > 200:
        raise errors.Unauthenticated("invalid or expired token")
    digest = hash_token(token)
    row = (
        await session.exec(
            select(AccessToken, Account)
            .join(Account, Account.id == AccessToken.account_id)  # type: ignore[arg-type]
            .where(AccessToken.token_hash == digest)
        )
    ).first()
    if row is None:
        raise errors.Unauthenticated("invalid or expired token")
    stored, account = row
    # The lookup was by hash; compare again in constant time so no path leaks timing.
    if not hmac.compare_digest(stored.token_hash, digest):
        raise errors.Unauthenticated("invalid or expired token")
    if stored.revoked_at is not None or stored.expires_at <= utcnow():
        raise errors.Unauthenticated("invalid or expired token")
    return Principal(
        account_id=account.id,
        email=account.email,
        roles=frozenset(account.roles),
        token_id=stored.id,
        token_kind=stored.kind,
        scopes=frozenset(stored.scopes),
        expires_at=stored.expires_at,
    )

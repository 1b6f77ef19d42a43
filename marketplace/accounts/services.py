"""Account rules: registration, sign-in with throttling, API tokens, roles, admin bootstrap."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import (
    BASE_ROLES,
    PRIVILEGED_ROLES,
    AccessToken,
    Account,
    Role,
    TokenKind,
    TokenScope,
)
from marketplace.auth import (
    API_TOKEN_PREFIX,
    SESSION_TOKEN_PREFIX,
    Principal,
    display_prefix,
    hash_token,
    new_token,
)
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.ids import new_id
from marketplace.passwords import password_problems
from marketplace.platform import Platform

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Which token scopes each role can ever use; minting others would only make a useless token.
SCOPES_BY_ROLE: dict[Role, frozenset[TokenScope]] = {
    Role.CITIZEN: frozenset({TokenScope.READ}),
    Role.PROVIDER: frozenset(
        {TokenScope.READ, TokenScope.ORGANISATIONS_WRITE, TokenScope.SERVICES_WRITE}
    ),
    Role.REVIEWER: frozenset({TokenScope.READ, TokenScope.REVIEW_WRITE}),
    Role.ADMIN: frozenset({TokenScope.READ, TokenScope.ADMIN_WRITE, TokenScope.REVIEW_WRITE}),
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problems(email: str, pointer: str = "/email") -> list[errors.FieldError]:
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        return [errors.FieldError(pointer=pointer, detail="is not an email address")]
    return []


async def account_by_email(session: AsyncSession, email: str) -> Account | None:
    result = await session.exec(select(Account).where(Account.email == normalise_email(email)))
    return result.first()


async def get_account(session: AsyncSession, account_id: str) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise errors.NotFound("no such account")
    return account


async def register(
    platform: Platform,
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    extra_roles: frozenset[Role] = frozenset(),
) -> Account:
    email = normalise_email(email)
    problems = email_problems(email) + password_problems(password, email=email)
    if role not in BASE_ROLES:
        problems.append(errors.FieldError("/role", "must be citizen or provider"))
    if problems:
        raise errors.ValidationFailed(problems)
    if await account_by_email(session, email) is not None:
        raise errors.Conflict("an account with this email already exists")
    account = Account(
        id=new_id("acc"),
        email=email,
        password_hash=await platform.passwords.hash(password),
        display_name=display_name.strip(),
        roles=sorted({role.value, *(r.value for r in extra_roles)}),
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.Conflict("an account with this email already exists") from None
    record_event(
        session,
        "account:account:created",
        subject_type="account",
        subject_id=account.id,
        actor_id=account.id,
        body={"roles": account.roles},
    )
    return account


def _throttle_keys(email: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:24]
    return f"login:{digest}:{address}", f"login:{digest}"


async def login(
    platform: Platform, session: AsyncSession, *, email: str, password: str, address: str
) -> tuple[str, AccessToken]:
    """Check the password and issue a session token; repeated failures throttle the account."""
    settings = platform.settings
    counters = platform.counters
    local_key, global_key = _throttle_keys(email, address)
    limit = settings.login_max_failures
    for key, allowed in ((local_key, limit), (global_key, limit * 4)):
        failures, retry_after = await counters.peek(key)
        if failures >= allowed:
            raise errors.RateLimited(
                retry_after, "too many failed sign-in attempts; wait before trying again"
            )
    account = await account_by_email(session, email)
    if not await platform.passwords.verify(account.password_hash if account else None, password):
        for key in (local_key, global_key):
            await counters.hit(key, settings.login_lockout_seconds)
        raise errors.Unauthenticated("wrong email or password")
    assert account is not None
    await counters.clear(local_key)
    token = new_token(SESSION_TOKEN_PREFIX)
    stored = AccessToken(
        id=new_id("tok"),
        account_id=account.id,
        kind=TokenKind.SESSION,
        name="sign-in",
        prefix=display_prefix(token),
        token_hash=hash_token(token),
        scopes=[],
        expires_at=utcnow() + timedelta(seconds=settings.access_token_ttl_seconds),
    )
    session.add(stored)
    return token, stored


async def logout(session: AsyncSession, principal: Principal) -> None:
    token = await session.get(AccessToken, principal.token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record_event(
            session,
            "account:api_token:revoked" if token.kind is TokenKind.API else "account:session:ended",
            subject_type="access_token",
            subject_id=token.id,
            actor_id=principal.account_id,
            body={"via": "logout"},
        )


async def create_api_token(
    platform: Platform,
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    expires_in_days: int,
    scopes: list[TokenScope],
) -> tuple[str, AccessToken]:
    if principal.token_kind is not TokenKind.SESSION:
        raise errors.Forbidden("API tokens can only be created from a signed-in session")
    problems: list[errors.FieldError] = []
    if expires_in_days > platform.settings.api_token_max_days:
        problems.append(
            errors.FieldError(
                "/expires_in_days", f"must be at most {platform.settings.api_token_max_days}"
            )
        )
    usable: set[TokenScope] = set()
    for role in Role:
        if principal.has_role(role):
            usable |= SCOPES_BY_ROLE[role]
    for index, scope in enumerate(scopes):
        if scope not in usable:
            problems.append(
                errors.FieldError(f"/scopes/{index}", "your account's roles cannot use this scope")
            )
    if problems:
        raise errors.ValidationFailed(problems)
    token = new_token(API_TOKEN_PREFIX)
    stored = AccessToken(
        id=new_id("tok"),
        account_id=principal.account_id,
        kind=TokenKind.API,
        name=name.strip(),
        prefix=display_prefix(token),
        token_hash=hash_token(token),
        scopes=sorted({s.value for s in scopes}),
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(stored)
    record_event(
        session,
        "account:api_token:created",
        subject_type="access_token",
        subject_id=stored.id,
        actor_id=principal.account_id,
        body={"name": stored.name, "scopes": stored.scopes},
    )
    return token, stored


async def revoke_api_token(session: AsyncSession, principal: Principal, token_id: str) -> None:
    token = await session.get(AccessToken, token_id)
    if token is None or token.account_id != principal.account_id or token.kind != TokenKind.API:
        raise errors.NotFound("no such API token")
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    session.add(token)
    record_event(
        session,
        "account:api_token:revoked",
        subject_type="access_token",
        subject_id=token.id,
        actor_id=principal.account_id,
    )


async def set_privileged_roles(
    session: AsyncSession, principal: Principal, account_id: str, roles: list[Role]
) -> Account:
    principal.require_role(Role.ADMIN)
    account = await get_account(session, account_id)
    wanted = {r for r in roles}
    not_privileged = [i for i, r in enumerate(roles) if r not in PRIVILEGED_ROLES]
    if not_privileged:
        raise errors.ValidationFailed(
            [errors.FieldError(f"/roles/{i}", "must be reviewer or admin") for i in not_privileged]
        )
    if account.id == principal.account_id and Role.ADMIN not in wanted:
        raise errors.Conflict("you cannot remove your own admin role")
    base = [r for r in account.roles if r not in {p.value for p in PRIVILEGED_ROLES}]
    new_roles = sorted({*base, *(r.value for r in wanted)})
    if new_roles != account.roles:
        record_event(
            session,
            "account:roles:changed",
            subject_type="account",
            subject_id=account.id,
            actor_id=principal.account_id,
            body={"from": account.roles, "to": new_roles},
        )
        account.roles = new_roles
        account.updated_at = utcnow()
        session.add(account)
    return account


async def ensure_admin(
    platform: Platform, session: AsyncSession, *, email: str, password: str | None
) -> tuple[Account, bool]:
    """Create the admin account, or give an existing account the admin role. Returns (account, created)."""
    existing = await account_by_email(session, email)
    if existing is not None:
        if Role.ADMIN.value not in existing.roles:
            existing.roles = sorted({*existing.roles, Role.ADMIN.value})
            existing.updated_at = utcnow()
            session.add(existing)
            record_event(
                session,
                "account:roles:changed",
                subject_type="account",
                subject_id=existing.id,
                actor_id=None,
                body={"to": existing.roles},
            )
        return existing, False
    if password is None:
        raise errors.ValidationFailed([errors.FieldError("/password", "is required")])
    account = await register(
        platform,
        session,
        email=email,
        password=password,
        display_name="Administrator",
        role=Role.CITIZEN,
        extra_roles=frozenset({Role.ADMIN}),
    )
    account.roles = [Role.ADMIN.value]
    return account, True

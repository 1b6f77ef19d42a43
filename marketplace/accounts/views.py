"""HTTP API for accounts, sign-in, API tokens and admin account management."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from marketplace.accounts import services
from marketplace.accounts.models import AccessToken, Account, Role, TokenKind, TokenScope
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.routing import Auth, Input, Output, Router

router = Router("accounts")


class AccountCreate(Input):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(min_length=1, max_length=100, pattern=r"\S")
    role: Literal["citizen", "provider"]


class AccountOut(Output):
    id: str
    email: str
    display_name: str
    roles: list[str]
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            id=account.id,
            email=account.email,
            display_name=account.display_name,
            roles=account.roles,
            created_at=account.created_at,
        )


class LoginIn(Input):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(Output):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the token expires")


class ApiTokenCreate(Input):
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")
    expires_in_days: int = Field(ge=1, le=3650)
    scopes: list[TokenScope] = Field(min_length=1, max_length=10)


class ApiTokenOut(Output):
    id: str
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    token: str | None = Field(
        default=None, description="the secret itself: returned once, at creation, never again"
    )

    @classmethod
    def of(cls, token: AccessToken, secret: str | None = None) -> ApiTokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            scopes=token.scopes,
            created_at=token.created_at,
            expires_at=token.expires_at,
            token=secret,
        )


class RolesIn(Input):
    roles: list[Literal["reviewer", "admin"]] = Field(
        max_length=2, description="the privileged roles the account should have (replaces them)"
    )


class AccountListQuery(ListQuery):
    role: Role | None = None


@router.post(
    "/v1/accounts",
    summary="Register an account",
    status_code=201,
    auth=Auth.PUBLIC,
    creates=True,
    errors=(409, 422),
)
async def register_account(
    platform: Platform, session: AsyncSession, body: AccountCreate
) -> AccountOut:
    """Register as a citizen or a provider. Passwords need 12 or more characters."""
    account = await services.register(
        platform,
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        role=Role(body.role),
    )
    return AccountOut.of(account)


@router.post(
    "/v1/auth/login",
    summary="Sign in",
    auth=Auth.PUBLIC,
    errors=(401, 429),
)
async def login(
    request: Request, platform: Platform, session: AsyncSession, body: LoginIn
) -> LoginOut:
    """Exchange email and password for a short-lived bearer token.

    Repeated failures for one account throttle further attempts (429 with Retry-After).
    """
    address = request.client.host if request.client else "unknown"
    token, _ = await services.login(
        platform, session, email=body.email, password=body.password, address=address
    )
    return LoginOut(access_token=token, expires_in=platform.settings.access_token_ttl_seconds)


@router.post(
    "/v1/auth/logout",
    summary="Sign out (revoke the token used)",
    status_code=204,
    scope=TokenScope.READ,
)
async def logout(session: AsyncSession, principal: Principal) -> None:
    """Revoke the bearer token used for this request: a session token, or an API token."""
    await services.logout(session, principal)


@router.get("/v1/account", summary="Your account")
async def my_account(session: AsyncSession, principal: Principal) -> AccountOut:
    """The signed-in caller's account."""
    return AccountOut.of(await services.get_account(session, principal.account_id))


@router.post(
    "/v1/account/api-tokens",
    summary="Create an API token",
    status_code=201,
    creates=True,
    scope=TokenScope.READ,
    errors=(403, 422),
)
async def create_api_token(
    platform: Platform, session: AsyncSession, principal: Principal, body: ApiTokenCreate
) -> ApiTokenOut:
    """Mint a long-lived, scoped token (prefix `gst_`). The secret is shown in this response only.

    Only a signed-in session (not another API token) can mint tokens.
    """
    secret, token = await services.create_api_token(
        platform,
        session,
        principal,
        name=body.name,
        expires_in_days=body.expires_in_days,
        scopes=body.scopes,
    )
    return ApiTokenOut.of(token, secret)


@router.get("/v1/account/api-tokens", summary="Your API tokens")
async def list_api_tokens(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[ApiTokenOut]:
    """Active (unrevoked) API tokens; secrets are never shown again."""
    statement = (
        select(AccessToken)
        .where(AccessToken.account_id == principal.account_id)
        .where(AccessToken.kind == TokenKind.API)
        .where(col(AccessToken.revoked_at).is_(None))
        .where(col(AccessToken.expires_at) > utcnow())
    )
    rows, cursor = await paginate(
        session, statement, keys=[col(AccessToken.id)], key_of=lambda t: [t.id], query=query
    )
    return Page[ApiTokenOut](items=[ApiTokenOut.of(t) for t in rows], next_cursor=cursor)


@router.delete(
    "/v1/account/api-tokens/{token_id}",
    summary="Revoke an API token",
    status_code=204,
    scope=TokenScope.READ,
    errors=(404,),
)
async def revoke_api_token(session: AsyncSession, principal: Principal, token_id: str) -> None:
    """Revoke one of your API tokens; it stops working at once."""
    await services.revoke_api_token(session, principal, token_id)


@router.get("/v1/admin/accounts", summary="List accounts (admin)", errors=(403,))
async def list_accounts(
    session: AsyncSession, principal: Principal, query: AccountListQuery
) -> Page[AccountOut]:
    """Every account, optionally only those with one role; for managing reviewers."""
    principal.require_role(Role.ADMIN)
    statement = select(Account)
    if query.role is not None:
        # Roles are a short JSON list of fixed words; its text form works on every engine.
        statement = statement.where(
            sa.cast(Account.roles, sa.String).like(f'%"{query.role.value}"%')
        )
    rows, cursor = await paginate(
        session, statement, keys=[col(Account.id)], key_of=lambda a: [a.id], query=query
    )
    return Page[AccountOut](items=[AccountOut.of(a) for a in rows], next_cursor=cursor)


@router.post(
    "/v1/admin/accounts/{account_id}/roles",
    summary="Set privileged roles (admin)",
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 404, 409, 422),
)
async def set_roles(
    session: AsyncSession, principal: Principal, account_id: str, body: RolesIn
) -> AccountOut:
    """Grant or remove the reviewer and admin roles. An admin cannot remove their own admin role."""
    account = await services.set_privileged_roles(
        session, principal, account_id, [Role(r) for r in body.roles]
    )
    return AccountOut.of(account)

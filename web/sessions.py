"""Web sign-in sessions: reading the session cookie, and setting cookies with the right flags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from marketplace import errors
from marketplace.auth import Principal, cached_authenticate
from marketplace.platform import Platform
from marketplace.websessions import (
    ANONYMOUS_COOKIE,
    COOKIE,
    CSRF_FIELD,
    csrf_ok,
    csrf_token,
    session_token,
)

__all__ = [
    "ANONYMOUS_COOKIE",
    "COOKIE",
    "CSRF_FIELD",
    "clear_cookie",
    "csrf_ok",
    "csrf_token",
    "set_cookie",
    "signed_in",
]


def secure_cookies(platform: Platform) -> bool:
    """`Secure` whenever the platform is served over https (GOVSTORE_BASE_URL)."""
    return platform.settings.base_url.startswith("https://")


async def signed_in(request: Request, platform: Platform) -> tuple[Principal, str] | None:
    """The principal of the session cookie; None when there is none or it expired or was revoked."""
    token = session_token(request)
    if token is None:
        return None
    try:
        async with platform.db.session(write=False) as session:
            principal = await cached_authenticate(session, token, platform.principals)
    except errors.Unauthenticated:
        return None
    return principal, token


def set_cookie(
    response: Response, platform: Platform, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(platform),
    )


def clear_cookie(response: Response, platform: Platform, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_cookies(platform)
    )

"""The web session cookie and its CSRF tokens, shared by the web pages and the OAuth consent screen.

The cookie holds the same `gss_` session token the API issues at sign-in (stored hashed, expiring,
revoked at sign-out). A form carries an HMAC of that token under a key derived from the platform's
secret key: a page on another site can read neither, so it cannot forge the form.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from marketplace.auth import SESSION_TOKEN_PREFIX
from marketplace.platform import Platform

COOKIE = "govstore_session"
# Forms of signed-out visitors (sign in, register) carry a token bound to this cookie instead.
ANONYMOUS_COOKIE = "govstore_form"
CSRF_FIELD = "csrf_token"


def session_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token or not token.startswith(SESSION_TOKEN_PREFIX) or len(token) > 200:
        return None
    return token


def csrf_token(platform: Platform, bound_to: str) -> str:
    key = platform.sealer.subkey("web-csrf")
    return hmac.new(key, bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_ok(platform: Platform, bound_to: str | None, sent: object) -> bool:
    """Constant-time check of a form's token against the cookie it must be bound to."""
    if not bound_to or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(csrf_token(platform, bound_to), sent)

"""A department resource server that answers income questions for tokens GovStore vouches for."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logger = logging.getLogger("department_api")

#: The scope a service's token must carry to ask the income question.
INCOME_SCOPE = "income.verify"
#: How long one introspection call to GovStore may take, in seconds.
INTROSPECTION_TIMEOUT = httpx.Timeout(5.0)
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://department.example/problems/"

_THRESHOLD = re.compile(r"[0-9]{1,12}")


class Introspection:
    """What GovStore said about one access token (RFC 7662), reduced to what this API uses."""

    def __init__(self, *, active: bool, scopes: frozenset[str], sub: str | None) -> None:
        self.active = active
        self.scopes = scopes
        self.sub = sub

    @classmethod
    def parse(cls, body: object) -> Introspection:
        """Read an introspection answer; raise ValueError when it breaks the contract."""
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise ValueError("introspection answer without a boolean 'active'")
        if body["active"] is False:
            return cls(active=False, scopes=frozenset(), sub=None)
        scope = body.get("scope", "")
        sub = body.get("sub")
        if not isinstance(scope, str) or not isinstance(sub, str) or not sub:
            raise ValueError("active introspection answer without a string 'scope' and 'sub'")
        return cls(active=True, scopes=frozenset(scope.split()), sub=sub)


class GovStoreUnavailable(Exception):
    """GovStore could not be asked, or gave no usable answer; the detail is safe to show."""


class Introspector:
    """Asks GovStore about access tokens over one shared HTTP client, opened by the app lifespan."""

    def __init__(
        self,
        *,
        govstore_url: str,
        client_id: str,
        client_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = govstore_url.rstrip("/") + "/oauth/introspect"
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the shared client for the app's lifetime and close it at shutdown."""
        async with httpx.AsyncClient(
            transport=self._transport, timeout=INTROSPECTION_TIMEOUT
        ) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    async def introspect(self, token: str, *, case_reference: str | None = None) -> Introspection:
        if self._client is None:
            raise RuntimeError(
                "the department API's lifespan is not running; "
                "enter app.router.lifespan_context(app) or serve it with uvicorn"
            )
        form = {"token": token}
        if case_reference:
            form["case_reference"] = case_reference
        try:
            response = await self._client.post(self.url, data=form, auth=self._auth)
        except httpx.HTTPError as error:
            logger.warning("GovStore introspection failed: %s", type(error).__name__)
            raise GovStoreUnavailable("GovStore could not be reached") from error
        if response.status_code == 401:
            logger.error("GovStore rejected this data API's client credentials")
            raise GovStoreUnavailable("GovStore did not accept this data API's credentials")
        if response.status_code != 200:
            logger.warning("GovStore introspection answered %s", response.status_code)
            raise GovStoreUnavailable(f"GovStore answered {response.status_code}")
        try:
            return Introspection.parse(response.json())
        except ValueError as error:  # a JSON decode error is a ValueError too
            logger.warning("GovStore introspection answer unreadable: %s", error)
            raise GovStoreUnavailable("GovStore gave an answer this API could not read") from error


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail}
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, or None when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def create_app(
    *,
    govstore_url: str,
    client_id: str,
    client_secret: str,
    incomes: dict[str, int] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the department API.

    ``incomes`` maps a GovStore citizen account id (the token's ``sub``) to an annual income in
    pounds; a citizen missing from it has an income of 0. ``transport`` replaces the network
    for the introspection call (e.g. ``httpx.ASGITransport(app=govstore)`` in a test). The
    shared HTTP client lives in the app's lifespan: uvicorn runs it; in-process callers enter
    ``app.router.lifespan_context(app)`` first.
    """
    known_incomes: dict[str, int] = dict(incomes or {})
    introspector = Introspector(
        govstore_url=govstore_url,
        client_id=client_id,
        client_secret=client_secret,
        transport=transport,
    )

    async def income_below(request: Request) -> Response:
        """Is the citizen's income below `threshold`? Only yes or no: the `status` tier."""
        token = bearer_token(request)
        if token is None:
            # RFC 6750 §3.1: a request without credentials gets a challenge and no error code.
            return problem(
                401,
                "unauthenticated",
                "Authentication required",
                "send a GovStore access token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        # The query is checked before GovStore is asked, so a malformed request leaves no
        # entry in the citizen's access log.
        raw_threshold = request.query_params.get("threshold", "")
        if not _THRESHOLD.fullmatch(raw_threshold):
            return problem(
                400,
                "malformed-request",
                "Malformed request",
                "'threshold' must be a whole number of pounds from 0 to 999999999999",
            )
        threshold = int(raw_threshold)
        case_reference = request.headers.get("case-reference", "").strip() or None
        try:
            answer = await introspector.introspect(token, case_reference=case_reference)
        except GovStoreUnavailable as error:
            return problem(
                503,
                "unavailable",
                "Service unavailable",
                f"the token could not be checked: {error}",
                headers={"Retry-After": "5"},
            )
        if not answer.active or answer.sub is None:
            return problem(
                401,
                "invalid-token",
                "Invalid token",
                "the access token is not active: expired, revoked or unknown to GovStore",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if INCOME_SCOPE not in answer.scopes:
            return problem(
                403,
                "insufficient-scope",
                "Insufficient scope",
                f"the access token does not grant the '{INCOME_SCOPE}' scope",
                headers={
                    "WWW-Authenticate": (
                        f'Bearer error="insufficient_scope", scope="{INCOME_SCOPE}"'
                    )
                },
            )
        income = known_incomes.get(answer.sub, 0)
        body: dict[str, Any] = {"below_threshold": income < threshold}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[Route("/v1/income-below", income_below, methods=["GET"])],
        lifespan=lambda _app: introspector.running(),
    )

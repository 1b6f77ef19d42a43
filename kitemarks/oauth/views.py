"""The OAuth 2 endpoints: authorize (the consent screen), token, introspect, revoke.

They speak OAuth's own formats (form-encoded requests; RFC 6749 §5.2 `{error, error_description}`
answers), as OAuth clients expect, rather than problem documents.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from authlib.oauth2 import OAuth2Error
from pydantic_core import to_json
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from kitemarks import consents
from kitemarks.oauth import rfc7009, tokens
from kitemarks.oauth.grants import create_server
from kitemarks.oauth.rfc7662 import Introspector
from kitemarks.oauth.server import (
    CURRENT,
    Citizen,
    Exchange,
    MalformedForm,
    Server,
    StarletteRequest,
    form_pairs,
    parse,
)
from marketplace import errors, websessions
from marketplace.accounts.models import Account, Role
from marketplace.auth import Principal, bearer_token, cached_authenticate
from marketplace.db import run_after_commit, utcnow
from marketplace.organisations.models import Organisation
from marketplace.platform import Platform
from marketplace.problems import client_gone
from marketplace.releases.models import Release, Service
from marketplace.routing import RouteMetrics

logger = logging.getLogger("govstore.oauth")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
EXPIRY_CHOICES = [(30, "30 days"), (90, "3 months"), (180, "6 months"), (365, "1 year")]
DEFAULT_DAYS = 90


def oauth_server(platform: Platform) -> Server:
    server: Server = platform.services["oauth_server"]
    return server


def token_writer(platform: Platform) -> tokens.TokenWriter:
    writer: tokens.TokenWriter = platform.services["token_writer"]
    return writer


def introspector(platform: Platform) -> Introspector:
    found: Introspector = platform.services["introspector"]
    return found


def oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


@dataclass(frozen=True)
class Signed:
    """The citizen at the consent screen, and the session token (bearer or cookie) they came with."""

    principal: Principal
    token: str
    by_cookie: bool


def render(
    request: Request,
    template: str,
    *,
    signed: Signed | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    form_action: str = "'self'",
    **context: Any,
) -> HTMLResponse:
    """The page in the web layout (GOV.UK Frontend); the assembly installs the renderer."""
    platform: Platform = request.app.state.platform
    renderer = platform.services["page_renderer"]
    page: HTMLResponse = renderer(
        request,
        signed.principal if signed else None,
        signed.token if signed else None,
        template,
        status=status,
        form_action=form_action,
        **context,
    )
    page.headers.update({**NO_STORE, **(headers or {})})
    return page


def html_error(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    signed: Signed | None = None,
    sign_in_url: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "error.html",
        signed=signed,
        status=status,
        headers=headers,
        title=title,
        detail=detail,
        sign_in_url=sign_in_url,
    )


async def _citizen(request: Request, platform: Platform) -> Signed | Response:
    """The signed-in citizen: a first-party bearer token, else the web session cookie.

    A browser with neither gets a 401 page linking to sign-in, which brings it back here.
    """
    back = f"/oauth/authorize?{request.url.query}" if request.method == "GET" else None
    try:
        token = bearer_token(request.headers.get("authorization"))
        by_cookie = token is None
        if token is None:
            token = websessions.session_token(request)
        if token is None:
            raise errors.Unauthenticated("sign in")
        async with platform.db.session(write=False) as session:
            principal = await cached_authenticate(session, token, platform.principals)
    except errors.Unauthenticated:
        return html_error(
            request,
            401,
            "Sign in to GovStore",
            "Sign in to your GovStore account to choose what this service may see.",
            {"WWW-Authenticate": 'Bearer realm="govstore"'},
            sign_in_url=f"/sign-in?next={quote(back, safe='')}" if back else "/sign-in",
        )
    signed = Signed(principal, token, by_cookie)
    if not principal.has_role(Role.CITIZEN):
        return html_error(
            request,
            403,
            "Not a citizen account",
            "Only a citizen account can give consent.",
            signed=signed,
        )
    return signed


def _authorization_error(request: Request, signed: Signed, error: OAuth2Error) -> Response:
    """Errors go back to the client only once its redirect URI is known to be its own (RFC 6749 §4.1.2.1)."""
    if error.redirect_uri:
        _, _, headers = error(None)
        return Response(status_code=302, headers=dict(headers))
    return html_error(
        request,
        400,
        "This link to GovStore is not valid",
        error.get_error_description() or error.error,
        signed=signed,
    )


@dataclass(frozen=True)
class ScreenError:
    """The consent screen's one error, for the GOV.UK error summary and the field it is about."""

    field: str
    text: str

    @property
    def summary(self) -> list[dict[str, str]]:
        return [{"text": self.text, "href": f"#{self.field}"}]

    def message(self, field: str) -> dict[str, str] | None:
        return {"text": self.text} if field == self.field else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _consent_screen(
    platform: Platform,
    signed: Signed,
    oauth: StarletteRequest,
    request: Request,
    *,
    show: bool,
    kept: set[str] | None = None,
    chosen_days: int = DEFAULT_DAYS,
    error: ScreenError | None = None,
) -> tuple[Response | None, list[dict[str, Any]]]:
    """Validate the authorization request with authlib and build the screen's data uses."""
    exchange = Exchange()
    principal = signed.principal
    async with platform.db.session(write=False) as session:
        client_id = oauth.payload.data.get("client_id")
        client = await tokens.load_client(platform.db, client_id) if client_id else None
        if client is not None:
            exchange.clients[client.row.client_id] = client
        CURRENT.set(exchange)
        server = oauth_server(platform)
        try:
            grant = server.get_consent_grant(oauth, Citizen(principal.account_id, ""))
        except OAuth2Error as exc:
            return _authorization_error(request, signed, exc), []
        assert client is not None
        release = await session.get(Release, client.row.release_id)
        service = await session.get(Service, client.row.service_id)
        account = await session.get(Account, principal.account_id)
        assert release is not None and service is not None and account is not None
        organisation = await session.get(Organisation, service.organisation_id)
        assert organisation is not None
        requested = sorted(set(oauth.scope.split())) if oauth.scope else []
        uses = await consents.data_uses(session, release, requested)
    if not uses:
        return _authorization_error(
            request,
            signed,
            _with_redirect(OAuth2Error, grant.redirect_uri, "invalid_scope", "no scope requested"),
        ), []
    if not show:
        return None, uses
    page = render(
        request,
        "consent.html",
        signed=signed,
        status=400 if error else 200,
        # The answer redirects to the service: Chromium applies form-action to that redirect.
        form_action=f"'self' {_origin(grant.redirect_uri)}",
        title=f"Share your data with {service.name}",
        service_name=service.name,
        service_slug=service.slug,
        organisation_name=organisation.name,
        citizen_name=account.display_name,
        uses=uses,
        kept=kept if kept is not None else {u["scope"] for u in uses},
        expiry_choices=[c for c in EXPIRY_CHOICES if c[0] <= platform.settings.consent_max_days],
        chosen_days=chosen_days,
        action=f"/oauth/authorize?{request.url.query}",
        errors=error,
    )
    return page, uses


def _with_redirect(
    cls: type[OAuth2Error], redirect_uri: str, error: str, description: str
) -> OAuth2Error:
    exc = cls(description=description, redirect_uri=redirect_uri)
    exc.error = error
    return exc


async def authorize(request: Request) -> Response:
    """GET shows the consent screen; POST records the citizen's answer and redirects to the service."""
    platform: Platform = request.app.state.platform
    signed = await _citizen(request, platform)
    if isinstance(signed, Response):
        return signed
    principal = signed.principal
    # The OAuth parameters travel in the query both times; the POST form carries only the
    # citizen's choices (confirm, scope kept, expires_in_days).
    oauth = await parse(request, platform.settings, payload_from_query=True)
    screen, uses = await _consent_screen(
        platform, signed, oauth, request, show=request.method == "GET"
    )
    if request.method == "GET" or screen is not None:
        assert screen is not None
        return screen
    pairs = await form_pairs(request)
    form = dict(pairs)
    # A browser's cookie travels with any form that targets this site: the form must also carry
    # the token only our own page knows. A bearer token is never sent by the browser on its own.
    if signed.by_cookie and not websessions.csrf_ok(
        platform, signed.token, form.get(websessions.CSRF_FIELD)
    ):
        return html_error(
            request,
            403,
            "Your form has expired",
            "For your security, go back, reload the page and try again.",
            signed=signed,
        )
    confirm = form.get("confirm")
    server = oauth_server(platform)
    exchange = CURRENT.get()
    grant = server.get_consent_grant(oauth, Citizen(principal.account_id, ""))
    if confirm == "deny":
        denied: Response = server.create_authorization_response(oauth, grant_user=None, grant=grant)
        return denied
    kept = {v for k, v in pairs if k == "scope"}
    requested = {u["scope"] for u in uses}
    required = {u["scope"] for u in uses if not u["optional"]}
    days_raw = form.get("expires_in_days") or str(DEFAULT_DAYS)
    try:
        days = int(str(days_raw))
    except ValueError:
        days = 0
    problem: ScreenError | None = None
    first_scope = "scope-1"
    if confirm != "allow":
        problem = ScreenError("allow", "Choose Allow or Cancel.")
    elif not kept <= requested:
        problem = ScreenError(first_scope, "You can only allow the data this service asked for.")
    elif not required <= kept:
        problem = ScreenError(
            first_scope,
            "The service needs the data that is not marked optional; choose Cancel if you do not agree.",
        )
    elif not 1 <= days <= platform.settings.consent_max_days:
        problem = ScreenError(
            "expires_in_days",
            f"Choose how long to allow this: 1 to {platform.settings.consent_max_days} days.",
        )
    if problem is not None:
        screen, _ = await _consent_screen(
            platform,
            signed,
            oauth,
            request,
            show=True,
            kept=kept & requested,
            # The screen offers fixed choices: an odd number (the API allows any) shows the default.
            chosen_days=days if days > 0 else DEFAULT_DAYS,
            error=problem,
        )
        assert screen is not None
        return screen
    client = next(iter(exchange.clients.values()))
    async with platform.db.session(write=True) as session:
        consent = await consents.grant_consent(
            session,
            account_id=principal.account_id,
            client=client.row,
            scopes=sorted(kept),
            expires_at=utcnow() + timedelta(days=days),
        )
        response: Response = server.create_authorization_response(
            oauth, grant_user=Citizen(principal.account_id, consent.id), grant=grant
        )
        if exchange.saved_code is not None:
            code, _ = exchange.saved_code
            await tokens.save_authorization(
                session,
                code=code,
                client=client.row,
                consent=consent,
                redirect_uri=grant.redirect_uri,
                code_challenge=oauth.payload.data["code_challenge"],
                code_ttl=timedelta(seconds=platform.settings.oauth_code_ttl_seconds),
            )
        await session.commit()
    await run_after_commit(session)
    response.headers.update(NO_STORE)
    return response


async def token(request: Request) -> Response:
    """RFC 6749 §3.2: authorization_code (PKCE), refresh_token (rotating), client_credentials."""
    platform: Platform = request.app.state.platform
    oauth = await parse(request, platform.settings)
    server = oauth_server(platform)
    exchange = await tokens.load_exchange(platform.db, oauth)
    CURRENT.set(exchange)
    response: Response = server.create_token_response(oauth)
    if response.status_code == 200:
        won = await tokens.persist_exchange(token_writer(platform), exchange)
        if not won and exchange.replayed_family:
            async with platform.db.transaction() as session:
                await tokens.revoke_family(
                    session, exchange.replayed_family, "refresh token reused"
                )
        if not won:
            return oauth_error(400, "invalid_grant", "the code or refresh token was already used")
    elif exchange.replayed_family:
        async with platform.db.transaction() as session:
            await tokens.revoke_family(
                session, exchange.replayed_family, "code or refresh token reused"
            )
    response.headers.update(NO_STORE)
    return response


async def introspect(request: Request) -> Response:
    """RFC 7662 for registered data APIs (HTTP Basic); records the access when a citizen token is active."""
    platform: Platform = request.app.state.platform
    credentials = tokens.basic_credentials(request.headers.get("authorization"))
    checker = introspector(platform)
    caller = await checker.authenticate(*credentials) if credentials is not None else None
    if caller is None:
        return oauth_error(
            401,
            "invalid_client",
            "authenticate as a registered data API with HTTP Basic",
            {"WWW-Authenticate": 'Basic realm="govstore"'},
        )
    form = dict(await form_pairs(request))
    token_value = form.get("token")
    case_reference = form.get("case_reference")
    if not isinstance(token_value, str) or not token_value:
        return oauth_error(
            400, "invalid_request", "send the token to introspect in the 'token' field"
        )
    if case_reference is not None and (
        not isinstance(case_reference, str) or len(case_reference) > 200
    ):
        return oauth_error(
            400, "invalid_request", "case_reference is text of at most 200 characters"
        )
    try:
        answer = await checker.introspect(caller, token_value, case_reference or None)
    except Exception:
        logger.exception("introspection failed")
        return oauth_error(
            503,
            "temporarily_unavailable",
            "the access could not be recorded; retry",
            {"Retry-After": "1"},
        )
    # pydantic-core writes the answer (several times faster than the json module).
    return Response(to_json(answer), media_type="application/json", headers=NO_STORE)


async def revoke(request: Request) -> Response:
    """RFC 7009: a service revokes its own access or refresh token."""
    platform: Platform = request.app.state.platform
    oauth = await parse(request, platform.settings)
    client_id = tokens.client_id_of(oauth)
    client = await tokens.load_client(platform.db, client_id) if client_id else None
    basic = tokens.basic_credentials(request.headers.get("authorization"))
    secret = basic[1] if basic else oauth.form.get("client_secret", "")
    if client is None or not client.check_client_secret(secret):
        return oauth_error(
            401,
            "invalid_client",
            "authenticate with the service's client id and secret",
            {"WWW-Authenticate": 'Basic realm="govstore"'},
        )
    value = oauth.form.get("token")
    if not value:
        return oauth_error(400, "invalid_request", "send the token to revoke in the 'token' field")
    hint = oauth.form.get("token_type_hint")
    if hint not in (None, "access_token", "refresh_token"):
        return oauth_error(
            400, "unsupported_token_type", "token_type_hint is access_token or refresh_token"
        )
    async with platform.db.transaction() as session:
        await rfc7009.revoke(session, client.row.client_id, value, hint)
    return Response(status_code=200, headers=NO_STORE)


def metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "jwks_uri": f"{base_url}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": f"{base_url}/docs",
    }


def _guarded(handler: Any, path: str) -> Any:
    metrics = RouteMetrics(path)

    async def answer(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > platform.settings.max_body_bytes:
            return oauth_error(413, "invalid_request", "the request body is too large")
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except OAuth2Error as exc:
            status, body, headers = exc(None)
            return JSONResponse(
                dict(body), status_code=status, headers={**NO_STORE, **dict(headers)}
            )
        except MalformedForm as exc:
            return oauth_error(400, "invalid_request", str(exc))
        except ClientDisconnect:
            return client_gone()
        except errors.DomainError as exc:
            from marketplace.problems import from_domain_error

            return from_domain_error(exc)

    async def run(request: Request) -> Response:
        started = time.perf_counter()
        status = 500  # unless an answer comes back: the error handler will answer 500
        try:
            response = await answer(request)
            status = response.status_code
            return response
        finally:
            metrics.record(request.method, status, time.perf_counter() - started)

    run.__name__ = handler.__name__
    return run


def _route(path: str, handler: Any, methods: list[str]) -> Route:
    return Route(path, _guarded(handler, path), methods=methods, include_in_schema=False)


def oauth_routes() -> list[Route]:
    return [
        _route("/oauth/authorize", authorize, ["GET", "POST"]),
        _route("/oauth/token", token, ["POST"]),
        _route("/oauth/introspect", introspect, ["POST"]),
        _route("/oauth/revoke", revoke, ["POST"]),
    ]


def build_server(platform: Platform) -> Server:
    return create_server(Server(platform.settings))

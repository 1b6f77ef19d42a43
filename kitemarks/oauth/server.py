"""The thin Starlette adaptor over authlib's framework-free OAuth 2 core (authlib ships none).

authlib's grant logic is synchronous; our database is asynchronous. So each request runs in three
steps: load (async) everything the grant may ask for into an `Exchange`, run authlib (sync) against
that in-memory snapshot, then persist (async) what authlib decided. The `Exchange` of the running
request is found through a context variable, so one server object serves concurrent requests.
"""

from __future__ import annotations

import contextvars
import hmac
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from starlette.requests import Request
from starlette.responses import Response

from kitemarks.models import ConsentStatus
from marketplace.auth import hash_token, new_token
from marketplace.db import utcnow
from marketplace.settings import Settings

ACCESS_PREFIX = "gsa_"
REFRESH_PREFIX = "gsr_"


# What the OAuth hot paths read, as plain rows (named tuples, the cheapest to build): building
# ORM instances per request cost more than the queries (SQLModel's constructor was 15% of a
# token request).


class ClientRow(NamedTuple):
    client_id: str
    service_id: str
    release_id: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]


class CodeRow(NamedTuple):
    code_hash: str
    client_id: str
    consent_id: str
    account_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str
    code_challenge_method: str
    expires_at: datetime
    used_at: datetime | None
    family_id: str | None


class ConsentRow(NamedTuple):
    id: str
    account_id: str
    service_id: str
    scopes: list[str]
    status: ConsentStatus
    expires_at: datetime


class RefreshRow(NamedTuple):
    id: str
    family_id: str
    client_id: str
    service_id: str
    consent_id: str | None
    account_id: str | None
    scopes: list[str]
    refresh_expires_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None


class Payload(OAuth2Payload):  # type: ignore[misc]
    """Parameters of one request (the query for GET, the form for POST), repeated ones kept."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class StarletteRequest(OAuth2Request):  # type: ignore[misc]
    """An authlib request built from a parsed Starlette request."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        args: list[tuple[str, str]],
        form: list[tuple[str, str]],
        *,
        payload_from_query: bool = False,
    ) -> None:
        # OAuth2Request.__init__ minus its transport check (which reads the environment on every
        # request): `parse` builds the URI from the issuer, https unless the server is loopback.
        self.method = method
        self.uri = uri
        self.headers = headers
        self._body = None
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self._args = dict(args)
        self._form = dict(form)
        self.payload = Payload(form if method == "POST" and not payload_from_query else args)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """An OAuth client as authlib sees it: the row, plus whether its service may get tokens now."""

    row: ClientRow
    published: bool

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        # Only scopes the service holds; a request for others is narrowed (RFC 6749 §3.3).
        if not scope:
            return " ".join(self.row.scopes)
        return " ".join(s for s in scope.split() if s in self.row.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exactly as in the approved manifest: no prefix or pattern matching.
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.secret_hash
        return stored is not None and hmac.compare_digest(stored, hash_token(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in {"authorization_code", "refresh_token", "client_credentials"}


@dataclass
class Code:
    """An authorization code as authlib sees it (its scope already narrowed to what is still granted)."""

    row: CodeRow
    scope: str

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    # RFC 7636's extension reads these two attributes.
    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


@dataclass
class RefreshCredential:
    """A refresh token as authlib sees it."""

    row: RefreshRow
    scope: str

    def check_client(self, client: Client) -> bool:
        return client.row.client_id == self.row.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        if self.row.refresh_expires_at is None:
            return 0
        return max(0, int((self.row.refresh_expires_at - utcnow()).total_seconds()))

    def is_expired(self) -> bool:
        return self.row.refresh_expires_at is None or self.row.refresh_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.rotated_at is not None


@dataclass
class Citizen:
    """The resource owner behind a code or refresh token."""

    account_id: str
    consent_id: str


@dataclass
class IssuedToken:
    """A token authlib generated, with the secrets still in the clear (they leave only in the response)."""

    access_token: str
    refresh_token: str | None
    scopes: list[str]
    expires_at: datetime
    refresh_expires_at: datetime | None
    citizen: Citizen | None


@dataclass
class Exchange:
    """One token or authorization request: what authlib may ask for, and what it decided."""

    clients: dict[str, Client] = field(default_factory=dict)
    code: Code | None = None
    refresh: RefreshCredential | None = None
    consent: ConsentRow | None = None
    # Outcomes, persisted after authlib returns.
    issued: list[IssuedToken] = field(default_factory=list)
    saved_code: tuple[str, Any] | None = None
    code_used: bool = False
    rotated: bool = False
    # A replayed code or a reused refresh token: the family of tokens it produced is revoked.
    replayed_family: str | None = None


CURRENT: contextvars.ContextVar[Exchange] = contextvars.ContextVar("oauth_exchange")


def scope_list(scope: str | None) -> list[str]:
    return sorted({s for s in (scope or "").split() if s})


class Server(AuthorizationServer):  # type: ignore[misc]
    """authlib's AuthorizationServer over the current `Exchange`."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.register_token_generator("default", self._generate_token)

    @property
    def exchange(self) -> Exchange:
        return CURRENT.get()

    def query_client(self, client_id: str) -> Client | None:
        client = self.exchange.clients.get(client_id)
        if client is None or not client.published:
            return None
        return client

    def _generate_token(
        self,
        grant_type: str,
        client: Client,
        user: Citizen | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        now = utcnow()
        ttl = self.settings.oauth_access_token_ttl_seconds
        if user is not None:
            # A citizen token never outlives the consent it comes from.
            consent = self.exchange.consent
            assert consent is not None
            ttl = max(1, min(ttl, int((consent.expires_at - now).total_seconds())))
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": new_token(ACCESS_PREFIX),
            "expires_in": ttl,
            "scope": " ".join(scope_list(scope)),
        }
        refresh_expires_at = None
        if include_refresh_token and user is not None:
            token["refresh_token"] = new_token(REFRESH_PREFIX)
            consent = self.exchange.consent
            assert consent is not None
            refresh_expires_at = min(
                now + timedelta(days=self.settings.oauth_refresh_token_ttl_days),
                consent.expires_at,
            )
        self.exchange.issued.append(
            IssuedToken(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                scopes=scope_list(scope),
                expires_at=now + timedelta(seconds=ttl),
                refresh_expires_at=refresh_expires_at,
                citizen=user,
            )
        )
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Persisted after authlib returns (see kitemarks/oauth/tokens.py); nothing to do here.
        return None

    def create_oauth2_request(self, request: StarletteRequest) -> StarletteRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return Response(
                json.dumps(body),
                status_code=status,
                headers=dict(headers),
                media_type="application/json",
            )
        return Response(body or b"", status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class MalformedForm(ValueError):
    """The body is not an application/x-www-form-urlencoded form (RFC 6749 §3.2)."""


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """The urlencoded form of a POST, parsed directly (the multipart machinery is not needed)."""
    body = await request.body()
    if not body:
        return []
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise MalformedForm("send the parameters as application/x-www-form-urlencoded")
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise MalformedForm("the form is not valid UTF-8 urlencoded text") from None


async def parse(
    request: Request, settings: Settings, *, payload_from_query: bool = False
) -> StarletteRequest:
    """The authlib view of a Starlette request; the URI is our public one (the issuer's scheme)."""
    form: list[tuple[str, str]] = []
    if request.method == "POST" and not payload_from_query:
        form = await form_pairs(request)
    base = urlsplit(settings.base_url)
    if base.scheme != "https" and not settings.base_url_is_loopback:
        raise InsecureTransportError()
    # authlib insists on https; a loopback development server is the one allowed exception.
    uri = f"https://{base.netloc}{request.scope['path']}"
    query = request.scope.get("query_string", b"")
    if query:
        uri += f"?{query.decode('latin-1')}"
    # A plain dict: Starlette's case-insensitive headers scan the list on every lookup, and
    # authlib asks for "Authorization" by that spelling.
    headers = dict(request.headers)
    if "authorization" in headers:
        headers["Authorization"] = headers["authorization"]
    return StarletteRequest(
        request.method,
        uri,
        headers,
        parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else [],
        form,
        payload_from_query=payload_from_query,
    )

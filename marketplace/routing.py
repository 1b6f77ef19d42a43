"""Typed routes: parse a request into models, authenticate, run one unit of work, serialise.

Every JSON endpoint is declared through a `Router`; the declarations are also the source of
the OpenAPI document (openapi.py), so the contract cannot drift from the code.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any

from prometheus_client import Counter, Histogram
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from marketplace import errors
from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal, bearer_token, cached_authenticate, hash_token
from marketplace.db import discard_after_commit, run_after_commit, utcnow
from marketplace.problems import client_gone, from_domain_error, internal_error

if typing.TYPE_CHECKING:
    from marketplace.platform import Platform

logger = logging.getLogger("govstore.http")

REQUESTS = Counter("govstore_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "govstore_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)


class RouteMetrics:
    """The request count and latency of one route, with the metrics' children looked up once per
    method and status (a lookup takes a lock on every request)."""

    def __init__(self, route: str) -> None:
        self.route = route
        self._latency: dict[str, Any] = {}
        self._counts: dict[tuple[str, int], Any] = {}

    def record(self, method: str, status: int, seconds: float) -> None:
        latency = self._latency.get(method)
        if latency is None:
            latency = self._latency[method] = LATENCY.labels(method, self.route)
        latency.observe(seconds)
        counter = self._counts.get((method, status))
        if counter is None:
            counter = self._counts[(method, status)] = REQUESTS.labels(
                method, self.route, str(status)
            )
        counter.inc()


Handler = Callable[..., Awaitable[Any]]
_INJECTED = {"request", "session", "principal", "body", "query", "platform"}


class Input(BaseModel):
    """Base of request models: an unknown field is an error (422 at its pointer), not ignored."""

    model_config = ConfigDict(extra="forbid")


def _iso_8601(value: object) -> object:
    """Only an ISO 8601 text is a time here; pydantic would also read `0.5` as a Unix time."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("give an ISO 8601 date and time, like 2026-01-31T09:00:00Z") from None
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
"""A time in a request: ISO 8601 text with a time zone (Z or +00:00)."""


class Output(BaseModel):
    """Base of response models: fields with defaults are still always sent, so mark them required."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Auth:
    PUBLIC = "public"  # no authentication; an Authorization header is ignored
    OPTIONAL = "optional"  # a valid token identifies the caller; none is fine
    REQUIRED = "required"  # 401 without a valid bearer token


@dataclass
class Operation:
    """One HTTP operation: what it accepts, who may call it, what it returns."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status_code: int
    auth: str
    token_scope: TokenScope | None
    creates: bool
    cacheable: bool = False
    body_model: type[BaseModel] | None = None
    body_required: bool = True
    query_model: type[BaseModel] | None = None
    response_model: Any = None
    errors: tuple[int, ...] = ()
    extra_responses: dict[int, str] = field(default_factory=dict)
    response_headers: dict[int, dict[str, str]] = field(default_factory=dict)
    # A raw operation gets no session: its handler (request, platform, principal, query) reads
    # through the driver (hot paths: the catalogue search, the access log). Its caller is
    # authenticated from the verified-token cache, or with one read when not in it.
    raw: bool = False

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.handler.__doc__ or "")

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


def _pointer(loc: tuple[int | str, ...]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "".join("/" + p for p in parts)


def field_errors_from(
    exc: ValidationError, *, prefix: tuple[int | str, ...] = ()
) -> list[errors.FieldError]:
    seen: set[tuple[str, str]] = set()
    out: list[errors.FieldError] = []
    for item in exc.errors(include_url=False, include_input=False):
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "is not allowed"
        elif item["type"] == "missing":
            message = "is required"
        key = (_pointer(prefix + loc), message)
        if key not in seen:
            seen.add(key)
            out.append(errors.FieldError(pointer=key[0], detail=message))
    return out


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise errors.PayloadTooLarge(f"the body may be at most {limit} bytes")
        except ValueError:
            raise errors.MalformedRequest("Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLarge(f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def parse_json_body(
    request: Request, model: type[BaseModel], limit: int, *, required: bool = True
) -> BaseModel | None:
    raw = await read_body(request, limit)
    if not required and not raw.strip():
        return None
    if not is_json_media_type(request.headers.get("content-type", "")):
        raise errors.UnsupportedMediaType("send the body as application/json")
    if not raw.strip():
        raise errors.MalformedRequest("the request body is empty; send a JSON object")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.MalformedRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise errors.ValidationFailed(
            [errors.FieldError(pointer="", detail="must be a JSON object")]
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise errors.ValidationFailed(field_errors_from(exc)) from None


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        annotation = model.model_fields.get(key)
        is_list = annotation is not None and typing.get_origin(annotation.annotation) is list
        params[key] = values if is_list else values[-1]
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise errors.MalformedRequest(
            "invalid query parameters",
            [
                errors.FieldError(pointer="", detail=e.detail, parameter=e.pointer.lstrip("/"))
                for e in field_errors_from(exc)
            ],
        ) from None


class Router:
    """Collects operations for one area of the API (one OpenAPI tag)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        status_code: int = 200,
        auth: str = Auth.REQUIRED,
        scope: TokenScope | None = None,
        creates: bool = False,
        cacheable: bool = False,
        errors: tuple[int, ...] = (),
        extra_responses: Mapping[int, str] | None = None,
        response_headers: Mapping[int, dict[str, str]] | None = None,
        raw: bool = False,
        response: Any = None,
    ) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            hints = typing.get_type_hints(handler)
            body_model = hints.get("body")
            body_required = True
            if typing.get_origin(body_model) in (typing.Union, types.UnionType):
                members = [a for a in typing.get_args(body_model) if a is not type(None)]
                body_model, body_required = members[0], False
            query_model = hints.get("query")
            response_model = response if response is not None else hints.get("return")
            if response_model is type(None):
                response_model = None
            if auth != Auth.PUBLIC and scope is None and method != "GET":
                raise TypeError(f"{handler.__name__}: write operations must name a token scope")
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=self.tag,
                    status_code=status_code,
                    auth=auth,
                    token_scope=scope
                    if scope is not None or auth == Auth.PUBLIC
                    else TokenScope.READ,
                    creates=creates,
                    cacheable=cacheable,
                    body_model=body_model,
                    body_required=body_required,
                    query_model=query_model,
                    response_model=response_model,
                    errors=errors,
                    extra_responses=dict(extra_responses or {}),
                    response_headers=dict(response_headers or {}),
                    raw=raw,
                )
            )
            return handler

        return decorator

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kwargs)


def serialise(op: Operation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204 if op.status_code in (200, 204) else op.status_code)
    if isinstance(result, BaseModel):
        payload = result.model_dump_json(by_alias=True)
    else:
        payload = json.dumps(result, ensure_ascii=False, default=str)
    return Response(payload, status_code=op.status_code, media_type="application/json")


async def _principal_for(
    request: Request, session: AsyncSession, op: Operation, platform: Platform
) -> Principal | None:
    if op.auth == Auth.PUBLIC:
        return None
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        if op.auth == Auth.REQUIRED:
            raise errors.Unauthenticated("sign in and send 'Authorization: Bearer <token>'")
        return None
    principal = await cached_authenticate(session, token, platform.principals)
    if op.token_scope is not None:
        principal.require_scope(op.token_scope)
    return principal


def _remembered_principal(request: Request, op: Operation, platform: Platform) -> Principal | None:
    """The caller, when its token was verified lately and is still good for this operation."""
    header = request.headers.get("authorization")
    if header is None or header[:7].lower() != "bearer ":
        return None
    principal: Principal | None = platform.principals.get(hash_token(header[7:].strip()))
    if principal is None or (principal.expires_at is not None and principal.expires_at <= utcnow()):
        return None
    if op.token_scope is not None and not principal.may_use(op.token_scope):
        return None
    return principal


def _cached_response(request: Request, op: Operation, platform: Platform) -> Response | None:
    """A cacheable GET answered from memory, without touching the database, when it can be."""
    principal: Principal | None = None
    if op.auth != Auth.PUBLIC:
        principal = _remembered_principal(request, op, platform)
        if principal is None:
            return None
    key = (op.operation_id, principal.account_id if principal else "", request.url.query)
    hit = platform.responses.get(key)
    if hit is None:
        return None
    return Response(hit[1], status_code=hit[0], media_type="application/json")


def endpoint(op: Operation) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for one operation."""
    from marketplace import idempotency  # import here: idempotency builds on routing's parsing

    params = inspect.signature(op.handler).parameters
    route_label = op.path

    async def run(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        settings = platform.settings
        db = platform.db
        principal: Principal | None = None
        body_bytes: bytes | None = None
        key: str | None = None
        if op.cacheable:
            cached = _cached_response(request, op, platform)
            if cached is not None:
                return cached
        async with db.session(write=op.is_write) as session:
            try:
                principal = await _principal_for(request, session, op, platform)
                cache_key = None
                if op.cacheable:
                    cache_key = (
                        op.operation_id,
                        principal.account_id if principal else "",
                        request.url.query,
                    )
                kwargs: dict[str, Any] = {}
                if "request" in params:
                    kwargs["request"] = request
                if "session" in params:
                    kwargs["session"] = session
                if "platform" in params:
                    kwargs["platform"] = request.app.state.platform
                if "principal" in params:
                    kwargs["principal"] = principal
                if op.query_model is not None:
                    kwargs["query"] = parse_query(request, op.query_model)
                if op.body_model is not None:
                    kwargs["body"] = await parse_json_body(
                        request,
                        op.body_model,
                        settings.max_body_bytes,
                        required=op.body_required,
                    )
                    body_bytes = json.dumps(
                        kwargs["body"].model_dump(mode="json") if kwargs["body"] else None,
                        sort_keys=True,
                    ).encode()
                for name in params:
                    if name not in _INJECTED:
                        kwargs[name] = request.path_params[name]
                replay = None
                if op.creates:
                    key = idempotency.key_from(request)
                    if key is not None:
                        replay = await idempotency.lookup(
                            session, platform.sealer, key, principal, request, body_bytes or b""
                        )
                if replay is not None:
                    response = replay
                else:
                    response = serialise(op, await op.handler(**kwargs))
                    if key is not None and 200 <= response.status_code < 300:
                        await idempotency.store(
                            session,
                            platform.sealer,
                            key,
                            principal,
                            request,
                            body_bytes or b"",
                            response,
                            ttl_hours=settings.idempotency_ttl_hours,
                        )
                if cache_key is not None and response.status_code == 200:
                    platform.responses.set(cache_key, (200, bytes(response.body)))
                if op.is_write:
                    await session.commit()
            except errors.DomainError as exc:
                discard_after_commit(session)
                await session.rollback()
                return from_domain_error(exc)
            except Exception as exc:
                discard_after_commit(session)
                await session.rollback()
                if key is not None and idempotency.is_duplicate_key(exc):
                    return await idempotency.replay_after_race(
                        db, platform.sealer, key, principal, request, body_bytes or b""
                    )
                if isinstance(exc, IntegrityError):
                    # A constraint caught a race the service's own checks could not see.
                    logger.info("integrity conflict in %s %s", op.method, route_label)
                    return from_domain_error(
                        errors.Conflict("the request conflicts with a concurrent change; retry")
                    )
                raise
        await run_after_commit(session)
        return response

    async def run_raw(request: Request) -> Response:
        kwargs: dict[str, Any] = {}
        platform: Platform = request.app.state.platform
        if "request" in params:
            kwargs["request"] = request
        if "platform" in params:
            kwargs["platform"] = platform
        try:
            if op.auth != Auth.PUBLIC:
                # A verified token is in memory (no session is opened); otherwise one read.
                principal = _remembered_principal(request, op, platform)
                if principal is None:
                    async with platform.db.session(write=False) as session:
                        principal = await _principal_for(request, session, op, platform)
                if "principal" in params:
                    kwargs["principal"] = principal
            if op.query_model is not None:
                kwargs["query"] = parse_query(request, op.query_model)
            for name in params:
                if name not in _INJECTED:
                    kwargs[name] = request.path_params[name]
            return serialise(op, await op.handler(**kwargs))
        except errors.DomainError as exc:
            return from_domain_error(exc)

    runner = run_raw if op.raw else run
    metrics = RouteMetrics(route_label)

    async def handle(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await runner(request)
        except ClientDisconnect:
            response = client_gone()
        except Exception:
            logger.exception("unhandled error in %s %s", op.method, route_label)
            response = internal_error()
        metrics.record(op.method, response.status_code, time.perf_counter() - started)
        return response

    handle.__name__ = op.operation_id
    return handle


def starlette_routes(operations: list[Operation]) -> list[Route]:
    """One Starlette route per path, dispatching on method, so a 405 carries the full Allow list."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for op in operations:
        handlers = by_path.setdefault(op.path, {})
        if op.method in handlers:
            raise ValueError(f"{op.method} {op.path} is declared twice")
        handlers[op.method] = endpoint(op)
    routes = []
    # Literal segments win over parameters: /v1/guidelines/current before /v1/guidelines/{version}.
    for path, handlers in sorted(by_path.items(), key=lambda item: item[0].count("{")):

        async def dispatch(
            request: Request,
            handlers: dict[str, Callable[[Request], Awaitable[Response]]] = handlers,
        ) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            return await handlers[method](request)

        routes.append(Route(path, dispatch, methods=list(handlers)))
    return routes


def status_phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Response"

"""The one place where errors become RFC 9457 problem documents (application/problem+json)."""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from marketplace import errors

logger = logging.getLogger("govstore.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://govstore.example/problems/"

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.MalformedRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.ValidationFailed: 422,
    errors.IdempotencyKeyReused: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

_TITLES = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Invalid content"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


class ProblemFieldError(BaseModel):
    pointer: str = Field(description="JSON pointer into the request body ('' for the whole body)")
    detail: str
    parameter: str | None = Field(default=None, description="query parameter, for 400s")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable machine-readable error code")
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def problem_response(
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    field_errors: list[errors.FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, default_title = _TITLES.get(status, ("error", "Request failed"))
    code = code or default_code
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title or default_title,
        "status": status,
        "detail": detail or title or default_title,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if field_errors is not None:
        body["errors"] = [
            {"pointer": e.pointer, "detail": e.detail}
            | ({"parameter": e.parameter} if e.parameter else {})
            for e in field_errors
        ]
    if extra:
        body.update(extra)
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def from_domain_error(error: errors.DomainError, instance: str | None = None) -> Response:
    status = status_for(error)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    field_errors: list[errors.FieldError] | None = None
    if isinstance(error, errors.ValidationFailed):
        field_errors = error.errors
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.Unavailable):
        headers["Retry-After"] = "1"
    if isinstance(error, errors.InvalidTransition):
        extra["current_status"] = error.current
    if isinstance(error, errors.MalformedRequest) and error.errors:
        field_errors = error.errors
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="govstore"'
    return problem_response(
        status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        instance=instance,
        field_errors=field_errors,
        extra=extra,
        headers=headers or None,
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404:
        detail = f"nothing at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(exc.status_code, detail=detail, headers=headers or None)


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    return from_domain_error(exc)


# nginx's "client closed request": the client went away before its request was read in full.
# Nothing reaches it; the status exists for the metrics and the access log.
CLIENT_CLOSED_REQUEST = 499


def client_gone() -> Response:
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def client_disconnect_handler(request: Request, exc: Exception) -> Response:
    """A client that hung up mid-request (Starlette's `ClientDisconnect`) is not a server error."""
    return client_gone()


def internal_error() -> Response:
    return problem_response(500, detail="Something went wrong on our side; it has been logged.")

"""The SDK's exceptions, and parsing RFC 9457 problem documents into them.

The tree::

    GovStoreError
    ├── APIConnectionError           the server could not be reached, or the connection broke
    ├── APITimeoutError              no answer within the timeout
    ├── WaitTimeoutError             `releases.wait` gave up (also a `TimeoutError`)
    ├── WebhookVerificationError     `verify_webhook`: a bad, missing or expired signature
    ├── CredentialError              `verify_kitemark`: a bad signature, unknown key, expired
    ├── ProofError                   `verify_inclusion`, `verify_consistency`, `verify_tree_head`
    ├── OAuthError                   the OAuth endpoints refused: `error`, `error_description`
    └── APIStatusError               the server answered 4xx or 5xx (a problem document)
        ├── BadRequestError          400 malformed request
        ├── AuthenticationError      401 no or bad credentials
        ├── PermissionDeniedError    403 not allowed
        ├── NotFoundError            404 not found, or not visible to the caller
        ├── ConflictError            409 illegal state transition or conflict
        ├── PreconditionFailedError  412
        ├── PayloadTooLargeError     413
        ├── UnsupportedMediaTypeError 415
        ├── UnprocessableEntityError 422 invalid content; `errors` holds every field's pointer
        ├── RateLimitError           429; `retry_after` seconds, when the server said
        └── ServerError              5xx
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._models import ReleaseDetail

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CredentialError",
    "FieldError",
    "GovStoreError",
    "NotFoundError",
    "OAuthError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "ProofError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "WaitTimeoutError",
    "WebhookVerificationError",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a JSON pointer (RFC 6901) into the request body and what is wrong.

    For a bad query parameter (a 400) `parameter` names it, and `pointer` is empty.
    """

    pointer: str
    detail: str
    parameter: str | None = None


class GovStoreError(Exception):
    """Base of every error the SDK raises."""


class APIConnectionError(GovStoreError):
    """The request never got an HTTP answer: refused, reset, DNS failure and the like."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(GovStoreError):
    """The server did not answer within the client's timeout."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class WaitTimeoutError(GovStoreError, TimeoutError):
    """`releases.wait` timed out before the release reached one of the statuses waited for.

    Also a built-in `TimeoutError`. `release` is the release as last fetched (its
    `status` is where it stands), `until` the statuses waited for, `timeout` the seconds.
    """

    def __init__(
        self, message: str, *, release: ReleaseDetail, until: Collection[str], timeout: float
    ) -> None:
        super().__init__(message)
        self.release = release
        self.until = frozenset(until)
        self.timeout = timeout


class WebhookVerificationError(GovStoreError):
    """`verify_webhook` refused a delivery: do not act on it, answer it with a 400.

    The signature was missing, malformed, made with another secret or over another
    body, or too old (a replay); or the signed body was not a GovStore event.
    """


class CredentialError(GovStoreError):
    """`verify_kitemark` refused a credential: do not trust what it claims.

    It was malformed, not a kitemark credential, signed by a key the JWKS does not
    hold, signed over other claims, not yet valid or expired, or from another issuer.
    """


class ProofError(GovStoreError):
    """A transparency log check failed: do not trust the entry, the proof or the tree head.

    An inclusion proof that does not lead from the entry to the root, a consistency
    proof that does not join two tree heads (the log was rewritten, or a root is
    wrong), or a tree head whose signature does not verify against the JWKS.
    """


class OAuthError(GovStoreError):
    """An OAuth endpoint (token, introspection, revocation) refused the request (RFC 6749 §5.2).

    `error` is the OAuth error code, such as `invalid_grant` or `invalid_client`;
    `error_description` the server's explanation, when it gave one; `status` the HTTP
    status (400, or 401 for bad client credentials). An answer that is not an OAuth
    error document is read as one: its `error` is `server_error` for a 5xx, else
    `invalid_request`.
    """

    error: str
    error_description: str | None
    error_uri: str | None
    status: int
    response: httpx.Response

    def __init__(self, response: httpx.Response) -> None:
        body = _read_problem(response)
        status = response.status_code
        self.response = response
        self.status = status
        fallback = "server_error" if status >= 500 else "invalid_request"
        self.error = _str_or(body.get("error"), fallback) or fallback
        self.error_description = _optional_str(body.get("error_description")) or _optional_str(
            body.get("detail") or body.get("title")
        )
        self.error_uri = _optional_str(body.get("error_uri"))
        message = f"{status} {self.error}"
        if self.error_description:
            message += f": {self.error_description}"
        super().__init__(message)


class APIStatusError(GovStoreError):
    """The server answered with an error status; the fields come from its problem document.

    `code` is the server's stable, machine-readable error code (such as
    `validation-failed`), when it sent one: match on it rather than on `title`.
    `problem` is the whole document as sent (empty when the body was not JSON), so
    extension members the server adds are never lost.
    """

    status: int
    title: str
    detail: str | None
    type: str
    code: str | None
    errors: list[FieldError]
    problem: dict[str, Any]
    response: httpx.Response

    def __init__(self, response: httpx.Response, problem: dict[str, Any] | None = None) -> None:
        problem = dict(problem or {})
        self.response = response
        self.problem = problem
        self.status = _int_or(problem.get("status"), response.status_code)
        self.title = _str_or(problem.get("title"), response.reason_phrase or "HTTP error")
        self.detail = _optional_str(problem.get("detail"))
        self.type = _str_or(problem.get("type"), "about:blank")
        self.code = _optional_str(problem.get("code"))
        self.errors = _field_errors(problem.get("errors"))
        message = f"{self.status} {self.title}"
        if self.detail:
            message += f": {self.detail}"
        for error in self.errors:
            where = f"?{error.parameter}" if error.parameter else error.pointer or "/"
            message += f"\n  {where}: {error.detail}"
        super().__init__(message)


class BadRequestError(APIStatusError):
    """400: the request was malformed (unparseable JSON, wrong shape)."""


class AuthenticationError(APIStatusError):
    """401: no credentials, or credentials the server does not accept."""


class PermissionDeniedError(APIStatusError):
    """403: signed in, but not allowed to do this."""


class NotFoundError(APIStatusError):
    """404: not found, or it exists but the caller may not see it."""


class ConflictError(APIStatusError):
    """409: an illegal state transition, or a clash with something that exists."""


class PreconditionFailedError(APIStatusError):
    """412: a precondition (such as If-Match) did not hold."""


class PayloadTooLargeError(APIStatusError):
    """413: the request body is larger than the server accepts."""


class UnsupportedMediaTypeError(APIStatusError):
    """415: the request body's content type is not accepted."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but invalid content; `errors` points at every bad field."""


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` is how many seconds to wait, when known."""

    retry_after: float | None

    def __init__(self, response: httpx.Response, problem: dict[str, Any] | None = None) -> None:
        super().__init__(response, problem)
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


class ServerError(APIStatusError):
    """5xx: the server failed; the request may be worth retrying later."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_from_response(response: httpx.Response) -> APIStatusError:
    """The exception for an error response, its fields read from the problem document."""
    problem = _read_problem(response)
    code = response.status_code
    if code in _STATUS_ERRORS:
        error_class = _STATUS_ERRORS[code]
    elif code >= 500:
        error_class = ServerError
    else:
        error_class = APIStatusError
    return error_class(response, problem)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _read_problem(response: httpx.Response) -> dict[str, Any]:
    # Any JSON object is read, not only application/problem+json, so a proxy or an
    # older server answering plain JSON still yields a useful title and detail.
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        return body
    text = response.text.strip() if response.content else ""
    return {"detail": text[:500]} if text else {}


def _field_errors(raw: object) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    errors = []
    for item in raw:
        if isinstance(item, dict):
            parameter = item.get("parameter")
            errors.append(
                FieldError(
                    pointer=str(item.get("pointer", "")),
                    detail=str(item.get("detail", "")),
                    parameter=parameter if isinstance(parameter, str) else None,
                )
            )
    return errors


def _int_or(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str_or(value: object, default: str) -> str:
    return value if isinstance(value, str) else default


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None

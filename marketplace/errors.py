"""Domain errors: plain exceptions with a stable code, mapped to HTTP in one place (problems.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a JSON pointer (RFC 6901) into the request body and what is wrong."""

    pointer: str
    detail: str
    # Set for query-string problems, where a body pointer means nothing.
    parameter: str | None = None


class DomainError(Exception):
    """Base of every error a client can cause; `code` is stable and documented."""

    code = "error"
    title = "Request failed"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class MalformedRequest(DomainError):
    code = "malformed-request"
    title = "Malformed request"

    def __init__(self, detail: str | None = None, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class ValidationFailed(DomainError):
    code = "validation-failed"
    title = "Invalid content"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(detail or f"{count} field{'s' if count != 1 else ''} failed validation")


class IdempotencyKeyReused(DomainError):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "Illegal state transition"

    def __init__(self, current: str, target: str, detail: str | None = None) -> None:
        self.current = current
        self.target = target
        super().__init__(detail or f"cannot move from {current!r} to {target!r}")


class PreconditionFailed(DomainError):
    code = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(DomainError):
    code = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(DomainError):
    code = "unsupported-media-type"
    title = "Unsupported media type"


class Unavailable(DomainError):
    """Something the answer needs does not exist yet or cannot be reached; try again shortly."""

    code = "unavailable"
    title = "Service unavailable"


class RateLimited(DomainError):
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail or f"try again in {self.retry_after} seconds")

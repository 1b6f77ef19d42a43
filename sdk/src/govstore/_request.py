"""Request specs: what one API call sends and how its answer is read, free of any I/O.

Resources build specs; `Client` and `AsyncClient` execute them. This is what lets
one resource definition serve both clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

Params = Mapping[str, str | int]

# Methods a server must treat as idempotent (RFC 9110 §9.2.2); others are retried
# after a broken connection only when an Idempotency-Key makes a replay harmless.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class RequestSpec(Generic[T]):
    """One API call: method, path under the base URL, body, and how to parse the answer.

    `form` is a form-encoded body instead of `json` (the OAuth endpoints take one).
    `creates` marks a POST that creates something: it is sent with an
    Idempotency-Key, kept the same across retries, so a retry never creates twice.
    `on_success` runs with the parsed result (login uses it to keep the token).
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Params | None = None
    form: Mapping[str, str] | None = None
    creates: bool = False
    on_success: Callable[[T], None] | None = field(default=None, compare=False)

    @property
    def replay_safe(self) -> bool:
        """Whether sending this twice has the effect of sending it once."""
        return self.method in IDEMPOTENT_METHODS or self.creates


@dataclass(frozen=True, slots=True)
class PollSpec(Generic[T]):
    """One API call repeated until its result is `done`: every `interval` seconds, for at most
    `timeout` seconds; then `timed_out(last result)` is raised.

    The first call is made at once; the last no later than the deadline, so a result
    reached just in time is still seen.
    """

    request: RequestSpec[T]
    done: Callable[[T], bool]
    timeout: float
    interval: float
    timed_out: Callable[[T], Exception] = field(compare=False)

    def __post_init__(self) -> None:
        if self.timeout < 0:
            raise ValueError("timeout cannot be negative")
        if self.interval <= 0:
            raise ValueError("the poll interval must be positive")

    def delay(self, started: float, now: float) -> float | None:
        """Seconds to wait before calling again, or None when time is up (monotonic clock)."""
        remaining = started + self.timeout - now
        if remaining <= 0:
            return None
        return min(self.interval, remaining)


def path(template: str, *segments: str) -> str:
    """Fill `{}` placeholders with URL-escaped segments, so an id can never change the path."""
    return template.format(*(quote(segment, safe="") for segment in segments))


def parse_model(model: type[ModelT]) -> Callable[[httpx.Response], ModelT]:
    """A parser that validates the JSON body as `model`."""

    def parse(response: httpx.Response) -> ModelT:
        return model.model_validate_json(response.content)

    return parse


def parse_json_object(response: httpx.Response) -> dict[str, Any]:
    """A parser for answers with no model of their own, such as a JSON Schema."""
    return _JSON_OBJECT.validate_json(response.content)


def parse_nothing(response: httpx.Response) -> None:
    """A parser for answers whose body, if any, carries nothing the caller needs."""
    return None


_JSON_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def without_none(**fields: Any) -> dict[str, Any]:
    """A JSON body without the optional fields the caller left out."""
    return {name: value for name, value in fields.items() if value is not None}

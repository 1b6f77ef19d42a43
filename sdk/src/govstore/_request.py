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

    `creates` marks a POST that creates something: it is sent with an
    Idempotency-Key, kept the same across retries, so a retry never creates twice.
    `on_success` runs with the parsed result (login uses it to keep the token).
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Params | None = None
    creates: bool = False
    on_success: Callable[[T], None] | None = field(default=None, compare=False)

    @property
    def replay_safe(self) -> bool:
        """Whether sending this twice has the effect of sending it once."""
        return self.method in IDEMPOTENT_METHODS or self.creates


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

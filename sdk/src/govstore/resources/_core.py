"""One resource definition for both clients: methods build specs, the client runs them.

A resource method is written once, decorated with `endpoint` (one call),
`paginated` (a list) or `polling` (one call repeated until its result is done, such
as `releases.wait`), and returns a spec. Reached through a `Client` it sends the
request and returns the result; through an `AsyncClient` it is a coroutine
function. The resource's mode parameter (`Resource[SyncMode]` or
`Resource[AsyncMode]`) tells the type checker which, so both surfaces are fully
typed from one source.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, final, overload

from pydantic import BaseModel

from .._base_client import AsyncAPIClient, BaseClient, SyncAPIClient
from .._pagination import AsyncPager, PageSpec, SyncPager
from .._request import PollSpec, RequestSpec

P = ParamSpec("P")
T = TypeVar("T")
ItemT = TypeVar("ItemT", bound=BaseModel)


@final
class SyncMode:
    """Marks a resource reached through `Client`: methods return results."""


@final
class AsyncMode:
    """Marks a resource reached through `AsyncClient`: methods return coroutines."""


M = TypeVar("M", SyncMode, AsyncMode)


class Resource(Generic[M]):
    """A group of related API calls, bound to the client that executes them."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client


class endpoint(Generic[P, T]):
    """Turns a spec-building method into an API call on either client."""

    def __init__(self, build: Callable[Concatenate[Any, P], RequestSpec[T]]) -> None:
        self._build = build
        self._signature = _public_signature(build)
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: Resource[SyncMode], owner: type[Any] | None = None
    ) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, obj: Resource[AsyncMode], owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return _bind(obj, self._build.__get__(obj, owner), self._signature, "execute")


class polling(Generic[P, T]):
    """Turns a poll-spec-building method into a call that repeats until done, on either client.

    Not an API operation of its own: it calls one (the spec's request) until its result
    is done. The sync client sleeps between calls; the async one awaits `asyncio.sleep`.
    """

    def __init__(self, build: Callable[Concatenate[Any, P], PollSpec[T]]) -> None:
        self._build = build
        self._signature = _public_signature(build)
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: Resource[SyncMode], owner: type[Any] | None = None
    ) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, obj: Resource[AsyncMode], owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return _bind(obj, self._build.__get__(obj, owner), self._signature, "poll")


class paginated(Generic[P, ItemT]):
    """Turns a list-spec-building method into a pager over every item, on either client."""

    def __init__(self, build: Callable[Concatenate[Any, P], PageSpec[ItemT]]) -> None:
        self._build = build
        self._signature = _public_signature(build)
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, obj: Resource[SyncMode], owner: type[Any] | None = None
    ) -> Callable[P, SyncPager[ItemT]]: ...
    @overload
    def __get__(
        self, obj: Resource[AsyncMode], owner: type[Any] | None = None
    ) -> Callable[P, AsyncPager[ItemT]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        build = self._build.__get__(obj, owner)
        client = obj._client
        if not isinstance(client, SyncAPIClient | AsyncAPIClient):
            raise TypeError(f"a resource needs a GovStore client, not {type(client).__name__}")

        def call(*args: Any, **kwargs: Any) -> Any:
            return client.paginate(build(*args, **kwargs))

        return _present_as(call, build, self._signature)


def _bind(
    resource: Resource[Any], build: Callable[..., Any], signature: inspect.Signature, run: str
) -> Callable[..., Any]:
    # The call builds the spec and hands it to the client's `run` method (`execute` or
    # `poll`): awaited on an AsyncAPIClient, called on a SyncAPIClient.
    client = resource._client
    if isinstance(client, AsyncAPIClient):
        run_async = getattr(client, run)

        async def call_async(*args: Any, **kwargs: Any) -> Any:
            return await run_async(build(*args, **kwargs))

        return _present_as(call_async, build, signature)
    if isinstance(client, SyncAPIClient):
        run_sync = getattr(client, run)

        def call(*args: Any, **kwargs: Any) -> Any:
            return run_sync(build(*args, **kwargs))

        return _present_as(call, build, signature)
    raise TypeError(f"a resource needs a GovStore client, not {type(client).__name__}")


def _public_signature(build: Callable[..., Any]) -> inspect.Signature:
    # What callers see: the builder's parameters without `self`, and no return
    # annotation, since the call returns the result (or a pager), not the spec.
    signature = inspect.signature(build)
    parameters = list(signature.parameters.values())[1:]
    return signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)


def _present_as(
    call: Callable[..., Any], build: Callable[..., Any], signature: inspect.Signature
) -> Callable[..., Any]:
    functools.update_wrapper(call, build)
    call.__signature__ = signature  # type: ignore[attr-defined]
    return call

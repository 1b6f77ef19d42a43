"""Cursor pagination: pages of `{"items": [...], "next_cursor": ...}`, followed for you.

`SyncPager` and `AsyncPager` iterate items across every page, fetching the next
page only when the previous one is used up; `pages()` yields whole pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from ._exceptions import GovStoreError
from ._request import Params, RequestSpec, parse_model

__all__ = ["AsyncPager", "Page", "SyncPager"]

ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; `next_cursor` is None on the last page."""

    model_config = ConfigDict(extra="allow")

    items: list[ItemT] = Field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageSpec(Generic[ItemT]):
    """A list endpoint: its path, item model, filters, page size and starting cursor."""

    path: str
    item: type[ItemT]
    params: Params | None = None
    limit: int | None = None
    cursor: str | None = None

    def page_request(self, cursor: str | None) -> RequestSpec[Page[ItemT]]:
        params: dict[str, str | int] = dict(self.params or {})
        if self.limit is not None:
            params["limit"] = self.limit
        if cursor is not None:
            params["cursor"] = cursor
        # `Page[self.item]` parametrises at run time; mypy cannot follow a variable there.
        page_model: type[Page[ItemT]] = cast(Any, Page)[self.item]
        return RequestSpec("GET", self.path, parse_model(page_model), params=params)


class SyncPager(Generic[ItemT]):
    """Iterates a list's items across every page, one request per page."""

    def __init__(
        self,
        fetch: Callable[[RequestSpec[Page[ItemT]]], Page[ItemT]],
        spec: PageSpec[ItemT],
    ) -> None:
        self._fetch = fetch
        self._spec = spec

    def pages(self) -> Iterator[Page[ItemT]]:
        cursor = self._spec.cursor
        while True:
            page = self._fetch(self._spec.page_request(cursor))
            yield page
            cursor = _next_cursor(cursor, page)
            if cursor is None:
                return

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from page.items


class AsyncPager(Generic[ItemT]):
    """Iterates a list's items across every page with `async for`, one request per page."""

    def __init__(
        self,
        fetch: Callable[[RequestSpec[Page[ItemT]]], Awaitable[Page[ItemT]]],
        spec: PageSpec[ItemT],
    ) -> None:
        self._fetch = fetch
        self._spec = spec

    async def pages(self) -> AsyncIterator[Page[ItemT]]:
        cursor = self._spec.cursor
        while True:
            page = await self._fetch(self._spec.page_request(cursor))
            yield page
            cursor = _next_cursor(cursor, page)
            if cursor is None:
                return

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.items:
                yield item


def _next_cursor(current: str | None, page: Page[ItemT]) -> str | None:
    # A server that hands back the cursor it was given would loop us forever.
    if page.next_cursor is not None and page.next_cursor == current:
        raise GovStoreError(f"the server returned the same cursor again: {current!r}")
    return page.next_cursor

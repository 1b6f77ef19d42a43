"""Sending request specs: configuration, headers, retries with back-off, error mapping.

`SyncAPIClient` and `AsyncAPIClient` execute the same `RequestSpec`s; everything
that does not wait on the network (configuration, request building, retry
decisions, reading answers) lives once, in `BaseClient` and `RetryPolicy`.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    GovStoreError,
    parse_retry_after,
    status_error_from_response,
)
from ._pagination import AsyncPager, PageSpec, SyncPager
from ._request import PollSpec, RequestSpec
from ._version import __version__

T = TypeVar("T")
ItemT = TypeVar("ItemT", bound=BaseModel)

BASE_URL_ENV = "GOVSTORE_BASE_URL"
TOKEN_ENV = "GOVSTORE_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"govstore-python/{__version__}"

# Tests replace these to retry (and poll) without waiting.
sleep = time.sleep
async_sleep = asyncio.sleep
monotonic = time.monotonic


@dataclass(frozen=True, slots=True)
class Remembered:
    """An answer kept for revalidation: its ETag, body and media type."""

    etag: str
    content: bytes
    content_type: str


class Revalidation:
    """Conditional GETs (RFC 9110 §13.1.2): the catalogue's answers carry an `ETag`; the client
    keeps the last `capacity` such answers (each at most `max_bytes`) and asks again with
    `If-None-Match`. A `304 Not Modified` is then answered from memory: the server sends no body
    and the caller gets the same result as before. Answers are kept per URL and credentials,
    and never when the server says `no-store`."""

    def __init__(self, capacity: int = 128, max_bytes: int = 1_048_576) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._answers: OrderedDict[tuple[str, str], Remembered] = OrderedDict()
        self.hits = 0  # answers given from memory after a 304

    @staticmethod
    def _key(request: httpx.Request) -> tuple[str, str] | None:
        if request.method != "GET":
            return None
        return str(request.url), request.headers.get("Authorization", "")

    def prepare(self, request: httpx.Request) -> Remembered | None:
        """Add `If-None-Match` when an answer to this request is remembered; returns it."""
        key = self._key(request)
        remembered = self._answers.get(key) if key is not None else None
        if remembered is not None:
            request.headers["If-None-Match"] = remembered.etag
        return remembered

    def settle(
        self, request: httpx.Request, response: httpx.Response, remembered: Remembered | None
    ) -> httpx.Response:
        """The answer to give the caller: the remembered one for a 304; remember a new one."""
        key = self._key(request)
        if key is None:
            return response
        if response.status_code == 304 and remembered is not None:
            self.hits += 1
            self._answers[key] = remembered
            self._answers.move_to_end(key)
            return httpx.Response(
                200,
                headers={"Content-Type": remembered.content_type, "ETag": remembered.etag},
                content=remembered.content,
                request=request,
            )
        etag = response.headers.get("ETag")
        keep = (
            response.status_code == 200
            and etag
            and "no-store" not in response.headers.get("Cache-Control", "")
            and len(response.content) <= self.max_bytes
        )
        if keep and etag:
            content_type = response.headers.get("Content-Type", "application/json")
            self._answers[key] = Remembered(etag, response.content, content_type)
            self._answers.move_to_end(key)
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
        return response


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to retry and how long to wait first; the decisions, not the waiting.

    429 and 503 are retried for every request: the server did not act on it.
    A broken connection is retried only when a replay is harmless (an idempotent
    method, or a POST carrying an Idempotency-Key) or nothing was sent at all.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # A server asking for a longer wait than this gets its error raised instead:
    # the caller, not a blocked SDK call, should decide to wait that long.
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 503})

    def delay_after_response(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying this answer, or None to keep it."""
        if attempt >= self.max_retries or response.status_code not in self.retry_statuses:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self.backoff(attempt)
        return retry_after if retry_after <= self.max_retry_after else None

    def delay_after_error(
        self, attempt: int, error: httpx.TransportError, *, replay_safe: bool
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt >= self.max_retries:
            return None
        nothing_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        retryable = isinstance(
            error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
        )
        if nothing_sent or (retryable and replay_safe):
            return self.backoff(attempt)
        return None

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with jitter, so many clients do not retry in step."""
        delay = min(self.max_delay, self.initial_delay * 2.0**attempt)
        return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


class BaseClient:
    """Configuration and request handling shared by the sync and async clients."""

    def __init__(
        self,
        *,
        base_url: str | None,
        token: str | None,
        max_retries: int,
        http_client_base_url: httpx.URL | None = None,
    ) -> None:
        if base_url is None and http_client_base_url is not None and str(http_client_base_url):
            base_url = str(http_client_base_url)
        self.base_url: str = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self.token: str | None = token or os.environ.get(TOKEN_ENV) or None
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.revalidation = Revalidation()

    def _headers(self, spec: RequestSpec[Any]) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if spec.creates:
            # One key per call, built before the first attempt: every retry of
            # this call carries it, so the server answers a replay, not a second create.
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return headers

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, spec: RequestSpec[Any]
    ) -> httpx.Request:
        return http.build_request(
            spec.method,
            self.base_url + spec.path,
            params=spec.params,
            json=spec.json,
            data=spec.form,
            headers=self._headers(spec),
        )

    @staticmethod
    def _process_response(spec: RequestSpec[T], response: httpx.Response) -> T:
        if response.is_error:
            raise status_error_from_response(response)
        result = spec.parse(response)
        if spec.on_success is not None:
            spec.on_success(result)
        return result


def _transport_error(error: httpx.TransportError, request: httpx.Request) -> GovStoreError:
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"request timed out: {error}", request=request)
    return APIConnectionError(f"could not reach the GovStore API: {error}", request=request)


class SyncAPIClient(BaseClient):
    """Executes request specs over an `httpx.Client`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass http_client or transport, not both")
        super().__init__(
            base_url=base_url,
            token=token,
            max_retries=max_retries,
            http_client_base_url=http_client.base_url if http_client is not None else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, transport=transport)

    def execute(self, spec: RequestSpec[T]) -> T:
        """Send one API call, retrying as the retry policy allows, and parse the answer."""
        request = self._build_request(self._http, spec)
        remembered = self.revalidation.prepare(request)
        attempt = 0
        while True:
            try:
                response = self.revalidation.settle(request, self._http.send(request), remembered)
            except httpx.TransportError as error:
                delay = self.retry_policy.delay_after_error(
                    attempt, error, replay_safe=spec.replay_safe
                )
                if delay is None:
                    raise _transport_error(error, request) from error
            else:
                delay = self.retry_policy.delay_after_response(attempt, response)
                if delay is None:
                    return self._process_response(spec, response)
                response.close()
            sleep(delay)
            attempt += 1

    def poll(self, spec: PollSpec[T]) -> T:
        """Repeat an API call until its result is done, sleeping between calls; or time out."""
        started = monotonic()
        while True:
            result = self.execute(spec.request)
            if spec.done(result):
                return result
            delay = spec.delay(started, monotonic())
            if delay is None:
                raise spec.timed_out(result)
            sleep(delay)

    def paginate(self, spec: PageSpec[ItemT]) -> SyncPager[ItemT]:
        """Iterate a list endpoint's items across every page."""
        return SyncPager(self.execute, spec)

    def close(self) -> None:
        """Close the connection pool, unless the caller passed in their own `http_client`."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAPIClient(BaseClient):
    """Executes request specs over an `httpx.AsyncClient`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ValueError("pass http_client or transport, not both")
        super().__init__(
            base_url=base_url,
            token=token,
            max_retries=max_retries,
            http_client_base_url=http_client.base_url if http_client is not None else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)

    async def execute(self, spec: RequestSpec[T]) -> T:
        """Send one API call, retrying as the retry policy allows, and parse the answer."""
        request = self._build_request(self._http, spec)
        remembered = self.revalidation.prepare(request)
        attempt = 0
        while True:
            try:
                response = self.revalidation.settle(
                    request, await self._http.send(request), remembered
                )
            except httpx.TransportError as error:
                delay = self.retry_policy.delay_after_error(
                    attempt, error, replay_safe=spec.replay_safe
                )
                if delay is None:
                    raise _transport_error(error, request) from error
            else:
                delay = self.retry_policy.delay_after_response(attempt, response)
                if delay is None:
                    return self._process_response(spec, response)
                await response.aclose()
            await async_sleep(delay)
            attempt += 1

    async def poll(self, spec: PollSpec[T]) -> T:
        """Repeat an API call until its result is done, awaiting `asyncio.sleep` between calls."""
        started = monotonic()
        while True:
            result = await self.execute(spec.request)
            if spec.done(result):
                return result
            delay = spec.delay(started, monotonic())
            if delay is None:
                raise spec.timed_out(result)
            await async_sleep(delay)

    def paginate(self, spec: PageSpec[ItemT]) -> AsyncPager[ItemT]:
        """Iterate a list endpoint's items across every page with `async for`."""
        return AsyncPager(self.execute, spec)

    async def aclose(self) -> None:
        """Close the connection pool, unless the caller passed in their own `http_client`."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

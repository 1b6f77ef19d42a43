"""`releases.wait`: polls `releases.get` until the status is one waited for, or times out."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import govstore
from govstore import _base_client

from .support import BASE_URL, MockServer
from .test_client import RELEASE_DETAIL

PATH = "/v1/services/svc_1/releases/rel_1"


def answer(status: str) -> httpx.Response:
    return httpx.Response(200, json={**RELEASE_DETAIL, "status": status})


class Clock:
    """A monotonic clock that only moves when the client sleeps; records each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay

    async def async_sleep(self, delay: float) -> None:
        self.sleep(delay)

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(_base_client, "sleep", fake.sleep)
    monkeypatch.setattr(_base_client, "async_sleep", fake.async_sleep)
    monkeypatch.setattr(_base_client, "monotonic", fake.monotonic)
    yield fake


def wait_sync(server: MockServer, **kwargs: Any) -> govstore.ReleaseDetail:
    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        return client.releases.wait("svc_1", "rel_1", **kwargs)


async def wait_async(server: MockServer, **kwargs: Any) -> govstore.ReleaseDetail:
    async with govstore.AsyncClient(
        base_url=BASE_URL, token="t", transport=server.transport
    ) as client:
        return await client.releases.wait("svc_1", "rel_1", **kwargs)


@pytest.fixture(params=["sync", "async"])
def wait(request: pytest.FixtureRequest) -> Any:
    """Run `releases.wait` on either client and return its result."""
    if request.param == "sync":
        return wait_sync

    def run(server: MockServer, **kwargs: Any) -> govstore.ReleaseDetail:
        return asyncio.run(wait_async(server, **kwargs))

    return run


def test_by_default_it_waits_until_automated_review_is_over(clock: Clock, wait: Any) -> None:
    server = MockServer(answer("submitted"), answer("automated_review"), answer("awaiting_review"))

    release = wait(server)

    assert isinstance(release, govstore.ReleaseDetail)
    assert release.status == govstore.ReleaseStatus.AWAITING_REVIEW
    assert [(r.method, r.url.path) for r in server.requests] == [("GET", PATH)] * 3
    assert clock.sleeps == [1, 1]


@pytest.mark.parametrize(
    "status",
    ["changes_requested", "awaiting_review", "rejected", "approved", "published", "withdrawn"],
)
def test_the_default_statuses(clock: Clock, wait: Any, status: str) -> None:
    assert wait(MockServer(answer(status))).status == status
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "status", ["submitted", "automated_review", "in_review", "awaiting_second_approval"]
)
def test_statuses_still_moving_are_not_waited_for_by_default(
    clock: Clock, wait: Any, status: str
) -> None:
    server = MockServer(answer(status), answer("approved"))

    assert wait(server).status == "approved"
    assert len(server.requests) == 2


def test_it_waits_for_the_statuses_given(clock: Clock, wait: Any) -> None:
    server = MockServer(
        answer("awaiting_review"), answer("in_review"), answer("awaiting_second_approval")
    )

    release = wait(
        server,
        until={govstore.ReleaseStatus.AWAITING_SECOND_APPROVAL, "approved"},
        poll_interval=0.25,
    )

    assert release.status == "awaiting_second_approval"
    assert clock.sleeps == [0.25, 0.25]


def test_a_single_status_is_one_status_not_its_letters(clock: Clock, wait: Any) -> None:
    server = MockServer(answer("in_review"), answer("approved"))

    assert wait(server, until="approved").status == "approved"
    assert wait(MockServer(answer("approved")), until=govstore.ReleaseStatus.APPROVED)


def test_on_timeout_it_raises_with_the_last_release(clock: Clock, wait: Any) -> None:
    server = MockServer(*[answer("in_review")] * 4)

    with pytest.raises(govstore.WaitTimeoutError) as raised:
        wait(server, until={"approved"}, timeout=2.5, poll_interval=1)

    error = raised.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, govstore.GovStoreError)
    assert error.release.status == "in_review"
    assert error.until == {"approved"}
    assert error.timeout == 2.5
    assert "still in_review after 2.5s" in str(error)
    # Called at 0, 1, 2 and at the deadline, 2.5: never after it.
    assert len(server.requests) == 4
    assert clock.sleeps == [1, 1, 0.5]


def test_a_zero_timeout_looks_once(clock: Clock, wait: Any) -> None:
    server = MockServer(answer("submitted"))

    with pytest.raises(govstore.WaitTimeoutError):
        wait(server, timeout=0)
    assert len(server.requests) == 1


def test_errors_are_raised_not_waited_out(clock: Clock, wait: Any) -> None:
    server = MockServer(
        httpx.Response(404, json={"title": "Not found", "status": 404, "detail": "no such release"})
    )

    with pytest.raises(govstore.NotFoundError):
        wait(server)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": -1}, "timeout cannot be negative"),
        ({"poll_interval": 0}, "interval must be positive"),
        ({"until": []}, "no status"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    wait: Any, kwargs: dict[str, Any], message: str
) -> None:
    server = MockServer()

    with pytest.raises(ValueError, match=message):
        wait(server, **kwargs)
    assert server.requests == []


def test_both_clients_offer_it_with_the_same_signature() -> None:
    with govstore.Client() as sync_client:
        sync_wait = sync_client.releases.wait
        async_client = govstore.AsyncClient()
        async_wait = async_client.releases.wait

        assert inspect.signature(sync_wait) == inspect.signature(async_wait)
        assert list(inspect.signature(sync_wait).parameters) == [
            "service_id",
            "release_id",
            "until",
            "timeout",
            "poll_interval",
        ]
        assert not inspect.iscoroutinefunction(sync_wait)
        assert inspect.iscoroutinefunction(async_wait)


def test_the_async_client_sleeps_with_asyncio() -> None:
    assert _base_client.async_sleep is asyncio.sleep


async def test_the_async_wait_leaves_the_event_loop_free() -> None:
    # The server moves the release on only when another task on the loop gets to run:
    # a wait that blocked the loop (time.sleep) would time out instead.
    state = {"status": "automated_review"}

    def server(request: httpx.Request) -> httpx.Response:
        return answer(state["status"])

    async def review_finishes() -> None:
        await asyncio.sleep(0.02)
        state["status"] = "awaiting_review"

    async with govstore.AsyncClient(
        base_url=BASE_URL, transport=httpx.MockTransport(server)
    ) as client:
        release, _ = await asyncio.gather(
            client.releases.wait("svc_1", "rel_1", timeout=5, poll_interval=0.005),
            review_finishes(),
        )

    assert release.status == "awaiting_review"

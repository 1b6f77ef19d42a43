"""Shared test vocabulary: signed-in actors, problem assertions, manifest fixtures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "a-long-test-passphrase"

AppFactory = Callable[..., Awaitable[Starlette]]


def client_for(app: Starlette, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


def manifest_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / "manifests" / "valid" / f"{name}.json").read_text()
    )
    return data


class Actor:
    """A registered, signed-in account and its bearer header."""

    def __init__(self, account: dict[str, Any], token: str) -> None:
        self.account = account
        self.token = token
        self.id: str = account["id"]
        self.email: str = account["email"]
        self.headers = {"Authorization": f"Bearer {token}"}


SignUp = Callable[..., Awaitable[Actor]]

SCOPES = [
    {
        "name": "income.verify",
        "title": "Check income is below a threshold",
        "description": "Answers yes or no: is the income below a threshold?",
        "tier": "status",
        "sensitivity": "low",
        "data_owner": "HM Revenue & Customs",
    },
    {
        "name": "income.read",
        "title": "Read income records",
        "description": "Your income records from employers and pensions.",
        "tier": "record",
        "sensitivity": "high",
        "data_owner": "HM Revenue & Customs",
    },
    {
        "name": "health.summary.read",
        "title": "Read your health summary",
        "description": "Your medication list and allergies.",
        "tier": "summary",
        "sensitivity": "high",
        "data_owner": "NHS England",
    },
]

SCHEMES = [
    {
        "slug": "privacy-assured",
        "title": "Privacy assured",
        "description": "Handles personal data lawfully and minimally.",
        "criteria": ["PRIV-1", "PRIV-2"],
        "validity_days": 365,
    },
    {
        "slug": "accessible",
        "title": "Accessible",
        "description": "Meets WCAG 2.2 AA for every page.",
        "criteria": ["ACC-1"],
        "validity_days": 365,
    },
    {
        "slug": "clinically-safe",
        "title": "Clinically safe",
        "description": "Clinical risk managed to DCB0129.",
        "criteria": ["CLIN-1"],
        "validity_days": 180,
    },
]

GUIDELINES = [
    {
        "code": "PRIV-1",
        "title": "Ask only for data you need",
        "text": "Every data use names its purpose and lawful basis.",
        "category": "privacy",
        "severity": "blocking",
        "check": "data-uses-complete",
        "kitemarks": ["privacy-assured"],
    },
    {
        "code": "PRIV-2",
        "title": "Use the lowest tier",
        "text": "Prefer a yes/no status answer to a record.",
        "category": "privacy",
        "severity": "advisory",
        "check": "lowest-sufficient-tier",
        "kitemarks": ["privacy-assured"],
    },
    {
        "code": "ACC-1",
        "title": "Be accessible",
        "text": "Publish an accessibility statement and meet WCAG 2.2 AA.",
        "category": "accessibility",
        "severity": "blocking",
        "check": "accessibility-statement",
        "kitemarks": ["accessible"],
    },
    {
        "code": "CLIN-1",
        "title": "Manage clinical risk",
        "text": "Health services name a clinical safety officer and keep a hazard log.",
        "category": "clinical-safety",
        "severity": "blocking",
        "check": "clinical-safety",
        "kitemarks": ["clinically-safe"],
    },
]


def assert_problem(response: httpx.Response, status: int, *pointers: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and exactly these pointers, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for key in ("type", "title", "detail", "code"):
        assert isinstance(body[key], str) and body[key]
    if pointers:
        assert sorted(e["pointer"] for e in body["errors"]) == sorted(pointers), body
    return body


async def settle(app: Starlette, rounds: int = 20) -> None:
    """Run every queued background job to completion: in-process, or with a burst arq worker."""
    from marketplace.jobs import InProcessQueue

    platform = app.state.platform
    if isinstance(platform.jobs, InProcessQueue):
        await platform.jobs.drain()
        return
    from arq.worker import Worker
    from redis.asyncio import Redis

    from marketplace.worker import QUEUE_NAME, worker_settings

    settings = platform.settings
    redis = Redis.from_url(settings.redis_url)
    try:
        for _ in range(rounds):
            kwargs = worker_settings(settings, burst=True, poll_delay=0)
            kwargs["cron_jobs"] = []
            worker = Worker(**kwargs, handle_signals=False)
            try:
                await worker.main()
            finally:
                await worker.close()
            if await redis.zcard(QUEUE_NAME) == 0:
                return
        raise AssertionError("background jobs did not settle")
    finally:
        await redis.aclose()


@dataclass
class Receiver:
    """A real webhook receiver on 127.0.0.1: what it received, and how often to fail first."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    calls: int = 0


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    """Serve POST /hooks on a free loopback port: 503 for the first `fail_first` calls, then 204."""
    import asyncio
    import socket

    import uvicorn
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks")

    async def hooks(request: Request) -> Response:
        state.calls += 1
        if state.calls <= state.fail_first:
            return Response("try later", status_code=503)
        state.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hooks", hooks, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield state
    finally:
        server.should_exit = True
        await task

"""Fixtures for the SDK's contract tests: reviewers, and a real webhook receiver on 127.0.0.1.

`reviewer` and `second_reviewer` are the same accounts tests/review/conftest.py makes
(those fixtures are visible only under tests/review).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from testkit import Actor, SignUp


@pytest.fixture
async def reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="reviewer")


@pytest.fixture
async def second_reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="second")


@dataclass
class Receiver:
    """A webhook endpoint: what it received, headers as the receiving framework gives them."""

    url: str
    received: list[tuple[Headers, bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server on a free loopback port, answering 204 to every POST /hooks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks")

    async def hooks(request: Request) -> Response:
        state.received.append((request.headers, await request.body()))
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
    yield state
    server.should_exit = True
    await task

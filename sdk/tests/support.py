"""Test support: a scripted mock server and problem-document responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

BASE_URL = "http://govstore.test"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class MockServer:
    """Answers requests from a script of replies, in order, and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> httpx.Response:
    document: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        document["detail"] = detail
    document.update(extra)
    headers = {"Content-Type": "application/problem+json"}
    if "retry_after" in extra:
        headers["Retry-After"] = str(document.pop("retry_after"))
    return httpx.Response(status, headers=headers, content=json.dumps(document).encode())

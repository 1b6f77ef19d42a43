"""Web page fixtures: a cookie-keeping client that fills in forms, and the demo data loaded."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from testkit import client_for

from marketplace.demo.loader import load_demo
from marketplace.settings import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DEMO_PASSWORDS = {
    "citizen": ("joan.pritchard@inbox.example", "demo-citizen-2026"),
    "other_citizen": ("aisha.rahman@inbox.example", "demo-citizen-2026"),
    "reviewer": ("amara.okafor@govstore.example", "demo-reviewer-2026"),
    "second_reviewer": ("fiona.macleod@govstore.example", "demo-reviewer-2026"),
    "provider": ("ada.mensah@kestrelhealth.example", "demo-provider-2026"),
    "fenmoor": ("tomasz.nowak@fenmoor.example", "demo-provider-2026"),
}


class Visitor:
    """A browser without JavaScript: keeps cookies, reads each form's CSRF token, follows nothing."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def token(self, page: str) -> str:
        response = await self.client.get(page)
        found = CSRF.search(response.text)
        assert found, f"no form on {page}: {response.status_code}"
        return found.group(1)

    async def submit(self, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
        """POST `data` (a list value repeats the field) to `action` with the CSRF token of the
        form shown on `page`."""
        token = await self.token(page)
        return await self.client.post(action, data={**data, "csrf_token": token})

    async def sign_in(self, email: str, password: str) -> httpx.Response:
        response = await self.submit("/sign-in", "/sign-in", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
async def visitor(app: Starlette) -> AsyncIterator[Visitor]:
    async with client_for(app) as client:
        yield Visitor(client)


MakeVisitor = Callable[..., Awaitable[Visitor]]


@pytest.fixture
async def make_visitor(app: Starlette) -> AsyncIterator[MakeVisitor]:
    clients: list[httpx.AsyncClient] = []

    async def make(who: str | None = None) -> Visitor:
        client = client_for(app)
        clients.append(client)
        visitor = Visitor(client)
        if who is not None:
            await visitor.sign_in(*DEMO_PASSWORDS[who])
        return visitor

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def demo(app: Starlette, settings: Settings) -> None:
    """The `make run` demo data in the test database (cheap password hashing from settings)."""
    await load_demo(settings)

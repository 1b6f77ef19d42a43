"""Shared test vocabulary: signed-in actors, problem assertions, manifest fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "a-long-test-passphrase"


def manifest_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "manifests" / "valid" / f"{name}.json").read_text())
    return data


class Actor:
    """A registered, signed-in account and its bearer header."""

    def __init__(self, account: dict[str, Any], token: str) -> None:
        self.account = account
        self.token = token
        self.id: str = account["id"]
        self.email: str = account["email"]
        self.headers = {"Authorization": f"Bearer {token}"}


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

"""Shared fixtures: sleeps that do not wait, and an environment without GovStore settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govstore import _base_client


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Every delay the client would have slept, sync or async, recorded instead of waited."""
    delays: list[float] = []

    async def async_sleep(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(_base_client, "sleep", delays.append)
    monkeypatch.setattr(_base_client, "async_sleep", async_sleep)
    yield delays


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's own GovStore settings."""
    monkeypatch.delenv("GOVSTORE_BASE_URL", raising=False)
    monkeypatch.delenv("GOVSTORE_TOKEN", raising=False)

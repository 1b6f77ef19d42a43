"""Fixtures for the SDK's contract tests: reviewers, and a real webhook receiver on 127.0.0.1.

`reviewer` and `second_reviewer` are the same accounts tests/review/conftest.py makes
(those fixtures are visible only under tests/review).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from testkit import Actor, Receiver, SignUp, running_receiver


@pytest.fixture
async def reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="reviewer")


@pytest.fixture
async def second_reviewer(sign_up: SignUp) -> Actor:
    return await sign_up("citizen", roles=("reviewer",), name="second")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as state:
        yield state

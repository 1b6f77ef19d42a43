"""Fixtures for the SDK's contract tests: reviewers, a real webhook receiver on 127.0.0.1, and
the trust tests' published services and data APIs.

`reviewer` and `second_reviewer` are the same accounts tests/review/conftest.py makes
(those fixtures are visible only under tests/review).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from testkit import Actor, Receiver, SignUp, running_receiver

from tests.kitemarks.conftest import hmrc, publish, register_data_api  # noqa: F401 (fixtures)


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

"""The trust fixtures (a published service, a data API, the consent flow) feed the log's tests."""

from __future__ import annotations

from tests.kitemarks.conftest import (  # noqa: F401 (fixtures)
    hmrc,
    publish,
    register_data_api,
    reviewer,
    second_reviewer,
)

from __future__ import annotations

import pytest

from review.checks import accessibility_statement
from review.checks.accessibility_statement import run


def test_a_statement_address_passes(context, manifest):
    assert run(context(manifest())) == []


def test_an_http_address_is_left_to_https_only(context, manifest):
    url = "http://warmhome.example.org/accessibility"
    assert run(context(manifest(accessibility_statement_url=url))) == []


@pytest.mark.parametrize("url", [None, "", "  "])
def test_a_missing_statement_is_reported(context, manifest, url):
    issues = run(context(manifest(accessibility_statement_url=url)))
    assert [issue.pointer for issue in issues] == ["/accessibility_statement_url"]
    assert "does not link to an accessibility statement" in issues[0].message
    assert "accessibility_statement_url" in issues[0].fix


def test_the_sandbox_fixture_has_no_statement(context, manifest):
    issues = run(context(manifest("bus-pass-sandbox")))
    assert [issue.pointer for issue in issues] == ["/accessibility_statement_url"]


@pytest.mark.parametrize("url", ["see our website", "https://", "/accessibility"])
def test_something_that_is_not_an_address_is_reported(context, manifest, url):
    issues = run(context(manifest(accessibility_statement_url=url)))
    assert [issue.pointer for issue in issues] == ["/accessibility_statement_url"]
    assert "is not a complete web address" in issues[0].message


def test_the_check_is_registered_under_its_id():
    assert accessibility_statement.CHECK.id == "accessibility-statement"

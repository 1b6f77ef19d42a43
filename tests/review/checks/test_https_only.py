from __future__ import annotations

import pytest

from review.checks import https_only
from review.checks.https_only import is_loopback_host, run


def test_an_https_manifest_passes(context, manifest):
    assert run(context(manifest())) == []


def test_a_sandbox_release_may_use_http_on_loopback(context, manifest):
    assert run(context(manifest("bus-pass-sandbox"))) == []


def test_the_same_loopback_addresses_fail_outside_a_sandbox(context, manifest):
    issues = run(context(manifest("bus-pass-sandbox"), sandbox=False))
    assert [issue.pointer for issue in issues] == [
        "/website_url",
        "/website_url",
        "/privacy_policy_url",
        "/privacy_policy_url",
        "/redirect_uris/0",
        "/redirect_uris/0",
        "/redirect_uris/1",
        "/redirect_uris/1",
        "/redirect_uris/2",
        "/redirect_uris/2",
    ]
    assert "points at this computer (localhost)" in issues[0].message
    assert "does not use HTTPS" in issues[1].message


@pytest.mark.parametrize(
    "field", ["website_url", "privacy_policy_url", "accessibility_statement_url"]
)
def test_a_plain_http_address_is_reported_with_its_https_form(context, manifest, field):
    issues = run(context(manifest(**{field: "http://warmhome.example.org/page?x=1"})))
    assert [issue.pointer for issue in issues] == [f"/{field}"]
    assert "“http://warmhome.example.org/page?x=1” does not use HTTPS" in issues[0].message
    assert issues[0].fix == (
        "Serve it over HTTPS and change it to https://warmhome.example.org/page?x=1."
    )


def test_an_http_redirect_uri_is_reported_at_its_index(context, manifest):
    uris = ["https://warmhome.example.org/cb", "http://warmhome.example.org/cb2"]
    issues = run(context(manifest(redirect_uris=uris)))
    assert [issue.pointer for issue in issues] == ["/redirect_uris/1"]


def test_a_loopback_redirect_uri_outside_a_sandbox_fails_even_over_https(context, manifest):
    uris = ["https://warmhome.example.org/cb", "https://127.0.0.1:8443/cb"]
    issues = run(context(manifest(redirect_uris=uris)))
    assert [issue.pointer for issue in issues] == ["/redirect_uris/1"]
    assert "sandbox" in issues[0].fix


def test_a_loopback_redirect_uri_in_a_sandbox_passes_over_http_or_https(context, manifest):
    uris = ["https://127.0.0.1:8443/cb", "http://localhost/cb", "http://[::1]:8080/cb"]
    assert run(context(manifest(redirect_uris=uris, sandbox=True))) == []


def test_a_sandbox_still_needs_https_off_loopback(context, manifest):
    uris = ["http://dev.warmhome.example.org/cb"]
    issues = run(context(manifest(redirect_uris=uris, sandbox=True)))
    assert [issue.pointer for issue in issues] == ["/redirect_uris/0"]


def test_a_security_contact_url_must_use_https(context, manifest):
    issues = run(context(manifest(security_contact="http://warmhome.example.org/security")))
    assert [issue.pointer for issue in issues] == ["/security_contact"]


def test_a_mailto_security_contact_is_not_a_web_address(context, manifest):
    assert run(context(manifest(security_contact="mailto:security@warmhome.example"))) == []


def test_a_wildcard_or_fragment_in_a_redirect_uri_is_reported(context, manifest):
    uris = ["https://*.warmhome.example.org/cb", "https://warmhome.example.org/cb#done"]
    issues = run(context(manifest(redirect_uris=uris)))
    assert [issue.pointer for issue in issues] == ["/redirect_uris/0", "/redirect_uris/1"]
    assert "wildcard" in issues[0].message
    assert "fragment" in issues[1].message


@pytest.mark.parametrize("url", ["warmhome.example.org", "https://", "https://host:notaport/"])
def test_an_address_that_is_not_absolute_is_reported(context, manifest, url):
    issues = run(context(manifest(website_url=url)))
    assert [issue.pointer for issue in issues] == ["/website_url"]
    assert "not an absolute web address" in issues[0].message


def test_another_scheme_is_reported(context, manifest):
    issues = run(context(manifest(website_url="ftp://warmhome.example.org/")))
    assert [issue.pointer for issue in issues] == ["/website_url"]
    assert issues[0].fix == "Use an https:// address."


def test_missing_optional_addresses_are_not_this_checks_concern(context, manifest):
    assert run(context(manifest(accessibility_statement_url=None, redirect_uris=None))) == []


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "app.localhost",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["localhost.example.com", "128.0.0.1", "10.0.0.1", "::2", "example.org"]
)
def test_other_hosts(host):
    assert not is_loopback_host(host)


def test_the_check_is_registered_under_its_id():
    assert https_only.CHECK.id == "https-only"

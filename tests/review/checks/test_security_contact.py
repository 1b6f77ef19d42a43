from __future__ import annotations

import pytest

from review.checks import security_contact
from review.checks.security_contact import run


@pytest.mark.parametrize(
    "contact",
    [
        "mailto:security@acme.example",
        "MAILTO:Security.Team+reports@acme.example.co.uk",
        "mailto:security@acme.example?subject=Vulnerability%20report",
        "mailto:security@acme.example,psirt@acme.example",
        "https://warmhome.example.org/.well-known/security.txt",
    ],
)
def test_a_mailto_address_or_https_url_passes(context, manifest, contact):
    assert run(context(manifest(security_contact=contact))) == []


@pytest.mark.parametrize("contact", [None, "", "   "])
def test_a_missing_contact_is_reported(context, manifest, contact):
    issues = run(context(manifest(security_contact=contact)))
    assert [issue.pointer for issue in issues] == ["/security_contact"]
    assert "no security contact" in issues[0].message


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ("mailto:", "has no email address"),
        ("mailto:security", "“security” in the security contact is not a valid email address"),
        ("mailto:security@acme", "“security@acme” in the security contact is not a valid"),
        ("mailto:sec urity@acme.example", "is not a valid email address"),
        ("mailto:a@acme.example,not-an-address", "“not-an-address”"),
        ("http://acme.example/security", "is not an https address"),
        ("https://localhost/security", "is not a complete web address"),
        ("tel:+441234567890", "neither a mailto: address nor a web address"),
    ],
)
def test_an_unusable_contact_is_reported(context, manifest, contact, message):
    issues = run(context(manifest(security_contact=contact)))
    assert [issue.pointer for issue in issues] == ["/security_contact"]
    assert message in issues[0].message
    assert "mailto:" in issues[0].fix


def test_a_bare_email_address_is_told_to_add_mailto(context, manifest):
    issues = run(context(manifest(security_contact="security@acme.example")))
    assert [issue.pointer for issue in issues] == ["/security_contact"]
    assert issues[0].fix == "Write it as mailto:security@acme.example."


def test_the_check_is_registered_under_its_id():
    assert security_contact.CHECK.id == "security-contact"

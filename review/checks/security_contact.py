"""security-contact: a way to report a vulnerability, as a mailto: address or an https URL (RFC 9116)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import text

# A plausible address: one @, no spaces, a dotted domain of letters, digits and hyphens, a
# top-level domain of at least two letters. Deliverability is for the reviewer to test.
_ADDRESS = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    re.IGNORECASE,
)
_POINTER = "/security_contact"
_FIX = (
    "Give a mailto: address that reaches people who can act on a report, for example "
    "mailto:security@your-domain, or the https:// address of your security.txt contact page."
)


def _mailto_problem(contact: str) -> str | None:
    addresses = unquote(contact[len("mailto:") :].split("?", 1)[0])
    if not addresses:
        return "The security contact “mailto:” has no email address."
    for address in addresses.split(","):
        if not _ADDRESS.match(address.strip()):
            return f"“{address.strip()}” in the security contact is not a valid email address."
    return None


def _url_problem(contact: str) -> str | None:
    try:
        parts = urlsplit(contact)
        host = parts.hostname
    except ValueError:
        host = None
    if not host or "." not in host:
        return f"The security contact “{contact}” is not a complete web address."
    if parts.scheme.lower() != "https":
        return f"The security contact “{contact}” is not an https address."
    return None


def run(ctx: CheckContext) -> list[Issue]:
    contact = text(ctx.manifest.get("security_contact"))
    if contact is None:
        return [
            Issue(
                _POINTER,
                "The manifest gives no security contact, so nobody can report a vulnerability "
                "in the service.",
                _FIX,
            )
        ]
    lowered = contact.lower()
    if lowered.startswith("mailto:"):
        problem = _mailto_problem(contact)
    elif lowered.startswith(("https://", "http://")):
        problem = _url_problem(contact)
    elif _ADDRESS.match(contact):
        return [
            Issue(
                _POINTER,
                f"The security contact “{contact}” is an email address without mailto:.",
                f"Write it as mailto:{contact}.",
            )
        ]
    else:
        problem = (
            f"The security contact “{contact}” is neither a mailto: address nor a web address."
        )
    return [] if problem is None else [Issue(_POINTER, problem, _FIX)]


CHECK = register(
    Check(
        id="security-contact",
        title="Security contact",
        description=(
            "The manifest gives a security contact: a mailto: link with a plausible email "
            "address, or an https URL, as in a security.txt Contact field (RFC 9116)."
        ),
        run=run,
    )
)

"""https-only: every address in the manifest uses HTTPS; loopback addresses only in a sandbox release."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import pointer

# Single addresses that must use HTTPS when given.
URL_FIELDS = ("website_url", "privacy_policy_url", "accessibility_statement_url")
_FIELD_NAMES = {
    "website_url": "website address",
    "privacy_policy_url": "privacy notice address",
    "accessibility_statement_url": "accessibility statement address",
    "security_contact": "security contact",
}


def is_loopback_host(host: str) -> bool:
    """localhost (and its subdomains), 127.0.0.0/8, ::1 and IPv4-mapped loopback."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return parts


def _check_url(url: object, where: str, what: str, *, redirect: bool, sandbox: bool) -> list[Issue]:
    if not isinstance(url, str) or not url.strip():
        return []  # absent or blank: the schema and the presence checks report it
    parts = _split(url)
    if parts is None or not parts.scheme or not parts.hostname:
        return [
            Issue(
                where,
                f"The {what} “{url}” is not an absolute web address.",
                "Give the full address, starting with https:// and the host name.",
            )
        ]
    host = parts.hostname
    issues: list[Issue] = []
    loopback = is_loopback_host(host)
    if loopback and not sandbox:
        issues.append(
            Issue(
                where,
                f"The {what} “{url}” points at this computer ({host}), which only works while "
                "you are developing the service.",
                "Use the public address of your service; loopback addresses are allowed only in "
                'a release marked "sandbox": true.',
            )
        )
    scheme = parts.scheme.lower()
    if scheme != "https" and not (loopback and sandbox and scheme == "http"):
        secure = parts._replace(scheme="https").geturl() if scheme == "http" else None
        issues.append(
            Issue(
                where,
                f"The {what} “{url}” does not use HTTPS, so it can be read or changed in transit.",
                f"Serve it over HTTPS and change it to {secure}."
                if secure
                else "Use an https:// address.",
            )
        )
    if redirect and "*" in parts.netloc + parts.path:
        issues.append(
            Issue(
                where,
                f"The redirect URI “{url}” contains a wildcard; redirect URIs must be exact.",
                "List each exact redirect URI your service uses.",
            )
        )
    if redirect and parts.fragment:
        issues.append(
            Issue(
                where,
                f"The redirect URI “{url}” has a fragment (#…), which OAuth 2 does not allow.",
                "Remove the part from # onwards.",
            )
        )
    return issues


def run(ctx: CheckContext) -> list[Issue]:
    manifest = ctx.manifest
    issues: list[Issue] = []
    for field in URL_FIELDS:
        issues += _check_url(
            manifest.get(field),
            pointer(field),
            _FIELD_NAMES[field],
            redirect=False,
            sandbox=ctx.sandbox,
        )
    contact = manifest.get("security_contact")
    # A mailto: contact has no transport to secure; security-contact checks its address.
    if isinstance(contact, str) and "://" in contact:
        issues += _check_url(
            contact, "/security_contact", "security contact", redirect=False, sandbox=ctx.sandbox
        )
    redirect_uris = manifest.get("redirect_uris")
    if isinstance(redirect_uris, list):
        for index, uri in enumerate(redirect_uris):
            issues += _check_url(
                uri,
                pointer("redirect_uris", index),
                "redirect URI",
                redirect=True,
                sandbox=ctx.sandbox,
            )
    return issues


CHECK = register(
    Check(
        id="https-only",
        title="HTTPS everywhere",
        description=(
            "The website, privacy notice, accessibility statement, a security contact given as "
            "a URL, and every redirect URI use HTTPS. Loopback addresses (localhost, "
            "127.0.0.0/8, [::1]) are refused outside a sandbox release, even over HTTPS; in a "
            "sandbox release they may use plain HTTP."
        ),
        run=run,
    )
)

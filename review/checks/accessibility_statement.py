"""accessibility-statement: the manifest links to the service's accessibility statement.

Whether that address uses HTTPS is https-only's concern, not this check's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import text

_POINTER = "/accessibility_statement_url"


def run(ctx: CheckContext) -> list[Issue]:
    url = text(ctx.manifest.get("accessibility_statement_url"))
    if url is None:
        return [
            Issue(
                _POINTER,
                "The manifest does not link to an accessibility statement, so citizens cannot "
                "find out how accessible the service is or how to ask for another format.",
                "Publish an accessibility statement for the service (see the GOV.UK sample "
                "statement) and give its address in accessibility_statement_url.",
            )
        ]
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        return [
            Issue(
                _POINTER,
                f"The accessibility statement address “{url}” is not a complete web address.",
                "Give the full address of the statement, starting with https://.",
            )
        ]
    return []


CHECK = register(
    Check(
        id="accessibility-statement",
        title="Accessibility statement",
        description="The manifest gives the address of the service's accessibility statement.",
        run=run,
    )
)

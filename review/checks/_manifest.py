"""Reading a manifest defensively: checks run on releases whose scopes may have changed since."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from review.checks._core import CheckContext, ScopeInfo

# Data owners whose data is health data (UK GDPR Article 9 special category): NHS bodies (NHS
# England, NHSBSA) and health bodies (Department of Health and Social Care, UK Health Security
# Agency), but not the Health and Safety Executive.
_HEALTH_OWNER = re.compile(r"\bnhs|\bhealth\b(?! and safety)", re.IGNORECASE)
_HEALTH_SCOPE_PREFIX = "health."


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer to `parts`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def text(value: object) -> str | None:
    """`value` stripped, if it is a string with something in it; else None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def data_uses(manifest: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(index, data use) for each data use that is an object; anything else is skipped."""
    uses = manifest.get("data_uses")
    if not isinstance(uses, list):
        return
    for index, use in enumerate(uses):
        if isinstance(use, Mapping):
            yield index, use


def scope_of(ctx: CheckContext, use: Mapping[str, Any]) -> ScopeInfo | None:
    """The published scope a data use names, or None when it names none that exists."""
    name = use.get("scope")
    return ctx.scopes.get(name) if isinstance(name, str) else None


def is_health_scope(name: str, scope: ScopeInfo | None) -> bool:
    """Whether a scope carries health data: named health.*, or owned by the NHS or a health body."""
    if name.startswith(_HEALTH_SCOPE_PREFIX):
        return True
    return scope is not None and bool(_HEALTH_OWNER.search(scope.data_owner))


def health_scopes(ctx: CheckContext) -> list[tuple[int, str]]:
    """(index, scope name) of each data use that asks for health data."""
    found: list[tuple[int, str]] = []
    for index, use in data_uses(ctx.manifest):
        name = use.get("scope")
        if isinstance(name, str) and is_health_scope(name, scope_of(ctx, use)):
            found.append((index, name))
    return found

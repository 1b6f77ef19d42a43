"""clinical-safety: a health service, or one using health data, names its DCB0129 arrangements."""

from __future__ import annotations

from collections.abc import Mapping

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import health_scopes, text

HEALTH_CATEGORY = "health"
# Values that fill the field without answering it.
_PLACEHOLDERS = frozenset({"-", "n/a", "na", "none", "tbc", "tbd", "todo", "unknown", "?"})


def applies(ctx: CheckContext) -> bool:
    return ctx.manifest.get("category") == HEALTH_CATEGORY or bool(health_scopes(ctx))


def _filled(value: object) -> bool:
    answer = text(value)
    return answer is not None and answer.casefold() not in _PLACEHOLDERS


def run(ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    category = ctx.manifest.get("category")
    scopes = health_scopes(ctx)
    if category != HEALTH_CATEGORY and scopes:
        names = ", ".join(sorted({name for _, name in scopes}))
        issues.append(
            Issue(
                "/category",
                f"The service asks for health data ({names}) but is listed under "
                f"“{category}”, so citizens browsing health services will not find it and its "
                "clinical safety would go unreviewed.",
                "Set category to health, or stop asking for health data.",
            )
        )
    safety = ctx.manifest.get("clinical_safety")
    if not isinstance(safety, Mapping):
        issues.append(
            Issue(
                "/clinical_safety",
                "The manifest does not describe the service's clinical safety arrangements.",
                "Add clinical_safety with the name of your Clinical Safety Officer (officer) and "
                "the reference of your DCB0129 hazard log (dcb0129_hazard_log).",
            )
        )
        return issues
    if not _filled(safety.get("officer")):
        issues.append(
            Issue(
                "/clinical_safety/officer",
                "The manifest does not name a Clinical Safety Officer.",
                "Give the name of the registered clinician who is your Clinical Safety Officer "
                "under DCB0129.",
            )
        )
    if not _filled(safety.get("dcb0129_hazard_log")):
        issues.append(
            Issue(
                "/clinical_safety/dcb0129_hazard_log",
                "The manifest does not give the reference of a DCB0129 hazard log.",
                "Give the reference of the hazard log you keep under DCB0129, so the reviewer "
                "can ask to see it.",
            )
        )
    return issues


CHECK = register(
    Check(
        id="clinical-safety",
        title="Clinical safety",
        description=(
            "Applies to health services and to any service asking for health data: it must "
            "name its Clinical Safety Officer and its DCB0129 hazard log, and a service asking "
            "for health data must be listed under health."
        ),
        run=run,
        applies=applies,
    )
)

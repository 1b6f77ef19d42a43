"""retention-bounds: data is kept no longer than its tier and purpose can justify."""

from __future__ import annotations

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import data_uses, pointer, scope_of

# The longest retention, in days, for each scope tier.
MAX_RETENTION_DAYS_BY_TIER: dict[str, int] = {"status": 90, "summary": 365, "record": 730}
# Purposes with a tighter bound than their tier's.
MAX_RETENTION_DAYS_BY_PURPOSE: dict[str, int] = {"eligibility_check": 30}

_TIER_REASON = {
    "status": "a yes-or-no answer is rarely needed for long after the decision it informs",
    "summary": "a summary goes out of date and should be fetched again rather than kept",
    "record": "a full record is the most sensitive data there is and should not outlive its use",
}
_PURPOSE_REASON = {
    "eligibility_check": "an eligibility check is answered when the citizen applies; ask again "
    "at the next review rather than keep the answer",
}


def run(ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for index, use in data_uses(ctx.manifest):
        days = use.get("retention_days")
        if isinstance(days, bool) or not isinstance(days, int):
            continue  # data-uses-complete reports a missing or malformed retention
        scope = scope_of(ctx, use)
        purpose = use.get("purpose")
        bounds: list[tuple[int, str]] = []
        if scope is not None and scope.tier in MAX_RETENTION_DAYS_BY_TIER:
            bounds.append(
                (
                    MAX_RETENTION_DAYS_BY_TIER[scope.tier],
                    f"{scope.tier}-tier data such as “{scope.name}” may be kept at most "
                    f"{MAX_RETENTION_DAYS_BY_TIER[scope.tier]} days: {_TIER_REASON[scope.tier]}",
                )
            )
        if isinstance(purpose, str) and purpose in MAX_RETENTION_DAYS_BY_PURPOSE:
            limit = MAX_RETENTION_DAYS_BY_PURPOSE[purpose]
            bounds.append(
                (
                    limit,
                    f"data for an {purpose.replace('_', ' ')} may be kept at most {limit} "
                    f"days: {_PURPOSE_REASON[purpose]}",
                )
            )
        if not bounds:
            continue
        limit, reason = min(bounds)
        if days > limit:
            issues.append(
                Issue(
                    pointer("data_uses", index, "retention_days"),
                    f"You keep this data for {days} days, but {reason}.",
                    f"Lower retention_days to {limit} or fewer and delete the data automatically "
                    "when it expires. If a law requires you to keep it longer, name that law in "
                    "the purpose description so the reviewer can consider it.",
                )
            )
    return issues


CHECK = register(
    Check(
        id="retention-bounds",
        title="Retention within bounds",
        description=(
            "Each data use's retention is within the bound for its scope's tier (status "
            f"{MAX_RETENTION_DAYS_BY_TIER['status']} days, summary "
            f"{MAX_RETENTION_DAYS_BY_TIER['summary']}, record "
            f"{MAX_RETENTION_DAYS_BY_TIER['record']}) and, for an eligibility check, within "
            f"{MAX_RETENTION_DAYS_BY_PURPOSE['eligibility_check']} days."
        ),
        run=run,
    )
)

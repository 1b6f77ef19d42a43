"""lowest-sufficient-tier: a yes-or-no question is answered by a status scope, not a summary or a record."""

from __future__ import annotations

from collections.abc import Mapping

from review.checks._core import Check, CheckContext, Issue, ScopeInfo, register
from review.checks._manifest import data_uses, pointer, scope_of

# Purposes that need only a yes or no: is the income under the limit, is this the licence holder.
YES_OR_NO_PURPOSES = frozenset({"eligibility_check", "identity_verification"})
STATUS_TIER = "status"


def _shared_segments(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a.split("."), b.split("."), strict=False):
        if left != right:
            break
        count += 1
    return count


def status_alternative(scope: ScopeInfo, scopes: Mapping[str, ScopeInfo]) -> ScopeInfo | None:
    """The status-tier scope from the same data owner closest to `scope` (most leading name
    segments in common, so income.read leads to income.verify), or None if the owner has none."""
    alternatives = [
        other
        for other in scopes.values()
        if other.tier == STATUS_TIER and other.data_owner == scope.data_owner
    ]
    if not alternatives:
        return None
    return min(
        alternatives, key=lambda other: (-_shared_segments(scope.name, other.name), other.name)
    )


def run(ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for index, use in data_uses(ctx.manifest):
        purpose = use.get("purpose")
        scope = scope_of(ctx, use)
        if not isinstance(purpose, str) or purpose not in YES_OR_NO_PURPOSES:
            continue
        if scope is None or scope.tier == STATUS_TIER:
            continue
        alternative = status_alternative(scope, ctx.scopes)
        if alternative is None:
            continue
        purpose_words = purpose.replace("_", " ")
        issues.append(
            Issue(
                pointer("data_uses", index, "scope"),
                f"“{scope.name}” is a {scope.tier}-tier scope, but this data use is an "
                f"{purpose_words}, which needs only a yes or no: “{alternative.name}” answers "
                f"one from the same data owner ({scope.data_owner}) without sharing the "
                f"{scope.tier}.",
                f"Ask for {alternative.name} instead. If a yes or no cannot answer your question, "
                "explain why in the purpose description for the reviewer.",
            )
        )
    return issues


CHECK = register(
    Check(
        id="lowest-sufficient-tier",
        title="Lowest sufficient tier",
        description=(
            "A summary- or record-tier scope used for an eligibility check or identity "
            "verification is flagged when the same data owner publishes a status-tier scope "
            "that answers yes or no; the finding names that scope."
        ),
        run=run,
    )
)

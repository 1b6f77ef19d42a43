"""data-uses-complete: every data use names a published scope, a purpose, a lawful basis and a retention.

It also holds the lawful basis to what the use is: a use citizens may decline rests on consent,
and health data (special category, UK GDPR Article 9) cannot rest on legitimate interests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from review.checks._core import Check, CheckContext, Issue, register
from review.checks._manifest import is_health_scope, pointer, text

PURPOSES = frozenset(
    {
        "eligibility_check",
        "identity_verification",
        "service_delivery",
        "personalisation",
        "research",
        "fraud_prevention",
    }
)
LAWFUL_BASES = frozenset(
    {
        "consent",
        "contract",
        "legal_obligation",
        "public_task",
        "vital_interests",
        "legitimate_interests",
    }
)
MIN_PURPOSE_DESCRIPTION = 10
# Words that say nothing about what the citizen gets: a purpose description made only of these
# and the purpose's own words ("For eligibility check purposes") is not specific.
_FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "data",
        "for",
        "in",
        "is",
        "of",
        "on",
        "our",
        "purpose",
        "purposes",
        "the",
        "this",
        "to",
        "use",
        "used",
        "uses",
        "we",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


def _is_unspecific(description: str, purpose: object, scope: object) -> bool:
    words = set(_WORD.findall(description.casefold()))
    if isinstance(purpose, str):
        words -= set(_WORD.findall(purpose.casefold().replace("_", " ")))
    if isinstance(scope, str):
        words -= set(_WORD.findall(scope.casefold().replace("_", " ")))
    return not (words - _FILLER)


def _check_use(ctx: CheckContext, index: int, use: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    scope_name = use.get("scope")
    purpose = use.get("purpose")
    basis = use.get("lawful_basis")

    if text(scope_name) is None:
        issues.append(
            Issue(
                pointer("data_uses", index, "scope"),
                "This data use does not say which scope it asks for.",
                "Name the published GovStore scope this data use needs, for example income.verify.",
            )
        )
    elif scope_name not in ctx.scopes:
        issues.append(
            Issue(
                pointer("data_uses", index, "scope"),
                f"“{scope_name}” is not a published GovStore scope; it may have been withdrawn "
                "since you wrote the manifest.",
                "Use a scope listed at GET /v1/scopes, or remove this data use.",
            )
        )

    if text(purpose) is None:
        issues.append(
            Issue(
                pointer("data_uses", index, "purpose"),
                "This data use does not say what the data is used for.",
                "Set purpose to one of: " + ", ".join(sorted(PURPOSES)) + ".",
            )
        )
    elif purpose not in PURPOSES:
        issues.append(
            Issue(
                pointer("data_uses", index, "purpose"),
                f"“{purpose}” is not a purpose GovStore recognises.",
                "Set purpose to one of: " + ", ".join(sorted(PURPOSES)) + ".",
            )
        )

    description = text(use.get("purpose_description"))
    if description is None:
        issues.append(
            Issue(
                pointer("data_uses", index, "purpose_description"),
                "This data use has no purpose description; citizens read it on the consent screen.",
                "Say in one plain-English sentence what the citizen gets in return for this data.",
            )
        )
    elif len(description) < MIN_PURPOSE_DESCRIPTION or _is_unspecific(
        description, purpose, scope_name
    ):
        issues.append(
            Issue(
                pointer("data_uses", index, "purpose_description"),
                f"The purpose description “{description}” does not tell citizens what you will "
                "do with their data: it is too short or only restates the purpose.",
                "Describe the specific use in one plain-English sentence, for example “Check "
                "whether your household income is below the grant limit”.",
            )
        )

    if text(basis) is None:
        issues.append(
            Issue(
                pointer("data_uses", index, "lawful_basis"),
                "This data use does not give the lawful basis it relies on.",
                "Set lawful_basis to one of: " + ", ".join(sorted(LAWFUL_BASES)) + ".",
            )
        )
    elif basis not in LAWFUL_BASES:
        issues.append(
            Issue(
                pointer("data_uses", index, "lawful_basis"),
                f"“{basis}” is not a UK GDPR Article 6 lawful basis GovStore recognises.",
                "Set lawful_basis to one of: " + ", ".join(sorted(LAWFUL_BASES)) + ".",
            )
        )
    elif use.get("optional") is True and basis != "consent":
        issues.append(
            Issue(
                pointer("data_uses", index, "lawful_basis"),
                f"This data use is optional but relies on {str(basis).replace('_', ' ')}: if "
                "citizens can decline it, the processing rests on their consent.",
                "Change lawful_basis to consent, or make the data use required if the service "
                "cannot work without it.",
            )
        )
    elif (
        basis == "legitimate_interests"
        and isinstance(scope_name, str)
        and is_health_scope(scope_name, ctx.scopes.get(scope_name))
    ):
        issues.append(
            Issue(
                pointer("data_uses", index, "lawful_basis"),
                f"“{scope_name}” is health data, a special category under UK GDPR Article 9, "
                "which legitimate interests cannot justify.",
                "Rely on explicit consent, or on another basis with an Article 9 condition you "
                "can name to the reviewer.",
            )
        )

    retention = use.get("retention_days")
    if retention is None:
        issues.append(
            Issue(
                pointer("data_uses", index, "retention_days"),
                "This data use does not say how long you keep the data.",
                "Set retention_days to the number of days you keep it (0 if you do not store it).",
            )
        )
    elif isinstance(retention, bool) or not isinstance(retention, int) or retention < 0:
        issues.append(
            Issue(
                pointer("data_uses", index, "retention_days"),
                f"The retention period {retention!r} is not a whole number of days.",
                "Set retention_days to the number of days you keep it (0 if you do not store it).",
            )
        )

    if not isinstance(use.get("shared_with_third_parties"), bool):
        issues.append(
            Issue(
                pointer("data_uses", index, "shared_with_third_parties"),
                "This data use does not say whether anyone else sees the data.",
                "Set shared_with_third_parties to true or false.",
            )
        )
    return issues


def run(ctx: CheckContext) -> list[Issue]:
    uses = ctx.manifest.get("data_uses")
    if not isinstance(uses, list):
        return [
            Issue(
                "/data_uses",
                "The manifest does not list its uses of citizens' data.",
                "Add data_uses: one entry per scope and purpose, or an empty list if the service "
                "uses no government data.",
            )
        ]
    issues: list[Issue] = []
    for index, use in enumerate(uses):
        if isinstance(use, Mapping):
            issues.extend(_check_use(ctx, index, use))
        else:
            issues.append(
                Issue(
                    pointer("data_uses", index),
                    "This data use is not an object with a scope, purpose and lawful basis.",
                    "Write it as an object with scope, purpose, purpose_description, "
                    "lawful_basis, retention_days and shared_with_third_parties.",
                )
            )
    return issues


CHECK = register(
    Check(
        id="data-uses-complete",
        title="Data uses complete",
        description=(
            "Every data use names a published scope, a purpose, a specific purpose description, "
            "a lawful basis, a retention period and whether the data is shared. Optional uses "
            "must rest on consent, and health data cannot rest on legitimate interests."
        ),
        run=run,
    )
)

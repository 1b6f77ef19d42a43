"""Automated review checks: one module per check, each registered in REGISTRY under its id.

Guidelines name a check by id. A check reads a `CheckContext` and returns the `Issue`s it found;
the review runner turns them into findings with the guideline's code and severity.
"""

from __future__ import annotations

from review.checks import (
    accessibility_statement,
    clinical_safety,
    data_uses_complete,
    https_only,
    lowest_sufficient_tier,
    name_not_confusable,
    prohibited_terms,
    retention_bounds,
    security_contact,
)
from review.checks._core import (
    REGISTRY,
    Check,
    CheckContext,
    Issue,
    NameIndex,
    Result,
    ScopeInfo,
    register,
)
from review.checks.name_not_confusable import ConfusableIndex

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "ConfusableIndex",
    "Issue",
    "NameIndex",
    "Result",
    "ScopeInfo",
    "accessibility_statement",
    "clinical_safety",
    "data_uses_complete",
    "https_only",
    "lowest_sufficient_tier",
    "name_not_confusable",
    "prohibited_terms",
    "register",
    "retention_bounds",
    "security_contact",
]

"""prohibited-terms: the listing does not claim official status or endorsement, or promise results.

Text is folded (`_confusables.fold`: NFKC, casefold, look-alike letters and digits) before it
is searched, so "0fficial", the word in fullwidth letters and one spelt with a Cyrillic o are
all found. A term matches as whole words, with any spacing or punctuation between its words
("risk free", "risk-free", "riskfree"). A flag is not a verdict: the reviewer decides whether a
word is used honestly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from review.checks._confusables import fold, fold_with_origins
from review.checks._core import Check, CheckContext, Issue, register

LISTING_FIELDS = ("name", "summary", "description")
_NAME_ONLY = ("name",)

OFFICIAL = "suggests the service is run by government"
ENDORSED = "claims an endorsement"
DEPARTMENT = "borrows a government body's name"
PROMISE = "promises a result no service can guarantee"
MEDICAL = "makes a medical claim"
GAMBLING_OR_CREDIT = "promotes gambling or high-cost credit"


@dataclass(frozen=True, slots=True)
class ProhibitedTerm:
    """A word or phrase a listing must not use, what it claims, and where it is looked for."""

    term: str
    claim: str
    fields: Sequence[str] = LISTING_FIELDS


PROHIBITED_TERMS: tuple[ProhibitedTerm, ...] = (
    # Official status and endorsement.
    ProhibitedTerm("official", OFFICIAL),
    ProhibitedTerm("officially", OFFICIAL),
    ProhibitedTerm("government approved", ENDORSED),
    ProhibitedTerm("government endorsed", ENDORSED),
    ProhibitedTerm("government backed", ENDORSED),
    ProhibitedTerm("approved by government", ENDORSED),
    ProhibitedTerm("approved by the government", ENDORSED),
    ProhibitedTerm("endorsed by", ENDORSED),
    ProhibitedTerm("nhs approved", ENDORSED),
    ProhibitedTerm("nhs endorsed", ENDORSED),
    # Government bodies' names. Only the name is searched: a summary or description that says
    # "we confirm with HMRC that your income is under the limit" names a data source honestly.
    ProhibitedTerm("gov.uk", DEPARTMENT, _NAME_ONLY),
    ProhibitedTerm("hm government", DEPARTMENT, _NAME_ONLY),
    ProhibitedTerm("hmrc", DEPARTMENT, _NAME_ONLY),
    ProhibitedTerm("dwp", DEPARTMENT, _NAME_ONLY),
    ProhibitedTerm("dvla", DEPARTMENT, _NAME_ONLY),
    ProhibitedTerm("nhs", DEPARTMENT, _NAME_ONLY),
    # Promises.
    ProhibitedTerm("guaranteed", PROMISE),
    ProhibitedTerm("we guarantee", PROMISE),
    ProhibitedTerm("risk-free", PROMISE),
    ProhibitedTerm("100% accurate", PROMISE),
    ProhibitedTerm("100% success", PROMISE),
    # Medical claims.
    ProhibitedTerm("cure", MEDICAL),
    ProhibitedTerm("cures", MEDICAL),
    ProhibitedTerm("miracle", MEDICAL),
    ProhibitedTerm("miraculous", MEDICAL),
    # Gambling and high-cost credit (guideline CONT-1).
    ProhibitedTerm("casino", GAMBLING_OR_CREDIT),
    ProhibitedTerm("payday loan", GAMBLING_OR_CREDIT),
    ProhibitedTerm("payday loans", GAMBLING_OR_CREDIT),
    ProhibitedTerm("no credit check", GAMBLING_OR_CREDIT),
)

_FIELD_WORDS = {"name": "name", "summary": "summary", "description": "description"}
_TOKEN = re.compile(r"[^\W_]+")


def _term_pattern(term: str) -> str:
    # Fold each word as the text will be folded; any separators (or none) may join the words.
    return r"[\W_]*".join(re.escape(fold(word)) for word in _TOKEN.findall(term))


def _field_matcher(field: str) -> tuple[re.Pattern[str], list[ProhibitedTerm]]:
    """One alternation per field, longest terms first so "nhs approved" wins over "nhs".

    The whole-word test sits outside the alternation: inside it, every term would repeat the
    look-behind at every position, which is several times slower.
    """
    terms = sorted(
        (term for term in PROHIBITED_TERMS if field in term.fields),
        key=lambda term: -len(term.term),
    )
    alternation = "|".join(f"(?P<t{i}>{_term_pattern(term.term)})" for i, term in enumerate(terms))
    return re.compile(rf"(?<![^\W_])(?:{alternation})(?![^\W_])"), terms


_MATCHERS = {field: _field_matcher(field) for field in LISTING_FIELDS}


def _as_written(value: str, folded: str, start: int, end: int) -> str | None:
    """The stretch of `value` that folded to folded[start:end], if it can be traced back."""
    traced, origins = fold_with_origins(value)
    if traced != folded:
        return None
    return value[origins[start] : origins[end - 1] + 1]


def run(ctx: CheckContext) -> list[Issue]:
    issues: list[Issue] = []
    for field in LISTING_FIELDS:
        value = ctx.manifest.get(field)
        if not isinstance(value, str) or not value:
            continue
        pattern, terms = _MATCHERS[field]
        folded = fold(value)
        seen: set[str] = set()
        for match in pattern.finditer(folded):
            term = terms[int(str(match.lastgroup)[1:])]
            if term.term in seen:
                continue
            seen.add(term.term)
            written = _as_written(value, folded, match.start(), match.end()) or term.term
            read_as = "" if written.casefold() == term.term else f" (read as “{term.term}”)"
            issues.append(
                Issue(
                    f"/{field}",
                    f"The {_FIELD_WORDS[field]} says “{written}”{read_as}, which {term.claim}.",
                    f"Remove or rephrase “{written}”. If it is accurate, for example because the "
                    "body named really runs or endorses the service, explain that to the "
                    "reviewer, who decides.",
                )
            )
    return issues


CHECK = register(
    Check(
        id="prohibited-terms",
        title="No prohibited terms",
        description=(
            "The name, summary and description must not claim official status or endorsement, "
            "borrow a government body's name (in the name), promise guaranteed, risk-free or "
            "miraculous results, or promote gambling or high-cost credit. Look-alike letters "
            "and digits are folded before searching."
        ),
        run=run,
    )
)

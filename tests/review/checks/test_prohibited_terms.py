from __future__ import annotations

import pytest

from review.checks import prohibited_terms
from review.checks.prohibited_terms import PROHIBITED_TERMS, run


def test_a_plain_listing_passes(context, manifest):
    # Its description says it "confirms with HMRC": naming a data source is honest.
    assert "HMRC" in manifest()["description"]
    assert run(context(manifest())) == []


@pytest.mark.parametrize(
    ("field", "text", "written", "term"),
    [
        ("name", "Official Bus Pass Renewal", "Official", "official"),
        ("name", "Bus Pass GOV.UK", "GOV.UK", "gov.uk"),
        ("name", "HMRC Tax Helper", "HMRC", "hmrc"),
        ("name", "NHS Approved Pharmacy", "NHS Approved", "nhs approved"),
        ("summary", "Guaranteed results for your benefit claim", "Guaranteed", "guaranteed"),
        ("summary", "A risk free way to check your tax code", "risk free", "risk-free"),
        ("summary", "A riskfree way to check your tax code", "riskfree", "risk-free"),
        ("description", "Our tracker is endorsed by NHS England.", "endorsed by", "endorsed by"),
        (
            "description",
            "Results that are 100% accurate every time.",
            "100% accurate",
            "100% accurate",
        ),
        ("description", "Apply for payday loans in minutes.", "payday loans", "payday loans"),
    ],
)
def test_a_prohibited_term_is_reported_at_its_field(context, manifest, field, text, written, term):
    issues = run(context(manifest(**{field: text})))
    assert [issue.pointer for issue in issues] == [f"/{field}"]
    assert f"says “{written}”" in issues[0].message
    assert f"Remove or rephrase “{written}”" in issues[0].fix


@pytest.mark.parametrize(
    "written",
    [
        "0fficial",
        "Offic1al",
        "\N{CYRILLIC SMALL LETTER O}fficial",
        "\N{FULLWIDTH LATIN CAPITAL LETTER O}\N{FULLWIDTH LATIN CAPITAL LETTER F}FICIAL",
        "Ofﬁcial",  # the fi ligature
        "Offícial",
    ],
)
def test_look_alike_spellings_are_caught_and_quoted_as_written(context, manifest, written):
    issues = run(context(manifest(name=f"The {written} Grant Checker")))
    assert [issue.pointer for issue in issues] == ["/name"]
    assert issues[0].message.startswith(f"The name says “{written}”")
    assert issues[0].message.endswith("which suggests the service is run by government.")


def test_a_look_alike_spelling_is_explained(context, manifest):
    issues = run(context(manifest(name="0fficial Grant Checker")))
    assert issues[0].message == (
        "The name says “0fficial” (read as “official”), which suggests the service is run "
        "by government."
    )


def test_department_names_are_only_searched_in_the_name(context, manifest):
    document = manifest(
        summary="Check your HMRC tax code and DWP payments",
        description="We confirm with the DVLA and the NHS, then link you to GOV.UK.",
    )
    assert run(context(document)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Secure and procurement-ready, reviewed by our officer",  # cure, official inside words
        "We ask again rather than guarantee",
        "Scottish curling club finder",
    ],
)
def test_terms_match_whole_words_only(context, manifest, text):
    assert run(context(manifest(description=text))) == []


def test_each_term_is_reported_once_per_field_and_every_field_is_searched(context, manifest):
    document = manifest(
        name="Official Grant Checker",
        summary="The official, officially official grant checker",
        description="A miracle cure. Another miracle.",
    )
    issues = run(context(document))
    assert [(issue.pointer, issue.message.split("“")[1].split("”")[0]) for issue in issues] == [
        ("/name", "Official"),
        ("/summary", "official"),
        ("/summary", "officially"),
        ("/description", "miracle"),
        ("/description", "cure"),
    ]


def test_the_longer_phrase_wins_over_the_word_inside_it(context, manifest):
    issues = run(context(manifest(name="NHS Endorsed Bookings")))
    assert len(issues) == 1
    assert "“NHS Endorsed”" in issues[0].message


def test_every_term_matches_itself(context, manifest):
    for term in PROHIBITED_TERMS:
        issues = run(context(manifest(**{term.fields[0]: f"Something {term.term} here"})))
        assert issues, term.term


def test_the_check_is_registered_under_its_id():
    assert prohibited_terms.CHECK.id == "prohibited-terms"

from __future__ import annotations

import pytest

from review.checks import data_uses_complete
from review.checks.data_uses_complete import run


def test_a_complete_manifest_passes(context, manifest):
    assert run(context(manifest())) == []


def test_a_service_using_no_data_passes(context, manifest):
    assert run(context(manifest(data_uses=[]))) == []


def test_missing_data_uses_is_reported(context, manifest):
    issues = run(context(manifest(data_uses=None)))
    assert [issue.pointer for issue in issues] == ["/data_uses"]


def test_a_data_use_that_is_not_an_object_is_reported(context, manifest, data_use):
    issues = run(context(manifest(data_uses=[data_use(), "income.verify"])))
    assert [issue.pointer for issue in issues] == ["/data_uses/1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scope", None),
        ("scope", " "),
        ("purpose", None),
        ("purpose", "marketing"),
        ("lawful_basis", None),
        ("lawful_basis", "because_we_can"),
        ("purpose_description", None),
        ("retention_days", None),
        ("retention_days", -1),
        ("retention_days", True),
        ("retention_days", "30"),
        ("shared_with_third_parties", None),
        ("shared_with_third_parties", "no"),
    ],
)
def test_each_missing_or_malformed_field_is_reported_at_its_pointer(
    context, manifest, data_use, field, value
):
    uses = [data_use(), data_use(**{field: value})]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == [f"/data_uses/1/{field}"]


def test_a_scope_that_is_not_published_is_named(context, manifest, data_use):
    issues = run(context(manifest(data_uses=[data_use(scope="income.history.read")])))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/scope"]
    assert "“income.history.read” is not a published GovStore scope" in issues[0].message
    assert "GET /v1/scopes" in issues[0].fix


def test_an_unknown_purpose_lists_the_recognised_ones(context, manifest, data_use):
    issues = run(context(manifest(data_uses=[data_use(purpose="marketing")])))
    assert "“marketing”" in issues[0].message
    assert "eligibility_check" in issues[0].fix


@pytest.mark.parametrize(
    "description",
    [
        "Checking",
        "Eligibility check",
        "For eligibility check purposes",
        "eligibility_check",
        "To use the income verify data",
    ],
)
def test_a_purpose_description_that_only_restates_the_purpose_is_reported(
    context, manifest, data_use, description
):
    issues = run(context(manifest(data_uses=[data_use(purpose_description=description)])))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/purpose_description"]
    assert description in issues[0].message


@pytest.mark.parametrize(
    "description",
    [
        "Check your household income is under the limit",
        "Show your GP your medication list",
        "Confirm you are the tenant of the home you report a repair for",
    ],
)
def test_a_specific_purpose_description_passes(context, manifest, data_use, description):
    assert run(context(manifest(data_uses=[data_use(purpose_description=description)]))) == []


def test_an_optional_use_must_rest_on_consent(context, manifest, data_use):
    uses = [data_use(optional=True, lawful_basis="public_task")]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/lawful_basis"]
    assert "optional" in issues[0].message
    assert "public task" in issues[0].message


@pytest.mark.parametrize(("optional", "basis"), [(True, "consent"), (False, "contract")])
def test_optional_on_consent_and_required_on_other_bases_pass(
    context, manifest, data_use, optional, basis
):
    uses = [data_use(optional=optional, lawful_basis=basis)]
    assert run(context(manifest(data_uses=uses))) == []


@pytest.mark.parametrize(
    "scope",
    [
        "health.summary.read",  # named health.*
        "prescriptions.exemption.verify",  # owned by the NHS
    ],
)
def test_health_data_on_legitimate_interests_is_reported(context, manifest, data_use, scope):
    uses = [data_use(scope=scope, lawful_basis="legitimate_interests", purpose="service_delivery")]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/lawful_basis"]
    assert "special category" in issues[0].message
    assert f"“{scope}”" in issues[0].message


def test_other_data_on_legitimate_interests_passes(context, manifest, data_use):
    uses = [data_use(lawful_basis="legitimate_interests", purpose="fraud_prevention")]
    assert run(context(manifest(data_uses=uses))) == []


def test_a_withdrawn_health_scope_is_still_treated_as_health_data(context, manifest, data_use):
    uses = [data_use(scope="health.records.read", lawful_basis="legitimate_interests")]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == [
        "/data_uses/0/scope",
        "/data_uses/0/lawful_basis",
    ]


def test_every_problem_in_every_data_use_is_reported(context, manifest, data_use):
    uses = [
        data_use(scope="nope.read", retention_days=None),
        data_use(),
        data_use(purpose=None, purpose_description="Eligible"),
    ]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == [
        "/data_uses/0/scope",
        "/data_uses/0/retention_days",
        "/data_uses/2/purpose",
        "/data_uses/2/purpose_description",
    ]
    assert all(issue.message and issue.fix for issue in issues)


def test_the_check_is_registered_under_its_id():
    assert data_uses_complete.CHECK.id == "data-uses-complete"

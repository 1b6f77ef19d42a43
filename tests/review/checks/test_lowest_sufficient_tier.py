from __future__ import annotations

import pytest

from review.checks import lowest_sufficient_tier
from review.checks.lowest_sufficient_tier import run, status_alternative


@pytest.mark.parametrize("purpose", ["eligibility_check", "identity_verification"])
def test_a_record_scope_for_a_yes_or_no_purpose_points_to_the_status_scope(
    context, manifest, data_use, purpose
):
    uses = [data_use(), data_use(scope="income.read", purpose=purpose)]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == ["/data_uses/1/scope"]
    assert "“income.read” is a record-tier scope" in issues[0].message
    assert "“income.verify”" in issues[0].message
    assert "HM Revenue & Customs" in issues[0].message
    assert issues[0].fix.startswith("Ask for income.verify instead.")


def test_a_summary_scope_is_flagged_too(context, manifest, data_use):
    uses = [data_use(scope="employment.history.read")]
    issues = run(context(manifest(data_uses=uses)))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/scope"]
    # No status scope shares "employment", so the owner's other status scope is offered.
    assert "“income.verify”" in issues[0].message


@pytest.mark.parametrize("purpose", ["service_delivery", "personalisation", "research"])
def test_other_purposes_may_use_a_record(context, manifest, data_use, purpose):
    uses = [data_use(scope="income.read", purpose=purpose)]
    assert run(context(manifest(data_uses=uses))) == []


def test_a_status_scope_passes(context, manifest):
    assert run(context(manifest())) == []


def test_no_finding_when_the_owner_publishes_no_status_scope(context, manifest, data_use):
    uses = [data_use(scope="land.title.read")]
    assert run(context(manifest(data_uses=uses))) == []


def test_an_unpublished_scope_is_left_to_data_uses_complete(context, manifest, data_use):
    uses = [data_use(scope="income.history.read")]
    assert run(context(manifest(data_uses=uses))) == []


def test_the_closest_status_scope_by_name_is_preferred(scopes):
    # DVLA publishes vehicle.tax.verify, driving.age.verify and driving.licence.verify.
    alternative = status_alternative(scopes["driving.licence.read"], scopes)
    assert alternative is not None
    assert alternative.name == "driving.licence.verify"


def test_the_same_data_owner_is_required(scopes):
    alternative = status_alternative(scopes["health.summary.read"], scopes)
    assert alternative is not None
    assert alternative.name == "prescriptions.exemption.verify"
    assert status_alternative(scopes["land.title.read"], scopes) is None


def test_the_check_is_registered_under_its_id():
    assert lowest_sufficient_tier.CHECK.id == "lowest-sufficient-tier"

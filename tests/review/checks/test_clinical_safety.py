from __future__ import annotations

import pytest

from review.checks import ScopeInfo, clinical_safety
from review.checks._manifest import is_health_scope
from review.checks.clinical_safety import applies, run


def test_it_applies_to_the_health_category(context, manifest):
    assert applies(context(manifest("acme-gp-online")))


@pytest.mark.parametrize(
    "scope",
    [
        "health.summary.read",  # named health.*
        "prescriptions.exemption.verify",  # owned by the NHS
        "health.records.read",  # not published (any more), but named health.*
    ],
)
def test_it_applies_to_any_service_asking_for_health_data(context, manifest, data_use, scope):
    document = manifest(category="benefits", data_uses=[data_use(), data_use(scope=scope)])
    assert applies(context(document))


def test_it_does_not_apply_to_other_services(context, manifest):
    assert not applies(context(manifest()))
    assert not applies(context(manifest("bus-pass-sandbox")))


def test_a_health_service_with_its_safety_arrangements_passes(context, manifest):
    assert run(context(manifest("acme-gp-online"))) == []


def test_missing_arrangements_are_reported(context, manifest):
    issues = run(context(manifest("acme-gp-online", clinical_safety=None)))
    assert [issue.pointer for issue in issues] == ["/clinical_safety"]
    assert "officer" in issues[0].fix
    assert "dcb0129_hazard_log" in issues[0].fix


@pytest.mark.parametrize("value", [None, "", "  ", "TBC", "n/a"])
def test_an_officer_must_be_named(context, manifest, value):
    safety = {"dcb0129_hazard_log": "HL-2026-01"}
    if value is not None:
        safety["officer"] = value
    issues = run(context(manifest("acme-gp-online", clinical_safety=safety)))
    assert [issue.pointer for issue in issues] == ["/clinical_safety/officer"]
    assert "Clinical Safety Officer" in issues[0].message


@pytest.mark.parametrize("value", [None, "", "tbd"])
def test_a_hazard_log_must_be_referenced(context, manifest, value):
    safety = {"officer": "Dr A Example"}
    if value is not None:
        safety["dcb0129_hazard_log"] = value
    issues = run(context(manifest("acme-gp-online", clinical_safety=safety)))
    assert [issue.pointer for issue in issues] == ["/clinical_safety/dcb0129_hazard_log"]
    assert "DCB0129" in issues[0].message


def test_a_non_health_service_asking_for_health_data_is_reported_at_its_category(
    context, manifest, data_use
):
    uses = [data_use(scope="health.summary.read", purpose="service_delivery")]
    document = manifest("acme-gp-online", category="education", data_uses=uses)
    issues = run(context(document))
    assert [issue.pointer for issue in issues] == ["/category"]
    assert "(health.summary.read)" in issues[0].message
    assert "“education”" in issues[0].message


def test_a_non_health_service_without_arrangements_gets_both_findings(context, manifest, data_use):
    uses = [data_use(scope="prescriptions.exemption.verify")]
    issues = run(context(manifest(category="benefits", data_uses=uses)))
    assert [issue.pointer for issue in issues] == ["/category", "/clinical_safety"]


def test_the_check_is_registered_under_its_id():
    assert clinical_safety.CHECK.id == "clinical-safety"
    assert clinical_safety.CHECK.applies is applies


@pytest.mark.parametrize(
    ("owner", "health"),
    [
        ("NHS England", True),
        ("NHSBSA", True),
        ("Department of Health and Social Care", True),
        ("UK Health Security Agency", True),
        ("Health and Safety Executive", False),
        ("DVLA", False),
    ],
)
def test_health_data_is_recognised_by_its_owner(owner, health):
    scope = ScopeInfo(name="records.read", tier="record", sensitivity="high", data_owner=owner)
    assert is_health_scope("records.read", scope) is health
    assert is_health_scope("health.anything.read", None)

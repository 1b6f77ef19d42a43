from __future__ import annotations

import pytest

from review.checks import retention_bounds
from review.checks.retention_bounds import (
    MAX_RETENTION_DAYS_BY_PURPOSE,
    MAX_RETENTION_DAYS_BY_TIER,
    run,
)


def test_the_bounds_are_the_published_ones():
    assert MAX_RETENTION_DAYS_BY_TIER == {"status": 90, "summary": 365, "record": 730}
    assert MAX_RETENTION_DAYS_BY_PURPOSE == {"eligibility_check": 30}


@pytest.mark.parametrize(
    ("scope", "limit"),
    [("income.verify", 90), ("health.summary.read", 365), ("income.read", 730)],
)
def test_each_tier_allows_up_to_its_bound(context, manifest, data_use, scope, limit):
    within = [data_use(scope=scope, purpose="service_delivery", retention_days=limit)]
    assert run(context(manifest(data_uses=within))) == []

    beyond = [data_use(scope=scope, purpose="service_delivery", retention_days=limit + 1)]
    issues = run(context(manifest(data_uses=beyond)))
    assert [issue.pointer for issue in issues] == ["/data_uses/0/retention_days"]
    assert f"You keep this data for {limit + 1} days" in issues[0].message
    assert f"at most {limit} days" in issues[0].message
    assert f"Lower retention_days to {limit} or fewer" in issues[0].fix


def test_an_eligibility_check_is_bounded_at_30_days(context, manifest, data_use):
    assert run(context(manifest(data_uses=[data_use(retention_days=30)]))) == []

    issues = run(context(manifest(data_uses=[data_use(), data_use(retention_days=31)])))
    assert [issue.pointer for issue in issues] == ["/data_uses/1/retention_days"]
    assert "eligibility check may be kept at most 30 days" in issues[0].message
    assert "ask again" in issues[0].message


def test_the_tighter_of_tier_and_purpose_applies(context, manifest, data_use):
    uses = [data_use(scope="income.read", retention_days=60)]
    issues = run(context(manifest(data_uses=uses)))
    assert "at most 30 days" in issues[0].message


def test_an_unpublished_scope_is_still_held_to_its_purpose(context, manifest, data_use):
    eligibility = [data_use(scope="income.history.read", retention_days=45)]
    assert len(run(context(manifest(data_uses=eligibility)))) == 1

    delivery = [
        data_use(scope="income.history.read", purpose="service_delivery", retention_days=3650)
    ]
    assert run(context(manifest(data_uses=delivery))) == []


@pytest.mark.parametrize("days", [None, "30", True, 12.5])
def test_a_missing_or_malformed_retention_is_left_to_data_uses_complete(
    context, manifest, data_use, days
):
    assert run(context(manifest(data_uses=[data_use(retention_days=days)]))) == []


def test_the_check_is_registered_under_its_id():
    assert retention_bounds.CHECK.id == "retention-bounds"

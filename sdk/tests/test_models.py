from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

import govstore

RELEASE = {
    "id": "rel_1",
    "service_id": "svc_1",
    "number": 1,
    "status": "submitted",
    "guideline_version": "2026.1",
    "created_at": "2026-01-02T03:04:05Z",
    "status_changed_at": "2026-01-02T03:04:05Z",
}


def test_new_server_fields_are_kept_not_rejected() -> None:
    release = govstore.Release.model_validate(
        {
            **RELEASE,
            "status": "awaiting_review",
            "queue_position": 3,
            "history": [
                {
                    "status": "submitted",
                    "action": "submit",
                    "at": "2026-01-02T03:04:05Z",
                    "note": "new",
                }
            ],
        }
    )

    assert release.model_extra == {"queue_position": 3}
    assert release.history[0].model_extra == {"note": "new"}


def test_timestamps_are_datetimes() -> None:
    token = govstore.ApiToken.model_validate(
        {
            "id": "tok_1",
            "name": "ci",
            "prefix": "gst_ab12",
            "scopes": ["read"],
            "created_at": "2026-01-02T03:04:05Z",
            "expires_at": "2026-04-02T03:04:05+01:00",
        }
    )

    assert token.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert token.expires_at == datetime(2026, 4, 2, 2, 4, 5, tzinfo=UTC)
    assert token.token is None


def test_release_status_compares_with_plain_strings() -> None:
    release = govstore.Release.model_validate({**RELEASE, "status": "approved"})

    assert release.status == govstore.ReleaseStatus.APPROVED
    assert {status.value for status in govstore.ReleaseStatus} >= {"submitted", "superseded"}


def test_an_unknown_release_status_still_parses() -> None:
    release = govstore.Release.model_validate({**RELEASE, "status": "archived"})

    assert release.status == "archived"


def test_a_release_is_a_release_summary_with_more() -> None:
    release = govstore.Release.model_validate(RELEASE)

    assert isinstance(release, govstore.ReleaseSummary)
    assert release.number == 1
    assert release.changed_fields is None
    assert release.history == []


def test_token_scopes_are_the_servers() -> None:
    assert [scope.value for scope in govstore.ApiTokenScope] == [
        "read",
        "organisations:write",
        "services:write",
        "review:write",
        "admin:write",
    ]


def test_a_release_detail_is_a_release_with_its_review() -> None:
    detail = govstore.ReleaseDetail.model_validate(
        {
            **RELEASE,
            "findings": [
                {
                    "code": "ACC-1",
                    "source": "automated",
                    "check": "accessibility-statement",
                    "result": "fail",
                    "severity": "blocking",
                    "pointer": "/accessibility_statement_url",
                    "message": "no statement",
                    "fix": "publish one",
                    "created_at": "2026-01-02T03:04:05Z",
                }
            ],
            "decision": None,
            "queue": {"position": 2, "median_time_to_decision_seconds": 3600.5},
        }
    )

    assert isinstance(detail, govstore.Release)
    assert detail.findings[0].result == govstore.FindingResult.FAIL
    assert detail.queue is not None and detail.queue.position == 2
    assert govstore.ReleaseDetail.model_validate(RELEASE).findings == []


def test_a_finding_input_takes_enum_or_text_and_refuses_unknown_fields() -> None:
    finding = govstore.FindingInput(code="PRIV-1", result="not_applicable")

    assert finding.result is govstore.FindingResult.NOT_APPLICABLE
    assert finding.model_dump(mode="json", exclude_none=True) == {
        "code": "PRIV-1",
        "result": "not_applicable",
    }
    with pytest.raises(pydantic.ValidationError):
        govstore.FindingInput.model_validate({"code": "PRIV-1", "result": "pass", "resutl": "x"})
    with pytest.raises(pydantic.ValidationError):
        govstore.FindingInput(code="PRIV-1", result="maybe")


def test_review_enums_are_the_servers() -> None:
    assert [o.value for o in govstore.DecisionOutcome] == ["approve", "reject", "request_changes"]
    assert [r.value for r in govstore.FindingResult] == ["pass", "fail", "not_applicable"]
    assert [s.value for s in govstore.DeliveryStatus] == ["pending", "delivered", "failed"]


def test_catalogue_enums_are_the_servers() -> None:
    assert [s.value for s in govstore.SearchSort] == ["relevance", "rating", "newest", "name"]
    assert [s.value for s in govstore.ComplaintStatus] == ["open", "responded", "resolved"]
    assert "data_misuse" in {c.value for c in govstore.ComplaintCategory}


def test_a_service_pages_ratings_are_a_rating_summary_with_a_distribution() -> None:
    ratings = govstore.RatingBreakdown.model_validate(
        {"count": 1, "mean": 5.0, "distribution": {"5": 1}}
    )

    assert isinstance(ratings, govstore.RatingSummary)
    assert ratings.distribution == {"5": 1}

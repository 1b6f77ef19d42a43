from __future__ import annotations

from datetime import UTC, datetime

import govstore


def test_new_server_fields_are_kept_not_rejected() -> None:
    release = govstore.Release.model_validate(
        {
            "id": "rel_1",
            "service_id": "svc_1",
            "status": "awaiting_review",
            "created_at": "2026-01-02T03:04:05Z",
            "queue_position": 3,
            "history": [{"status": "submitted", "at": "2026-01-02T03:04:05Z", "note": "new"}],
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
            "scopes": [],
            "expires_at": None,
            "created_at": "2026-01-02T03:04:05Z",
        }
    )

    assert token.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert token.expires_at is None
    assert token.token is None


def test_release_status_compares_with_plain_strings() -> None:
    release = govstore.Release.model_validate(
        {
            "id": "rel_1",
            "service_id": "svc_1",
            "status": "approved",
            "created_at": "2026-01-02T03:04:05Z",
        }
    )

    assert release.status == govstore.ReleaseStatus.APPROVED
    assert {status.value for status in govstore.ReleaseStatus} >= {"submitted", "superseded"}


def test_an_unknown_release_status_still_parses() -> None:
    release = govstore.Release.model_validate(
        {
            "id": "rel_1",
            "service_id": "svc_1",
            "status": "archived",
            "created_at": "2026-01-02T03:04:05Z",
        }
    )

    assert release.status == "archived"


def test_service_releases_are_optional() -> None:
    service = govstore.Service.model_validate(
        {
            "id": "svc_1",
            "slug": "acme",
            "name": "Acme",
            "organisation_id": "org_1",
            "created_at": "2026-01-02T03:04:05Z",
        }
    )

    assert service.releases is None

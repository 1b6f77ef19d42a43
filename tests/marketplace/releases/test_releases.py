"""Services and releases: creation, submission with every error pointed, withdrawal, visibility."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from testkit import Actor, SignUp, assert_problem, manifest_fixture, settle


@pytest.fixture
def manifest() -> dict[str, Any]:
    return manifest_fixture("acme-gp-online")


async def test_create_service(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any]
) -> None:
    url = f"/v1/organisations/{organisation['id']}/services"
    r = await client.post(
        url, json={"slug": "acme-gp", "name": "Acme GP"}, headers=provider.headers
    )
    assert r.status_code == 201, r.text
    service = r.json()
    assert service["id"].startswith("svc_") and service["releases"] == []
    view = (await client.get(f"/v1/services/{service['id']}", headers=provider.headers)).json()
    # The provider view adds what approval brings: none of it yet.
    assert view == {**service, "kitemarks": [], "scope_grants": [], "oauth_client_id": None}
    listed = (await client.get(url, headers=provider.headers)).json()["items"]
    assert [s["id"] for s in listed] == [service["id"]]
    assert_problem(
        await client.post(url, json={"slug": "acme-gp", "name": "Again"}, headers=provider.headers),
        409,
    )
    assert_problem(
        await client.post(url, json={"slug": "Acme GP!", "name": "A"}, headers=provider.headers),
        422,
        "/slug",
        "/name",
    )


async def test_slug_race_has_one_winner(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any]
) -> None:
    url = f"/v1/organisations/{organisation['id']}/services"
    results = await asyncio.gather(
        *[
            client.post(url, json={"slug": "same-slug", "name": "Same"}, headers=provider.headers)
            for _ in range(3)
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409]


async def test_submit_release(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    published: dict[str, Any],
    manifest: dict[str, Any],
) -> None:
    r = await client.post(
        f"/v1/services/{service['id']}/releases",
        json={"manifest": manifest},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    release = r.json()
    assert release["id"].startswith("rel_")
    assert release["status"] == "submitted"
    assert release["number"] == 1
    assert release["guideline_version"] == "2026.1"
    assert release["manifest"] == manifest
    assert release["previous_release_id"] is None and release["changed_fields"] is None
    assert [(h["status"], h["action"]) for h in release["history"]] == [("submitted", "submit")]
    got = (
        await client.get(
            f"/v1/services/{service['id']}/releases/{release['id']}", headers=provider.headers
        )
    ).json()
    # Automated review may already have moved it on; everything else reads back as submitted.
    moving = {"status", "history", "status_changed_at"}
    assert {k: v for k, v in got.items() if k in release and k not in moving} == {
        k: v for k, v in release.items() if k not in moving
    }
    assert got["history"][0] == release["history"][0]
    listed = (
        await client.get(f"/v1/services/{service['id']}/releases", headers=provider.headers)
    ).json()
    assert [x["id"] for x in listed["items"]] == [release["id"]]
    # One release in review at a time.
    again = await client.post(
        f"/v1/services/{service['id']}/releases",
        json={"manifest": manifest},
        headers=provider.headers,
    )
    assert_problem(again, 409)


async def test_invalid_manifest_lists_every_pointer(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    published: dict[str, Any],
    manifest: dict[str, Any],
) -> None:
    bad = copy.deepcopy(manifest)
    del bad["clinical_safety"]
    bad["data_uses"][0]["purpose"] = "snooping"
    bad["data_uses"][0]["retention_days"] = -1
    bad["colour"] = "blue"
    r = await client.post(
        f"/v1/services/{service['id']}/releases", json={"manifest": bad}, headers=provider.headers
    )
    assert_problem(
        r,
        422,
        "/manifest/clinical_safety",
        "/manifest/data_uses/0/purpose",
        "/manifest/data_uses/0/retention_days",
        "/manifest/colour",
    )
    listed = (
        await client.get(f"/v1/services/{service['id']}/releases", headers=provider.headers)
    ).json()
    assert listed["items"] == []


async def test_unknown_scopes_and_schemes_are_errors(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    published: dict[str, Any],
    manifest: dict[str, Any],
) -> None:
    bad = copy.deepcopy(manifest)
    bad["data_uses"].append({**bad["data_uses"][0], "scope": "secrets.read"})
    bad["kitemarks"].append(
        {
            "scheme": "gold-star",
            "evidence": [{"criterion": "GOLD-1", "level": "self_assertion", "reference": "x"}],
        }
    )
    bad["kitemarks"][0]["evidence"][0]["criterion"] = "ACC-1"
    r = await client.post(
        f"/v1/services/{service['id']}/releases", json={"manifest": bad}, headers=provider.headers
    )
    assert_problem(
        r,
        422,
        "/manifest/data_uses/1/scope",
        "/manifest/kitemarks/1/scheme",
        "/manifest/kitemarks/0/evidence/0/criterion",
    )


async def test_submission_needs_a_published_guideline_version(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    admin: Actor,
) -> None:
    manifest = manifest_fixture("bus-pass-sandbox")
    r = await client.post(
        f"/v1/services/{service['id']}/releases",
        json={"manifest": manifest},
        headers=provider.headers,
    )
    assert_problem(r, 409)


async def test_withdraw_and_resubmit_links_previous(
    app: Starlette,
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    published: dict[str, Any],
    manifest: dict[str, Any],
) -> None:
    base = f"/v1/services/{service['id']}/releases"
    first = (await client.post(base, json={"manifest": manifest}, headers=provider.headers)).json()
    await settle(app)  # automated review has run: the release waits for a reviewer
    r = await client.post(
        f"{base}/{first['id']}/withdraw",
        json={"reason": "wrong retention"},
        headers=provider.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    assert r.json()["history"][-1] == {
        **r.json()["history"][-1],
        "status": "withdrawn",
        "previous_status": "awaiting_review",
        "reason": "wrong retention",
        "actor_id": provider.id,
    }
    body = assert_problem(
        await client.post(f"{base}/{first['id']}/withdraw", json={}, headers=provider.headers), 409
    )
    assert body["current_status"] == "withdrawn"
    changed = copy.deepcopy(manifest)
    changed["summary"] = "Book, hold and follow up GP video consultations"
    second = await client.post(base, json={"manifest": changed}, headers=provider.headers)
    assert second.status_code == 201
    assert second.json()["number"] == 2
    assert second.json()["previous_release_id"] == first["id"]
    assert second.json()["changed_fields"] == ["/summary"]
    # The body is optional: no reason, no body.
    r = await client.post(f"{base}/{second.json()['id']}/withdraw", headers=provider.headers)
    assert r.status_code == 200, r.text
    assert r.json()["history"][-1]["reason"] is None


async def test_only_members_see_services_and_releases(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    sign_up: SignUp,
    published: dict[str, Any],
    manifest: dict[str, Any],
    admin: Actor,
    organisation: dict[str, Any],
) -> None:
    release = (
        await client.post(
            f"/v1/services/{service['id']}/releases",
            json={"manifest": manifest},
            headers=provider.headers,
        )
    ).json()
    outsider = await sign_up("provider")
    citizen = await sign_up("citizen")
    for actor in (outsider, citizen, admin):
        h = actor.headers
        assert_problem(await client.get(f"/v1/services/{service['id']}", headers=h), 404)
        assert_problem(await client.get(f"/v1/services/{service['id']}/releases", headers=h), 404)
        assert_problem(
            await client.get(f"/v1/services/{service['id']}/releases/{release['id']}", headers=h),
            404,
        )
        assert_problem(
            await client.post(
                f"/v1/services/{service['id']}/releases/{release['id']}/withdraw",
                json={},
                headers=h,
            ),
            404,
        )
        assert_problem(
            await client.post(
                f"/v1/services/{service['id']}/releases", json={"manifest": manifest}, headers=h
            ),
            404,
        )
        assert_problem(
            await client.post(
                f"/v1/organisations/{organisation['id']}/services",
                json={"slug": "sneaky", "name": "Sneaky"},
                headers=h,
            ),
            404,
        )
    # A release id under the wrong service is not found either.
    other_service = (
        await client.post(
            f"/v1/organisations/{organisation['id']}/services",
            json={"slug": "other-service", "name": "Other"},
            headers=provider.headers,
        )
    ).json()
    assert_problem(
        await client.get(
            f"/v1/services/{other_service['id']}/releases/{release['id']}", headers=provider.headers
        ),
        404,
    )
    assert_problem(await client.get(f"/v1/services/{service['id']}"), 401)


async def test_developer_member_can_submit(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    sign_up: SignUp,
    published: dict[str, Any],
    manifest: dict[str, Any],
    organisation: dict[str, Any],
) -> None:
    dev = await sign_up("provider", name="dev")
    await client.post(
        f"/v1/organisations/{organisation['id']}/members",
        json={"email": dev.email, "role": "developer"},
        headers=provider.headers,
    )
    r = await client.post(
        f"/v1/services/{service['id']}/releases", json={"manifest": manifest}, headers=dev.headers
    )
    assert r.status_code == 201


async def test_manifest_schema_is_published(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/schemas/service-manifest")
    assert r.status_code == 200
    schema = r.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "data_uses" in schema["properties"]


async def test_audit_events_recorded(
    client: httpx.AsyncClient,
    provider: Actor,
    service: dict[str, Any],
    published: dict[str, Any],
    manifest: dict[str, Any],
) -> None:
    from sqlmodel import select

    from marketplace.events import AuditEvent

    release = (
        await client.post(
            f"/v1/services/{service['id']}/releases",
            json={"manifest": manifest},
            headers=provider.headers,
        )
    ).json()
    await client.post(
        f"/v1/services/{service['id']}/releases/{release['id']}/withdraw",
        json={},
        headers=provider.headers,
    )
    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.db.session(write=False) as session:
        tags = [e.tag for e in (await session.exec(select(AuditEvent))).all()]
    for tag in (
        "account:account:created",
        "organisation:organisation:created",
        "service:service:created",
        "guideline:version:published",
        "guideline:scope:created",
        "release:status:changed",
    ):
        assert tag in tags
    assert tags.count("release:status:changed") == 2

"""Human review: queue, claims and leases, decisions, four eyes, conflicts of interest, appeals."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import col, update
from starlette.applications import Starlette
from testkit import GUIDELINES, Actor, SignUp, assert_problem

from marketplace.db import utcnow
from review.models import ReviewState
from review.tasks import expire_review_leases

PASS_ALL = [{"code": g["code"], "result": "pass"} for g in GUIDELINES]


def findings(**results: str) -> list[dict[str, str]]:
    return [
        {"code": g["code"], "result": results.get(g["code"].replace("-", "_"), "pass")}
        for g in GUIDELINES
    ]


async def claim(client: httpx.AsyncClient, actor: Actor, release: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/v1/review/releases/{release['id']}/claim", headers=actor.headers)


async def decide(
    client: httpx.AsyncClient, actor: Actor, release: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/review/releases/{release['id']}/decision", json=body, headers=actor.headers
    )


async def provider_view(
    client: httpx.AsyncClient, provider: Actor, release: dict[str, Any]
) -> dict[str, Any]:
    r = await client.get(
        f"/v1/services/{release['service_id']}/releases/{release['id']}", headers=provider.headers
    )
    return dict(r.json())


async def test_checks_are_listed(client: httpx.AsyncClient) -> None:
    checks = (await client.get("/v1/checks")).json()["items"]
    assert {c["id"] for c in checks} == {
        "data-uses-complete",
        "lowest-sufficient-tier",
        "retention-bounds",
        "https-only",
        "security-contact",
        "accessibility-statement",
        "clinical-safety",
        "name-not-confusable",
        "prohibited-terms",
    }


async def test_unknown_check_in_guideline_is_refused(
    client: httpx.AsyncClient, admin: Actor
) -> None:
    r = await client.post(
        "/v1/guidelines",
        json={
            "version": "2027.1",
            "title": "Next",
            "guidelines": [{**GUIDELINES[0], "check": "mind-reading", "kitemarks": []}],
        },
        headers=admin.headers,
    )
    assert_problem(r, 422, "/guidelines/0/check")


async def test_queue_and_claim(
    client: httpx.AsyncClient,
    submit: Any,
    reviewer: Actor,
    second_reviewer: Actor,
    provider: Actor,
    citizen: Actor,
) -> None:
    release = await submit("warm-home-grant-checker")
    queue = (await client.get("/v1/review/queue", headers=reviewer.headers)).json()
    assert [q["release_id"] for q in queue["items"]] == [release["id"]]
    item = queue["items"][0]
    assert item["risk_score"] >= 0 and item["waiting_seconds"] >= 0
    for outsider in (provider, citizen):
        assert_problem(await client.get("/v1/review/queue", headers=outsider.headers), 403)
        assert_problem(await claim(client, outsider, release), 403)
    r = await claim(client, reviewer, release)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review" and r.json()["claimed_by"] == reviewer.id
    assert (await client.get("/v1/review/queue", headers=reviewer.headers)).json()["items"] == []
    body = assert_problem(await claim(client, second_reviewer, release), 409)
    assert "another reviewer" in body["detail"]
    renewed = await claim(client, reviewer, release)
    assert renewed.status_code == 200
    assert renewed.json()["lease_expires_at"] >= r.json()["lease_expires_at"]
    assert (await provider_view(client, provider, release))["queue"]["position"] is None
    # Give it back: it returns to the queue.
    assert (
        await client.delete(f"/v1/review/releases/{release['id']}/claim", headers=reviewer.headers)
    ).status_code == 204
    assert (await claim(client, second_reviewer, release)).status_code == 200


async def test_racing_claims_have_one_winner(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, second_reviewer: Actor
) -> None:
    release = await submit("warm-home-grant-checker")
    results = await asyncio.gather(
        claim(client, reviewer, release), claim(client, second_reviewer, release)
    )
    assert sorted(r.status_code for r in results) == [200, 409]


async def test_expired_lease_returns_to_queue(
    app: Starlette,
    client: httpx.AsyncClient,
    submit: Any,
    reviewer: Actor,
    second_reviewer: Actor,
) -> None:
    release = await submit("warm-home-grant-checker")
    assert (await claim(client, reviewer, release)).status_code == 200
    platform = app.state.platform
    async with platform.db.transaction() as session:
        await session.exec(
            update(ReviewState)
            .where(col(ReviewState.release_id) == release["id"])
            .values(lease_expires_at=utcnow() - timedelta(minutes=1))
        )
    assert await expire_review_leases({"platform": platform}) == 1
    queue = (await client.get("/v1/review/queue", headers=second_reviewer.headers)).json()
    assert [q["release_id"] for q in queue["items"]] == [release["id"]]
    # The first reviewer's stale claim no longer lets them decide.
    r = await decide(client, reviewer, release, outcome="approve", findings=PASS_ALL)
    assert_problem(r, 409)
    assert (await claim(client, second_reviewer, release)).status_code == 200


async def test_reviewer_never_reviews_own_organisation(
    client: httpx.AsyncClient,
    submit: Any,
    provider: Actor,
    organisation: dict[str, Any],
    sign_up: SignUp,
) -> None:
    insider = await sign_up("provider", roles=("reviewer",), name="insider")
    await client.post(
        f"/v1/organisations/{organisation['id']}/members",
        json={"email": insider.email, "role": "developer"},
        headers=provider.headers,
    )
    release = await submit("warm-home-grant-checker")
    assert (await client.get("/v1/review/queue", headers=insider.headers)).json()["items"] == []
    assert_problem(await claim(client, insider, release), 403)
    assert_problem(
        await client.get(f"/v1/review/releases/{release['id']}", headers=insider.headers), 403
    )


async def test_decision_rules(client: httpx.AsyncClient, submit: Any, reviewer: Actor) -> None:
    release = await submit("warm-home-grant-checker")
    r = await decide(client, reviewer, release, outcome="approve", findings=PASS_ALL)
    body = assert_problem(r, 409)
    assert body["current_status"] == "awaiting_review"
    await claim(client, reviewer, release)
    r = await decide(client, reviewer, release, outcome="approve", findings=PASS_ALL[:1])
    body = assert_problem(r, 422, "/findings")
    assert "ACC-1" in body["errors"][0]["detail"]
    r = await decide(client, reviewer, release, outcome="approve", findings=findings(ACC_1="fail"))
    assert_problem(r, 422, "/outcome")
    r = await decide(
        client,
        reviewer,
        release,
        outcome="approve",
        findings=PASS_ALL,
        kitemarks=["clinically-safe"],
        scopes=["health.summary.read"],
    )
    assert_problem(r, 422, "/kitemarks/0", "/scopes/0")
    r = await decide(
        client,
        reviewer,
        release,
        outcome="approve",
        findings=[*PASS_ALL, {"code": "NOPE-1", "result": "pass"}],
    )
    assert_problem(r, 422, "/findings/4/code")
    r = await decide(client, reviewer, release, outcome="reject", findings=PASS_ALL)
    assert_problem(r, 422, "/findings")


async def test_approve_low_sensitivity(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, provider: Actor
) -> None:
    release = await submit("warm-home-grant-checker")
    await claim(client, reviewer, release)
    applied = [k["scheme"] for k in release["manifest"]["kitemarks"]]
    r = await decide(
        client,
        reviewer,
        release,
        outcome="approve",
        findings=PASS_ALL,
        kitemarks=applied[:1],
        scopes=["income.verify"],
        note="Clear and minimal.",
    )
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["outcome"] == "approve" and decision["needs_second_approval"] is False
    view = await provider_view(client, provider, release)
    # Approval hands over to publication in the same transaction.
    assert view["status"] == "published"
    assert [h["action"] for h in view["history"]][-2:] == ["approve", "publish"]
    assert view["decision"]["id"] == decision["id"]
    assert view["queue"] is None
    assert [f for f in view["findings"] if f["source"] == "reviewer"]


async def test_high_sensitivity_needs_a_second_reviewer(
    client: httpx.AsyncClient,
    submit: Any,
    reviewer: Actor,
    second_reviewer: Actor,
    provider: Actor,
) -> None:
    release = await submit("acme-gp-online")
    await claim(client, reviewer, release)
    r = await decide(
        client,
        reviewer,
        release,
        outcome="approve",
        findings=PASS_ALL,
        kitemarks=["privacy-assured"],
        scopes=["health.summary.read"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["needs_second_approval"] is True
    assert (await provider_view(client, provider, release))["status"] == "awaiting_second_approval"
    url = f"/v1/review/releases/{release['id']}/second-approval"
    assert_problem(await client.post(url, json={}, headers=reviewer.headers), 403)
    assert_problem(await client.post(url, json={}, headers=provider.headers), 403)
    r = await client.post(url, json={"note": "Agreed."}, headers=second_reviewer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["second_outcome"] == "approve"
    assert (await provider_view(client, provider, release))["status"] == "published"
    assert_problem(await client.post(url, json={}, headers=second_reviewer.headers), 409)


async def test_lower_tier_grant_is_allowed(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, admin: Actor
) -> None:
    release = await submit(
        "warm-home-grant-checker",
        changes={
            "data_uses": [
                {
                    "scope": "income.read",
                    "purpose": "service_delivery",
                    "purpose_description": "Work out the size of the grant you can get",
                    "lawful_basis": "consent",
                    "retention_days": 30,
                    "shared_with_third_parties": False,
                    "optional": False,
                }
            ]
        },
    )
    await claim(client, reviewer, release)
    r = await decide(
        client, reviewer, release, outcome="approve", findings=PASS_ALL, scopes=["income.verify"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["income.verify"]


async def test_reject_appeal_goes_to_someone_else(
    client: httpx.AsyncClient,
    submit: Any,
    reviewer: Actor,
    second_reviewer: Actor,
    provider: Actor,
) -> None:
    release = await submit("warm-home-grant-checker")
    await claim(client, reviewer, release)
    r = await decide(
        client,
        reviewer,
        release,
        outcome="reject",
        findings=findings(PRIV_1="fail"),
        note="Purpose too vague.",
    )
    assert r.status_code == 200
    assert r.json()["reason_codes"] == ["PRIV-1"]
    view = await provider_view(client, provider, release)
    assert view["status"] == "rejected" and view["decision"]["reason_codes"] == ["PRIV-1"]
    url = f"/v1/services/{release['service_id']}/releases/{release['id']}/appeal"
    assert_problem(
        await client.post(url, json={"reason": "short"}, headers=provider.headers), 422, "/reason"
    )
    assert_problem(
        await client.post(
            url, json={"reason": "The purpose is stated in full."}, headers=second_reviewer.headers
        ),
        404,
    )
    r = await client.post(
        url, json={"reason": "The purpose is stated in full."}, headers=provider.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_review"
    assert r.json()["queue"]["position"] == 1
    assert (await client.get("/v1/review/queue", headers=reviewer.headers)).json()["items"] == []
    assert_problem(await claim(client, reviewer, release), 403)
    assert (await claim(client, second_reviewer, release)).status_code == 200
    await decide(
        client, second_reviewer, release, outcome="reject", findings=findings(PRIV_1="fail")
    )
    assert_problem(
        await client.post(
            url, json={"reason": "Please look again, again."}, headers=provider.headers
        ),
        409,
    )


async def test_request_changes_then_resubmit(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, provider: Actor
) -> None:
    release = await submit("warm-home-grant-checker")
    await claim(client, reviewer, release)
    r = await decide(
        client,
        reviewer,
        release,
        outcome="request_changes",
        findings=findings(ACC_1="fail"),
        note="The accessibility statement is out of date.",
    )
    assert r.status_code == 200
    view = await provider_view(client, provider, release)
    assert view["status"] == "changes_requested"
    assert view["history"][-1]["reason"] == "The accessibility statement is out of date."
    manifest = {
        **view["manifest"],
        "accessibility_statement_url": "https://warmhome.example/a11y-2026",
    }
    r = await client.post(
        f"/v1/services/{release['service_id']}/releases",
        json={"manifest": manifest},
        headers=provider.headers,
    )
    assert r.status_code == 201
    assert r.json()["previous_release_id"] == release["id"]
    assert r.json()["changed_fields"] == ["/accessibility_statement_url"]


async def test_median_time_to_decision(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, provider: Actor
) -> None:
    first = await submit("warm-home-grant-checker")
    second = await submit("warm-home-grant-checker")
    await claim(client, reviewer, first)
    await decide(
        client, reviewer, first, outcome="request_changes", findings=findings(ACC_1="fail")
    )
    view = await provider_view(client, provider, second)
    assert view["queue"]["position"] == 1
    assert view["queue"]["median_time_to_decision_seconds"] is not None


async def test_reviewer_release_view(
    client: httpx.AsyncClient, submit: Any, reviewer: Actor, citizen: Actor
) -> None:
    release = await submit("acme-gp-online")
    r = await client.get(f"/v1/review/releases/{release['id']}", headers=reviewer.headers)
    assert r.status_code == 200
    view = r.json()
    assert view["manifest"]["name"] == release["manifest"]["name"]
    assert view["risk_score"] > 0 and view["risk_factors"]
    assert view["findings"]
    assert_problem(
        await client.get(f"/v1/review/releases/{release['id']}", headers=citizen.headers), 403
    )
    assert_problem(await client.get("/v1/review/releases/rel_nope", headers=reviewer.headers), 404)

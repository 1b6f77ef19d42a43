"""Webhooks: set-up rules, signed deliveries to a real receiver on 127.0.0.1, retries, the log."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from testkit import (
    Actor,
    AppFactory,
    Receiver,
    SignUp,
    assert_problem,
    client_for,
    manifest_fixture,
    running_receiver,
    settle,
)

from marketplace.webhooks.signing import verify

SECRET = "a-shared-secret-for-signing-webhooks"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as state:
        yield state


async def test_set_get_and_delete(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any], sign_up: SignUp
) -> None:
    url = f"/v1/organisations/{organisation['id']}/webhook"
    assert_problem(await client.get(url, headers=provider.headers), 404)
    r = await client.put(url, json={"url": "https://acme.example/hooks"}, headers=provider.headers)
    assert r.status_code == 200, r.text
    generated = r.json()["secret"]
    assert generated.startswith("whsec_")
    assert "release.status_changed" in r.json()["events"]
    shown = await client.get(url, headers=provider.headers)
    assert shown.json()["secret"] is None and generated not in shown.text
    r = await client.put(
        url, json={"url": "https://acme.example/hooks2", "secret": SECRET}, headers=provider.headers
    )
    assert r.json()["secret"] is None and r.json()["url"] == "https://acme.example/hooks2"
    # The secret is sealed at rest, not stored as given.
    from marketplace.webhooks.models import WebhookEndpoint

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.db.session(write=False) as session:
        stored = await session.get(WebhookEndpoint, organisation["id"])
    assert SECRET not in stored.secret_sealed
    # Developers read; only owners change; outsiders see nothing.
    dev = await sign_up("provider", name="dev")
    await client.post(
        f"/v1/organisations/{organisation['id']}/members",
        json={"email": dev.email, "role": "developer"},
        headers=provider.headers,
    )
    assert (await client.get(url, headers=dev.headers)).status_code == 200
    assert_problem(
        await client.put(url, json={"url": "https://x.example/h"}, headers=dev.headers), 403
    )
    assert_problem(await client.delete(url, headers=dev.headers), 403)
    outsider = await sign_up("provider")
    assert_problem(await client.get(url, headers=outsider.headers), 404)
    assert_problem(await client.get(f"{url}/deliveries", headers=outsider.headers), 404)
    assert (await client.delete(url, headers=provider.headers)).status_code == 204
    assert_problem(await client.get(url, headers=provider.headers), 404)


@pytest.mark.parametrize(
    "target",
    [
        "http://acme.example/hooks",
        "ftp://acme.example/h",
        "https://10.0.0.5/hooks",
        "https://user:pw@acme.example/h",
        "https://acme.example/h#frag",
        "not a url",
    ],
)
async def test_url_rules(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any], target: str
) -> None:
    r = await client.put(
        f"/v1/organisations/{organisation['id']}/webhook",
        json={"url": target},
        headers=provider.headers,
    )
    assert_problem(r, 422, "/url")


async def test_loopback_http_only_in_development(
    make_app: AppFactory, provider: Actor, organisation: dict[str, Any]
) -> None:
    app = await make_app(base_url="https://govstore.example")
    async with client_for(app) as client:
        r = await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": "http://127.0.0.1:9/hooks"},
            headers=provider.headers,
        )
    assert_problem(r, 422, "/url")


async def _submit(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any]
) -> dict[str, Any]:
    service = await client.post(
        f"/v1/organisations/{organisation['id']}/services",
        json={"slug": "warm-homes", "name": "Warm Homes"},
        headers=provider.headers,
    )
    r = await client.post(
        f"/v1/services/{service.json()['id']}/releases",
        json={"manifest": manifest_fixture("warm-home-grant-checker")},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_signed_deliveries_reach_a_real_receiver(
    make_app: AppFactory,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    receiver: Receiver,
) -> None:
    app = await make_app(webhook_backoff_seconds=0.05)
    async with client_for(app) as client:
        r = await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": receiver.url, "secret": SECRET},
            headers=provider.headers,
        )
        assert r.status_code == 200, r.text
        release = await _submit(client, provider, organisation)
        await settle(app)
        transitions = []
        for headers, body in receiver.received:
            assert headers["govstore-event"] == "release.status_changed"
            assert verify(SECRET, headers["govstore-signature"], body)
            # Independently of our verifier: t=<unix>,v1=hex(HMAC-SHA256(secret, "t.body")).
            parts = dict(p.split("=", 1) for p in headers["govstore-signature"].split(","))
            expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
            assert hmac.compare_digest(parts["v1"], expected.hexdigest())
            assert not verify("wrong-secret-wrong-secret", headers["govstore-signature"], body)
            payload = json.loads(body)
            assert payload["id"] == headers["govstore-delivery"]
            assert payload["data"]["release_id"] == release["id"]
            transitions.append((payload["data"]["from"], payload["data"]["to"]))
        assert sorted(transitions, key=str) == sorted(
            [
                (None, "submitted"),
                ("submitted", "automated_review"),
                ("automated_review", "awaiting_review"),
            ],
            key=str,
        )
        log = (
            await client.get(
                f"/v1/organisations/{organisation['id']}/webhook/deliveries",
                headers=provider.headers,
            )
        ).json()["items"]
        assert len(log) == 3 and {d["status"] for d in log} == {"delivered"}
        assert all(d["attempts"] == 1 and d["last_status_code"] == 204 for d in log)


async def test_failed_deliveries_are_retried_with_backoff(
    make_app: AppFactory,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    receiver: Receiver,
) -> None:
    app = await make_app(webhook_backoff_seconds=0.05)
    receiver.fail_first = 4
    async with client_for(app) as client:
        await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": receiver.url, "secret": SECRET},
            headers=provider.headers,
        )
        await _submit(client, provider, organisation)
        await settle(app)
        log = (
            await client.get(
                f"/v1/organisations/{organisation['id']}/webhook/deliveries",
                headers=provider.headers,
            )
        ).json()["items"]
    assert {d["status"] for d in log} == {"delivered"}
    assert sum(d["attempts"] for d in log) == 3 + 4
    assert len(receiver.received) == 3


async def test_delivery_gives_up_after_max_attempts(
    make_app: AppFactory,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    receiver: Receiver,
) -> None:
    app = await make_app(webhook_backoff_seconds=0.02, webhook_max_attempts=2)
    receiver.fail_first = 1000
    async with client_for(app) as client:
        await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": receiver.url, "secret": SECRET},
            headers=provider.headers,
        )
        await _submit(client, provider, organisation)
        await settle(app)
        log = (
            await client.get(
                f"/v1/organisations/{organisation['id']}/webhook/deliveries",
                params={"status": "failed"},
                headers=provider.headers,
            )
        ).json()["items"]
    assert len(log) == 3
    assert all(d["attempts"] == 2 and d["last_error"] == "the endpoint answered 503" for d in log)


async def test_no_webhook_no_deliveries(
    app: Starlette,
    client: httpx.AsyncClient,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
) -> None:
    await _submit(client, provider, organisation)
    await settle(app)
    from sqlmodel import select

    from marketplace.webhooks.models import WebhookDelivery

    async with app.state.platform.db.session(write=False) as session:
        assert (await session.exec(select(WebhookDelivery))).all() == []


@pytest.mark.parametrize(
    "target",
    [
        "https://167772165/hooks",
        "https://0x7f000001/hooks",
        "https://127.1/hooks",
        "https://2852039166/latest/meta-data",
        "https://[::ffff:10.0.0.1]/hooks",
    ],
)
async def test_disguised_internal_addresses_are_refused(
    make_app: AppFactory, provider: Actor, organisation: dict[str, Any], target: str
) -> None:
    app = await make_app(base_url="https://govstore.example")
    async with client_for(app) as client:
        r = await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": target},
            headers=provider.headers,
        )
    assert_problem(r, 422, "/url")


async def test_delivery_refuses_a_host_resolving_inside(
    make_app: AppFactory, settings: Any
) -> None:
    from marketplace.webhooks.services import _resolution_problem

    production = settings.model_copy(update={"base_url": "https://govstore.example"})
    assert await _resolution_problem("https://localhost./hooks", production) is not None
    assert await _resolution_problem("https://localhost./hooks", settings) is None


async def test_removing_the_webhook_fails_pending_deliveries(
    make_app: AppFactory,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    receiver: Receiver,
) -> None:
    app = await make_app(webhook_backoff_seconds=30)
    receiver.fail_first = 1000
    async with client_for(app) as client:
        url = f"/v1/organisations/{organisation['id']}/webhook"
        await client.put(
            url, json={"url": receiver.url, "secret": SECRET}, headers=provider.headers
        )
        await _submit(client, provider, organisation)
        # Turn the events into deliveries now, whichever queue runs the jobs.
        from marketplace.webhooks.tasks import dispatch_webhooks

        await dispatch_webhooks({"platform": app.state.platform})
        assert (await client.delete(url, headers=provider.headers)).status_code == 204
        log = (await client.get(f"{url}/deliveries", headers=provider.headers)).json()["items"]
    assert log and {d["status"] for d in log} == {"failed"}
    assert {d["last_error"] for d in log} == {"the organisation removed its webhook"}

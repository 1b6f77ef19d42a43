"""The SDK against the real server, in-process: every call parses what the server sends.

`govstore.AsyncClient` talks to the app through `httpx.ASGITransport`, so these tests
catch drift between the server's responses and the SDK's models, paths and bodies.
Each result is also checked to be fully modelled: a field the server sends but the
SDK does not know would land in `model_extra`, and fails here.

The sync `Client` shares every request spec and parser with the async one (the SDK's
own tests check they send the same requests). It cannot use ASGITransport, so one
scenario runs it in a worker thread, over a small transport that hands each request
to the app on the test's event loop: still in-process, no server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import govstore
import httpx
import pytest
from govstore import _base_client
from pydantic import BaseModel
from starlette.applications import Starlette
from testkit import GUIDELINES, PASSWORD, Actor, manifest_fixture, settle

BASE_URL = "http://127.0.0.1:8000"

MakeSDK = Callable[..., govstore.AsyncClient]


@pytest.fixture
async def make_sdk(app: Starlette) -> AsyncIterator[MakeSDK]:
    """SDK clients on the in-process app, closed after the test."""
    clients: list[govstore.AsyncClient] = []

    def make(
        token: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> govstore.AsyncClient:
        sdk = govstore.AsyncClient(
            base_url=BASE_URL, token=token, transport=transport or httpx.ASGITransport(app=app)
        )
        clients.append(sdk)
        return sdk

    yield make
    for sdk in clients:
        await sdk.aclose()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own GovStore settings never leak into these tests."""
    monkeypatch.delenv("GOVSTORE_BASE_URL", raising=False)
    monkeypatch.delenv("GOVSTORE_TOKEN", raising=False)


@pytest.fixture
async def as_admin(make_sdk: MakeSDK, admin: Actor) -> govstore.AsyncClient:
    return make_sdk(admin.token)


@pytest.fixture
async def as_provider(make_sdk: MakeSDK, provider: Actor) -> govstore.AsyncClient:
    return make_sdk(provider.token)


def assert_fully_modelled(value: Any, where: str = "result") -> None:
    """No field the server sent is missing from the SDK's models (it would be an extra)."""
    if isinstance(value, BaseModel):
        assert not value.model_extra, f"{where} ({type(value).__name__}): {value.model_extra}"
        for name in type(value).model_fields:
            assert_fully_modelled(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_fully_modelled(item, f"{where}[{index}]")


async def collect(pager: govstore.AsyncPager[Any]) -> list[Any]:
    items = [item async for item in pager]
    for index, item in enumerate(items):
        assert_fully_modelled(item, f"item {index}")
    return items


# Accounts and sign-in


async def test_register_login_account_and_logout(make_sdk: MakeSDK) -> None:
    sdk = make_sdk()

    account = await sdk.accounts.register("Ada@Example.org", PASSWORD, "Ada", "provider")
    login = await sdk.auth.login("ada@example.org", PASSWORD)
    me = await sdk.account.get()

    assert_fully_modelled(account)
    assert_fully_modelled(login)
    assert_fully_modelled(me)
    assert isinstance(account, govstore.Account)
    assert account.email == "ada@example.org"
    assert account.roles == ["provider"]
    assert login.token_type == "Bearer" and login.expires_in > 0
    assert sdk.token == login.access_token
    assert me.id == account.id and me.created_at == account.created_at

    await sdk.auth.logout()

    assert sdk.token is None
    with pytest.raises(govstore.AuthenticationError) as raised:
        await make_sdk(login.access_token).account.get()
    assert raised.value.status == 401


async def test_api_tokens_create_list_revoke(
    make_sdk: MakeSDK, as_provider: govstore.AsyncClient
) -> None:
    scopes = [govstore.ApiTokenScope.READ, govstore.ApiTokenScope.SERVICES_WRITE]
    minted = await as_provider.account.api_tokens.create("ci", 30, scopes)

    assert_fully_modelled(minted)
    assert minted.token is not None and minted.token.startswith(minted.prefix)
    assert sorted(minted.scopes) == ["read", "services:write"]
    assert minted.expires_at > minted.created_at

    listed = await collect(as_provider.account.api_tokens.list())
    assert [t.id for t in listed] == [minted.id]
    assert listed[0].token is None

    with_token = make_sdk(minted.token)
    assert (await with_token.account.get()).id == (await as_provider.account.get()).id

    await as_provider.account.api_tokens.revoke(minted.id)

    assert await collect(as_provider.account.api_tokens.list()) == []
    with pytest.raises(govstore.AuthenticationError):
        await with_token.account.get()
    with pytest.raises(govstore.NotFoundError):
        await as_provider.account.api_tokens.revoke("tok_unknown")


async def test_every_api_token_scope_is_accepted(make_sdk: MakeSDK, sign_up: Any) -> None:
    everything = await sign_up("provider", roles=("admin", "reviewer"), name="everything")
    sdk = make_sdk(everything.token)

    minted = await sdk.account.api_tokens.create("all", 1, list(govstore.ApiTokenScope))

    assert sorted(minted.scopes) == sorted(scope.value for scope in govstore.ApiTokenScope)


async def test_a_token_cannot_have_scopes_its_account_lacks(
    as_provider: govstore.AsyncClient,
) -> None:
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.account.api_tokens.create(
            "too much", 1, [govstore.ApiTokenScope.READ, govstore.ApiTokenScope.ADMIN_WRITE]
        )

    assert [e.pointer for e in raised.value.errors] == ["/scopes/1"]


async def test_an_api_token_does_only_what_its_scopes_allow(
    make_sdk: MakeSDK, as_provider: govstore.AsyncClient
) -> None:
    minted = await as_provider.account.api_tokens.create("read only", 1, ["read"])
    read_only = make_sdk(minted.token)

    with pytest.raises(govstore.PermissionDeniedError) as raised:
        await read_only.organisations.create("Not allowed Ltd", "ci@example.org")
    assert raised.value.status == 403
    with pytest.raises(govstore.PermissionDeniedError):
        await read_only.account.api_tokens.create("another", 1, ["read"])


async def test_api_tokens_are_listed_across_pages(as_provider: govstore.AsyncClient) -> None:
    created = [
        await as_provider.account.api_tokens.create(f"token {n}", 1, ["read"]) for n in range(3)
    ]

    pages = [page async for page in as_provider.account.api_tokens.list(limit=2).pages()]
    items = await collect(as_provider.account.api_tokens.list(limit=2))

    assert [len(page.items) for page in pages] == [2, 1]
    assert pages[0].next_cursor is not None and pages[-1].next_cursor is None
    assert sorted(t.id for t in items) == sorted(t.id for t in created)
    resumed = await collect(
        as_provider.account.api_tokens.list(limit=2, cursor=pages[0].next_cursor)
    )
    assert [t.id for t in resumed] == [t.id for t in pages[1].items]


# Organisations, services, releases


async def test_organisations_create_get_list_and_add_member(
    make_sdk: MakeSDK, as_provider: govstore.AsyncClient, provider: Actor, sign_up: Any
) -> None:
    developer = await sign_up("provider", name="developer")

    created = await as_provider.organisations.create(
        "Acme Health Ltd", "team@acme.example", company_number="01234567"
    )
    fetched = await as_provider.organisations.get(created.id)
    listed = await collect(as_provider.organisations.list())
    grown = await as_provider.organisations.add_member(created.id, developer.email, "developer")

    for result in (created, fetched, grown):
        assert_fully_modelled(result)
        assert isinstance(result, govstore.Organisation)
    assert fetched == created
    assert created.company_number == "01234567"
    assert [(m.account_id, m.role) for m in created.members] == [(provider.id, "owner")]
    assert [(o.id, o.name, o.role) for o in listed] == [(created.id, "Acme Health Ltd", "owner")]
    assert isinstance(listed[0], govstore.OrganisationSummary)
    assert {(m.email, m.role) for m in grown.members} == {
        (provider.email, "owner"),
        (developer.email, "developer"),
    }
    joined = next(m for m in grown.members if m.email == developer.email)
    assert joined.joined_at >= created.created_at

    as_developer = await collect(make_sdk(developer.token).organisations.list())
    assert [(o.id, o.role) for o in as_developer] == [(created.id, "developer")]


async def test_services_create_get_list(
    as_provider: govstore.AsyncClient, organisation: dict[str, Any]
) -> None:
    created = await as_provider.services.create(organisation["id"], "acme-gp", "Acme GP")
    fetched = await as_provider.services.get(created.id)
    listed = await collect(as_provider.services.list(organisation["id"]))

    assert_fully_modelled(created)
    assert_fully_modelled(fetched)
    # `get` is the provider's view: the service as created, with what approval gives it.
    assert isinstance(fetched, govstore.ProviderService)
    assert govstore.Service(**fetched.model_dump(include=set(govstore.Service.model_fields))) == (
        created
    )
    assert (fetched.kitemarks, fetched.scope_grants, fetched.oauth_client_id) == ([], [], None)
    assert (created.slug, created.name, created.organisation_id) == (
        "acme-gp",
        "Acme GP",
        organisation["id"],
    )
    assert created.releases == []
    assert [s.id for s in listed] == [created.id]


async def test_releases_submit_get_list_and_withdraw(
    app: Starlette,
    as_provider: govstore.AsyncClient,
    provider: Actor,
    published: dict[str, Any],
    service: dict[str, Any],
) -> None:
    manifest = manifest_fixture("acme-gp-online")

    submitted = await as_provider.releases.submit(service["id"], manifest)
    # Automated review runs in the background; let it finish before reading the release.
    await settle(app)
    fetched = await as_provider.releases.get(service["id"], submitted.id)
    listed = await collect(as_provider.releases.list(service["id"]))
    with_releases = await as_provider.services.get(service["id"])

    for result in (submitted, fetched):
        assert_fully_modelled(result)
        assert isinstance(result, govstore.Release)
    assert isinstance(fetched, govstore.ReleaseDetail)
    assert submitted.service_id == service["id"]
    assert submitted.number == 1
    assert submitted.status == govstore.ReleaseStatus.SUBMITTED
    assert submitted.manifest == manifest
    assert submitted.guideline_version == "2026.1"
    assert submitted.previous_release_id is None and submitted.changed_fields is None
    assert submitted.status_changed_at >= submitted.created_at
    first = submitted.history[0]
    assert (first.status, first.previous_status, first.action, first.actor_id) == (
        "submitted",
        None,
        "submit",
        provider.id,
    )
    assert fetched.id == submitted.id and fetched.number == 1
    assert fetched.manifest == manifest and fetched.history[0] == first
    assert fetched.status == govstore.ReleaseStatus.AWAITING_REVIEW
    assert [(h.action, h.status) for h in fetched.history[1:]] == [
        ("start_automated_review", "automated_review"),
        ("pass_automated_review", "awaiting_review"),
    ]
    assert fetched.findings and {f.source for f in fetched.findings} == {"automated"}
    assert fetched.decision is None
    assert fetched.queue is not None and fetched.queue.position == 1
    assert [(r.id, r.number) for r in listed] == [(submitted.id, 1)]
    assert isinstance(listed[0], govstore.ReleaseSummary)
    assert [r.id for r in with_releases.releases] == [submitted.id]

    withdrawn = await as_provider.releases.withdraw(
        service["id"], submitted.id, reason="Wrong retention period"
    )

    assert_fully_modelled(withdrawn)
    assert withdrawn.status == govstore.ReleaseStatus.WITHDRAWN
    last = withdrawn.history[-1]
    assert last.status == "withdrawn"
    assert last.reason == "Wrong retention period"
    assert last.actor_id == provider.id
    assert last.previous_status is not None and last.action
    with pytest.raises(govstore.ConflictError) as raised:
        await as_provider.releases.withdraw(service["id"], submitted.id)
    assert raised.value.status == 409


async def test_withdraw_without_a_reason(
    as_provider: govstore.AsyncClient, published: dict[str, Any], service: dict[str, Any]
) -> None:
    submitted = await as_provider.releases.submit(service["id"], manifest_fixture("acme-gp-online"))

    withdrawn = await as_provider.releases.withdraw(service["id"], submitted.id)

    assert withdrawn.status == "withdrawn"
    assert withdrawn.history[-1].reason is None


async def test_a_new_release_names_what_changed(
    as_provider: govstore.AsyncClient, published: dict[str, Any], service: dict[str, Any]
) -> None:
    manifest = manifest_fixture("acme-gp-online")
    first = await as_provider.releases.submit(service["id"], manifest)
    await as_provider.releases.withdraw(service["id"], first.id)

    second = await as_provider.releases.submit(
        service["id"], {**manifest, "summary": "Book GP video consultations from home"}
    )

    assert_fully_modelled(second)
    assert second.number == 2
    assert second.previous_release_id == first.id
    assert second.changed_fields == ["/summary"]
    listed = await collect(as_provider.releases.list(service["id"]))
    assert [r.number for r in listed] == [2, 1]


# Waiting for review to move a release on


@contextlib.asynccontextmanager
async def settling(app: Starlette) -> AsyncIterator[None]:
    """Keep running background jobs while the block runs (needed when they go to a worker)."""
    done = asyncio.Event()

    async def keep_settling() -> None:
        while not done.is_set():
            await settle(app)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(keep_settling())
    try:
        yield
    finally:
        done.set()
        await task


async def test_wait_follows_automated_review(
    app: Starlette,
    as_provider: govstore.AsyncClient,
    published: dict[str, Any],
    service: dict[str, Any],
) -> None:
    submitted = await as_provider.releases.submit(service["id"], manifest_fixture("acme-gp-online"))

    async with settling(app):
        waited = await as_provider.releases.wait(
            service["id"], submitted.id, timeout=30, poll_interval=0.01
        )

    assert_fully_modelled(waited)
    assert isinstance(waited, govstore.ReleaseDetail)
    assert waited.status == govstore.ReleaseStatus.AWAITING_REVIEW
    assert waited.queue is not None and waited.queue.position == 1
    with pytest.raises(govstore.WaitTimeoutError) as raised:
        await as_provider.releases.wait(
            service["id"], submitted.id, until={"approved"}, timeout=0.05, poll_interval=0.01
        )
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.release.status == "awaiting_review"
    with pytest.raises(govstore.NotFoundError):
        await as_provider.releases.wait(service["id"], "rel_unknown", timeout=1)


async def test_a_blocking_automated_failure_requests_changes_with_pointers(
    app: Starlette,
    as_provider: govstore.AsyncClient,
    published: dict[str, Any],
    service: dict[str, Any],
) -> None:
    manifest = manifest_fixture("acme-gp-online")
    manifest["clinical_safety"] = {**manifest["clinical_safety"], "officer": "TBC"}
    submitted = await as_provider.releases.submit(service["id"], manifest)

    async with settling(app):
        release = await as_provider.releases.wait(
            service["id"], submitted.id, timeout=30, poll_interval=0.01
        )

    assert_fully_modelled(release)
    assert release.status == govstore.ReleaseStatus.CHANGES_REQUESTED
    assert release.queue is None and release.decision is None
    (failed,) = [f for f in release.findings if f.result == govstore.FindingResult.FAIL]
    assert (failed.code, failed.source, failed.check, failed.severity) == (
        "CLIN-1",
        "automated",
        "clinical-safety",
        "blocking",
    )
    assert failed.pointer == "/clinical_safety/officer"
    assert failed.message and failed.fix
    assert release.history[-1].reason == "automated review found blocking problems"


# Review: checks, the queue, claims, decisions, second approval, appeals

BLOCKING = [g["code"] for g in GUIDELINES if g["severity"] == "blocking"]


def passing(*failed: str) -> list[govstore.FindingInput]:
    """A finding for every blocking guideline: `failed` ones fail, the rest pass."""
    return [
        govstore.FindingInput(
            code=code,
            result=govstore.FindingResult.FAIL if code in failed else govstore.FindingResult.PASS,
            note=f"{code} is not met" if code in failed else None,
        )
        for code in BLOCKING
    ]


@pytest.fixture
async def as_reviewer(make_sdk: MakeSDK, reviewer: Actor) -> govstore.AsyncClient:
    return make_sdk(reviewer.token)


@pytest.fixture
async def as_second_reviewer(make_sdk: MakeSDK, second_reviewer: Actor) -> govstore.AsyncClient:
    return make_sdk(second_reviewer.token)


@pytest.fixture
def awaiting_review(
    app: Starlette,
    as_provider: govstore.AsyncClient,
    organisation: dict[str, Any],
    published: dict[str, Any],
) -> Callable[..., Any]:
    """Submit a fixture manifest as a new service and run automated review: awaiting_review."""
    counter = iter(range(1, 1000))

    async def make(fixture: str = "warm-home-grant-checker") -> govstore.ReleaseDetail:
        manifest = manifest_fixture(fixture)
        service = await as_provider.services.create(
            organisation["id"], f"{fixture}-{next(counter)}", manifest["name"]
        )
        submitted = await as_provider.releases.submit(service.id, manifest)
        await settle(app)
        release = await as_provider.releases.get(service.id, submitted.id)
        assert release.status == govstore.ReleaseStatus.AWAITING_REVIEW, release.findings
        return release

    return make


async def test_checks_are_listed(make_sdk: MakeSDK) -> None:
    checks = await collect(make_sdk().checks.list())

    assert all(isinstance(c, govstore.Check) for c in checks)
    ids = [c.id for c in checks]
    assert ids == sorted(ids)
    assert {g["check"] for g in GUIDELINES} <= set(ids)
    assert all(c.title and c.description for c in checks)


async def test_a_reviewer_claims_and_approves_a_low_sensitivity_release(
    as_provider: govstore.AsyncClient,
    as_reviewer: govstore.AsyncClient,
    as_second_reviewer: govstore.AsyncClient,
    reviewer: Actor,
    awaiting_review: Any,
) -> None:
    release = await awaiting_review("warm-home-grant-checker")

    queue = await collect(as_reviewer.review.queue())
    view = await as_reviewer.review.get(release.id)
    claim = await as_reviewer.review.claim(release.id)

    assert [(q.release_id, q.service_id, q.number) for q in queue] == [
        (release.id, release.service_id, 1)
    ]
    assert isinstance(queue[0], govstore.QueueItem)
    assert queue[0].risk_score >= 0 and queue[0].waiting_seconds >= 0
    assert queue[0].queued_at is not None
    assert_fully_modelled(view)
    assert isinstance(view, govstore.ReviewerRelease)
    assert (view.id, view.manifest, view.claimed_by, view.decisions) == (
        release.id,
        release.manifest,
        None,
        [],
    )
    assert view.findings == release.findings
    assert view.risk_score == queue[0].risk_score and view.risk_factors == queue[0].risk_factors
    assert_fully_modelled(claim)
    assert isinstance(claim, govstore.Claim)
    assert (claim.release_id, claim.status, claim.claimed_by) == (
        release.id,
        govstore.ReleaseStatus.IN_REVIEW,
        reviewer.id,
    )

    with pytest.raises(govstore.ConflictError) as raised:
        await as_second_reviewer.review.claim(release.id)
    assert "another reviewer" in (raised.value.detail or "")
    assert await collect(as_reviewer.review.queue()) == []
    renewed = await as_reviewer.review.claim(release.id)
    assert renewed.lease_expires_at >= claim.lease_expires_at

    assert await as_reviewer.review.release_claim(release.id) is None
    assert [q.release_id for q in await collect(as_reviewer.review.queue())] == [release.id]
    with pytest.raises(govstore.ConflictError):
        await as_reviewer.review.release_claim(release.id)

    await as_reviewer.review.claim(release.id)
    applied = [k["scheme"] for k in release.manifest["kitemarks"]]
    findings: list[Any] = passing()
    findings[0] = findings[0].model_dump(mode="json", exclude_none=True)  # a dict works too
    decision = await as_reviewer.review.decide(
        release.id,
        govstore.DecisionOutcome.APPROVE,
        findings,
        kitemarks=applied[:1],
        scopes=["income.verify"],
        note="Clear and minimal.",
    )

    assert_fully_modelled(decision)
    assert isinstance(decision, govstore.Decision)
    assert (decision.release_id, decision.outcome, decision.reason_codes) == (
        release.id,
        govstore.DecisionOutcome.APPROVE,
        [],
    )
    assert (decision.kitemarks, decision.scopes, decision.note) == (
        applied[:1],
        ["income.verify"],
        "Clear and minimal.",
    )
    assert decision.needs_second_approval is False and decision.second_outcome is None
    assert decision.completed_at is not None and decision.completed_at >= decision.decided_at

    seen = await as_provider.releases.get(release.service_id, release.id)
    assert_fully_modelled(seen)
    assert seen.status == govstore.ReleaseStatus.PUBLISHED
    assert seen.decision == decision and seen.queue is None
    by_reviewer = {f.code: f for f in seen.findings if f.source == "reviewer"}
    assert sorted(by_reviewer) == sorted(BLOCKING)
    assert all(f.result == "pass" for f in by_reviewer.values())
    assert (await as_reviewer.review.get(release.id)).decisions == [decision]


async def test_a_high_sensitivity_scope_needs_a_second_reviewer(
    as_provider: govstore.AsyncClient,
    as_reviewer: govstore.AsyncClient,
    as_second_reviewer: govstore.AsyncClient,
    awaiting_review: Any,
) -> None:
    release = await awaiting_review("acme-gp-online")
    await as_reviewer.review.claim(release.id)

    first = await as_reviewer.review.decide(
        release.id,
        "approve",
        passing(),
        kitemarks=["privacy-assured"],
        scopes=["health.summary.read"],
    )
    waiting = await as_provider.releases.get(release.service_id, release.id)

    assert first.needs_second_approval is True
    assert first.completed_at is None and first.second_outcome is None
    assert waiting.status == govstore.ReleaseStatus.AWAITING_SECOND_APPROVAL
    assert waiting.decision == first
    assert waiting.queue is not None and waiting.queue.position is None
    with pytest.raises(govstore.PermissionDeniedError):
        await as_reviewer.review.second_approval(release.id)
    with pytest.raises(govstore.PermissionDeniedError):
        await as_provider.review.second_approval(release.id)
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_second_reviewer.review.second_approval(release.id, "request_changes")
    assert [e.pointer for e in raised.value.errors] == ["/note"]

    second = await as_second_reviewer.review.second_approval(release.id, note="Agreed.")

    assert_fully_modelled(second)
    assert second.id == first.id
    assert second.second_outcome == govstore.DecisionOutcome.APPROVE
    assert second.completed_at is not None
    approved = await as_provider.releases.wait(
        release.service_id, release.id, until=govstore.ReleaseStatus.PUBLISHED, timeout=0
    )
    assert approved.decision == second
    assert [h.action for h in approved.history][-2:] == ["second_approve", "publish"]
    with pytest.raises(govstore.ConflictError):
        await as_second_reviewer.review.second_approval(release.id)


async def test_a_rejection_is_appealed_to_another_reviewer(
    make_sdk: MakeSDK,
    as_provider: govstore.AsyncClient,
    as_reviewer: govstore.AsyncClient,
    as_second_reviewer: govstore.AsyncClient,
    awaiting_review: Any,
    sign_up: Any,
) -> None:
    release = await awaiting_review("warm-home-grant-checker")
    await as_reviewer.review.claim(release.id)
    rejection = await as_reviewer.review.decide(
        release.id, "reject", passing("PRIV-1"), note="Purpose too vague."
    )

    rejected = await as_provider.releases.get(release.service_id, release.id)
    assert rejection.reason_codes == ["PRIV-1"] and rejection.completed_at is not None
    assert rejected.status == govstore.ReleaseStatus.REJECTED
    assert rejected.decision == rejection
    (failed,) = [f for f in rejected.findings if f.source == "reviewer" and f.result == "fail"]
    assert (failed.code, failed.message) == ("PRIV-1", "PRIV-1 is not met")

    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.releases.appeal(release.service_id, release.id, "short")
    assert [e.pointer for e in raised.value.errors] == ["/reason"]
    stranger = make_sdk((await sign_up("provider", name="stranger")).token)
    with pytest.raises(govstore.NotFoundError):
        await stranger.releases.appeal(release.service_id, release.id, "Not my release at all.")

    appealed = await as_provider.releases.appeal(
        release.service_id, release.id, "The purpose is stated in full."
    )

    assert_fully_modelled(appealed)
    assert isinstance(appealed, govstore.ReleaseDetail)
    assert appealed.status == govstore.ReleaseStatus.AWAITING_REVIEW
    assert appealed.queue is not None and appealed.queue.position == 1
    assert appealed.decision == rejection  # the latest decision until another is made
    assert (appealed.history[-1].action, appealed.history[-1].reason) == (
        "appeal",
        "The purpose is stated in full.",
    )
    # The reviewer who rejected it never gets it back.
    assert await collect(as_reviewer.review.queue()) == []
    with pytest.raises(govstore.PermissionDeniedError):
        await as_reviewer.review.claim(release.id)
    await as_second_reviewer.review.claim(release.id)
    await as_second_reviewer.review.decide(release.id, "reject", passing("PRIV-1"))
    with pytest.raises(govstore.ConflictError):
        await as_provider.releases.appeal(release.service_id, release.id, "Please look again.")
    reviewed_twice = await as_second_reviewer.review.get(release.id)
    assert [d.outcome for d in reviewed_twice.decisions] == ["reject", "reject"]


async def test_requesting_changes_sends_the_release_back(
    as_provider: govstore.AsyncClient, as_reviewer: govstore.AsyncClient, awaiting_review: Any
) -> None:
    release = await awaiting_review("warm-home-grant-checker")
    await as_reviewer.review.claim(release.id)

    decision = await as_reviewer.review.decide(
        release.id,
        govstore.DecisionOutcome.REQUEST_CHANGES,
        passing("ACC-1"),
        note="The accessibility statement is out of date.",
    )

    seen = await as_provider.releases.get(release.service_id, release.id)
    assert decision.outcome == "request_changes" and decision.reason_codes == ["ACC-1"]
    assert seen.status == govstore.ReleaseStatus.CHANGES_REQUESTED
    assert seen.history[-1].reason == "The accessibility statement is out of date."
    with pytest.raises(govstore.ConflictError):
        await as_provider.releases.appeal(release.service_id, release.id, "Only rejections.")


async def test_invalid_decisions_raise_with_pointers(
    as_reviewer: govstore.AsyncClient, awaiting_review: Any
) -> None:
    release = await awaiting_review("warm-home-grant-checker")

    with pytest.raises(govstore.ConflictError) as not_claimed:
        await as_reviewer.review.decide(release.id, "approve", passing())
    assert not_claimed.value.problem["current_status"] == "awaiting_review"

    await as_reviewer.review.claim(release.id)

    async def pointers(*args: Any, **kwargs: Any) -> list[str]:
        with pytest.raises(govstore.UnprocessableEntityError) as raised:
            await as_reviewer.review.decide(release.id, *args, **kwargs)
        return sorted(e.pointer for e in raised.value.errors)

    assert await pointers("approve", passing()[:1]) == ["/findings"]
    assert await pointers("approve", passing("ACC-1")) == ["/outcome"]
    assert await pointers(
        "approve", passing(), kitemarks=["clinically-safe"], scopes=["health.summary.read"]
    ) == ["/kitemarks/0", "/scopes/0"]
    assert await pointers("approve", [*passing(), {"code": "NOPE-1", "result": "pass"}]) == [
        "/findings/3/code"
    ]
    assert await pointers("reject", passing()) == ["/findings"]
    assert await pointers("approve", [{"code": "PRIV-1", "result": "maybe"}]) == [
        "/findings/0/result"
    ]
    assert await pointers("approve", [{"code": "PRIV-1", "result": "pass", "extra": 1}]) == [
        "/findings/0/extra"
    ]
    assert await pointers("perhaps", passing()) == ["/outcome"]


async def test_review_is_for_reviewers(
    make_sdk: MakeSDK,
    as_provider: govstore.AsyncClient,
    as_reviewer: govstore.AsyncClient,
    citizen: Actor,
    awaiting_review: Any,
) -> None:
    release = await awaiting_review("warm-home-grant-checker")
    as_citizen = make_sdk(citizen.token)

    for outsider in (as_provider, as_citizen):
        with pytest.raises(govstore.PermissionDeniedError):
            await collect(outsider.review.queue())
        with pytest.raises(govstore.PermissionDeniedError):
            await outsider.review.get(release.id)
        with pytest.raises(govstore.PermissionDeniedError):
            await outsider.review.claim(release.id)
    with pytest.raises(govstore.NotFoundError):
        await as_reviewer.review.get("rel_unknown")


async def test_a_reviewer_never_reviews_their_own_organisations_release(
    make_sdk: MakeSDK,
    as_provider: govstore.AsyncClient,
    organisation: dict[str, Any],
    sign_up: Any,
    awaiting_review: Any,
) -> None:
    insider = await sign_up("provider", roles=("reviewer",), name="insider")
    await as_provider.organisations.add_member(organisation["id"], insider.email, "developer")
    release = await awaiting_review("warm-home-grant-checker")
    as_insider = make_sdk(insider.token)

    assert await collect(as_insider.review.queue()) == []
    with pytest.raises(govstore.PermissionDeniedError):
        await as_insider.review.get(release.id)
    with pytest.raises(govstore.PermissionDeniedError):
        await as_insider.review.claim(release.id)


async def test_a_withdrawn_release_leaves_the_queue(
    as_provider: govstore.AsyncClient, as_reviewer: govstore.AsyncClient, awaiting_review: Any
) -> None:
    first = await awaiting_review("warm-home-grant-checker")
    second = await awaiting_review("warm-home-grant-checker")
    assert second.queue is not None and second.queue.position == 2

    await as_provider.releases.withdraw(first.service_id, first.id)

    assert [q.release_id for q in await collect(as_reviewer.review.queue())] == [second.id]
    now = await as_provider.releases.get(second.service_id, second.id)
    assert now.queue is not None and now.queue.position == 1


# Webhooks

WEBHOOK_SECRET = "a-shared-secret-for-signing-webhooks"


async def test_webhook_set_get_and_delete(
    as_provider: govstore.AsyncClient, organisation: dict[str, Any]
) -> None:
    org_id = organisation["id"]
    with pytest.raises(govstore.NotFoundError):
        await as_provider.organisations.webhook.get(org_id)

    created = await as_provider.organisations.webhook.set(org_id, "https://acme.example/hooks")
    shown = await as_provider.organisations.webhook.get(org_id)
    replaced = await as_provider.organisations.webhook.set(
        org_id, "https://acme.example/hooks2", secret=WEBHOOK_SECRET
    )

    for result in (created, shown, replaced):
        assert_fully_modelled(result)
        assert isinstance(result, govstore.Webhook)
    assert created.secret is not None and created.secret.startswith("whsec_")
    assert (created.organisation_id, created.url) == (org_id, "https://acme.example/hooks")
    assert {"release.status_changed", "kitemark.granted", "consent.revoked"} <= set(created.events)
    assert shown.secret is None and shown.url == created.url
    assert replaced.secret is None and replaced.url == "https://acme.example/hooks2"
    assert replaced.created_at == created.created_at
    assert replaced.updated_at >= created.updated_at
    assert await collect(as_provider.organisations.webhook.deliveries(org_id)) == []

    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.organisations.webhook.set(org_id, "ftp://acme.example/hooks")
    assert [e.pointer for e in raised.value.errors] == ["/url"]
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.organisations.webhook.set(org_id, "https://acme.example/h", "short")
    assert [e.pointer for e in raised.value.errors] == ["/secret"]
    with pytest.raises(govstore.BadRequestError) as bad_status:
        await collect(as_provider.organisations.webhook.deliveries(org_id, status="lost"))
    assert [e.parameter for e in bad_status.value.errors] == ["status"]

    assert await as_provider.organisations.webhook.delete(org_id) is None
    with pytest.raises(govstore.NotFoundError):
        await as_provider.organisations.webhook.get(org_id)
    with pytest.raises(govstore.NotFoundError):
        await as_provider.organisations.webhook.delete(org_id)


async def test_webhooks_are_for_members_and_changed_by_owners(
    make_sdk: MakeSDK, as_provider: govstore.AsyncClient, organisation: dict[str, Any], sign_up: Any
) -> None:
    org_id = organisation["id"]
    await as_provider.organisations.webhook.set(org_id, "https://acme.example/hooks")
    developer = await sign_up("provider", name="developer")
    await as_provider.organisations.add_member(org_id, developer.email, "developer")
    as_developer = make_sdk(developer.token)
    stranger = make_sdk((await sign_up("provider", name="stranger")).token)

    assert (await as_developer.organisations.webhook.get(org_id)).secret is None
    with pytest.raises(govstore.PermissionDeniedError):
        await as_developer.organisations.webhook.set(org_id, "https://evil.example/hooks")
    with pytest.raises(govstore.PermissionDeniedError):
        await as_developer.organisations.webhook.delete(org_id)
    with pytest.raises(govstore.NotFoundError):
        await stranger.organisations.webhook.get(org_id)
    with pytest.raises(govstore.NotFoundError):
        await collect(stranger.organisations.webhook.deliveries(org_id))


async def test_signed_deliveries_verify_offline_with_the_sdk(
    app: Starlette,
    as_provider: govstore.AsyncClient,
    organisation: dict[str, Any],
    published: dict[str, Any],
    service: dict[str, Any],
    receiver: Any,
) -> None:
    org_id = organisation["id"]
    await as_provider.organisations.webhook.set(org_id, receiver.url, secret=WEBHOOK_SECRET)

    release = await as_provider.releases.submit(service["id"], manifest_fixture("acme-gp-online"))
    await settle(app)

    events = []
    for headers, body in receiver.received:
        event = govstore.verify_webhook(headers, body, WEBHOOK_SECRET)
        assert_fully_modelled(event)
        assert isinstance(event, govstore.WebhookEvent)
        with pytest.raises(govstore.WebhookVerificationError):
            govstore.verify_webhook(headers, body, "another-secret-of-enough-length")
        with pytest.raises(govstore.WebhookVerificationError):
            govstore.verify_webhook(
                headers, body.replace(b'"to":"', b'"to":"approved-'), WEBHOOK_SECRET
            )
        events.append(event)
    assert {e.event for e in events} == {"release.status_changed"}
    assert {e.data["release_id"] for e in events} == {release.id}
    assert {e.data["service_id"] for e in events} == {service["id"]}
    assert sorted((e.data["from"] or "", e.data["to"]) for e in events) == [
        ("", "submitted"),
        ("automated_review", "awaiting_review"),
        ("submitted", "automated_review"),
    ]

    log = await collect(as_provider.organisations.webhook.deliveries(org_id))
    delivered = await collect(
        as_provider.organisations.webhook.deliveries(org_id, status="delivered")
    )
    failed = await collect(
        as_provider.organisations.webhook.deliveries(org_id, status=govstore.DeliveryStatus.FAILED)
    )

    assert all(isinstance(d, govstore.WebhookDelivery) for d in log)
    assert (
        sorted(d.id for d in log) == sorted(d.id for d in delivered) == sorted(e.id for e in events)
    )
    assert failed == []
    assert all(
        (d.status, d.attempts, d.last_status_code, d.last_error, d.url)
        == ("delivered", 1, 204, None, receiver.url)
        for d in log
    )
    assert all(d.delivered_at is not None and d.next_attempt_at is None for d in log)
    # The log's payload is the body the receiver verified.
    by_id = {e.id: e for e in events}
    for delivery in log:
        payload = govstore.WebhookEvent.model_validate(delivery.payload)
        assert_fully_modelled(payload)
        assert payload == by_id[delivery.id]
        assert delivery.event == payload.event


# The rules: guidelines, schema, scopes, kitemark schemes


async def test_guidelines_list_current_and_get(
    make_sdk: MakeSDK, published: dict[str, Any]
) -> None:
    anonymous = make_sdk()

    listed = await collect(anonymous.guidelines.list())
    current = await anonymous.guidelines.current()
    fetched = await anonymous.guidelines.get("2026.1")

    assert [(v.version, v.status) for v in listed] == [("2026.1", "published")]
    assert isinstance(listed[0], govstore.GuidelineVersionSummary)
    for result in (current, fetched):
        assert_fully_modelled(result)
        assert isinstance(result, govstore.GuidelineVersion)
    assert current == fetched
    assert current.published_at is not None
    assert {g.code for g in current.guidelines} == {"PRIV-1", "PRIV-2", "ACC-1", "CLIN-1"}
    with pytest.raises(govstore.NotFoundError):
        await anonymous.guidelines.get("1999.1")


async def test_no_current_guidelines_is_not_found(make_sdk: MakeSDK) -> None:
    with pytest.raises(govstore.NotFoundError) as raised:
        await make_sdk().guidelines.current()

    assert raised.value.status == 404


async def test_admins_draft_revise_and_publish_guidelines(
    as_admin: govstore.AsyncClient, make_sdk: MakeSDK
) -> None:
    guideline = govstore.Guideline(
        code="SEC-1",
        title="Keep data safe",
        text="Encrypt personal data at rest and in transit.",
        category="security",
        severity="advisory",
    )

    draft = await as_admin.guidelines.create("2026.2", "Draft guidelines", [guideline])
    revised = await as_admin.guidelines.revise(
        "2026.2",
        "Revised guidelines",
        [
            guideline.model_copy(update={"severity": "blocking"}),
            {**guideline.model_dump(), "code": "SEC-2"},
        ],
    )
    drafts = await collect(as_admin.guidelines.list())
    hidden = await collect(make_sdk().guidelines.list())
    published = await as_admin.guidelines.publish("2026.2")

    for result in (draft, revised, published):
        assert_fully_modelled(result)
    assert (draft.status, draft.published_at) == ("draft", None)
    assert revised.title == "Revised guidelines"
    assert [(g.code, g.severity) for g in revised.guidelines] == [
        ("SEC-1", "blocking"),
        ("SEC-2", "advisory"),
    ]
    assert [v.version for v in drafts] == ["2026.2"]
    assert hidden == []
    assert published.status == "published" and published.published_at is not None
    with pytest.raises(govstore.ConflictError):
        await as_admin.guidelines.revise("2026.2", "Too late", [guideline])
    with pytest.raises(govstore.NotFoundError):
        await as_admin.guidelines.revise("2026.9", "Nothing here", [guideline])


async def test_scopes_and_kitemark_schemes_list(
    make_sdk: MakeSDK, published: dict[str, Any]
) -> None:
    anonymous = make_sdk()

    scopes = await collect(anonymous.scopes.list(limit=2))
    status_only = await collect(anonymous.scopes.list(tier="status"))
    hmrc = await collect(anonymous.scopes.list(data_owner="HM Revenue & Customs"))
    schemes = await collect(anonymous.kitemark_schemes.list())
    schema = await anonymous.schemas.service_manifest()

    assert [s.name for s in scopes] == ["health.summary.read", "income.read", "income.verify"]
    assert [s.name for s in status_only] == ["income.verify"]
    assert [s.name for s in hmrc] == ["income.read", "income.verify"]
    assert [s.slug for s in schemes] == ["accessible", "clinically-safe", "privacy-assured"]
    assert schemes[-1].criteria == ["PRIV-1", "PRIV-2"]
    assert "data_uses" in schema["properties"]


async def test_admins_create_scopes_and_schemes(as_admin: govstore.AsyncClient) -> None:
    scope = await as_admin.scopes.create(
        name="example.fact.verify",
        title="Verify a fact",
        description="Answers yes or no, never the record.",
        tier="status",
        sensitivity="low",
        data_owner="Example Department",
    )
    scheme = await as_admin.kitemark_schemes.create(
        slug="example",
        title="Example kitemark",
        description="Shows an example is met.",
        criteria=["EX-1"],
        validity_days=30,
    )

    assert_fully_modelled(scope)
    assert_fully_modelled(scheme)
    assert (scope.name, scope.tier) == ("example.fact.verify", "status")
    assert (scheme.slug, scheme.validity_days) == ("example", 30)


# Administration


async def test_admin_lists_accounts_and_sets_roles(
    as_admin: govstore.AsyncClient, admin: Actor, citizen: Actor
) -> None:
    promoted = await as_admin.admin.set_roles(citizen.id, ["reviewer"])
    everyone = await collect(as_admin.admin.accounts.list(limit=1))
    reviewers = await collect(as_admin.admin.accounts.list(role="reviewer"))
    admins = await collect(as_admin.admin.accounts.list(role="admin"))

    assert_fully_modelled(promoted)
    assert sorted(promoted.roles) == ["citizen", "reviewer"]
    assert {a.id for a in everyone} == {admin.id, citizen.id}
    assert [a.id for a in reviewers] == [citizen.id]
    assert [a.id for a in admins] == [admin.id]


async def test_admin_registers_and_lists_data_apis(as_admin: govstore.AsyncClient) -> None:
    registered = await as_admin.admin.data_apis.create("HMRC income", "HM Revenue & Customs")
    listed = await collect(as_admin.admin.data_apis.list())

    assert_fully_modelled(registered)
    assert registered.client_secret
    assert [(d.id, d.client_id, d.client_secret) for d in listed] == [
        (registered.id, registered.client_id, None)
    ]


async def test_admin_calls_are_refused_to_others(
    make_sdk: MakeSDK, citizen: Actor, admin: Actor
) -> None:
    as_citizen = make_sdk(citizen.token)

    with pytest.raises(govstore.PermissionDeniedError):
        await collect(as_citizen.admin.accounts.list())
    with pytest.raises(govstore.PermissionDeniedError):
        await collect(as_citizen.admin.data_apis.list())
    with pytest.raises(govstore.PermissionDeniedError):
        await as_citizen.admin.set_roles(admin.id, [])


# Errors


async def test_an_invalid_manifest_raises_with_pointers(
    as_provider: govstore.AsyncClient, published: dict[str, Any], service: dict[str, Any]
) -> None:
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.releases.submit(service["id"], {"name": "Acme", "category": "toys"})

    error = raised.value
    pointers = {e.pointer for e in error.errors}
    assert error.status == 422 and error.title and error.detail
    assert {"/manifest/category", "/manifest/summary", "/manifest/support_email"} <= pointers
    assert all(p.startswith("/manifest/") for p in pointers)
    assert all(e.detail for e in error.errors)
    assert error.code == error.problem["code"] and error.code
    assert error.problem["status"] == 422


async def test_unknown_scopes_and_schemes_are_refused_at_submission(
    as_provider: govstore.AsyncClient, published: dict[str, Any], service: dict[str, Any]
) -> None:
    manifest = manifest_fixture("acme-gp-online")
    manifest["data_uses"][0]["scope"] = "health.everything.read"
    manifest["kitemarks"][0]["scheme"] = "gold-star"

    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.releases.submit(service["id"], manifest)

    assert {e.pointer for e in raised.value.errors} == {
        "/manifest/data_uses/0/scope",
        "/manifest/kitemarks/0/scheme",
    }
    assert await collect(as_provider.releases.list(service["id"])) == []


async def test_a_bad_query_parameter_is_named(make_sdk: MakeSDK) -> None:
    with pytest.raises(govstore.BadRequestError) as raised:
        await collect(make_sdk().scopes.list(tier="everything"))

    assert raised.value.status == 400
    assert raised.value.code
    assert [e.parameter for e in raised.value.errors] == ["tier"]


# Trust: signing keys, OAuth metadata, kitemarks, consents (the public and empty cases)


async def test_the_signing_keys_and_oauth_metadata_are_public(make_sdk: MakeSDK) -> None:
    sdk = make_sdk()

    jwks = await sdk.well_known.jwks()
    metadata = await sdk.well_known.oauth_metadata()

    assert_fully_modelled(jwks)
    assert_fully_modelled(metadata)
    for key in jwks.keys:
        assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
        assert key["kid"] and "d" not in key
    assert metadata.token_endpoint == f"{metadata.issuer}/oauth/token"
    assert metadata.jwks_uri == f"{metadata.issuer}/.well-known/jwks.json"
    assert metadata.code_challenge_methods_supported == ["S256"]
    assert "client_secret_basic" in metadata.token_endpoint_auth_methods_supported


async def test_an_unknown_kitemark_has_no_status(make_sdk: MakeSDK) -> None:
    with pytest.raises(govstore.NotFoundError) as raised:
        await make_sdk().kitemarks.status("kmk_unknown")

    assert raised.value.status == 404


async def test_a_new_service_has_no_kitemarks(make_sdk: MakeSDK, service: dict[str, Any]) -> None:
    sdk = make_sdk()  # public: no sign-in

    assert await collect(sdk.kitemarks.list(service["id"])) == []
    with pytest.raises(govstore.NotFoundError):
        await collect(sdk.kitemarks.list("svc_unknown"))


async def test_a_citizen_without_consents(make_sdk: MakeSDK, citizen: Actor) -> None:
    sdk = make_sdk(citizen.token)

    assert await collect(sdk.me.consents.list()) == []
    with pytest.raises(govstore.NotFoundError):
        await sdk.me.consents.get("con_unknown")
    with pytest.raises(govstore.NotFoundError):
        await sdk.me.consents.receipt("con_unknown")


async def test_not_found(as_provider: govstore.AsyncClient) -> None:
    with pytest.raises(govstore.NotFoundError) as raised:
        await as_provider.organisations.get("org_unknown")

    assert raised.value.status == 404
    assert raised.value.problem["status"] == 404


async def test_someone_elses_organisation_is_not_found(
    make_sdk: MakeSDK, organisation: dict[str, Any], sign_up: Any
) -> None:
    stranger = await sign_up("provider", name="stranger")

    with pytest.raises(govstore.NotFoundError):
        await make_sdk(stranger.token).organisations.get(organisation["id"])


async def test_not_signed_in(make_sdk: MakeSDK) -> None:
    with pytest.raises(govstore.AuthenticationError) as raised:
        await make_sdk().account.get()

    assert raised.value.status == 401
    with pytest.raises(govstore.AuthenticationError):
        await make_sdk("not-a-token").account.get()
    with pytest.raises(govstore.AuthenticationError):
        await make_sdk().auth.login("nobody@example.org", PASSWORD)


async def test_conflicts(make_sdk: MakeSDK, provider: Actor, service: dict[str, Any]) -> None:
    with pytest.raises(govstore.ConflictError) as raised:
        await make_sdk().accounts.register(provider.email, PASSWORD, "Again", "provider")
    assert raised.value.status == 409

    sdk = make_sdk(provider.token)
    with pytest.raises(govstore.ConflictError):
        await sdk.services.create(service["organisation_id"], service["slug"], "Same slug")


async def test_invalid_fields_point_at_the_body(make_sdk: MakeSDK) -> None:
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await make_sdk().accounts.register("not-an-email", "short", "A", "provider")

    assert {e.pointer for e in raised.value.errors} == {"/email", "/password"}


# Idempotency: a create retried after a lost answer is answered, not done twice


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """Passes requests to the app, but the first answer is 'lost': the connection breaks."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.responses.append(response)
        if len(self.requests) == 1:
            raise httpx.ReadError("connection reset after the server answered")
        return response


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(_base_client, "async_sleep", record)
    return delays


async def test_a_retried_create_is_replayed_not_repeated(
    app: Starlette,
    make_sdk: MakeSDK,
    provider: Actor,
    as_provider: govstore.AsyncClient,
    no_waiting: list[float],
) -> None:
    transport = LosesFirstAnswer(app)
    flaky = make_sdk(provider.token, transport=transport)

    created = await flaky.organisations.create("Acme Health Ltd", "team@acme.example")

    first, second = transport.requests
    assert len(no_waiting) == 1
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert transport.responses[0].status_code == transport.responses[1].status_code == 201
    assert transport.responses[0].json()["id"] == created.id
    assert transport.responses[1].headers.get("Idempotency-Replayed") == "true"
    assert [o.id for o in await collect(as_provider.organisations.list())] == [created.id]


async def test_a_retried_submission_is_replayed_not_repeated(
    app: Starlette,
    make_sdk: MakeSDK,
    provider: Actor,
    as_provider: govstore.AsyncClient,
    published: dict[str, Any],
    service: dict[str, Any],
    no_waiting: list[float],
) -> None:
    transport = LosesFirstAnswer(app)
    flaky = make_sdk(provider.token, transport=transport)

    release = await flaky.releases.submit(service["id"], manifest_fixture("acme-gp-online"))

    assert transport.responses[0].json()["id"] == release.id
    assert transport.responses[1].headers.get("Idempotency-Replayed") == "true"
    assert [r.id for r in await collect(as_provider.releases.list(service["id"]))] == [release.id]


async def test_separate_calls_create_separately(as_provider: govstore.AsyncClient) -> None:
    one = await as_provider.organisations.create("Acme One Ltd", "one@acme.example")
    two = await as_provider.organisations.create("Acme One Ltd", "one@acme.example")

    assert one.id != two.id


# The sync Client, in a worker thread, on the same in-process app


class ToEventLoop(httpx.BaseTransport):
    """A sync transport that runs each request through the app on the given event loop."""

    def __init__(self, app: Starlette, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=30)


async def test_the_sync_client_against_the_app(
    app: Starlette, published: dict[str, Any], sign_up: Any
) -> None:
    developer = await sign_up("provider", name="developer")
    transport = ToEventLoop(app, asyncio.get_running_loop())

    def scenario() -> None:
        with govstore.Client(base_url=BASE_URL, transport=transport) as sdk:
            sdk.accounts.register("grace@example.org", PASSWORD, "Grace", "provider")
            sdk.auth.login("grace@example.org", PASSWORD)
            organisation = sdk.organisations.create("Hopper Labs", "labs@example.org")
            grown = sdk.organisations.add_member(organisation.id, developer.email, "developer")
            service = sdk.services.create(organisation.id, "hopper-gp", "Hopper GP")
            release = sdk.releases.submit(service.id, manifest_fixture("acme-gp-online"))
            settled = sdk.releases.wait(service.id, release.id, timeout=30, poll_interval=0.01)
            assert settled.status == "awaiting_review" and settled.findings
            assert "clinical-safety" in {check.id for check in sdk.checks.list()}
            hook = sdk.organisations.webhook.set(organisation.id, "https://hopper.example/hooks")
            assert hook.secret and sdk.organisations.webhook.get(organisation.id).secret is None
            # Removed again at once: deliveries to an unreachable host would be retried for long.
            sdk.organisations.webhook.delete(organisation.id)
            for n in range(3):
                sdk.account.api_tokens.create(f"token {n}", 1, ["read"])

            assert len(grown.members) == 2
            assert [o.role for o in sdk.organisations.list()] == ["owner"]
            assert [r.id for r in sdk.releases.list(service.id)] == [release.id]
            pages = list(sdk.account.api_tokens.list(limit=2).pages())
            assert [len(page.items) for page in pages] == [2, 1]
            assert sdk.guidelines.current().version == "2026.1"
            with pytest.raises(govstore.UnprocessableEntityError) as raised:
                sdk.releases.submit(service.id, {"name": "Hopper GP", "category": "toys"})
            assert "/manifest/category" in {e.pointer for e in raised.value.errors}
            withdrawn = sdk.releases.withdraw(service.id, release.id, reason="Not ready")
            assert withdrawn.history[-1].reason == "Not ready"
            with pytest.raises(govstore.ConflictError):
                sdk.releases.withdraw(service.id, release.id)
            with pytest.raises(govstore.NotFoundError):
                sdk.services.get("svc_unknown")
            sdk.auth.logout()
            with pytest.raises(govstore.AuthenticationError):
                sdk.account.get()

    async with settling(app):  # the sync `wait` blocks its thread; jobs run on this loop
        await asyncio.to_thread(scenario)

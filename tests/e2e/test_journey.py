"""PRODUCT.md's journey, steps 1 to 10, end to end: real processes, the SDK only.

`marketplace serve` runs as a subprocess on a free loopback port against a fresh data
directory (and the run's DATABASE_URL when one is set; with REDIS_URL, jobs go to a
separate `marketplace worker` process). The example department data API runs as a
third process. Every call is made through `govstore` (the SDK), except the citizen's
browser on the consent screen, which is a plain HTTP form as a browser would post it.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import govstore
import httpx
import pytest
from govstore.oauth import DataApiClient, OAuthClient, authorization_url, pkce_pair
from live_server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, free_port, running_server
from testkit import GUIDELINES, SCHEMES, SCOPES, manifest_fixture

PASSWORD = "a long enough passphrase"
REDIRECT_URI = "https://warmhome.example.org/oauth/callback"
INCOME_READ_USE = {
    "scope": "income.read",
    "purpose": "service_delivery",
    "purpose_description": "Fill in your grant application with your income details",
    "lawful_basis": "consent",
    "retention_days": 30,
    "shared_with_third_parties": False,
    "optional": True,
}


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """GovStore serving on a free port (with a worker when REDIS_URL is set), for the module."""
    with running_server(request, tmp_path_factory.mktemp("journey")) as running:
        yield running


class Hooks(http.server.BaseHTTPRequestHandler):
    """The provider's webhook receiver: keeps each delivery's headers and exact body."""

    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (Hooks,), {"received": received})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hooks", received
    finally:
        httpd.shutdown()
        httpd.server_close()


def eventually(check: Any, timeout: float = 30, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting: {message}")
        time.sleep(0.1)


@dataclass
class Journey:
    """What the journey leaves behind, for the checks that follow it."""

    service_id: str = ""
    slug: str = ""
    consent_id: str = ""
    citizen_id: str = ""
    tree_size_before_erasure: int | None = None


@pytest.fixture(scope="module")
def journey(server: Server) -> Journey:
    return walk(server)


def walk(server: Server) -> Journey:
    base = server.base_url
    facts = Journey()
    admin = govstore.Client(base_url=base)
    provider = govstore.Client(base_url=base)
    reviewer = govstore.Client(base_url=base)
    second_reviewer = govstore.Client(base_url=base)
    citizen = govstore.Client(base_url=base)
    public = govstore.Client(base_url=base)

    # 1. The admin publishes guideline version 2026.1, scopes and kitemark schemes.
    admin.auth.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    for scope in SCOPES:
        admin.scopes.create(**scope)
    for scheme in SCHEMES:
        admin.kitemark_schemes.create(**scheme)
    admin.guidelines.create("2026.1", "GovStore guidelines 2026.1", GUIDELINES)
    published = admin.guidelines.publish("2026.1")
    assert published.status == "published"
    assert public.guidelines.current().version == "2026.1"
    with pytest.raises(govstore.ConflictError):  # published versions are immutable
        admin.guidelines.revise("2026.1", "Changed", GUIDELINES)
    hmrc = admin.admin.data_apis.create("HMRC income", "HM Revenue & Customs")
    for client, name in ((reviewer, "Rita Reviewer"), (second_reviewer, "Sam Second")):
        email = f"{name.split()[0].lower()}@review.example"
        account = public.accounts.register(email, PASSWORD, name, "citizen")
        admin.admin.set_roles(account.id, ["reviewer"])
        client.auth.login(email, PASSWORD)

    # 2. A provider registers, creates an organisation and a service, and submits a release.
    provider.accounts.register("ada@warmhome.example", PASSWORD, "Ada Mensah", "provider")
    provider.auth.login("ada@warmhome.example", PASSWORD)
    organisation = provider.organisations.create("Warm Home Ltd", "team@warmhome.example")
    manifest = manifest_fixture("warm-home-grant-checker")
    manifest["data_uses"].append(INCOME_READ_USE)
    service = provider.services.create(organisation.id, "warm-home-grant", manifest["name"])
    facts.service_id, facts.slug = service.id, service.slug
    with webhook_receiver() as (hook_url, deliveries):
        webhook = provider.organisations.webhook.set(organisation.id, hook_url)
        assert webhook.secret is not None
        release = provider.releases.submit(service.id, manifest)
        assert release.status == "submitted"

        # 3. Automated review runs in the background and queues it for a human.
        detail = provider.releases.wait(service.id, release.id, timeout=60, poll_interval=0.2)
        assert detail.status == "awaiting_review", [
            (f.code, f.message) for f in detail.findings if f.result == "fail"
        ]
        assert detail.findings and detail.queue is not None

        # 4. A reviewer claims it and approves, granting a high-sensitivity scope: a second,
        #    different reviewer must confirm; the first cannot confirm their own decision.
        queued = [item.release_id for item in reviewer.review.queue()]
        assert release.id in queued
        reviewer.review.claim(release.id)
        version = reviewer.guidelines.get("2026.1")
        findings = [{"code": g.code, "result": "pass"} for g in version.guidelines]
        decision = reviewer.review.decide(
            release.id,
            govstore.DecisionOutcome.APPROVE,
            findings,
            kitemarks=["privacy-assured"],
            scopes=["income.verify", "income.read"],
            note="Meets the guidelines.",
        )
        assert decision.needs_second_approval
        assert provider.releases.get(service.id, release.id).status == "awaiting_second_approval"
        with pytest.raises(govstore.APIStatusError) as same_reviewer:
            reviewer.review.second_approval(release.id)
        assert same_reviewer.value.status in (403, 409)
        confirmed = second_reviewer.review.second_approval(release.id, note="Agreed.")
        assert confirmed.second_outcome == "approve"

        # 5. Published: listed, kitemark credential issued, OAuth client, signed webhook.
        live = provider.releases.wait(
            service.id, release.id, until={"published"}, timeout=30, poll_interval=0.2
        )
        assert live.status == "published"
        secret = webhook.secret

        def published_hook() -> govstore.WebhookEvent | None:
            for headers, body in list(deliveries):
                event = govstore.verify_webhook(headers, body, secret)
                if event.event == "release.status_changed" and event.data.get("to") == "published":
                    return event
            return None

        event = eventually(published_hook, message="the release.status_changed webhook")
        assert event.data["release_id"] == release.id
    (kitemark,) = public.kitemarks.list(service.id)
    jwks = public.well_known.jwks()
    issuer = public.well_known.oauth_metadata().issuer
    claims = govstore.verify_kitemark(kitemark.credential, jwks, issuer=issuer)
    assert (claims.sub, claims.jti, claims.scheme) == (service.id, kitemark.id, "privacy-assured")
    oauth_client = provider.services.oauth_client.get(service.id)
    assert set(oauth_client.scopes) == {"income.verify", "income.read"}
    credentials = provider.services.oauth_client.rotate_secret(service.id)

    # 6. A citizen finds it in the catalogue, reads its data uses, and consents with PKCE.
    citizen_account = citizen.accounts.register(
        "joan@inbox.example", PASSWORD, "Joan Pritchard", "citizen"
    )
    facts.citizen_id = citizen_account.id
    citizen.auth.login("joan@inbox.example", PASSWORD)
    assert citizen.token is not None
    found = [listing.slug for listing in public.catalogue.search("grant")]
    assert service.slug in found
    for filters in (
        {"category": manifest["category"]},
        {"kitemark": "privacy-assured"},
        {"scope": "income.read"},
    ):
        assert service.slug in [item.slug for item in public.catalogue.search(**filters)]
    page = public.catalogue.get(service.slug)
    assert {use.scope for use in page.data_uses} == {"income.verify", "income.read"}
    assert all(use.plain_english for use in page.data_uses)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    url = authorization_url(
        base,
        credentials.client_id,
        REDIRECT_URI,
        ["income.verify", "income.read"],
        state,
        challenge,
    )
    with httpx.Client(headers={"Authorization": f"Bearer {citizen.token}"}) as browser:
        screen = browser.get(url)
        assert screen.status_code == 200 and "income" in screen.text.lower()
        answer = browser.post(
            url,
            data={"confirm": "allow", "scope": ["income.verify"], "expires_in_days": "90"},
        )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [state]
    with OAuthClient(base, credentials.client_id, credentials.client_secret) as service_oauth:
        tokens = service_oauth.exchange_code(query["code"][0], REDIRECT_URI, verifier)
    assert tokens.scopes == ["income.verify"]  # the optional scope was left out
    assert tokens.refresh_token is not None

    # 7. The service calls the department's data API, which introspects the token; the
    #    access is logged for the citizen.
    department_port = free_port()
    department_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GOVSTORE_")},
        "GOVSTORE_BASE_URL": base,
        "DATA_API_CLIENT_ID": hmrc.client_id,
        "DATA_API_CLIENT_SECRET": hmrc.client_secret,
        "PORT": str(department_port),
        "DEPARTMENT_INCOMES": json.dumps({citizen_account.id: 18_000}),
    }
    server.start("department", [sys.executable, "-m", "examples.department_api"], department_env)
    department = f"http://127.0.0.1:{department_port}"
    server.wait_until(
        lambda: httpx.get(f"{department}/v1/income-below", timeout=2).status_code == 401,
        "the department API",
    )
    ask = {
        "Authorization": f"Bearer {tokens.access_token}",
        "Case-Reference": "warm home grant WHG-2026-0042",
    }
    income = httpx.get(f"{department}/v1/income-below", params={"threshold": 25000}, headers=ask)
    assert income.status_code == 200, income.text
    assert income.json() == {"below_threshold": True}
    with DataApiClient(base, hmrc.client_id, hmrc.client_secret) as data_api:
        seen = data_api.introspect(tokens.access_token, case_reference="eligibility re-check")
        assert seen.active and seen.sub == citizen_account.id
        assert seen.tiers == {"income.verify": "status"}

        # 8. The dashboard shows the consent and every access; revoking kills the tokens.
        (consent,) = citizen.me.consents.list()
        facts.consent_id = consent.id
        assert consent.scopes == ["income.verify"] and consent.status == "active"
        log = list(citizen.me.access_log(service=service.id))
        assert {entry.case_reference for entry in log} == {
            "warm home grant WHG-2026-0042",
            "eligibility re-check",
        }
        assert all(
            entry.service.id == service.id and entry.scope == "income.verify" for entry in log
        )
        receipt = citizen.me.consents.receipt(consent.id)
        assert receipt.receipt.count(".") == 2
        citizen.me.consents.revoke(consent.id)
        assert not data_api.introspect(tokens.access_token).active
    refused = httpx.get(f"{department}/v1/income-below", params={"threshold": 25000}, headers=ask)
    assert refused.status_code == 401
    with (
        OAuthClient(base, credentials.client_id, credentials.client_secret) as service_oauth,
        pytest.raises(govstore.OAuthError) as dead,
    ):
        service_oauth.refresh(tokens.refresh_token)
    assert dead.value.error == "invalid_grant"

    # 9. The citizen rates it and complains; a reviewer suspends the kitemark, and the
    #    catalogue and the credential's status show it at once.
    rating = citizen.catalogue.rate(service.slug, 4, comment="Quick and clear.")
    assert rating.stars == 4
    complaint = citizen.catalogue.complain(
        service.slug, govstore.ComplaintCategory.PRIVACY, "It asked for my income twice."
    )
    assert complaint.status == "open"
    assert [c.id for c in provider.complaints.list(service.id)] == [complaint.id]
    reviewer.kitemarks.suspend(kitemark.id, "Complaint under investigation")
    status = public.kitemarks.status(kitemark.id)
    assert (status.status, status.valid) == ("suspended", False)
    page = public.catalogue.get(service.slug)
    assert all(k.status != "active" for k in page.kitemarks if k.id == kitemark.id)
    badges = [b.scheme for item in public.catalogue.search("grant") for b in item.kitemarks]
    assert "privacy-assured" not in badges
    # The signature still verifies: only the status endpoint knows of the suspension.
    assert govstore.verify_kitemark(kitemark.credential, jwks, issuer=issuer).jti == kitemark.id

    # 10. The citizen exports everything, then erases the account.
    export = citizen.me.export()
    assert export.account.email == "joan@inbox.example"
    assert [c.id for c in export.consents] == [consent.id]
    assert len(export.access_log) == 2 and len(export.ratings) == 1
    citizen.me.erase(PASSWORD)
    with pytest.raises(govstore.AuthenticationError):
        public.auth.login("joan@inbox.example", PASSWORD)
    for client in (admin, provider, reviewer, second_reviewer, citizen, public):
        client.close()
    return facts


def test_the_journey_from_guidelines_to_erasure(journey: Journey) -> None:
    # Every step asserted as it went (in `walk`); here, that it went all the way.
    assert journey.service_id.startswith("svc_")
    assert journey.consent_id.startswith("cns_")


def test_journey_consent_entry_is_in_the_log(journey: Journey, server: Server) -> None:
    """The citizen's consent is in the transparency log, provably, offline, and pseudonymously."""
    with govstore.Client(base_url=server.base_url) as public:
        jwks = public.well_known.jwks()
        deadline = time.monotonic() + 15  # the sequencer runs at least once a second
        while True:
            head = govstore.verify_tree_head(public.transparency.tree_head(), jwks)
            entries = [
                entry
                for start in range(0, head.tree_size, 1000)
                for entry in public.transparency.entries(
                    start=start, end=min(start + 1000, head.tree_size)
                ).items
            ]
            granted = [
                entry
                for entry in entries
                if entry.kind == "consent.granted"
                and entry.body.get("service_id") == journey.service_id
            ]
            if granted or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert granted, "no log entry for the journey's consent"
        # Pseudonymous: no entry names the (since erased) citizen.
        assert not any(journey.citizen_id in entry.entry for entry in entries)
        assert all(str(entry.body.get("citizen", "cz_")).startswith("cz_") for entry in granted)
        entry = granted[0]
        # The leaf hash is the entry's own bytes, and the proof ties it to the signed root.
        leaf = govstore.leaf_hash(entry.entry.encode())
        assert base64.b64encode(leaf).decode() == entry.leaf_hash
        proof = public.transparency.inclusion_proof(entry.leaf_index, head.tree_size)
        govstore.verify_inclusion(
            leaf, entry.leaf_index, head.tree_size, proof.audit_path, head.root_hash
        )
        with pytest.raises(govstore.ProofError):
            govstore.verify_inclusion(
                leaf, entry.leaf_index ^ 1, head.tree_size, proof.audit_path, head.root_hash
            )

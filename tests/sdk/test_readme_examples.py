"""Every Python example in sdk/README.md runs, against a real server with the demo data.

The README's examples are written for `make run` (the demo data on a local server): here
`marketplace demo` and `marketplace serve` run as processes on a free port, each example
is executed as written with GOVSTORE_BASE_URL pointing there, and the examples that
define functions are called with the data they need. Every example must be claimed by
exactly one test below, so a new one cannot go untested.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import govstore
import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey
from live_server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, running_server

README = Path(__file__).resolve().parents[2] / "sdk" / "README.md"
DEMO_PASSWORDS = {"provider": "demo-provider-2026", "citizen": "demo-citizen-2026"}
RIVERSIDE = "riverside-benefits-check"
RIVERSIDE_PROVIDER = "grace.whitfield@riversideadvice.example"
RIVERSIDE_REDIRECT = "https://check.riversideadvice.example/oauth/callback"
CITIZEN = "joan.pritchard@inbox.example"
REVIEWER = ("amara.okafor@govstore.example", "demo-reviewer-2026")

# A distinctive line of each example -> the test that runs it.
EXAMPLES = {
    'print(f"submitted release {release.number}': "test_quick_start",
    "def withdraw(": "test_withdraw",
    "def appeal(": "test_appeal",
    "for scope in client.scopes.list():": "test_reading_the_rules",
    "client.releases.submit(service.id, {": "test_errors",
    "async def main()": "test_async",
    "item = next(iter(client.review.queue(limit=1)), None)": "test_review",
    "client.organisations.webhook.set(organisation.id, ": "test_webhook_settings",
    "class Hooks(http.server.BaseHTTPRequestHandler)": "test_webhook_receiver",
    "def check_kitemarks(": "test_check_kitemarks",
    "def start_sign_in(": "test_a_citizen_through_oauth_introspection_and_records",
    "def authorise(": "test_a_citizen_through_oauth_introspection_and_records",
    'client.catalogue.search("benefits"': "test_catalogue_search",
    "def feedback(": "test_a_citizen_through_oauth_introspection_and_records",
    "def handle_feedback(": "test_a_citizen_through_oauth_introspection_and_records",
    "def my_records(": "test_a_citizen_through_oauth_introspection_and_records",
    "session.account.api_tokens.create(": "test_api_tokens",
    "client.guidelines.create(version, ": "test_administration",
    "def check_log(": "test_transparency_checks",
    "def check_my_entries(": "test_a_citizen_through_oauth_introspection_and_records",
    "httpx.MockTransport(fake_server)": "test_mock_transport",
    "client.revalidation.hits": "test_conditional_reads",
}


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def example(marker: str) -> str:
    (block,) = [block for block in python_blocks() if marker in block]
    return block


def run_example(marker: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute one README example as a module would run it (not as __main__)."""
    namespace = {"__name__": "readme_example", **(namespace or {})}
    exec(compile(example(marker), f"sdk/README.md example {marker!r}", "exec"), namespace)
    return namespace


def test_every_example_is_claimed_by_one_test() -> None:
    for index, block in enumerate(python_blocks()):
        claimed = [marker for marker in EXAMPLES if marker in block]
        assert len(claimed) >= 1, f"README example {index} is run by no test:\n{block[:200]}"
        assert len({EXAMPLES[marker] for marker in claimed}) == 1, claimed
    for marker, test in EXAMPLES.items():
        assert test in globals(), test
        assert len([b for b in python_blocks() if marker in b]) == 1, marker


@pytest.fixture(scope="module")
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(request, tmp_path_factory.mktemp("readme"), demo=True) as server:
        yield server


_OPEN: list[govstore.Client] = []


@pytest.fixture(autouse=True)
def environment(demo: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("GOVSTORE_BASE_URL", demo.base_url)
    monkeypatch.delenv("GOVSTORE_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # my_records writes its export to the working directory
    yield
    while _OPEN:
        _OPEN.pop().close()


def new_client() -> govstore.Client:
    """A client on the demo server, closed when the test ends."""
    client = govstore.Client()
    _OPEN.append(client)
    return client


def signed_in(email: str, password: str) -> govstore.Client:
    client = new_client()
    client.auth.login(email, password)
    return client


def submitted_release(**manifest_changes: Any) -> tuple[govstore.Client, str, str]:
    """A new provider's release, waiting for a reviewer: (provider client, service, release)."""
    namespace = run_example('print(f"submitted release {release.number}')
    manifest = {**namespace["manifest"], **manifest_changes}
    suffix = namespace["suffix"] + "x"
    client = new_client()
    client.accounts.register(
        f"p-{suffix}@acme.example", "a long enough passphrase", "P", "provider"
    )
    client.auth.login(f"p-{suffix}@acme.example", "a long enough passphrase")
    organisation = client.organisations.create("Acme Two Ltd", "two@acme.example")
    service = client.services.create(organisation.id, f"acme-two-{suffix}", manifest["name"])
    release = client.releases.submit(service.id, manifest)
    client.releases.wait(service.id, release.id, timeout=30, poll_interval=0.2)
    return client, service.id, release.id


# Submitting and following review ----------------------------------------------------------------


def test_quick_start(capsys: pytest.CaptureFixture[str]) -> None:
    run_example('print(f"submitted release {release.number}')

    out = capsys.readouterr().out
    assert "submitted release 1 (rel_" in out
    assert "is now awaiting_review" in out
    assert "in the queue for a reviewer" in out


def test_withdraw(capsys: pytest.CaptureFixture[str]) -> None:
    client, service_id, release_id = submitted_release()
    withdraw = run_example("def withdraw(")["withdraw"]

    withdraw(client, service_id, release_id)
    withdraw(client, service_id, release_id)

    out = capsys.readouterr().out
    assert "release 1 is withdrawn" in out
    assert "cannot withdraw: " in out


def test_appeal(capsys: pytest.CaptureFixture[str]) -> None:
    client, service_id, release_id = submitted_release()
    with signed_in(*REVIEWER) as reviewer:
        reviewer.review.claim(release_id)
        release = reviewer.review.get(release_id)
        version = reviewer.guidelines.get(release.guideline_version)
        blocking = [g.code for g in version.guidelines if g.severity == "blocking"]
        findings = [
            {"code": code, "result": "fail" if index == 0 else "pass", "note": "Not yet."}
            for index, code in enumerate(blocking)
        ]
        reviewer.review.decide(release_id, "reject", findings, note="Purpose missing.")
    appeal = run_example("def appeal(")["appeal"]

    appeal(client, service_id, release_id)

    out = capsys.readouterr().out
    assert f"rejected for {blocking[0]}: Purpose missing." in out
    assert "appealed; position " in out


def test_reading_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    run_example("for scope in client.scopes.list():")

    out = capsys.readouterr().out
    assert "income.verify: tier status, sensitivity low" in out
    assert "privacy-assured: valid" in out
    assert "a manifest needs: name, summary" in out


def test_errors(capsys: pytest.CaptureFixture[str]) -> None:
    run_example("client.releases.submit(service.id, {")

    out = capsys.readouterr().out
    assert "as expected, not signed in yet: 401" in out
    assert "422 " in out and "  /manifest/category: " in out


def test_async(capsys: pytest.CaptureFixture[str]) -> None:
    run_example("async def main()")

    out = capsys.readouterr().out
    assert "signed in as Alan Turing" in out
    assert "Turing Ltd (you: owner): Alan Turing" in out


def test_review(capsys: pytest.CaptureFixture[str]) -> None:
    run_example('print(f"submitted release {release.number}')  # something to review

    run_example("item = next(iter(client.review.queue(limit=1)), None)")

    out = capsys.readouterr().out
    assert "accessibility-statement: " in out  # the checks
    assert re.search(r"(approve|request_changes); reason codes", out), out


# Webhooks ----------------------------------------------------------------------------------------


def test_webhook_settings(capsys: pytest.CaptureFixture[str]) -> None:
    run_example("client.organisations.webhook.set(organisation.id, ")

    out = capsys.readouterr().out
    assert "go to http://127.0.0.1:8080/hooks" in out
    assert "store this signing secret now, it is shown once: " in out


def test_webhook_receiver(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a webhook secret of at least 24 characters"
    monkeypatch.setenv("GOVSTORE_WEBHOOK_SECRET", secret)
    hooks = run_example("class Hooks(http.server.BaseHTTPRequestHandler)")["Hooks"]
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    try:
        client = new_client()
        client.accounts.register("hooks@acme.example", "a long enough passphrase", "H", "provider")
        client.auth.login("hooks@acme.example", "a long enough passphrase")
        organisation = client.organisations.create("Hooked Ltd", "hooks@acme.example")
        client.organisations.webhook.set(organisation.id, url, secret=secret)
        service = client.services.create(organisation.id, "hooked-gp", "Hooked GP")
        manifest = run_example('print(f"submitted release {release.number}')["manifest"]
        release = client.releases.submit(service.id, {**manifest, "name": "Hooked GP"})

        deadline = time.monotonic() + 30
        while f"release {release.id}: submitted -> automated_review" not in capsys.readouterr().out:
            assert time.monotonic() < deadline, "no verified delivery reached the receiver"
            time.sleep(0.2)
        forged = httpx.post(
            url,
            content=b'{"id": "evt_1"}',
            headers={"GovStore-Signature": f"t={int(time.time())},v1=00", "GovStore-Event": "x"},
        )
        assert forged.status_code == 400
    finally:
        receiver.shutdown()
        receiver.server_close()


# Kitemarks, OAuth, the catalogue, a citizen's records ----------------------------------------------


def riverside_id() -> str:
    return new_client().catalogue.get(RIVERSIDE).id


def test_check_kitemarks(capsys: pytest.CaptureFixture[str]) -> None:
    check_kitemarks = run_example("def check_kitemarks(")["check_kitemarks"]

    check_kitemarks(new_client(), riverside_id())

    out = capsys.readouterr().out
    assert "Accessible for Riverside Benefits Check: active" in out
    assert "not to be trusted" not in out


def test_catalogue_search(capsys: pytest.CaptureFixture[str]) -> None:
    run_example('client.catalogue.search("benefits"')

    out = capsys.readouterr().out
    assert "health services: kestrel-medicines" in out
    assert "active consents" in out


def test_conditional_reads(capsys: pytest.CaptureFixture[str]) -> None:
    # Against the real server: its ETag and 304 come back as the same listings.
    run_example("client.revalidation.hits")

    out = capsys.readouterr().out
    hits = int(out.rsplit("answered from memory:", 1)[1])
    assert hits >= 1


def test_a_citizen_through_oauth_introspection_and_records(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service_id = riverside_id()
    provider = signed_in(RIVERSIDE_PROVIDER, DEMO_PASSWORDS["provider"])
    credentials = provider.services.oauth_client.rotate_secret(service_id)
    monkeypatch.setenv("GOVSTORE_CLIENT_ID", credentials.client_id)
    monkeypatch.setenv("GOVSTORE_CLIENT_SECRET", credentials.client_secret)
    with signed_in(ADMIN_EMAIL, ADMIN_PASSWORD) as admin:
        data_api = admin.admin.data_apis.create("HMRC income (README)", "HM Revenue & Customs")
    monkeypatch.setenv("DATA_API_CLIENT_ID", data_api.client_id)
    monkeypatch.setenv("DATA_API_CLIENT_SECRET", data_api.client_secret)
    citizen = signed_in(CITIZEN, DEMO_PASSWORDS["citizen"])

    # OAuth: the service sends the citizen to the consent screen, and back.
    oauth = run_example("def start_sign_in(")
    oauth["REDIRECT_URI"] = RIVERSIDE_REDIRECT  # the demo service's, instead of the example's
    session: dict[str, str] = {}
    url = oauth["start_sign_in"](session)
    with httpx.Client(headers={"Authorization": f"Bearer {citizen.token}"}) as browser:
        assert browser.get(url).status_code == 200
        answer = browser.post(
            url, data={"confirm": "allow", "scope": ["income.verify"], "expires_in_days": "30"}
        )
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    tokens = oauth["finish_sign_in"](session, query)
    assert tokens.scopes == ["income.verify"]
    tokens = oauth["refresh"](tokens)
    assert tokens is not None

    # The department's data API checks the token.
    data_api_example = run_example("def authorise(")
    authorise = data_api_example["authorise"]
    try:
        answer_ = authorise(tokens.access_token, "income.verify", "README case 1")
        assert answer_ is not None and answer_.sub == citizen.account.get().id
        assert authorise(tokens.access_token, "income.read", "README case 2") is None
    finally:
        data_api_example["api"].close()

    # The citizen rates and complains; the provider answers and reports an outcome.
    run_example("def feedback(")["feedback"](citizen, RIVERSIDE)
    run_example("def handle_feedback(")["handle_feedback"](provider, service_id, "checks_completed")

    # The citizen's records, then a throwaway citizen leaves.
    records = run_example("def my_records(")
    records["my_records"](citizen)

    # The citizen checks their own entries in the transparency log (sequenced within a second).
    deadline = time.monotonic() + 15
    while not list(citizen.me.transparency(limit=1)) and time.monotonic() < deadline:
        time.sleep(0.3)
    run_example("def check_my_entries(")["check_my_entries"](citizen)
    assert json.loads(Path("my-govstore-data.json").read_text())["account"]["email"] == CITIZEN
    leaver = new_client()
    leaver.accounts.register("leaver@inbox.example", "a long enough passphrase", "L", "citizen")
    leaver.auth.login("leaver@inbox.example", "a long enough passphrase")
    records["leave"](leaver, "not the password")
    records["leave"](leaver, "a long enough passphrase")

    out = capsys.readouterr().out
    assert "reads income.verify at tier status for " in out
    assert re.search(r"consent\.granted at \S+ is in the log signed at ", out)
    # The demo data has this citizen's rating of the service already: the example replaces it.
    assert "rating replaced 4/5" in out
    assert "(open): no answer yet" in out
    assert "privacy complaint resolved at " in out
    assert f"reported checks_completed = 1200.0 for {datetime.date.today().year - 1}" in out
    assert "read Check your income is below a limit (status) from HM Revenue & Customs" in out
    assert "not erased: " in out
    assert "account erased; the client is signed out" in out


# Tokens, administration, offline checks, testing ---------------------------------------------------


def test_api_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    run_example("session.account.api_tokens.create(")

    out = capsys.readouterr().out
    assert "the token belongs to ci-" in out
    assert "as expected, outside its scopes: 403" in out


def test_administration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSTORE_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("GOVSTORE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)

    run_example("client.guidelines.create(version, ")

    out = capsys.readouterr().out
    assert re.search(r"now has roles \[.*'reviewer'.*\]", out), out
    assert "keep the secret now, it is shown once" in out


def test_transparency_checks(capsys: pytest.CaptureFixture[str]) -> None:
    """Offline: a log of 6 entries grows to 11, built and signed here as the server would."""
    entries = [f"entry {i}".encode() for i in range(11)]
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    jwks = {"keys": [{**key.as_dict(private=False), "kid": "k1", "alg": "ES256", "use": "sig"}]}

    def head(size: int) -> dict[str, Any]:
        root = base64.b64encode(mth(entries[:size])).decode()
        fields = {"root_hash": root, "timestamp": 1_796_000_000_000 + size, "tree_size": size}
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        header = {"alg": "ES256", "kid": "k1", "typ": "tree-head+jwt"}
        return {**fields, "signature": jws.serialize_compact(header, payload, key)}

    check_log = run_example("def check_log(")["check_log"]
    b64 = lambda nodes: [base64.b64encode(node).decode() for node in nodes]  # noqa: E731

    check_log(
        jwks,
        head(11),
        head(6),
        b64(consistency(6, entries[:11])),
        base64.b64encode(govstore.leaf_hash(entries[8])).decode(),
        8,
        b64(audit_path(8, entries[:11])),
    )
    with pytest.raises(govstore.ProofError):
        check_log(jwks, head(11), head(6), b64(consistency(5, entries[:11])), "", 0, [])

    out = capsys.readouterr().out
    assert "the log grew from 6 to 11 entries, appending only" in out
    assert "entry 8 is in the log" in out


def test_mock_transport() -> None:
    run_example("httpx.MockTransport(fake_server)")


# RFC 9162's tree and proofs, for the offline example -----------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    if len(entries) == 1:
        return _h(b"\x00" + entries[0])
    k = _k(len(entries))
    return _h(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def audit_path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = _k(len(entries))
    if m < k:
        return [*audit_path(m, entries[:k]), mth(entries[k:])]
    return [*audit_path(m - k, entries[k:]), mth(entries[:k])]


def consistency(m: int, entries: list[bytes], complete: bool = True) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if complete else [mth(entries)]
    k = _k(n)
    if m <= k:
        return [*consistency(m, entries[:k], complete), mth(entries[k:])]
    return [*consistency(m - k, entries[k:], False), mth(entries[:k])]

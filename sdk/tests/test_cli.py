"""The `govstore` command line, against a scripted mock server."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from govstore import cli, leaf_hash
from govstore.cli import _releases

from .support import BASE_URL, MockServer, problem
from .test_client import ACCOUNT, LISTING, ORGANISATION_SUMMARY, RELEASE, RELEASE_DETAIL, SERVICE
from .test_client import METADATA as CLIENT_METADATA
from .test_credentials import CLAIMS, public_jwks, sign
from .test_transparency import ENTRIES, ROOTS, b64, path, proof, signed_head
from .test_transparency import new_key as new_tree_key

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "category"],
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "category": {"enum": ["health", "tax"]},
    },
}
METADATA = {**CLIENT_METADATA, "issuer": "https://govstore.example"}


class Run:
    """One CLI run's exit code and output."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines()]


def govstore(*argv: str, server: MockServer | None = None, stdin: str = "") -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.run(
        list(argv),
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(stdin),
        transport=(server or MockServer()).transport,
    )
    return Run(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and cache directories of the test's own; the server is the mock's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GOVSTORE_BASE_URL", BASE_URL)
    return tmp_path


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """`--follow` waits recorded, not slept; the clock moves by each wait."""
    now = [0.0]
    waited: list[float] = []

    def sleep(delay: float) -> None:
        waited.append(delay)
        now[0] += delay

    monkeypatch.setattr(_releases, "sleep", sleep)
    monkeypatch.setattr(_releases, "monotonic", lambda: now[0])
    yield waited


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


# login and where the token comes from --------------------------------------------------------


def test_login_checks_the_token_and_saves_it_readable_by_the_user_only(home: Path) -> None:
    server = MockServer(ok(ACCOUNT))

    run = govstore("login", "--token-stdin", server=server, stdin="gst_secret\n")

    assert run.code == cli.EXIT_OK, run.stderr
    assert "Signed in to http://govstore.test as P <p@example.test>" in run.stdout
    assert server.last.url.path == "/v1/account"
    assert server.last.headers["Authorization"] == "Bearer gst_secret"
    saved = home / "config" / "govstore" / "config.json"
    assert json.loads(saved.read_text()) == {"base_url": BASE_URL, "token": "gst_secret"}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_the_saved_token_is_used_by_later_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    assert govstore("login", "--token", "gst_saved", server=MockServer(ok(ACCOUNT))).code == 0
    server = MockServer(ok({"items": [], "next_cursor": None}))

    assert govstore("catalogue", "search", server=server).code == 0
    assert server.last.headers["Authorization"] == "Bearer gst_saved"

    monkeypatch.setenv("GOVSTORE_TOKEN", "gst_from_env")  # the environment wins
    server = MockServer(ok({"items": [], "next_cursor": None}))
    govstore("catalogue", "search", server=server)
    assert server.last.headers["Authorization"] == "Bearer gst_from_env"


def test_a_saved_token_is_never_sent_to_another_server() -> None:
    govstore("login", "--token", "gst_saved", server=MockServer(ok(ACCOUNT)))
    server = MockServer(ok({"items": [], "next_cursor": None}))

    run = govstore("catalogue", "search", "--base-url", "http://elsewhere.test", server=server)

    assert run.code == 0
    assert server.last.url.host == "elsewhere.test"
    assert "Authorization" not in server.last.headers


def test_login_with_a_refused_token_saves_nothing(home: Path) -> None:
    server = MockServer(problem(401, "Unauthorized", "The token is not valid."))

    run = govstore("login", "--token", "gst_wrong", server=server)

    assert run.code == cli.EXIT_API_ERROR
    assert "401 Unauthorized: The token is not valid." in run.stderr
    assert not (home / "config" / "govstore" / "config.json").exists()


def test_login_with_an_email_signs_in_and_saves_the_session_token() -> None:
    server = MockServer(
        ok({"access_token": "session", "token_type": "Bearer", "expires_in": 3600}), ok(ACCOUNT)
    )

    run = govstore(
        "login",
        "--email",
        "p@example.test",
        "--password-stdin",
        "--json",
        server=server,
        stdin="hunter22\n",
    )

    assert run.code == 0
    assert server.body(0) == {"email": "p@example.test", "password": "hunter22"}
    assert server.last.headers["Authorization"] == "Bearer session"
    assert run.json["account"]["email"] == "p@example.test"


def test_login_without_a_token_is_a_usage_error() -> None:
    run = govstore("login", "--token-stdin", stdin="\n")

    assert run.code == cli.EXIT_USAGE
    assert "no token given" in run.stderr


# manifest validate -----------------------------------------------------------------------------


def write(tmp: Path, name: str, document: Any) -> str:
    file = tmp / name
    file.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return str(file)


def test_a_valid_manifest_passes_and_the_schema_is_cached(home: Path) -> None:
    manifest = write(home, "manifest.json", {"name": "Acme", "category": "health"})
    server = MockServer(ok(SCHEMA))

    first = govstore("manifest", "validate", manifest, server=server)
    second = govstore("manifest", "validate", manifest)  # no server answers: offline

    assert first.code == second.code == cli.EXIT_OK
    assert f"{manifest} is a valid service manifest" in second.stdout
    assert [r.url.path for r in server.requests] == ["/v1/schemas/service-manifest"]
    (cached,) = (home / "cache" / "govstore").iterdir()
    assert json.loads(cached.read_text()) == SCHEMA


def test_an_invalid_manifest_fails_with_every_pointer(home: Path) -> None:
    manifest = write(home, "m.json", {"name": "A", "category": "toys", "extra": 1})

    run = govstore("manifest", "validate", manifest, server=MockServer(ok(SCHEMA)))

    assert run.code == cli.EXIT_FAILED
    assert "  /name: must be at least 2 characters long" in run.stdout
    assert "  /category: must be one of 'health', 'tax'" in run.stdout
    assert "  /extra: is not a field the schema allows" in run.stdout


def test_validate_as_json(home: Path) -> None:
    manifest = write(home, "m.json", {"category": "tax"})

    run = govstore("manifest", "validate", manifest, "--json", server=MockServer(ok(SCHEMA)))

    assert run.code == cli.EXIT_FAILED
    assert run.json["valid"] is False
    assert run.json["errors"] == [{"pointer": "/name", "detail": "is required"}]


def test_refresh_fetches_the_schema_again(home: Path) -> None:
    manifest = write(home, "m.json", {"name": "Acme", "category": "health"})
    govstore("manifest", "validate", manifest, server=MockServer(ok(SCHEMA)))
    stricter = {**SCHEMA, "properties": {**SCHEMA["properties"], "name": {"const": "Other"}}}
    server = MockServer(ok(stricter))

    run = govstore("manifest", "validate", manifest, "--refresh", server=server)

    assert run.code == cli.EXIT_FAILED
    assert len(server.requests) == 1


def test_a_local_schema_file_needs_no_server(home: Path) -> None:
    manifest = write(home, "m.json", {"name": "Acme", "category": "health"})
    schema = write(home, "schema.json", SCHEMA)

    assert govstore("manifest", "validate", manifest, "--schema", schema).code == 0


def test_a_schema_the_validator_cannot_fully_check_is_refused(home: Path) -> None:
    manifest = write(home, "m.json", {"name": "Acme"})
    schema = write(home, "schema.json", {"type": "object", "dependentRequired": {"a": ["b"]}})

    run = govstore("manifest", "validate", manifest, "--schema", schema)

    assert run.code == cli.EXIT_USAGE
    assert "'dependentRequired'" in run.stderr


@pytest.mark.parametrize(("content", "message"), [(None, "cannot read"), ("{nope", "is not JSON")])
def test_an_unreadable_manifest_is_a_usage_error(
    home: Path, content: str | None, message: str
) -> None:
    name = str(home / "missing.json") if content is None else write(home, "bad.json", content)

    run = govstore("manifest", "validate", name, "--schema", name)

    assert run.code == cli.EXIT_USAGE
    assert message in run.stderr


def test_a_manifest_from_stdin() -> None:
    run = govstore(
        "manifest",
        "validate",
        "-",
        server=MockServer(ok(SCHEMA)),
        stdin=json.dumps({"name": "Acme", "category": "tax"}),
    )

    assert run.code == 0


# submit and status -----------------------------------------------------------------------------


def test_submit_sends_the_manifest_with_an_idempotency_key(home: Path) -> None:
    manifest = {"name": "Acme GP Online"}
    server = MockServer(ok(RELEASE, 201))

    run = govstore("submit", "svc_1", write(home, "m.json", manifest), server=server)

    assert run.code == cli.EXIT_OK
    assert server.last.url.path == "/v1/services/svc_1/releases"
    assert server.body() == {"manifest": manifest}
    assert server.last.headers["Idempotency-Key"]
    assert "submitted release 1 (rel_1): submitted" in run.stdout
    assert "govstore status rel_1 --service svc_1 --follow" in run.stdout


def test_submit_to_a_service_named_by_its_slug(home: Path) -> None:
    server = MockServer(
        ok({"items": [ORGANISATION_SUMMARY], "next_cursor": None}),
        ok({"items": [SERVICE], "next_cursor": None}),
        ok(RELEASE, 201),
    )

    run = govstore("submit", "acme-gp", write(home, "m.json", {}), server=server)

    assert run.code == cli.EXIT_OK
    assert server.last.url.path == "/v1/services/svc_1/releases"


def test_submit_to_an_unknown_slug() -> None:
    server = MockServer(ok({"items": [], "next_cursor": None}))

    run = govstore("submit", "nobody", "-", server=server, stdin="{}")

    assert run.code == cli.EXIT_API_ERROR
    assert "no service 'nobody'" in run.stderr


def test_a_refused_manifest_lists_the_servers_pointers(home: Path) -> None:
    server = MockServer(
        problem(
            422,
            "Unprocessable Content",
            "The manifest is not valid.",
            errors=[{"pointer": "/manifest/data_uses/0/scope", "detail": "unknown scope"}],
        )
    )

    run = govstore("submit", "svc_1", write(home, "m.json", {}), "--json", server=server)

    assert run.code == cli.EXIT_FAILED
    assert run.json["errors"] == [
        {"pointer": "/manifest/data_uses/0/scope", "detail": "unknown scope"}
    ]


def detail(status: str, **extra: Any) -> httpx.Response:
    return ok({**RELEASE_DETAIL, "status": status, **extra})


def test_status_finds_the_service_among_the_callers_organisations() -> None:
    server = MockServer(
        ok({"items": [ORGANISATION_SUMMARY], "next_cursor": None}),
        ok(
            {
                "items": [{**SERVICE, "id": "svc_other", "releases": []}, SERVICE],
                "next_cursor": None,
            }
        ),
        detail("awaiting_review"),
    )

    run = govstore("status", "rel_1", server=server)

    assert run.code == cli.EXIT_OK
    assert server.last.url.path == "/v1/services/svc_1/releases/rel_1"
    assert "release 1 (rel_1): awaiting_review" in run.stdout
    assert "position 1 in the queue" in run.stdout


def test_status_of_a_release_the_caller_cannot_find() -> None:
    server = MockServer(ok({"items": [], "next_cursor": None}))

    run = govstore("status", "rel_9", server=server)

    assert run.code == cli.EXIT_API_ERROR
    assert "pass --service" in run.stderr


def test_follow_prints_each_change_until_approval(sleeps: list[float]) -> None:
    server = MockServer(
        detail("submitted"),
        detail("submitted"),
        detail("automated_review"),
        detail("awaiting_review"),
        detail("awaiting_review"),
        detail("awaiting_review"),
        detail("published", **_decision()),
    )

    run = govstore("status", "rel_1", "--service", "svc_1", "--follow", "--json", server=server)

    assert run.code == cli.EXIT_OK
    assert [line["status"] for line in run.json_lines] == [
        "submitted",
        "automated_review",
        "awaiting_review",
        "published",
    ]
    # Back-off while nothing changes, starting again after each change.
    assert sleeps == [1.0, 1.5, 1.0, 1.0, 1.5, 2.25]


def _decision() -> dict[str, Any]:
    return {
        "decision": {
            "id": "dec_1",
            "release_id": "rel_1",
            "outcome": "approve",
            "reason_codes": [],
            "kitemarks": [],
            "scopes": [],
            "note": "Good.",
            "needs_second_approval": False,
            "second_outcome": None,
            "decided_at": "2026-01-02T03:04:05Z",
            "completed_at": None,
        }
    }


def test_follow_ends_with_exit_1_when_changes_are_requested(sleeps: list[float]) -> None:
    failed = {
        **RELEASE_DETAIL["findings"][0],
        "result": "fail",
        "pointer": "/security_contact",
        "message": "No security contact",
        "fix": "Add one",
    }
    server = MockServer(detail("changes_requested", findings=[failed]))

    run = govstore("status", "rel_1", "--service", "svc_1", "--follow", server=server)

    assert run.code == cli.EXIT_FAILED
    assert "ACC-1 [blocking] at /security_contact: No security contact" in run.stdout
    assert "fix: Add one" in run.stdout


def test_follow_gives_up_after_its_timeout(sleeps: list[float]) -> None:
    server = MockServer(*[detail("awaiting_review") for _ in range(5)])

    run = govstore(
        "status",
        "rel_1",
        "--service",
        "svc_1",
        "--follow",
        "--follow-timeout",
        "3",
        server=server,
    )

    assert run.code == cli.EXIT_TIMED_OUT
    assert sum(sleeps) == 3
    assert "gave up after 3s" in run.stderr


def test_submit_and_follow(home: Path, sleeps: list[float]) -> None:
    server = MockServer(ok(RELEASE, 201), detail("rejected"))

    run = govstore("submit", "svc_1", write(home, "m.json", {}), "--follow", server=server)

    assert run.code == cli.EXIT_FAILED
    assert "rejected" in run.stdout


# catalogue search ------------------------------------------------------------------------------


def test_search_sends_the_filters_and_stops_at_the_limit() -> None:
    server = MockServer(
        ok({"items": [LISTING, {**LISTING, "slug": "b"}], "next_cursor": "c2"}),
        ok({"items": [{**LISTING, "slug": "c"}, {**LISTING, "slug": "d"}], "next_cursor": "c3"}),
    )

    run = govstore(
        "catalogue",
        "search",
        "video",
        "--category",
        "health",
        "--sort",
        "rating",
        "--limit",
        "3",
        "--json",
        server=server,
    )

    assert run.code == 0
    assert [item["slug"] for item in run.json["items"]] == ["acme-gp", "b", "c"]
    params = server.requests[0].url.params
    assert (params["q"], params["category"], params["sort"], params["limit"]) == (
        "video",
        "health",
        "rating",
        "3",
    )
    assert server.requests[1].url.params["cursor"] == "c2"


def test_search_for_people() -> None:
    server = MockServer(ok({"items": [LISTING], "next_cursor": None}))

    run = govstore("catalogue", "search", server=server)

    assert run.stdout.splitlines() == [
        "Acme GP Online (acme-gp) by Acme",
        "  health; 4.5/5 (2); privacy-assured",
        "  Video consultations",
        "1 service",
    ]


def test_a_bad_sort_is_a_usage_error() -> None:
    run = govstore("catalogue", "search", "--sort", "cheapest")

    assert run.code == cli.EXIT_USAGE
    assert "invalid choice" in run.stderr


# kitemark verify -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kitemark_key() -> ECKey:
    from .test_credentials import new_key

    return new_key()


def fresh_claims() -> dict[str, Any]:
    import time

    now = int(time.time())
    return {**CLAIMS, "iat": now - 60, "nbf": now - 60, "exp": now + 3600}


def test_a_credential_verifies_offline_with_a_jwks_file(home: Path, kitemark_key: ECKey) -> None:
    jwks = write(home, "jwks.json", public_jwks(kitemark_key))

    run = govstore("kitemark", "verify", sign(kitemark_key, fresh_claims()), "--jwks", jwks)

    assert run.code == cli.EXIT_OK, run.stderr
    assert run.stdout.startswith("valid: Privacy assured (privacy-assured) for Acme GP Online")


def test_a_credential_checked_online_with_its_status(home: Path, kitemark_key: ECKey) -> None:
    credential = write(home, "credential.jws", sign(kitemark_key, fresh_claims()))
    server = MockServer(
        ok(public_jwks(kitemark_key)),
        ok(METADATA),
        ok({"status": "suspended", "valid": False, "expires_at": "2027-01-02T03:04:05Z"}),
    )

    run = govstore(
        "kitemark", "verify", f"@{credential}", "--check-status", "--json", server=server
    )

    assert run.code == cli.EXIT_FAILED
    assert [r.url.path for r in server.requests] == [
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/v1/kitemarks/kmk_1/status",
    ]
    assert run.json["valid"] is False and run.json["status"]["status"] == "suspended"


def test_a_credential_from_another_issuer_is_not_valid(kitemark_key: ECKey) -> None:
    server = MockServer(ok(public_jwks(kitemark_key)), ok(CLIENT_METADATA))

    run = govstore("kitemark", "verify", sign(kitemark_key, fresh_claims()), server=server)

    assert run.code == cli.EXIT_FAILED
    assert "NOT VALID: the credential was issued by" in run.stdout


def test_a_tampered_credential_is_not_valid(home: Path, kitemark_key: ECKey) -> None:
    jwks = write(home, "jwks.json", public_jwks(kitemark_key))
    header, _, signature = sign(kitemark_key, fresh_claims()).split(".")
    forged = ".".join(
        [header, sign(kitemark_key, {**fresh_claims(), "sub": "x"}).split(".")[1], signature]
    )

    run = govstore("kitemark", "verify", forged, "--jwks", jwks, stdin="")

    assert run.code == cli.EXIT_FAILED
    assert "signature does not verify" in run.stdout


# log verify ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_key() -> ECKey:
    return new_tree_key()


def test_the_tree_head_verifies(log_key: ECKey) -> None:
    server = MockServer(ok(public_jwks(log_key)), ok(signed_head(log_key, 9)))

    run = govstore("log", "verify", server=server)

    assert run.code == cli.EXIT_OK, run.stdout + run.stderr
    assert run.stdout.startswith(f"tree head verified: 9 entries, root {b64(ROOTS[9])}")


def test_a_forged_tree_head_is_not_verified(log_key: ECKey) -> None:
    forged = {**signed_head(log_key, 9), "tree_size": 10}
    server = MockServer(ok(public_jwks(log_key)), ok(forged))

    run = govstore("log", "verify", server=server)

    assert run.code == cli.EXIT_FAILED
    assert run.stdout.startswith("NOT VERIFIED: the signature is over another tree head")


def test_since_keeps_the_last_head_and_checks_the_log_only_grew(home: Path, log_key: ECKey) -> None:
    state = home / "head.json"
    jwks = ok(public_jwks(log_key))
    first = govstore(
        "log", "verify", "--since", str(state), server=MockServer(jwks, ok(signed_head(log_key, 5)))
    )
    consistency = {"first": 5, "second": 12, "proof": [b64(n) for n in proof(5, ENTRIES[:12])]}
    server = MockServer(jwks, ok(signed_head(log_key, 12)), ok(consistency))

    second = govstore("log", "verify", "--since", str(state), "--json", server=server)

    assert first.code == second.code == cli.EXIT_OK
    assert "first run" in first.stdout
    assert server.last.url.params["first"] == "5" and server.last.url.params["second"] == "12"
    assert second.json["consistency"] == {"first": 5, "second": 12}
    assert json.loads(state.read_text())["tree_size"] == 12
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_a_rewritten_log_fails_the_consistency_check(home: Path, log_key: ECKey) -> None:
    state = home / "head.json"
    state.write_text(json.dumps(signed_head(log_key, 5)))
    bad_proof = {"first": 5, "second": 12, "proof": [b64(n) for n in proof(4, ENTRIES[:12])]}
    server = MockServer(ok(public_jwks(log_key)), ok(signed_head(log_key, 12)), ok(bad_proof))

    run = govstore("log", "verify", "--since", str(state), server=server)

    assert run.code == cli.EXIT_FAILED
    assert json.loads(state.read_text())["tree_size"] == 5  # the trusted head is kept


def test_a_log_that_shrank_fails(home: Path, log_key: ECKey) -> None:
    state = home / "head.json"
    state.write_text(json.dumps(signed_head(log_key, 12)))
    server = MockServer(ok(public_jwks(log_key)), ok(signed_head(log_key, 5)))

    run = govstore("log", "verify", "--since", str(state), server=server)

    assert run.code == cli.EXIT_FAILED
    assert "the log shrank" in run.stdout


def test_leaf_checks_the_entry_is_included(log_key: ECKey) -> None:
    leaf = b64(leaf_hash(ENTRIES[6]))
    server = MockServer(
        ok(public_jwks(log_key)),
        ok(signed_head(log_key, 9)),
        ok({"items": [{"leaf_index": 6, "leaf_hash": leaf, "kind": "consent", "body": {}}]}),
        ok({"leaf_index": 6, "tree_size": 9, "audit_path": [b64(n) for n in path(6, ENTRIES[:9])]}),
    )

    run = govstore("log", "verify", "--leaf", "6", server=server)

    assert run.code == cli.EXIT_OK, run.stdout
    assert f"entry 6 (leaf hash {leaf}) is in the log" in run.stdout
    assert server.requests[2].url.params["start"] == "6"
    assert server.last.url.params["leaf_index"] == "6"


def test_a_leaf_hash_not_in_the_log_fails(log_key: ECKey) -> None:
    other = b64(leaf_hash(b"not logged"))
    server = MockServer(
        ok(public_jwks(log_key)),
        ok(signed_head(log_key, 9)),
        ok({"leaf_index": 6, "tree_size": 9, "audit_path": [b64(n) for n in path(6, ENTRIES[:9])]}),
    )

    run = govstore("log", "verify", "--leaf", "6", "--leaf-hash", other, server=server)

    assert run.code == cli.EXIT_FAILED


# errors ----------------------------------------------------------------------------------------


def test_an_unreachable_server_exits_4() -> None:
    server = MockServer(*[httpx.ConnectError("refused") for _ in range(3)])

    run = govstore("catalogue", "search", "--json", server=server)

    assert run.code == cli.EXIT_NETWORK_ERROR
    assert "could not reach" in run.json["error"]["message"]


def test_a_problem_document_exits_3_and_is_shown_as_json() -> None:
    server = MockServer(problem(404, "Not Found", "No such service."))

    run = govstore("submit", "svc_9", "-", "--json", server=server, stdin="{}")

    assert run.code == cli.EXIT_API_ERROR
    assert run.json["error"]["status"] == 404
    assert run.json["error"]["detail"] == "No such service."


def test_an_answer_the_sdk_cannot_read_exits_3() -> None:
    server = MockServer(ok({"items": [{"slug": "no-name"}], "next_cursor": None}))

    run = govstore("catalogue", "search", server=server)

    assert run.code == cli.EXIT_API_ERROR
    assert "not what this version of the SDK expects" in run.stderr


def test_no_command_is_a_usage_error() -> None:
    run = govstore()

    assert run.code == cli.EXIT_USAGE
    assert "usage: govstore" in run.stderr


def test_version() -> None:
    run = govstore("--version")

    assert run.code == 0
    assert run.stdout.startswith("govstore ")

"""The provider's commands: `login`, `manifest validate`, `submit`, `status [--follow]`."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import UnprocessableEntityError
from .._models import ReleaseDetail
from . import _jsonschema
from ._config import SavedLogin, save_login, schema_cache_file, write_private
from ._context import (
    EXIT_API_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMED_OUT,
    CommandError,
    Context,
    UsageError,
)

if TYPE_CHECKING:
    from .._client import Client

# Statuses that end `--follow`: a decision, or the release leaving review.
APPROVED = frozenset({"approved", "published"})
NOT_APPROVED = frozenset({"rejected", "changes_requested", "withdrawn", "superseded", "suspended"})
FIRST_INTERVAL = 1.0
BACKOFF = 1.5

# Tests replace these to follow a release without waiting.
sleep = time.sleep
monotonic = time.monotonic


def login(context: Context) -> int:
    """Check a token (or sign in with an email and password) and save it with the server."""

    args = context.args
    if args.email:
        password = _secret(context, "Password: ", from_stdin=args.password_stdin)
        client = context.client(anonymous=True)
        token = client.auth.login(args.email, password).access_token
    elif args.token:
        token = args.token
    else:
        token = _secret(context, "API token: ", from_stdin=args.token_stdin)
    if not token:
        raise UsageError("no token given")
    account = context.client(token=token).account.get()
    path = save_login(SavedLogin(base_url=context.base_url(), token=token))
    context.emit(
        {
            "base_url": context.base_url(),
            "account": account.model_dump(mode="json"),
            "config": str(path),
        },
        f"Signed in to {context.base_url()} as {account.display_name} <{account.email}>; "
        f"saved to {path}",
    )
    return EXIT_OK


def _secret(context: Context, prompt: str, *, from_stdin: bool) -> str:
    if from_stdin or not context.stdin.isatty():
        return context.stdin.readline().strip()
    return getpass.getpass(prompt).strip()


def validate_manifest(context: Context) -> int:
    """Validate a manifest file against the server's published schema, offline once cached."""

    manifest = _read_json(context, context.args.file)
    schema, source = _manifest_schema(context)
    try:
        violations = _jsonschema.validate(manifest, schema)
    except _jsonschema.SchemaError as error:
        raise UsageError(f"cannot validate with the schema from {source}: {error}") from error
    data = {
        "valid": not violations,
        "schema": source,
        "errors": [{"pointer": v.pointer, "detail": v.message} for v in violations],
    }
    if not violations:
        context.emit(data, f"{context.args.file} is a valid service manifest")
        return EXIT_OK
    lines = [f"{context.args.file} is not a valid service manifest:"]
    lines += [f"  {v.pointer or '/'}: {v.message}" for v in violations]
    context.emit(data, lines)
    return EXIT_FAILED


def _manifest_schema(context: Context) -> tuple[dict[str, Any], str]:
    """The schema and where it came from: --schema, the cache, or the server (then cached)."""

    if context.args.schema:
        return _read_json(context, context.args.schema), context.args.schema
    cached = schema_cache_file(context.base_url())
    if cached.exists() and not context.args.refresh:
        try:
            document = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            document = None
        if isinstance(document, dict):
            return document, str(cached)
    schema = context.client().schemas.service_manifest()
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_private(cached, schema)
    if not isinstance(schema, dict):  # pragma: no cover - the SDK parses an object
        raise UsageError("the server's manifest schema is not a JSON object")
    return schema, f"{context.base_url()}/v1/schemas/service-manifest"


def submit(context: Context) -> int:
    """Submit a release; with --follow, then follow it to a decision."""

    args = context.args
    manifest = _read_json(context, args.file)
    client = context.client()
    service_id = _service_id(client, args.service)
    try:
        release = client.releases.submit(service_id, manifest)
    except UnprocessableEntityError as error:
        data = {
            "submitted": False,
            "status": error.status,
            "title": error.title,
            "detail": error.detail,
            "errors": [{"pointer": e.pointer, "detail": e.detail} for e in error.errors],
        }
        lines = [f"not submitted: {error.detail or error.title}"]
        lines += [f"  {e.pointer or '/'}: {e.detail}" for e in error.errors]
        context.emit(data, lines)
        return EXIT_FAILED
    if not args.follow:
        context.emit(
            {"submitted": True, "release": release.model_dump(mode="json")},
            [
                f"submitted release {release.number} ({release.id}): {release.status}",
                f"follow it with: govstore status {release.id} --service {service_id} --follow",
            ],
        )
        return EXIT_OK
    context.say(f"submitted release {release.number} ({release.id}): {release.status}")
    return _follow(context, client, service_id, release.id)


def status(context: Context) -> int:
    """Show a release's review; with --follow, print each change until a decision."""

    args = context.args
    client = context.client()
    service_id = args.service or _find_service(client, args.release)
    if args.follow:
        return _follow(context, client, service_id, args.release)
    release = client.releases.get(service_id, args.release)
    context.emit(release.model_dump(mode="json"), _describe(release))
    return EXIT_OK


def _service_id(client: Client, service: str) -> str:
    """A service's id, given its id (`svc_...`) or the slug of one of the caller's services."""
    if service.startswith("svc_"):
        return service
    for organisation in client.organisations.list():
        for candidate in client.services.list(organisation.id):
            if candidate.slug == service:
                return candidate.id
    raise CommandError(
        f"no service {service!r} among your organisations' services; give its id (svc_...)",
        EXIT_API_ERROR,
    )


def _find_service(client: Client, release_id: str) -> str:
    """The service a release belongs to, among the caller's organisations' services."""
    for organisation in client.organisations.list():
        for service in client.services.list(organisation.id):
            if any(release.id == release_id for release in service.releases):
                return service.id
    raise CommandError(
        f"release {release_id} is not one of your organisations' releases; pass --service if it is",
        EXIT_API_ERROR,
    )


def _follow(context: Context, client: Client, service_id: str, release_id: str) -> int:
    """Poll the release with back-off, printing each change, until a decision or the timeout."""

    args = context.args
    started = monotonic()
    interval = FIRST_INTERVAL
    seen: tuple[str, int] | None = None
    while True:
        release = client.releases.get(service_id, release_id)
        state = (release.status, len(release.history))
        if state != seen:
            seen = state
            interval = FIRST_INTERVAL
            context.emit(release.model_dump(mode="json"), _describe(release))
        if release.status in APPROVED:
            return EXIT_OK
        if release.status in NOT_APPROVED:
            return EXIT_FAILED
        if args.follow_timeout is not None:
            remaining = started + args.follow_timeout - monotonic()
            if remaining <= 0:
                context.fail(
                    f"gave up after {args.follow_timeout:g}s: release {release_id} is still "
                    f"{release.status}",
                    {"status": release.status},
                )
                return EXIT_TIMED_OUT
            interval = min(interval, remaining)
        sleep(interval)
        interval = min(interval * BACKOFF, args.max_interval)


def _describe(release: ReleaseDetail) -> list[str]:
    lines = [
        f"{release.status_changed_at:%Y-%m-%d %H:%M:%S} release {release.number} "
        f"({release.id}): {release.status}"
    ]
    failed = [f for f in release.findings if f.result == "fail"]
    for finding in failed:
        lines.append(
            f"  {finding.code} [{finding.severity}] at {finding.pointer or '/'}: {finding.message}"
        )
        lines.append(f"    fix: {finding.fix}")
    if release.decision is not None:
        decision = release.decision
        reasons = f" for {', '.join(decision.reason_codes)}" if decision.reason_codes else ""
        lines.append(
            f"  decision: {decision.outcome}{reasons}"
            + (f": {decision.note}" if decision.note else "")
        )
        if decision.needs_second_approval and decision.second_outcome is None:
            lines.append("  waiting for a second reviewer to confirm high-sensitivity scopes")
    if release.queue is not None and release.queue.position is not None:
        line = f"  position {release.queue.position} in the queue for a reviewer"
        median = release.queue.median_time_to_decision_seconds
        if median is not None:
            line += f"; decisions take {median / 3600:.1f} hours (median)"
        lines.append(line)
    return lines


def _read_json(context: Context, name: str) -> Any:

    try:
        text = context.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError(f"{name} is not JSON: {error}") from error

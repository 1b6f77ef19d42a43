"""The `marketplace` command: serve, worker, migrate, demo, create-admin, openapi."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from marketplace import errors
from marketplace.settings import Settings, get_settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from marketplace.migrate import upgrade

    upgrade(settings)
    print("database is at the latest revision")
    return 0


# Collect the youngest generation after this many new container objects (Python's default is 700).
GC_THRESHOLD = (20_000, 20, 20)


def settle_heap() -> None:
    """Keep the cyclic garbage collector's full passes short in a long-running server.

    With the default thresholds, objects that live through a request (64 at a time under load)
    reach the oldest generation within milliseconds, so a full collection ran about once a second
    and stopped the event loop for 70-90 ms each time, walking every module, class and function
    loaded at start-up as well (measured under the OAuth benchmark: the 99th percentile of
    introspection was 4x its median). So: everything alive once the application is built is moved
    out of the collector's sight for good (`gc.freeze`: it lives as long as the process), and the
    youngest generation is collected less often, so short-lived objects are freed by reference
    counting before a collection can promote them.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from marketplace.app import create_app
    from marketplace.migrate import upgrade

    upgrade(settings)
    app = create_app(settings)
    settle_heap()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        proxy_headers=args.proxy_headers,
        server_header=False,
    )
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from marketplace.worker import run_worker

    return run_worker(settings)


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from marketplace.demo.loader import load_demo
    from marketplace.migrate import upgrade

    upgrade(settings)
    summary = asyncio.run(load_demo(settings))
    for line in summary:
        print(line)
    return 0


async def _create_admin(settings: Settings, email: str, password: str | None) -> tuple[str, bool]:
    from marketplace.accounts.services import ensure_admin
    from marketplace.platform import Platform

    platform = Platform.create(settings)
    try:
        async with platform.db.transaction() as session:
            account, created = await ensure_admin(platform, session, email=email, password=password)
        return account.id, created
    finally:
        await platform.close()


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from marketplace.migrate import upgrade

    upgrade(settings)
    password: str | None = args.password
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password for the new admin (12+ characters): ")
        else:
            password = secrets.token_urlsafe(18)
            generated = True
    try:
        account_id, created = asyncio.run(_create_admin(settings, args.email, password))
    except errors.ValidationFailed as exc:
        for problem in exc.errors:
            print(f"error: {problem.pointer.lstrip('/')} {problem.detail}", file=sys.stderr)
        return 2
    if created:
        print(f"created admin {args.email} ({account_id})")
        if generated:
            print(f"generated password (shown once): {password}")
    else:
        print(
            f"{args.email} ({account_id}) already existed; it has the admin role and its "
            "password is unchanged"
        )
    return 0


async def _rotate_keys(settings: Settings) -> tuple[str, str | None]:
    from kitemarks.keys import KeyRing
    from marketplace.db import Database
    from transparency.assembly import keep_head_keys

    keep_head_keys()
    db = Database(settings)
    try:
        ring = KeyRing(settings, db)
        previous = None
        if settings.signing_key_file is None:
            async with db.session(write=False) as session:
                held = await ring.newest_local(session)
            previous = str(held.kid) if held is not None else None
        return await ring.rotate(), previous
    finally:
        await db.dispose()


def cmd_rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    from marketplace.migrate import upgrade

    upgrade(settings)
    try:
        kid, previous = asyncio.run(_rotate_keys(settings))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"new signing key {kid}")
    if previous:
        print(f"retired {previous}: it stays in the JWKS until the credentials it signed expire")
    print("running servers switch to the new key within 30 seconds")
    return 0


async def _verify_log(settings: Settings) -> Any:
    from marketplace.db import Database
    from transparency.verify import verify_log

    db = Database(settings)
    try:
        return await verify_log(db)
    finally:
        await db.dispose()


def cmd_verify_log(settings: Settings, args: argparse.Namespace) -> int:
    report = asyncio.run(_verify_log(settings))
    for problem in report.problems[:50]:
        print(f"FAIL {problem}", file=sys.stderr)
    if not report.ok:
        print(
            f"the transparency log does not verify: first bad index {report.first_bad_index}"
            f" ({len(report.problems)} problems)",
            file=sys.stderr,
        )
        return 1
    print(f"transparency log OK: {report.entries} entries, {report.heads} signed heads verified")
    return 0


def cmd_openapi(settings: Settings, args: argparse.Namespace) -> int:
    from marketplace.app import all_operations
    from marketplace.openapi import build_openapi, render

    text = render(build_openapi(all_operations()))
    target = Path(args.output) if args.output else OPENAPI_PATH
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run `marketplace openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marketplace", description="Run GovStore.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/Proto (only behind your own load balancer)",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run background jobs from Redis (needs REDIS_URL)").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("demo", help="load demo data (idempotent)").set_defaults(func=cmd_demo)
    sub.add_parser(
        "rotate-keys", help="make a new signing key current; old public keys stay published"
    ).set_defaults(func=cmd_rotate_keys)
    sub.add_parser(
        "verify-log",
        help="recompute the transparency log from its entries; check every head and signature",
    ).set_defaults(func=cmd_verify_log)
    admin = sub.add_parser("create-admin", help="create an admin account, or promote one")
    admin.add_argument("email")
    admin.add_argument("--password", help="omit to be prompted (or get a generated one)")
    admin.set_defaults(func=cmd_create_admin)
    openapi = sub.add_parser("openapi", help="write openapi/openapi.json from the code")
    openapi.add_argument("--check", action="store_true", help="fail if the file is stale")
    openapi.add_argument("--output", help="write here instead")
    openapi.set_defaults(func=cmd_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    _configure_logging(settings)
    result: int = args.func(settings, args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())

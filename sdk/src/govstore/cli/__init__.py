"""The `govstore` command: sign in, validate and submit manifests, follow review, verify.

    govstore login                       save the server and a token for the next commands
    govstore manifest validate FILE      check a manifest against the published schema
    govstore submit SERVICE FILE         submit a release (--follow to follow its review)
    govstore status RELEASE [--follow]   where a release stands, until a decision
    govstore catalogue search [Q]        search the published services
    govstore kitemark verify CREDENTIAL  check a kitemark credential's signature and dates
    govstore log verify                  check the transparency log's signed tree head

Output is for people by default; `--json` prints JSON for scripts (JSON Lines while
following a release). Exit codes, which scripts can rely on, are the `EXIT_*` constants.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import httpx
from pydantic import ValidationError

from .._base_client import BASE_URL_ENV, DEFAULT_BASE_URL, TOKEN_ENV
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    GovStoreError,
    OAuthError,
)
from .._models import SearchSort
from .._version import __version__
from . import _browse, _releases, _verify
from ._context import (
    EXIT_API_ERROR,
    EXIT_FAILED,
    EXIT_NETWORK_ERROR,
    EXIT_OK,
    EXIT_TIMED_OUT,
    EXIT_USAGE,
    CommandError,
    Context,
)

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_FAILED",
    "EXIT_NETWORK_ERROR",
    "EXIT_OK",
    "EXIT_TIMED_OUT",
    "EXIT_USAGE",
    "main",
    "run",
]

Command = Callable[[Context], int]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand's function is its `handler` default."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url",
        help=f"the GovStore server (default: ${BASE_URL_ENV}, the saved login, "
        f"or {DEFAULT_BASE_URL})",
    )
    common.add_argument("--token", help=f"an API token (default: ${TOKEN_ENV} or the saved login)")
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for each answer (10)"
    )

    parser = argparse.ArgumentParser(
        prog="govstore",
        description="The GovStore command line: submit services, follow review, verify trust.",
        epilog="Exit codes: 0 ok, 1 not valid / not verified / not approved, 2 usage, "
        "3 the API refused, 4 network error, 5 timed out waiting.",
    )
    parser.add_argument("--version", action="version", version=f"govstore {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", parents=[common], help="save a server and token")
    login.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    login.add_argument("--email", help="sign in with an email and password instead of a token")
    login.add_argument(
        "--password-stdin", action="store_true", help="with --email, read the password from stdin"
    )
    login.set_defaults(handler=_releases.login)

    manifest = commands.add_parser("manifest", help="service manifests")
    manifest_commands = manifest.add_subparsers(dest="manifest_command", required=True)
    validate = manifest_commands.add_parser(
        "validate", parents=[common], help="check a manifest against the published schema"
    )
    validate.add_argument("file", help="the manifest (JSON); - reads stdin")
    validate.add_argument("--schema", help="a schema file to use instead of the server's")
    validate.add_argument(
        "--refresh", action="store_true", help="fetch the schema again instead of the cached copy"
    )
    validate.set_defaults(handler=_releases.validate_manifest)

    submit = commands.add_parser("submit", parents=[common], help="submit a release for review")
    submit.add_argument("service", help="the service's id (svc_...) or the slug of one of yours")
    submit.add_argument("file", help="the manifest (JSON); - reads stdin")
    _follow_options(submit)
    submit.set_defaults(handler=_releases.submit)

    status = commands.add_parser("status", parents=[common], help="where a release stands")
    status.add_argument("release", help="the release's id (rel_...)")
    status.add_argument(
        "--service", help="the service's id (default: found among your organisations' services)"
    )
    _follow_options(status)
    status.set_defaults(handler=_releases.status)

    catalogue = commands.add_parser("catalogue", help="the public catalogue")
    catalogue_commands = catalogue.add_subparsers(dest="catalogue_command", required=True)
    search = catalogue_commands.add_parser(
        "search", parents=[common], help="search the published services"
    )
    search.add_argument("q", nargs="?", help="words to find (all must match)")
    search.add_argument("--category", help="such as health or benefits")
    search.add_argument("--kitemark", help="a kitemark scheme's slug")
    search.add_argument("--scope", help="a data scope's name")
    search.add_argument("--sort", choices=[sort.value for sort in SearchSort])
    search.add_argument("--limit", type=_positive_int, default=20, help="at most this many (20)")
    search.set_defaults(handler=_browse.search)

    kitemark = commands.add_parser("kitemark", help="kitemark credentials")
    kitemark_commands = kitemark.add_subparsers(dest="kitemark_command", required=True)
    verify = kitemark_commands.add_parser(
        "verify", parents=[common], help="verify a kitemark credential offline"
    )
    verify.add_argument("credential", help="the compact JWS, @FILE to read it from a file, - stdin")
    verify.add_argument("--jwks", help="the JWK Set file (default: fetched from the server)")
    verify.add_argument("--issuer", help="require this issuer (default: the server's, if fetched)")
    verify.add_argument(
        "--check-status", action="store_true", help="also ask the server whether it still holds"
    )
    verify.set_defaults(handler=_verify.kitemark)

    log = commands.add_parser("log", help="the transparency log")
    log_commands = log.add_subparsers(dest="log_command", required=True)
    log_verify = log_commands.add_parser(
        "verify", parents=[common], help="verify the log's signed tree head and proofs"
    )
    log_verify.add_argument(
        "--since", help="a file with the last head verified: check the log only grew since"
    )
    log_verify.add_argument("--leaf", type=_non_negative_int, help="check this entry is included")
    log_verify.add_argument(
        "--leaf-hash", help="with --leaf: the entry's leaf hash (base64) you computed yourself"
    )
    log_verify.add_argument("--jwks", help="the JWK Set file (default: fetched from the server)")
    log_verify.set_defaults(handler=_verify.log)
    return parser


def _follow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--follow", action="store_true", help="keep going, printing each change, until a decision"
    )
    parser.add_argument(
        "--follow-timeout",
        type=float,
        default=None,
        help="with --follow: give up after this many seconds (exit 5)",
    )
    parser.add_argument(
        "--max-interval",
        type=float,
        default=30.0,
        help="with --follow: the longest wait between checks, in seconds (30)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Run one command line and return its exit code (see the `EXIT_*` constants).

    `transport` lets tests (and embedders) answer the CLI's requests without a server.
    """
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        # argparse prints help and usage errors to sys.stdout and sys.stderr: ours.
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    context = Context(args, stdout, stderr, stdin or sys.stdin, transport)
    handler: Command = args.handler
    try:
        return handler(context)
    except CommandError as error:
        context.fail(str(error))
        return error.exit_code
    except APIStatusError as error:
        context.fail(
            str(error),
            {
                "status": error.status,
                "title": error.title,
                "detail": error.detail,
                "code": error.code,
                "errors": [
                    {"pointer": e.pointer, "detail": e.detail, "parameter": e.parameter}
                    for e in error.errors
                ],
            },
        )
        return EXIT_API_ERROR
    except OAuthError as error:
        context.fail(str(error), {"status": error.status, "oauth_error": error.error})
        return EXIT_API_ERROR
    except (APIConnectionError, APITimeoutError) as error:
        context.fail(f"{error} (server: {context.base_url()})")
        return EXIT_NETWORK_ERROR
    except ValidationError as error:
        context.fail(
            f"the server's answer is not what this version of the SDK expects "
            f"({error.error_count()} problems, the first at "
            f"{'.'.join(map(str, error.errors()[0]['loc'])) or 'the top'}): is the server newer?"
        )
        return EXIT_API_ERROR
    except GovStoreError as error:
        context.fail(str(error))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    finally:
        context.close()


def main() -> None:
    """The console script's entry point."""
    sys.exit(run())

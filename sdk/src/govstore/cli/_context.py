"""What every command works with: exit codes, errors that end a command, and `Context`."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from .._base_client import BASE_URL_ENV, DEFAULT_BASE_URL, TOKEN_ENV
from .._client import Client
from ._config import load_login

EXIT_OK = 0
"""Done: valid, verified, approved, or simply shown."""
EXIT_FAILED = 1
"""The answer is no: an invalid manifest, a failed verification, a release not approved."""
EXIT_USAGE = 2
"""The command line was wrong (argparse's own code), or a file could not be read."""
EXIT_API_ERROR = 3
"""The server refused the request (a problem document: not signed in, not found, ...)."""
EXIT_NETWORK_ERROR = 4
"""The server could not be reached, or did not answer in time."""
EXIT_TIMED_OUT = 5
"""`--follow --timeout` gave up before a decision."""


class CommandError(Exception):
    """Ends a command with a message and an exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(CommandError):
    """A mistake in what the user asked for that argparse cannot see, such as a missing file."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


@dataclass
class Context:
    """What a command works with: its arguments, its output streams, and a client factory."""

    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    transport: httpx.BaseTransport | None = None
    _clients: list[Client] = field(default_factory=list)

    @property
    def as_json(self) -> bool:
        return bool(self.args.json)

    def base_url(self) -> str:
        """The server: --base-url, else $GOVSTORE_BASE_URL, else the saved login, else local."""
        url = self.args.base_url or os.environ.get(BASE_URL_ENV) or load_login().base_url
        return (url or DEFAULT_BASE_URL).rstrip("/")

    def token(self) -> str | None:
        """The token: --token, else $GOVSTORE_TOKEN, else the saved login's for the same server."""
        if self.args.token or os.environ.get(TOKEN_ENV):
            return str(self.args.token or os.environ[TOKEN_ENV])
        saved = load_login()
        if saved.token and (saved.base_url or DEFAULT_BASE_URL).rstrip("/") == self.base_url():
            return saved.token
        return None

    def client(self, *, token: str | None = None, anonymous: bool = False) -> Client:
        """A client for the chosen server, closed when the command ends."""
        client = Client(
            base_url=self.base_url(),
            token=None if anonymous else (token or self.token()),
            timeout=self.args.timeout,
            transport=self.transport,
        )
        self._clients.append(client)
        return client

    def emit(self, data: Any, text: str | Sequence[str]) -> None:
        """Print a result: `data` as JSON with --json, else `text` for people."""
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, default=str), file=self.stdout)
        else:
            lines = [text] if isinstance(text, str) else text
            for line in lines:
                print(line, file=self.stdout)
        self.stdout.flush()

    def say(self, text: str) -> None:
        """A line for people only (progress, notes); never mixed into --json output."""
        if not self.as_json:
            print(text, file=self.stdout)
            self.stdout.flush()

    def fail(self, message: str, data: dict[str, Any] | None = None) -> None:
        """Report why the command failed: on stderr, and as a JSON `error` with --json."""
        if self.as_json:
            print(json.dumps({"error": {"message": message, **(data or {})}}), file=self.stdout)
        print(f"govstore: {message}", file=self.stderr)

    def close(self) -> None:
        for client in self._clients:
            client.close()

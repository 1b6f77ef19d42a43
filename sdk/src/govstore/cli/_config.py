"""Where the CLI keeps things between runs: the saved sign-in and the cached manifest schema.

The sign-in (`govstore login`) is `config.json` in the user's config directory
(`$XDG_CONFIG_HOME/govstore`, else `~/.config/govstore`; `%APPDATA%\\govstore` on
Windows), written with mode 0600 because it holds a token. Cached downloads (the
manifest schema, per server) are in `$XDG_CACHE_HOME/govstore`, else `~/.cache/govstore`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"


@dataclass(frozen=True, slots=True)
class SavedLogin:
    """What `govstore login` saved: the server and the token for it (either may be absent)."""

    base_url: str | None = None
    token: str | None = None


def config_dir() -> Path:
    """The directory the CLI's settings live in."""
    if xdg := os.environ.get("XDG_CONFIG_HOME"):
        return Path(xdg) / "govstore"
    if os.name == "nt" and (appdata := os.environ.get("APPDATA")):
        return Path(appdata) / "govstore"
    return Path.home() / ".config" / "govstore"


def cache_dir() -> Path:
    """The directory the CLI caches downloads in; safe to delete."""
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "govstore"
    if os.name == "nt" and (local := os.environ.get("LOCALAPPDATA")):
        return Path(local) / "govstore" / "cache"
    return Path.home() / ".cache" / "govstore"


def load_login() -> SavedLogin:
    """The saved sign-in, or an empty one when there is none (or it is unreadable)."""
    try:
        saved = json.loads((config_dir() / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SavedLogin()
    if not isinstance(saved, dict):
        return SavedLogin()
    base_url, token = saved.get("base_url"), saved.get("token")
    return SavedLogin(
        base_url=base_url if isinstance(base_url, str) else None,
        token=token if isinstance(token, str) else None,
    )


def save_login(login: SavedLogin) -> Path:
    """Write the sign-in, readable and writable by the user only; returns the file."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / CONFIG_FILE
    write_private(path, {"base_url": login.base_url, "token": login.token})
    return path


def write_private(path: Path, document: Any) -> None:
    """Write JSON to `path` with mode 0600, replacing it atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
    os.chmod(temporary, 0o600)  # in case the file existed with wider permissions
    os.replace(temporary, path)


def schema_cache_file(base_url: str) -> Path:
    """Where the manifest schema of the server at `base_url` is cached."""
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:16]
    return cache_dir() / f"service-manifest-{digest}.json"

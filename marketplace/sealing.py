"""Seals secrets the platform must read back (webhook signing secrets) with AES-256-GCM.

The key comes from GOVSTORE_SECRET_KEY (base64, 32 bytes) or, on a single machine, from
`<data dir>/secret.key`, generated on first use with mode 0600. Several app processes must
share the same key: set GOVSTORE_SECRET_KEY for them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from marketplace.settings import Settings

KEY_FILE = "secret.key"
_VERSION = "v1"


def _load_or_create_key(settings: Settings) -> bytes:
    if settings.secret_key:
        try:
            key = base64.b64decode(settings.secret_key, validate=True)
        except binascii.Error as exc:
            raise ValueError("GOVSTORE_SECRET_KEY must be base64") from exc
        if len(key) != 32:
            raise ValueError("GOVSTORE_SECRET_KEY must decode to 32 bytes")
        return key
    path = Path(settings.data_dir) / KEY_FILE
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    # O_EXCL: if two processes race on first start, one writes and both read the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode())
    return key


class Sealer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key: bytes | None = None

    def load(self) -> None:
        """Read (or create) the key now, so a bad GOVSTORE_SECRET_KEY stops start-up."""
        self._aead()

    def _aead(self) -> AESGCM:
        if self._key is None:
            self._key = _load_or_create_key(self._settings)
        return AESGCM(self._key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead().encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, token: str, context: str) -> str:
        version, _, payload = token.partition(".")
        if version != _VERSION:
            raise ValueError("unknown sealed secret version")
        raw = base64.urlsafe_b64decode(payload.encode())
        return self._aead().decrypt(raw[:12], raw[12:], context.encode()).decode()

    def subkey(self, purpose: str) -> bytes:
        """A key for one purpose (e.g. web form tokens), derived from the sealing key."""
        key = self._key if self._key is not None else _load_or_create_key(self._settings)
        self._key = key
        return hmac.new(key, b"govstore/" + purpose.encode(), hashlib.sha256).digest()

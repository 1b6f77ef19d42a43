"""Platform signing keys (ES256): generated into the data directory or loaded from configuration, rotated, published as a JWKS.

The private half of a generated key lives in `<data dir>/signing-keys/<kid>.pem` (mode 0600);
`GOVSTORE_SIGNING_KEY_FILE` names a PEM key instead (for deployments with several hosts). The
public half and the key's life (created, retired, published until) live in `signing_keys`, so
every process serves the same JWKS and picks up a rotation within `REFRESH_SECONDS`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks.models import Consent, ConsentStatus, KitemarkGrant, SigningKey
from marketplace.db import Database, utcnow
from marketplace.settings import Settings

logger = logging.getLogger("govstore.keys")

ALGORITHM = "ES256"
REFRESH_SECONDS = 30.0

# Other things a key signs can keep a retired key published: each rule answers, for a kid,
# until when (or None). The transparency log installs one for its signed tree heads.
RetentionRule = Callable[[AsyncSession, str], Awaitable[datetime | None]]
RETENTION_RULES: list[RetentionRule] = []


def _key_id(key: ECKey) -> str:
    # From the RFC 7638 thumbprint: the same key has the same kid on every host. The prefix
    # keeps file names from starting with "-" (base64url may).
    return f"es256-{key.thumbprint()}"


def generate_key(directory: Path) -> ECKey:
    """A new P-256 key, written to `directory/<kid>.pem` readable by the owner only."""
    key = ECKey.generate_key("P-256")
    kid = _key_id(key)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    return ECKey.import_key(key.as_pem(private=True), parameters={"kid": kid})


def load_key(path: Path) -> ECKey:
    pem = path.read_bytes()
    key = ECKey.import_key(pem)
    return ECKey.import_key(pem, parameters={"kid": _key_id(key)})


def public_jwk(key: ECKey) -> dict[str, Any]:
    jwk: dict[str, Any] = dict(key.as_dict(private=False))
    jwk.update({"kid": key.kid, "alg": ALGORITHM, "use": "sig"})
    return jwk


class KeyRing:
    """The key this process signs with, and the published set of public keys."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.directory = settings.data_dir / "signing-keys"
        self._key: ECKey | None = None
        self._checked = 0.0

    async def load(self) -> ECKey:
        """The current signing key: the configured one, else the newest active key we hold, else a new one."""
        async with self.db.transaction() as session:
            if self.settings.signing_key_file is not None:
                key = load_key(self.settings.signing_key_file)
                await _ensure_row(session, key, retire_others=True)
            else:
                key = await self.newest_local(session) or generate_key(self.directory)
                await _ensure_row(session, key, retire_others=False)
        self._key, self._checked = key, time.monotonic()
        return key

    async def newest_local(self, session: AsyncSession) -> ECKey | None:
        rows = (
            await session.exec(
                select(SigningKey)
                .where(col(SigningKey.retired_at).is_(None))
                .order_by(col(SigningKey.created_at).desc())
            )
        ).all()
        for row in rows:
            path = self.directory / f"{row.kid}.pem"
            if path.exists():
                return load_key(path)
        return None

    async def current(self) -> ECKey:
        """The signing key, re-checked now and then (another process may have rotated).

        Never writes: it runs inside other transactions (SQLite has one writer).
        """
        if self._key is None:
            # Start-up could not load it (database down): take the newest key we hold, read-only.
            async with self.db.session(write=False) as session:
                self._key = await self.newest_local(session)
            if self._key is None:
                raise RuntimeError("no signing key: start the server once with the database up")
            self._checked = time.monotonic()
        if (
            self.settings.signing_key_file is None
            and time.monotonic() - self._checked > REFRESH_SECONDS
        ):
            self._checked = time.monotonic()
            async with self.db.session(write=False) as session:
                newest = await self.newest_local(session)
            if newest is not None:
                self._key = newest
        return self._key

    async def sign(self, claims: dict[str, Any], *, typ: str) -> tuple[str, str]:
        """A compact JWS over canonical JSON claims: (kid, token)."""
        key = await self.current()
        payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
        token = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid, "typ": typ}, payload, key)
        return str(key.kid), token

    async def rotate(self) -> str:
        """A new key becomes current; the old ones stay published until what they signed expires."""
        if self.settings.signing_key_file is not None:
            raise RuntimeError(
                "the signing key comes from GOVSTORE_SIGNING_KEY_FILE: rotate by replacing that file"
            )
        key = generate_key(self.directory)
        async with self.db.transaction() as session:
            await _ensure_row(session, key, retire_others=True)
        self._key, self._checked = key, time.monotonic()
        return str(key.kid)


async def _ensure_row(session: AsyncSession, key: ECKey, *, retire_others: bool) -> None:
    kid = str(key.kid)
    if await session.get(SigningKey, kid) is None:
        session.add(SigningKey(kid=kid, algorithm=ALGORITHM, public_jwk=public_jwk(key)))
        logger.info("signing key %s added", kid)
    if not retire_others:
        return
    others = (
        await session.exec(
            select(SigningKey)
            .where(col(SigningKey.retired_at).is_(None))
            .where(SigningKey.kid != kid)
        )
    ).all()
    now = utcnow()
    for row in others:
        last = (
            await session.exec(
                select(func.max(KitemarkGrant.expires_at)).where(KitemarkGrant.kid == row.kid)
            )
        ).one()
        # Receipts it signed carry no expiry of their own: keep it as long as a consent lives.
        consents = (
            await session.exec(
                select(func.max(Consent.expires_at)).where(Consent.status == ConsentStatus.ACTIVE)
            )
        ).one()
        others_say = [await rule(session, row.kid) for rule in RETENTION_RULES]
        candidates = [t for t in (last, consents, *others_say) if t is not None and t > now]
        row.retired_at = now
        row.publish_until = max(candidates) if candidates else None
        session.add(row)
        logger.info("signing key %s retired", row.kid)


async def published_keys(
    session: AsyncSession, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Public keys a verifier may need: every active key and retired keys whose credentials live on."""
    now = now or utcnow()
    rows = (
        await session.exec(
            select(SigningKey)
            .where(
                or_(
                    col(SigningKey.retired_at).is_(None),
                    col(SigningKey.publish_until) > now,
                )
            )
            .order_by(col(SigningKey.created_at).desc())
        )
    ).all()
    return [row.public_jwk for row in rows]

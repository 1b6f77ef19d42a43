"""Wires the trust capability into a platform: key ring, OAuth server, introspection, approval hand-over, webhooks."""

from __future__ import annotations

import logging
import os

from kitemarks.grants import publisher
from kitemarks.keys import KeyRing
from kitemarks.oauth import epoch
from kitemarks.oauth.access_log import AccessLogWriter
from kitemarks.oauth.rfc7662 import Introspector
from kitemarks.oauth.tokens import TokenWriter
from kitemarks.oauth.views import build_server
from marketplace.platform import Platform
from marketplace.webhooks import services as webhooks

logger = logging.getLogger("govstore.kitemarks")

# Audit tags that become webhook events for the service's organisation.
WEBHOOK_EVENTS = {
    "kitemark:grant:granted": "kitemark.granted",
    "kitemark:grant:suspended": "kitemark.suspended",
    "kitemark:grant:revoked": "kitemark.revoked",
    "kitemark:grant:expiring": "kitemark.expiring",
    "consent:consent:revoked": "consent.revoked",
}


def install_kitemarks(platform: Platform) -> None:
    epoch.install()
    ring = KeyRing(platform.settings, platform.db)
    writer = AccessLogWriter(platform.db)
    platform.services["keyring"] = ring
    platform.services["access_log"] = writer
    platform.services["introspector"] = checker = Introspector(
        platform.db, writer, platform.settings.base_url
    )
    platform.services["oauth_server"] = build_server(platform)
    platform.on_approval = publisher(platform)
    platform.services["token_writer"] = tokens = TokenWriter(platform.db)
    platform.on_close.append(writer.close)
    platform.on_close.append(tokens.close)
    platform.on_close.append(checker.close)
    webhooks.EVENTS.update(WEBHOOK_EVENTS)
    # Kitemark and consent events carry their service id; the release resolver reads it.
    for subject_type in ("kitemark", "consent"):
        webhooks.ORGANISATION_RESOLVERS[subject_type] = webhooks.ORGANISATION_RESOLVERS["release"]


async def start_kitemarks(platform: Platform) -> None:
    """Load (or, on first start, create) the signing key.

    A database that is down at start-up must not stop the process (readiness reports it); the key
    is then looked up on first use.
    """
    ring: KeyRing = platform.services["keyring"]
    configured = platform.settings.signing_key_file
    if configured is not None and not os.access(configured, os.R_OK):
        # A configured key that cannot be read is a deployment error: refuse to start.
        raise RuntimeError(f"GOVSTORE_SIGNING_KEY_FILE {configured} cannot be read")
    try:
        await ring.load()
    except OSError:
        logger.warning("signing key not loaded at start-up: the database is unreachable")

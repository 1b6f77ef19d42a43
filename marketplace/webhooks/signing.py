"""Webhook signatures: `GovStore-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "GovStore-Signature"
EVENT_HEADER = "GovStore-Event"
DELIVERY_HEADER = "GovStore-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds (constant time)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))

"""Checking a webhook delivery is GovStore's, offline: its signature, its age, its body.

GovStore signs each delivery with the webhook's secret::

    GovStore-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
    GovStore-Event: release.status_changed
    GovStore-Delivery: whd_...

`verify_webhook` recomputes the HMAC over the raw body exactly as received, compares it
in constant time, refuses a timestamp more than `tolerance` seconds away (a replay), and
returns the event. Nothing is fetched from the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from ._exceptions import WebhookVerificationError
from ._models import WebhookEvent

__all__ = ["verify_webhook"]

SIGNATURE_HEADER = "GovStore-Signature"
EVENT_HEADER = "GovStore-Event"
DELIVERY_HEADER = "GovStore-Delivery"
DEFAULT_TOLERANCE = 300


@runtime_checkable
class HeaderItems(Protocol):
    """Headers with `items()`: dicts, Starlette, Django, httpx, `http.server`'s messages."""

    def items(self) -> Iterable[tuple[str, Any]]: ...


Headers = HeaderItems | Iterable[tuple[str, str]]


def verify_webhook(
    headers: Headers,
    body: bytes | bytearray | memoryview | str,
    secret: str | bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> WebhookEvent:
    """Check a delivery's signature and return its event; raise `WebhookVerificationError` if bad.

    `headers` are the request's headers, names in any case: anything with `items()`
    (a dict; Starlette's, Django's, httpx's or `http.server`'s headers) or (name, value)
    pairs (as WSGI and Flask give them). `body` is the raw
    request body, unparsed: the signature covers its exact bytes, so a body parsed and
    re-serialised will not verify (a `str` is taken as UTF-8). `secret` is the webhook's
    signing secret. A signature made more than `tolerance` seconds before (or after)
    `now` (default: the current time) is refused, so a captured delivery cannot be
    replayed later. The `GovStore-Event` and `GovStore-Delivery` headers, which the
    signature does not cover, must agree with the signed body when present.
    """
    if not secret:
        raise ValueError("the webhook secret is empty")
    if tolerance < 0:
        raise ValueError("tolerance cannot be negative")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    found = _headers(headers)

    signature = found.get(SIGNATURE_HEADER.lower())
    if signature is None:
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    timestamp, candidates = _parse_signature(signature)
    expected = hmac.new(key, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest().encode()
    # Every candidate is compared in full, in constant time; a secret being rotated may
    # give more than one.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise WebhookVerificationError(
            "the signature does not match: another secret, or the body was changed"
        )
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > tolerance:
        raise WebhookVerificationError(
            f"the signature was made {abs(age):.0f}s {'ago' if age > 0 else 'ahead'},"
            f" beyond the {tolerance:g}s tolerance: a replay, or a clock is wrong"
        )

    try:
        event = WebhookEvent.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as error:
        raise WebhookVerificationError("the signed body is not a GovStore event") from error
    for header, value in ((EVENT_HEADER, event.event), (DELIVERY_HEADER, event.id)):
        sent = found.get(header.lower())
        if sent is not None and sent.strip() != value:
            raise WebhookVerificationError(
                f"the {header} header ({sent!r}) disagrees with the signed body ({value!r})"
            )
    return event


def _headers(headers: Headers) -> dict[str, str]:
    """The headers by lower-cased name; a name sent twice keeps both values, comma-joined."""
    items = headers.items() if isinstance(headers, HeaderItems) else headers
    found: dict[str, str] = {}
    for name, value in items:
        key = str(name).lower()
        found[key] = f"{found[key]},{value}" if key in found else str(value)
    return found


def _parse_signature(header: str) -> tuple[str, list[str]]:
    """The timestamp (as sent, digits only) and every v1 signature in the header."""
    timestamps: set[str] = set()
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamps.add(value.strip())
        elif name == "v1":
            candidates.append(value.strip())
    if len(timestamps) != 1:
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header needs exactly one timestamp t=<unix time>"
        )
    (timestamp,) = timestamps
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} timestamp is not a unix time")
    if not candidates:
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} header has no v1= signature")
    return timestamp, candidates

"""`verify_webhook`: signatures checked offline against vectors computed here, independently."""

from __future__ import annotations

import email.message
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import govstore
from govstore import _webhooks

SECRET = "whsec_test-secret-for-known-vectors"
T = 1767225600  # 2026-01-01T00:00:00Z
EVENT = {
    "id": "whd_1",
    "event": "release.status_changed",
    "created_at": "2026-01-01T00:00:00Z",
    "data": {"release_id": "rel_1", "from": "submitted", "to": "automated_review"},
}
# As the server sends it: compact, keys sorted.
BODY = json.dumps(EVENT, separators=(",", ":"), sort_keys=True).encode()
# HMAC-SHA256(SECRET, f"{T}." + BODY), computed once with
# `openssl dgst -sha256 -hmac SECRET`, not with any code under test.
KNOWN_SIGNATURE = "55998730eea2f3daa880905eccc526ce8a751a3a136ed7f7c300ef7b9df85caa"


def sign(body: bytes, timestamp: int = T, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def headers(signature: str | None = None, timestamp: int = T, **extra: str) -> dict[str, str]:
    found = {
        "GovStore-Signature": f"t={timestamp},v1={signature or sign(BODY, timestamp)}",
        "GovStore-Event": "release.status_changed",
        "GovStore-Delivery": "whd_1",
        "Content-Type": "application/json",
    }
    found.update(extra)
    return found


def message(hdrs: dict[str, str]) -> email.message.Message:
    found = email.message.Message()
    for name, value in hdrs.items():
        found[name.lower()] = value
    return found


def verify(hdrs: Any, body: Any = BODY, secret: Any = SECRET, **kwargs: Any) -> Any:
    return govstore.verify_webhook(hdrs, body, secret, now=kwargs.pop("now", T + 1), **kwargs)


def test_the_known_vector_is_what_hmac_gives() -> None:
    assert sign(BODY) == KNOWN_SIGNATURE


def test_a_good_signature_returns_the_event() -> None:
    event = verify(headers(KNOWN_SIGNATURE))

    assert isinstance(event, govstore.WebhookEvent)
    assert event.id == "whd_1"
    assert event.event == "release.status_changed"
    assert event.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert event.data == EVENT["data"]
    assert not event.model_extra


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda h: {k.lower(): v for k, v in h.items()},
        lambda h: {k.upper(): v for k, v in h.items()},
        lambda h: httpx.Headers(h),
        lambda h: list(h.items()),  # (name, value) pairs, as WSGI gives them
        message,  # as http.server gives them
    ],
    ids=["lower", "upper", "httpx", "pairs", "http.server"],
)
def test_header_names_are_case_insensitive(make_headers: Any) -> None:
    assert verify(make_headers(headers())).id == "whd_1"


def test_the_body_may_be_text_or_any_bytes_like() -> None:
    for body in (BODY.decode(), bytearray(BODY), memoryview(BODY)):
        assert verify(headers(), body=body).id == "whd_1"


def test_the_secret_may_be_bytes() -> None:
    assert verify(headers(), secret=SECRET.encode()).id == "whd_1"


def test_the_event_and_delivery_headers_are_optional() -> None:
    only_signature = {"GovStore-Signature": headers()["GovStore-Signature"]}

    assert verify(only_signature).id == "whd_1"


def test_any_of_several_signatures_may_match() -> None:
    # As during a secret rotation: one v1 per secret.
    value = f"t={T},v1={sign(BODY, secret='the-old-secret-being-rotated')}, v1={sign(BODY)}"

    assert verify({"GovStore-Signature": value}).id == "whd_1"


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(_webhooks.hmac, "compare_digest", spy)

    verify(headers())

    assert compared == [(KNOWN_SIGNATURE.encode(), KNOWN_SIGNATURE.encode())]


# Refused


def refused(hdrs: Any, body: Any = BODY, **kwargs: Any) -> str:
    with pytest.raises(govstore.WebhookVerificationError) as raised:
        verify(hdrs, body=body, **kwargs)
    assert isinstance(raised.value, govstore.GovStoreError)
    return str(raised.value)


def test_another_secret_is_refused() -> None:
    assert "does not match" in refused(headers(sign(BODY, secret="another-secret-entirely")))


def test_a_changed_body_is_refused() -> None:
    tampered = BODY.replace(b"automated_review", b"approved")

    assert "does not match" in refused(headers(), body=tampered)


def test_a_re_serialised_body_is_refused() -> None:
    # Parsed and dumped again (spaces, key order): not the bytes that were signed.
    assert "does not match" in refused(headers(), body=json.dumps(EVENT))


def test_a_changed_timestamp_is_refused() -> None:
    value = f"t={T + 1},v1={sign(BODY)}"

    assert "does not match" in refused({"GovStore-Signature": value})


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (None, "no GovStore-Signature header"),
        ("", "exactly one timestamp"),
        (f"v1={KNOWN_SIGNATURE}", "exactly one timestamp"),
        (f"t=,v1={KNOWN_SIGNATURE}", "not a unix time"),
        (f"t=soon,v1={KNOWN_SIGNATURE}", "not a unix time"),
        (f"t=-{T},v1={KNOWN_SIGNATURE}", "not a unix time"),
        (f"t={'9' * 5000},v1={KNOWN_SIGNATURE}", "not a unix time"),
        (f"t={T}", "no v1= signature"),
        (f"t={T},v0={KNOWN_SIGNATURE}", "no v1= signature"),
        (f"t={T},t={T + 1},v1={KNOWN_SIGNATURE}", "exactly one timestamp"),
        (f"t={T},v1=", "does not match"),
        (f"t={T},v1={KNOWN_SIGNATURE.upper()}", "does not match"),
        (f"t={T},v1=é{KNOWN_SIGNATURE[1:]}", "does not match"),
    ],
    ids=[
        "missing",
        "empty",
        "no timestamp",
        "empty timestamp",
        "word timestamp",
        "negative timestamp",
        "huge timestamp",
        "no signature",
        "other scheme",
        "two timestamps",
        "empty signature",
        "upper case",
        "not ascii",
    ],
)
def test_a_missing_or_malformed_signature_is_refused(value: str | None, complaint: str) -> None:
    hdrs = {"GovStore-Event": "release.status_changed"}
    if value is not None:
        hdrs["GovStore-Signature"] = value

    assert complaint in refused(hdrs)


def test_an_old_signature_is_refused_as_a_replay() -> None:
    assert verify(headers(), now=T + 300).id == "whd_1"
    assert "beyond the 300s tolerance" in refused(headers(), now=T + 301)


def test_a_signature_from_the_future_is_refused() -> None:
    assert verify(headers(), now=T - 300).id == "whd_1"
    assert "ahead" in refused(headers(), now=T - 301)


def test_the_tolerance_can_be_set() -> None:
    assert verify(headers(), now=T + 3000, tolerance=3600).id == "whd_1"
    assert "beyond the 10s tolerance" in refused(headers(), now=T + 11, tolerance=10)


def test_the_current_time_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_webhooks.time, "time", lambda: T + 1000.0)

    with pytest.raises(govstore.WebhookVerificationError):
        govstore.verify_webhook(headers(), BODY, SECRET)
    assert govstore.verify_webhook(headers(), BODY, SECRET, tolerance=1000).id == "whd_1"


def test_an_event_header_that_disagrees_with_the_signed_body_is_refused() -> None:
    hdrs = headers(**{"GovStore-Event": "release.approved"})

    assert "GovStore-Event header" in refused(hdrs)


def test_a_delivery_header_that_disagrees_with_the_signed_body_is_refused() -> None:
    hdrs = headers(**{"GovStore-Delivery": "whd_2"})

    assert "GovStore-Delivery header" in refused(hdrs)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"id": "whd_1"}', b"\xff\xfe"],
    ids=["not json", "a list", "not an event", "not utf-8"],
)
def test_a_signed_body_that_is_not_an_event_is_refused(body: bytes) -> None:
    hdrs = {"GovStore-Signature": f"t={T},v1={sign(body)}"}

    assert "not a GovStore event" in refused(hdrs, body=body)


def test_an_empty_secret_or_negative_tolerance_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="secret is empty"):
        verify(headers(), secret="")
    with pytest.raises(ValueError, match="tolerance"):
        verify(headers(), tolerance=-1)

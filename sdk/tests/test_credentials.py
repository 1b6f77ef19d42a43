"""`verify_kitemark`: a kitemark credential checked offline against the platform's JWKS."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

import govstore

ISSUER = "https://govstore.example"
GRANTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EXPIRES = GRANTED + timedelta(days=365)
NOW = GRANTED + timedelta(days=30)
CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "sub": "svc_1",
    "jti": "kmk_1",
    "iat": int(GRANTED.timestamp()),
    "nbf": int(GRANTED.timestamp()),
    "exp": int(EXPIRES.timestamp()),
    "scheme": "privacy-assured",
    "scheme_title": "Privacy assured",
    "service_slug": "acme-gp",
    "service_name": "Acme GP Online",
    "release": "rel_1",
    "release_number": 3,
    "evidence": [
        {
            "criterion": "PRIV-1",
            "level": "self_assertion",
            "reference": "DPIA v3",
            "finding": "pass",
        },
        {
            "criterion": "SEC-2",
            "level": "reviewer_assessment",
            "reference": None,
            "finding": "not_recorded",
        },
    ],
    "status_url": f"{ISSUER}/v1/kitemarks/kmk_1/status",
}


def new_key() -> ECKey:
    key = ECKey.generate_key("P-256")
    return ECKey.import_key(key.as_pem(private=True), parameters={"kid": str(key.thumbprint())})


def public_jwks(*keys: ECKey) -> dict[str, Any]:
    published = []
    for key in keys:
        jwk: dict[str, Any] = dict(key.as_dict(private=False))
        jwk.update({"kid": key.kid, "alg": "ES256", "use": "sig"})
        published.append(jwk)
    return {"keys": published}


def sign(
    key: ECKey,
    claims: dict[str, Any] | None = None,
    *,
    typ: str = "kitemark+jwt",
    kid: str | None = None,
) -> str:
    """A credential as the server signs one: canonical JSON claims, ES256, kid and typ."""
    payload = json.dumps(
        CLAIMS if claims is None else claims, sort_keys=True, separators=(",", ":")
    )
    header = {"alg": "ES256", "kid": key.kid if kid is None else kid, "typ": typ}
    return jws.serialize_compact(header, payload.encode(), key)


@pytest.fixture(scope="module")
def key() -> ECKey:
    return new_key()


@pytest.fixture(scope="module")
def jwks(key: ECKey) -> dict[str, Any]:
    return public_jwks(new_key(), key)  # the signing key is not the first one


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_valid_credential_returns_its_claims(key: ECKey, jwks: dict[str, Any]) -> None:
    claims = govstore.verify_kitemark(sign(key), jwks, issuer=ISSUER, now=NOW)

    assert isinstance(claims, govstore.KitemarkClaims)
    assert (claims.sub, claims.jti, claims.scheme) == ("svc_1", "kmk_1", "privacy-assured")
    assert claims.iat == claims.nbf == GRANTED and claims.exp == EXPIRES
    assert claims.release_number == 3 and claims.service_name == "Acme GP Online"
    assert claims.evidence[0] == govstore.KitemarkEvidence(**CLAIMS["evidence"][0])
    assert claims.evidence[1].reference is None
    assert claims.status_url.endswith("/v1/kitemarks/kmk_1/status")
    assert not claims.model_extra


def test_the_jwks_model_from_the_client_is_accepted(key: ECKey, jwks: dict[str, Any]) -> None:
    model = govstore.Jwks.model_validate(jwks)

    assert govstore.verify_kitemark(sign(key), model, now=NOW).jti == "kmk_1"


def test_without_now_the_current_time_is_used(key: ECKey, jwks: dict[str, Any]) -> None:
    fresh = {
        **CLAIMS,
        "nbf": int(datetime.now(UTC).timestamp()) - 60,
        "exp": int(datetime.now(UTC).timestamp()) + 3600,
    }

    assert govstore.verify_kitemark(sign(key, fresh), jwks).sub == "svc_1"


def tamper_with_claims(credential: str) -> str:
    header, _, signature = credential.split(".")
    return ".".join([header, b64({**CLAIMS, "scheme": "clinically-safe"}), signature])


def tamper_with_signature(credential: str) -> str:
    header, payload, signature = credential.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return ".".join([header, payload, signature[:10] + flipped + signature[11:]])


@pytest.mark.parametrize(
    "tamper", [tamper_with_claims, tamper_with_signature], ids=["claims", "signature"]
)
def test_a_tampered_credential_is_refused(key: ECKey, jwks: dict[str, Any], tamper: Any) -> None:
    with pytest.raises(govstore.CredentialError, match="signature does not verify"):
        govstore.verify_kitemark(tamper(sign(key)), jwks, now=NOW)


def test_a_credential_signed_by_another_key_with_the_same_kid_is_refused(
    key: ECKey, jwks: dict[str, Any]
) -> None:
    forged = sign(new_key(), kid=key.kid)

    with pytest.raises(govstore.CredentialError, match="signature does not verify"):
        govstore.verify_kitemark(forged, jwks, now=NOW)


def test_an_unknown_kid_is_refused(jwks: dict[str, Any]) -> None:
    stranger = new_key()

    with pytest.raises(govstore.CredentialError, match=f"no key '{stranger.kid}' in the JWKS"):
        govstore.verify_kitemark(sign(stranger), jwks, now=NOW)


@pytest.mark.parametrize(
    ("now", "message"),
    [
        (EXPIRES, "expired"),
        (EXPIRES + timedelta(days=1), "expired"),
        (GRANTED - timedelta(seconds=1), "not valid until"),
    ],
    ids=["at exp", "after exp", "before nbf"],
)
def test_outside_its_validity_a_credential_is_refused(
    key: ECKey, jwks: dict[str, Any], now: datetime, message: str
) -> None:
    with pytest.raises(govstore.CredentialError, match=message):
        govstore.verify_kitemark(sign(key), jwks, now=now)


def test_leeway_allows_for_clock_skew(key: ECKey, jwks: dict[str, Any]) -> None:
    early = GRANTED - timedelta(seconds=30)

    assert govstore.verify_kitemark(sign(key), jwks, now=early, leeway=60).jti == "kmk_1"
    with pytest.raises(govstore.CredentialError, match="expired"):
        govstore.verify_kitemark(sign(key), jwks, now=EXPIRES + timedelta(seconds=61), leeway=60)


def test_another_issuer_is_refused(key: ECKey, jwks: dict[str, Any]) -> None:
    with pytest.raises(govstore.CredentialError, match=r"issued by 'https://govstore\.example'"):
        govstore.verify_kitemark(sign(key), jwks, issuer="https://evil.example", now=NOW)


def test_without_an_issuer_any_is_accepted(key: ECKey, jwks: dict[str, Any]) -> None:
    other = {**CLAIMS, "iss": "https://staging.govstore.example"}

    assert govstore.verify_kitemark(sign(key, other), jwks, now=NOW).iss == other["iss"]


@pytest.mark.parametrize("typ", ["JWT", "consent-receipt+jwt", ""])
def test_another_kind_of_token_is_refused(key: ECKey, jwks: dict[str, Any], typ: str) -> None:
    with pytest.raises(govstore.CredentialError, match="not a kitemark credential"):
        govstore.verify_kitemark(sign(key, typ=typ), jwks, now=NOW)


def test_the_media_type_form_of_typ_is_accepted(key: ECKey, jwks: dict[str, Any]) -> None:
    credential = sign(key, typ="application/kitemark+JWT")

    assert govstore.verify_kitemark(credential, jwks, now=NOW).jti == "kmk_1"


def test_an_unsigned_credential_is_refused(jwks: dict[str, Any], key: ECKey) -> None:
    header = b64({"alg": "none", "kid": key.kid, "typ": "kitemark+jwt"})
    unsigned = f"{header}.{b64(CLAIMS)}."

    with pytest.raises(govstore.CredentialError, match="not ES256"):
        govstore.verify_kitemark(unsigned, jwks, now=NOW)


@pytest.mark.parametrize("credential", ["", "abc", "a.b", "a.b.c.d", "!!.??.**"])
def test_malformed_credentials_are_refused(jwks: dict[str, Any], credential: str) -> None:
    with pytest.raises(govstore.CredentialError):
        govstore.verify_kitemark(credential, jwks, now=NOW)


@pytest.mark.parametrize("missing", ["exp", "nbf", "sub", "jti", "status_url"])
def test_a_credential_missing_a_claim_is_refused(
    key: ECKey, jwks: dict[str, Any], missing: str
) -> None:
    claims = {name: value for name, value in CLAIMS.items() if name != missing}

    with pytest.raises(govstore.CredentialError):
        govstore.verify_kitemark(sign(key, claims), jwks, now=NOW)


@pytest.mark.parametrize(
    "jwks",
    [{}, {"keys": "nope"}],
    ids=["no keys", "keys not a list"],
)
def test_a_malformed_jwks_is_refused(key: ECKey, jwks: dict[str, Any]) -> None:
    with pytest.raises(govstore.CredentialError, match="JWKS"):
        govstore.verify_kitemark(sign(key), jwks, now=NOW)


def test_a_key_of_another_type_under_the_kid_is_refused(key: ECKey) -> None:
    jwks = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": key.kid}]}

    with pytest.raises(govstore.CredentialError, match="not a P-256 key"):
        govstore.verify_kitemark(sign(key), jwks, now=NOW)


def test_a_naive_now_is_a_programming_error(key: ECKey, jwks: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        govstore.verify_kitemark(sign(key), jwks, now=datetime(2026, 2, 1))

"""Checking a kitemark credential is GovStore's, offline: its signature, its type, its dates.

A kitemark credential is a compact JWS (RFC 7515) signed with ES256 by one of the
platform's keys, published at `/.well-known/jwks.json`::

    header  {"alg": "ES256", "kid": "<key id>", "typ": "kitemark+jwt"}
    claims  {"iss", "sub" (service id), "jti" (kitemark id), "iat", "nbf", "exp",
             "scheme", "scheme_title", "service_slug", "service_name", "release",
             "release_number", "evidence", "status_url"}

`verify_kitemark` checks the header, finds the key the header names in the JWKS,
verifies the signature with joserfc, checks `nbf` and `exp` (and `iss`, when asked)
and returns the claims. Nothing is fetched from the server: a suspension or
revocation after issue shows only at the credential's `status_url`
(`client.kitemarks.status(claims.jti)`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from pydantic import ValidationError

from ._exceptions import CredentialError, GovStoreError
from ._models import Jwks, KitemarkClaims

__all__ = ["verify_kitemark"]

ALGORITHM = "ES256"
CREDENTIAL_TYPES = frozenset({"kitemark+jwt", "application/kitemark+jwt"})


def verify_kitemark(
    credential: str,
    jwks: Mapping[str, Any] | Jwks,
    *,
    issuer: str | None = None,
    now: datetime | None = None,
    leeway: float = 0,
) -> KitemarkClaims:
    """Verify a kitemark credential and return its claims; raise `CredentialError` if bad.

    `credential` is the compact JWS (`Kitemark.credential`). `jwks` is the platform's
    JWK Set (`client.well_known.jwks()`, or the JSON of `/.well-known/jwks.json` as a
    dict): the key named by the header's `kid` must be in it. The header must say
    `alg` ES256 and `typ` `kitemark+jwt`. The credential is refused before its `nbf`
    and from its `exp` on, as at `now` (a timezone-aware datetime; default: the
    current time), allowing `leeway` seconds of clock skew either way. With `issuer`
    (the server's base URL, such as `https://govstore.example`), `iss` must equal it.

    A valid signature says what was true when the kitemark was granted; whether it
    still holds now (not suspended or revoked) is at `claims.status_url`.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware, such as datetime.now(UTC)")
    if leeway < 0:
        raise ValueError("leeway cannot be negative")
    payload, _ = verified_payload(
        credential,
        jwks,
        types=CREDENTIAL_TYPES,
        subject="the credential",
        kind="a kitemark credential",
        error=CredentialError,
    )
    if not isinstance(payload, dict):
        raise CredentialError("the signed payload is not a JSON object")
    nbf, exp = _numeric_date(payload, "nbf"), _numeric_date(payload, "exp")
    moment = now.timestamp()
    if moment < nbf - leeway:
        raise CredentialError(
            f"the credential is not valid until {_utc(nbf)}: a clock is wrong, or it was "
            "issued ahead"
        )
    if moment >= exp + leeway:
        raise CredentialError(f"the credential expired at {_utc(exp)}")
    try:
        claims = KitemarkClaims.model_validate(payload)
    except ValidationError as error:
        raise CredentialError(f"the credential's claims are not a kitemark's: {error}") from error
    if issuer is not None and claims.iss != issuer:
        raise CredentialError(f"the credential was issued by {claims.iss!r}, not {issuer!r}")
    return claims


def verified_payload(
    token: object,
    jwks: Mapping[str, Any] | Jwks,
    *,
    types: frozenset[str],
    subject: str,
    kind: str,
    error: type[GovStoreError],
) -> tuple[Any, str]:
    """The JSON payload of a compact JWS signed with ES256 by the JWKS key its header names,
    and that key's `kid`.

    The header's `typ` must be one of `types` (the first is the one named in refusals). Every
    refusal raises `error`, its message naming `subject` ("the credential") or `kind` ("a
    kitemark credential"). Shared by kitemark credentials and transparency tree heads.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise error(f"{subject} is not a compact JWS: expected three dot-separated parts")
    try:
        raw = token.strip().encode("ascii")
        header = jws.extract_compact(raw).headers()
    except (JoseError, ValueError) as exc:
        raise error(f"{subject} is not a compact JWS: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise error(f"{subject} is signed with {header.get('alg')!r}, not ES256")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in types:
        expected = sorted(types, key=len)[0]
        raise error(f"not {kind}: its typ is {typ!r}, not {expected}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise error(f"{subject}'s header names no key (kid)")
    key = find_signing_key(jwks, kid, error)
    try:
        verified = jws.deserialize_compact(raw, key, algorithms=[ALGORITHM])
    except JoseError as exc:
        raise error(
            f"the signature does not verify: {subject} was changed, or not signed by this key"
        ) from exc
    try:
        return json.loads(verified.payload), kid
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{subject}'s signed payload is not JSON") from exc


def find_signing_key(jwks: Mapping[str, Any] | Jwks, kid: str, error: type[GovStoreError]) -> ECKey:
    """The P-256 public key with this `kid` in the JWK Set; only its public members are used.

    Anything wrong with the set or the key raises `error` (the caller's refusal, such as
    `CredentialError`), so each verifier reports in its own terms.
    """
    keys = jwks.keys if isinstance(jwks, Jwks) else jwks.get("keys")
    if not isinstance(keys, list):
        raise error("the JWKS has no list of keys")
    for jwk in keys:
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise error(f"key {kid!r} in the JWKS is not a P-256 key")
        if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
            raise error(f"key {kid!r} in the JWKS is not for ES256 signatures")
        x, y = jwk.get("x"), jwk.get("y")
        if not isinstance(x, str) or not isinstance(y, str):
            raise error(f"key {kid!r} in the JWKS has no public point (x, y)")
        try:
            return ECKey.import_key(
                {"kty": "EC", "crv": "P-256", "x": x, "y": y}, parameters={"kid": kid}
            )
        except (JoseError, ValueError, TypeError, KeyError) as failure:
            raise error(f"key {kid!r} in the JWKS is malformed") from failure
    raise error(
        f"no key {kid!r} in the JWKS: fetch /.well-known/jwks.json again, or it was not "
        "signed by this server"
    )


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialError(f"the credential has no {name} (a NumericDate)")
    return float(value)


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()

"""`kitemark verify` and `log verify`: trust checked on the user's machine, not taken on faith.

`log verify` reads the transparency log through the SDK's request layer directly
(`Client.execute` with a `RequestSpec`), so it needs no more of the SDK than the paths
API.md fixes: `/v1/transparency/tree-head`, `/entries` and `/proofs/...`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._client import Client
from .._credentials import verify_kitemark
from .._exceptions import CredentialError, ProofError
from .._models import Jwks
from .._request import RequestSpec, parse_json_object
from .._transparency import VerifiedTreeHead, verify_consistency, verify_inclusion, verify_tree_head
from ._config import write_private
from ._context import EXIT_FAILED, EXIT_OK, Context, UsageError


def kitemark(context: Context) -> int:
    """Verify a credential's signature, type and dates; with --check-status, that it holds now."""
    args = context.args
    credential = _read_credential(context, args.credential)
    issuer = args.issuer
    client: Client | None = None
    if args.jwks:
        jwks: dict[str, Any] | Jwks = _read_json_file(args.jwks)
    else:
        client = context.client(anonymous=True)
        jwks = client.well_known.jwks()
        if issuer is None:
            issuer = client.well_known.oauth_metadata().issuer
    try:
        claims = verify_kitemark(credential, jwks, issuer=issuer)
    except CredentialError as error:
        context.emit({"valid": False, "reason": str(error)}, f"NOT VALID: {error}")
        return EXIT_FAILED
    data: dict[str, Any] = {"valid": True, "claims": claims.model_dump(mode="json")}
    lines = [
        f"valid: {claims.scheme_title} ({claims.scheme}) for {claims.service_name} "
        f"({claims.service_slug}), release {claims.release_number}",
        f"  kitemark {claims.jti}, issued by {claims.iss}",
        f"  granted {claims.iat:%Y-%m-%d}, expires {claims.exp:%Y-%m-%d}",
    ]
    lines += [
        f"  {item.criterion}: {item.level}, {item.reference or 'no reference'}"
        for item in claims.evidence
    ]
    if args.check_status:
        client = client or context.client(anonymous=True)
        status = client.kitemarks.status(claims.jti)
        data["status"] = status.model_dump(mode="json")
        if not status.valid:
            data["valid"] = False
            lines[0] = f"NOT VALID NOW: the kitemark is {status.status}"
            context.emit(data, lines)
            return EXIT_FAILED
        lines.append(f"  status now: {status.status}")
    context.emit(data, lines)
    return EXIT_OK


def log(context: Context) -> int:
    """Verify the signed tree head; with --since, that the log only grew; with --leaf, inclusion."""
    args = context.args
    client = context.client(anonymous=True)
    jwks: dict[str, Any] | Jwks = (
        _read_json_file(args.jwks) if args.jwks else client.well_known.jwks()
    )
    raw_head = _get(client, "/v1/transparency/tree-head")
    data: dict[str, Any] = {"tree_head": raw_head}
    try:
        head = verify_tree_head(raw_head, jwks)
        lines = [
            f"tree head verified: {head.tree_size} entries, root {head.root_hash_base64}",
            f"  signed at {head.timestamp:%Y-%m-%d %H:%M:%S} UTC by key {head.kid}",
        ]
        if args.since:
            lines += _check_consistency(client, jwks, Path(args.since), head, raw_head, data)
        if args.leaf is not None:
            lines += _check_inclusion(client, head, args.leaf, args.leaf_hash, data)
    except ProofError as error:
        context.emit({**data, "verified": False, "reason": str(error)}, f"NOT VERIFIED: {error}")
        return EXIT_FAILED
    context.emit({**data, "verified": True}, lines)
    return EXIT_OK


def _check_consistency(
    client: Client,
    jwks: dict[str, Any] | Jwks,
    since: Path,
    head: VerifiedTreeHead,
    raw_head: dict[str, Any],
    data: dict[str, Any],
) -> list[str]:
    if not since.exists():
        write_private(since, raw_head)
        data["consistency"] = "first head saved"
        return [f"  first run: this head is saved in {since}; the next run checks the log grew"]
    previous = verify_tree_head(_read_json_file(str(since)), jwks)
    if previous.tree_size > 0:  # every log extends the empty one
        proof: list[str] = []
        if previous.tree_size < head.tree_size:
            answer = _get(
                client,
                "/v1/transparency/proofs/consistency",
                first=previous.tree_size,
                second=head.tree_size,
            )
            proof = _hashes(answer, "proof")
        verify_consistency(
            previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof
        )
    write_private(since, raw_head)
    data["consistency"] = {"first": previous.tree_size, "second": head.tree_size}
    return [
        f"  consistent with the head of {previous.tree_size} entries in {since}: "
        f"the log only grew; {since} now holds this head"
    ]


def _check_inclusion(
    client: Client, head: VerifiedTreeHead, leaf: int, leaf_hash: str | None, data: dict[str, Any]
) -> list[str]:
    if leaf >= head.tree_size:
        raise ProofError(f"entry {leaf} is not in the log of {head.tree_size} entries")
    if leaf_hash is None:
        answer = _get(client, "/v1/transparency/entries", start=leaf, end=leaf + 1)
        entries = answer.get("items", answer.get("entries"))
        if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
            raise ProofError(f"the log did not return entry {leaf}")
        leaf_hash = entries[0].get("leaf_hash")
        if not isinstance(leaf_hash, str):
            raise ProofError(f"entry {leaf} has no leaf_hash")
    answer = _get(
        client, "/v1/transparency/proofs/inclusion", leaf_index=leaf, tree_size=head.tree_size
    )
    verify_inclusion(leaf_hash, leaf, head.tree_size, _hashes(answer, "audit_path"), head.root_hash)
    data["inclusion"] = {"leaf_index": leaf, "leaf_hash": leaf_hash}
    return [f"  entry {leaf} (leaf hash {leaf_hash}) is in the log"]


def _get(client: Client, path: str, **params: int) -> dict[str, Any]:
    return client.execute(RequestSpec("GET", path, parse_json_object, params=params or None))


def _hashes(answer: dict[str, Any], name: str) -> list[str]:
    value = answer.get(name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProofError(f"the server's proof has no list of base64 hashes in {name}")
    return value


def _read_credential(context: Context, argument: str) -> str:
    if argument == "-":
        return context.stdin.read().strip()
    if argument.startswith("@"):
        try:
            return Path(argument[1:]).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"cannot read {argument[1:]}: {error.strerror or error}") from error
    return argument.strip()


def _read_json_file(name: str) -> dict[str, Any]:
    try:
        document = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from error
    except ValueError as error:
        raise UsageError(f"{name} is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise UsageError(f"{name} is not a JSON object")
    return document

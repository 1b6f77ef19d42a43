"""The log over the journey: what becomes an entry, signed heads, proofs, the citizen's entries, privacy."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
import jwt
import sqlalchemy as sa
from starlette.applications import Starlette
from testkit import PASSWORD, Actor, AppFactory, SignUp, assert_problem

from tests.kitemarks.conftest import DataApi, Publish, consent_flow, exchange, introspect
from tests.transparency.rfc6962 import consistency_ok, inclusion_ok, mth


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def sequence(app: Starlette) -> None:
    await app.state.platform.services["transparency"].run_until_idle()


async def head_of(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/v1/transparency/tree-head")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def all_entries(client: httpx.AsyncClient, size: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for start in range(0, size, 1000):
        r = await client.get(
            "/v1/transparency/entries", params={"start": start, "end": min(size, start + 1000)}
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
    return items


def assert_signed(head: dict[str, Any], jwks: dict[str, Any]) -> None:
    """Verified with PyJWT (not the server's JOSE library) against the published JWKS."""
    header = jwt.get_unverified_header(head["signature"])
    assert header["alg"] == "ES256" and header["typ"] == "tree-head+jwt"
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == header["kid"])
    decoded = jwt.PyJWS().decode_complete(head["signature"], key=key.key, algorithms=["ES256"])
    claims = {k: head[k] for k in ("root_hash", "timestamp", "tree_size")}
    assert decoded["payload"] == json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()


async def journey(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> dict[str, Any]:
    """Publish, opt in, one read of the citizen's data, then revoke."""
    svc = await publish(slug="warm-home")
    token = (await exchange(client, svc, await consent_flow(client, citizen, svc))).json()
    assert (await introspect(client, hmrc, token["access_token"], case_reference="CASE-42"))[
        "active"
    ]
    consents = (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"]
    r = await client.delete(f"/v1/me/consents/{consents[0]['id']}", headers=citizen.headers)
    assert r.status_code in (200, 204), r.text
    return {"service_id": svc.service_id, "release_id": svc.release_id}


async def test_every_grant_decision_consent_and_access_is_logged_and_provable(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
) -> None:
    ids = await journey(client, publish, citizen, hmrc)
    await sequence(app)
    head = await head_of(client)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert_signed(head, jwks)
    items = await all_entries(client, head["tree_size"])
    assert [e["leaf_index"] for e in items] == list(range(head["tree_size"]))
    kinds = [e["kind"] for e in items]
    for kind in (
        "release.decision",
        "kitemark.granted",
        "scope.granted",
        "release.status",
        "consent.granted",
        "data.accessed",
        "consent.revoked",
    ):
        assert kind in kinds, kinds
    # The entry's exact bytes hash to its leaf, and are the canonical form of kind, time, body.
    raw = [e["entry"].encode() for e in items]
    for e in items:
        assert b64(e["leaf_hash"]) == hashlib.sha256(b"\x00" + e["entry"].encode()).digest()
        canonical = json.dumps(
            {"body": e["body"], "kind": e["kind"], "time": e["time"]},
            sort_keys=True,
            separators=(",", ":"),
        )
        assert canonical == e["entry"]
    assert b64(head["root_hash"]) == mth(raw)
    decision = next(e for e in items if e["kind"] == "release.decision")
    assert decision["body"]["release_id"] == ids["release_id"]
    assert decision["body"]["outcome"] == "approve"
    access = next(e for e in items if e["kind"] == "data.accessed")
    assert access["body"]["service_id"] == ids["service_id"]
    assert access["body"]["data_api_id"] == hmrc.id
    # Citizens appear by pseudonym only; free text a department typed stays out.
    citizen_entries = [e for e in items if e["kind"].startswith(("consent.", "data."))]
    names = {e["body"]["citizen"] for e in citizen_entries}
    assert len(names) == 1 and next(iter(names)).startswith("cz_")
    text = json.dumps(items)
    assert citizen.id not in text and citizen.email not in text and "CASE-42" not in text
    # Every leaf's inclusion proof checks out with an independent verifier.
    for e in items:
        r = await client.get(
            "/v1/transparency/proofs/inclusion",
            params={"leaf_index": e["leaf_index"], "tree_size": head["tree_size"]},
        )
        assert r.status_code == 200, r.text
        proof = r.json()
        assert proof["leaf_index"] == e["leaf_index"] and proof["tree_size"] == head["tree_size"]
        path = [b64(h) for h in proof["audit_path"]]
        assert inclusion_ok(
            e["leaf_index"], head["tree_size"], b64(e["leaf_hash"]), path, b64(head["root_hash"])
        )
    # And the citizen finds their own entries, with leaf indices, newest first.
    r = await client.get("/v1/me/transparency", headers=citizen.headers)
    assert r.status_code == 200, r.text
    mine = r.json()["items"]
    assert [e["leaf_index"] for e in mine] == sorted(
        (e["leaf_index"] for e in citizen_entries), reverse=True
    )
    assert mine[0] == next(e for e in items if e["leaf_index"] == mine[0]["leaf_index"])


async def test_consistency_between_heads(
    app: Starlette, client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi
) -> None:
    await publish(slug="first-service")
    await sequence(app)
    first = await head_of(client)
    await journey(client, publish, citizen, hmrc)
    await sequence(app)
    second = await head_of(client)
    assert second["tree_size"] > first["tree_size"] > 0
    r = await client.get(
        "/v1/transparency/proofs/consistency",
        params={"first": first["tree_size"], "second": second["tree_size"]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["first"], body["second"]) == (first["tree_size"], second["tree_size"])
    assert consistency_ok(
        first["tree_size"],
        second["tree_size"],
        [b64(h) for h in body["proof"]],
        b64(first["root_hash"]),
        b64(second["root_hash"]),
    )
    same = await client.get(
        "/v1/transparency/proofs/consistency",
        params={"first": second["tree_size"], "second": second["tree_size"]},
    )
    assert same.status_code == 200 and same.json()["proof"] == []


async def test_out_of_range_sizes_and_indices_are_400s(
    app: Starlette, client: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(slug="warm-home")
    await sequence(app)
    size = (await head_of(client))["tree_size"]
    bad = [
        ("/v1/transparency/entries", {"start": size}, "start"),
        ("/v1/transparency/entries", {"start": 0, "end": size + 1}, "end"),
        ("/v1/transparency/entries", {"start": 2, "end": 2}, "end"),
        ("/v1/transparency/entries", {"start": -1}, "start"),
        ("/v1/transparency/entries", {"start": "one"}, "start"),
        ("/v1/transparency/entries", {}, "start"),
        (
            "/v1/transparency/proofs/inclusion",
            {"leaf_index": size, "tree_size": size},
            "leaf_index",
        ),
        (
            "/v1/transparency/proofs/inclusion",
            {"leaf_index": 0, "tree_size": size + 1},
            "tree_size",
        ),
        ("/v1/transparency/proofs/inclusion", {"leaf_index": 0, "tree_size": 0}, "tree_size"),
        ("/v1/transparency/proofs/inclusion", {"leaf_index": -1, "tree_size": 1}, "leaf_index"),
        ("/v1/transparency/proofs/consistency", {"first": 2, "second": 1}, "first"),
        ("/v1/transparency/proofs/consistency", {"first": 1, "second": size + 1}, "second"),
        ("/v1/transparency/proofs/consistency", {"first": 0, "second": 1}, "first"),
        ("/v1/transparency/proofs/consistency", {"first": 1}, "second"),
    ]
    for path, params, parameter in bad:
        body = assert_problem(await client.get(path, params=params), 400)
        assert [e["parameter"] for e in body["errors"]] == [parameter], (path, params, body)


async def test_a_range_is_capped(app: Starlette, client: httpx.AsyncClient) -> None:
    platform = app.state.platform
    rows = [("kitemark.granted", "2026-12-01T00:00:00.000Z", f'{{"n":{n}}}') for n in range(1002)]
    async with platform.db.raw_transaction() as tx:
        await tx.executemany(
            "INSERT INTO transparency_pending (kind, time, body) VALUES (?, ?, ?)", rows
        )
    await sequence(app)
    assert (await head_of(client))["tree_size"] == 1002
    body = assert_problem(
        await client.get("/v1/transparency/entries", params={"start": 0, "end": 1001}), 400
    )
    assert "1000" in body["detail"]
    r = await client.get("/v1/transparency/entries", params={"start": 1000})
    assert [e["leaf_index"] for e in r.json()["items"]] == [1000, 1001]


async def test_no_head_yet_is_a_503(make_app: AppFactory) -> None:
    app = await make_app(transparency_interval_seconds=300)
    platform = app.state.platform
    await platform.services["transparency"].close()
    async with platform.db.transaction() as session:
        await session.exec(sa.text("DELETE FROM transparency_heads"))
    from testkit import client_for

    async with client_for(app) as client:
        for path, params in [
            ("/v1/transparency/tree-head", {}),
            ("/v1/transparency/entries", {"start": 0}),
            ("/v1/transparency/proofs/inclusion", {"leaf_index": 0, "tree_size": 1}),
        ]:
            r = await client.get(path, params=params)
            assert_problem(r, 503)
            assert r.headers["retry-after"] == "1"
        await sequence(app)
        head = (await client.get("/v1/transparency/tree-head")).json()
        assert head["tree_size"] == 0
        assert b64(head["root_hash"]) == hashlib.sha256(b"").digest()


async def test_my_entries_are_mine_only(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
    sign_up: SignUp,
) -> None:
    await journey(client, publish, citizen, hmrc)
    await sequence(app)
    assert_problem(await client.get("/v1/me/transparency"), 401)
    other = await sign_up("citizen", name="other")
    r = await client.get("/v1/me/transparency", headers=other.headers)
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    # Paged like every list.
    first = (await client.get("/v1/me/transparency?limit=2", headers=citizen.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await client.get(
            "/v1/me/transparency",
            params={"limit": 100, "cursor": first["next_cursor"]},
            headers=citizen.headers,
        )
    ).json()
    indices = [e["leaf_index"] for e in first["items"] + rest["items"]]
    assert indices == sorted(indices, reverse=True) and len(set(indices)) == len(indices)


async def test_erasure_shreds_the_key_and_leaves_nothing_linkable(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
) -> None:
    svc = await publish(slug="warm-home")
    await exchange(client, svc, await consent_flow(client, citizen, svc))
    await sequence(app)
    before = (await client.get("/v1/me/transparency", headers=citizen.headers)).json()["items"]
    name = before[0]["body"]["citizen"]
    platform = app.state.platform
    r = await client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=citizen.headers
    )
    assert r.status_code == 204, r.text
    await sequence(app)
    async with platform.db.transaction() as session:
        keys = (await session.exec(sa.text("SELECT account_id, secret FROM citizen_keys"))).all()
        pending = (await session.exec(sa.text("SELECT COUNT(*) FROM transparency_pending"))).one()
    assert pending[0] == 0
    # The key is gone: no key held derives the pseudonym from the account any more.
    from transparency.pseudonyms import pseudonym

    assert citizen.id not in {k[0] for k in keys}
    assert all(pseudonym(bytes(k[1]), citizen.id) != name for k in keys)
    head = await head_of(client)
    items = await all_entries(client, head["tree_size"])
    text = json.dumps(items)
    assert citizen.id not in text and citizen.email not in text
    # The erasure's own consent revocation is logged under the same (now unlinkable) pseudonym.
    revoked = [e for e in items if e["kind"] == "consent.revoked"]
    assert revoked and revoked[-1]["body"]["citizen"] == name
    assert_problem(await client.get("/v1/me/transparency", headers=citizen.headers), 401)

"""The SDK's transparency calls against the real server: every answer fully modelled, errors typed."""

from __future__ import annotations

import base64
import hashlib

import govstore
import httpx
import pytest
from starlette.applications import Starlette
from testkit import Actor

from tests.kitemarks.conftest import DataApi, Publish
from tests.sdk.test_contract import assert_fully_modelled, collect
from tests.sdk.test_contract_catalogue import MakeSDK, opt_in, sdk  # noqa: F401 (fixture)
from tests.transparency.rfc6962 import consistency_ok, inclusion_ok


async def test_head_entries_proofs_and_my_entries(
    app: Starlette,
    client: httpx.AsyncClient,
    sdk: MakeSDK,  # noqa: F811
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
) -> None:
    sequencer = app.state.platform.services["transparency"]
    svc = await publish(slug="warm-home")
    await sequencer.run_until_idle()
    public = sdk(None)
    first = await public.transparency.tree_head()
    token = await opt_in(client, svc, citizen)
    r = await client.post("/oauth/introspect", data={"token": token}, auth=hmrc.basic)
    assert r.json()["active"]
    await sequencer.run_until_idle()
    head = await public.transparency.tree_head()
    assert_fully_modelled(head)
    assert head.tree_size > first.tree_size
    entries = await public.transparency.entries(0, head.tree_size)
    assert_fully_modelled(entries)
    assert [e.leaf_index for e in entries.items] == list(range(head.tree_size))
    root = base64.b64decode(head.root_hash)
    for e in entries.items:
        leaf = hashlib.sha256(b"\x00" + e.entry.encode()).digest()
        assert base64.b64decode(e.leaf_hash) == leaf
        proof = await public.transparency.inclusion_proof(e.leaf_index, head.tree_size)
        assert_fully_modelled(proof)
        path = [base64.b64decode(h) for h in proof.audit_path]
        assert inclusion_ok(e.leaf_index, head.tree_size, leaf, path, root)
    consistency = await public.transparency.consistency_proof(first.tree_size, head.tree_size)
    assert_fully_modelled(consistency)
    assert consistency_ok(
        first.tree_size,
        head.tree_size,
        [base64.b64decode(h) for h in consistency.proof],
        base64.b64decode(first.root_hash),
        root,
    )
    mine = await collect(sdk(citizen.token).me.transparency())
    assert {e.kind for e in mine} == {"consent.granted", "data.accessed"}
    with pytest.raises(govstore.BadRequestError):
        await public.transparency.inclusion_proof(head.tree_size, head.tree_size)
    with pytest.raises(govstore.AuthenticationError):
        await collect(public.me.transparency())

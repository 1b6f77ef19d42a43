"""Sequencing under concurrency, proofs at every size against an independent verifier, tampering, rotation."""

from __future__ import annotations

import argparse
import asyncio
import base64
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from testkit import AppFactory, client_for

from marketplace.events import record_event
from marketplace.settings import Settings
from tests.transparency.rfc6962 import consistency_ok, inclusion_ok, mth
from transparency.verify import verify_log


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def write_events(platform: Any, writer: int, count: int) -> None:
    """`count` transactions, each recording one loggable audit event (a kitemark suspension)."""
    for n in range(count):
        async with platform.db.transaction() as session:
            record_event(
                session,
                "kitemark:grant:suspended",
                subject_type="kitemark",
                subject_id=f"km_w{writer}_{n}",
                actor_id=None,
                body={"service_id": f"svc_{writer}", "from": "active", "to": "suspended"},
            )


async def heads_and_entries(client: httpx.AsyncClient) -> tuple[dict[str, Any], list[bytes]]:
    head = (await client.get("/v1/transparency/tree-head")).json()
    entries: list[bytes] = []
    for start in range(0, head["tree_size"], 1000):
        r = await client.get(
            "/v1/transparency/entries",
            params={"start": start, "end": min(head["tree_size"], start + 1000)},
        )
        entries += [e["entry"].encode() for e in r.json()["items"]]
    return head, entries


async def test_concurrent_writers_and_sequencers_give_contiguous_indices(
    settings: Settings,
) -> None:
    """Three platforms (as three app processes would) write and sequence at once."""
    from kitemarks.assembly import start_kitemarks
    from marketplace.worker import build_platform

    platforms = []
    for _ in range(3):
        platform = build_platform(settings.model_copy(update={"transparency_batch_size": 7}))
        await start_kitemarks(platform)
        platforms.append(platform)
    try:
        writers = [
            write_events(platform, 10 * p + w, 15)
            for p, platform in enumerate(platforms)
            for w in range(3)
        ]
        sequencers = platforms_sequencing(platforms)
        await asyncio.gather(*writers)
        stop.set()
        await sequencers
        for platform in platforms:
            await platform.services["transparency"].run_until_idle()
        db = platforms[0].db
        rows = await db.raw.fetchall(
            "SELECT leaf_index, entry FROM transparency_entries ORDER BY leaf_index", ()
        )
        assert [r[0] for r in rows] == list(range(3 * 3 * 15))
        subjects = [r[1] for r in rows]
        for p in range(3):
            for w in range(3):
                for n in range(15):
                    marker = f'"kitemark_id":"km_w{10 * p + w}_{n}"'
                    assert sum(marker in s for s in subjects) == 1, marker
        assert await db.raw.fetchall("SELECT id FROM transparency_pending", ()) == []
        report = await verify_log(db)
        assert report.ok, report.problems
        assert report.entries == 135 and report.heads > 135 // 7
    finally:
        for platform in platforms:
            await platform.close()


stop = asyncio.Event()


def platforms_sequencing(platforms: list[Any]) -> asyncio.Future[Any]:
    stop.clear()

    async def keep_sequencing(platform: Any) -> None:
        while not stop.is_set():
            await platform.services["transparency"].run_once()
            await asyncio.sleep(0)

    return asyncio.gather(*(keep_sequencing(p) for p in platforms))


async def test_proofs_at_every_size_verify_independently(make_app: AppFactory) -> None:
    app = await make_app(transparency_batch_size=3, transparency_interval_seconds=300)
    platform = app.state.platform
    sequencer = platform.services["transparency"]
    sizes = [0]
    for n in range(1, 38):
        async with platform.db.raw_transaction() as tx:
            await tx.executemany(
                "INSERT INTO transparency_pending (kind, time, body) VALUES (?, ?, ?)",
                [("scope.granted", "2026-12-01T00:00:00.000Z", f'{{"n":{n}}}')],
            )
        await sequencer.run_once()
        sizes.append(n)
    async with client_for(app) as client:
        head, entries = await heads_and_entries(client)
        assert head["tree_size"] == 37 and b64(head["root_hash"]) == mth(entries)
        heads = await platform.db.raw.fetchall(
            "SELECT tree_size, root_hash FROM transparency_heads ORDER BY id", ()
        )
        roots = {int(r[0]): bytes(r[1]) for r in heads}
        assert set(sizes[1:]) <= set(roots)
        for size in range(1, 38):
            assert roots[size] == mth(entries[:size])
            for index in range(size):
                r = await client.get(
                    "/v1/transparency/proofs/inclusion",
                    params={"leaf_index": index, "tree_size": size},
                )
                path = [b64(h) for h in r.json()["audit_path"]]
                leaf = mth(entries[index : index + 1])
                assert inclusion_ok(index, size, leaf, path, roots[size]), (index, size)
                assert not inclusion_ok(
                    index, size, leaf, path, roots[size - 1] if size > 1 else b""
                )
            for first in range(1, size + 1):
                r = await client.get(
                    "/v1/transparency/proofs/consistency", params={"first": first, "second": size}
                )
                proof = [b64(h) for h in r.json()["proof"]]
                assert consistency_ok(first, size, proof, roots[first], roots[size]), (first, size)
                if first < size:
                    assert not consistency_ok(first, size, proof, roots[size], roots[size])


@pytest.mark.parametrize("what", ["entry", "entry and leaf hash"])
async def test_tampering_fails_verification_at_the_first_bad_index(
    make_app: AppFactory, settings: Settings, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = await make_app(transparency_batch_size=4)
    platform = app.state.platform
    await write_events(platform, 1, 11)
    await platform.services["transparency"].run_until_idle()
    assert (await verify_log(platform.db)).ok
    from marketplace.cli import cmd_verify_log

    assert await asyncio.to_thread(cmd_verify_log, settings, argparse.Namespace()) == 0
    assert "transparency log OK: 11 entries" in capsys.readouterr().out
    async with platform.db.transaction() as session:
        row = (
            await session.exec(
                sa.text("SELECT entry FROM transparency_entries WHERE leaf_index = 6")
            )
        ).one()
        forged = row[0].replace("km_w1_", "km_wX_")
        assert forged != row[0]
        update = "UPDATE transparency_entries SET entry = :e WHERE leaf_index = 6"
        params: dict[str, Any] = {"e": forged}
        if what == "entry and leaf hash":
            import hashlib

            update = (
                "UPDATE transparency_entries SET entry = :e, leaf_hash = :h WHERE leaf_index = 6"
            )
            params["h"] = hashlib.sha256(b"\x00" + forged.encode()).digest()
        await session.exec(sa.text(update).bindparams(**params))
    report = await verify_log(platform.db)
    assert not report.ok
    assert report.first_bad_index == 6, report.problems
    # The command says so too, and fails.
    assert await asyncio.to_thread(cmd_verify_log, settings, argparse.Namespace()) == 1
    assert "first bad index 6" in capsys.readouterr().err


async def test_a_rotation_re_signs_the_head_and_keeps_old_heads_verifiable(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    platform = app.state.platform
    sequencer = platform.services["transparency"]
    await write_events(platform, 1, 3)
    await sequencer.run_until_idle()
    before = (await client.get("/v1/transparency/tree-head")).json()
    ring = platform.services["keyring"]
    new_kid = await ring.rotate()
    await sequencer.run_until_idle()
    after = (await client.get("/v1/transparency/tree-head")).json()
    assert after["tree_size"] == before["tree_size"] and after["root_hash"] == before["root_hash"]
    import jwt

    assert jwt.get_unverified_header(after["signature"])["kid"] == new_kid
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kids = {k["kid"] for k in jwks["keys"]}
    # The retired key signed what was the latest head: it stays published for the grace period.
    assert new_kid in kids and jwt.get_unverified_header(before["signature"])["kid"] in kids
    report = await verify_log(platform.db)
    assert report.ok and report.heads >= 2


async def test_rotate_keys_command_keeps_the_head_key_published(
    app: Starlette, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`marketplace rotate-keys` builds no platform: it installs the head-key rule itself."""
    from datetime import UTC, datetime, timedelta

    from kitemarks import keys
    from marketplace.cli import _rotate_keys

    platform = app.state.platform
    await platform.services["transparency"].run_until_idle()
    head = await platform.db.raw.fetchall(
        "SELECT kid FROM transparency_heads ORDER BY id DESC LIMIT 1", ()
    )
    monkeypatch.setattr(keys, "RETENTION_RULES", [])
    new_kid, previous = await _rotate_keys(settings)
    assert previous == head[0][0] != new_kid
    async with platform.db.transaction() as session:
        row = (
            await session.exec(
                sa.text("SELECT publish_until FROM signing_keys WHERE kid = :k").bindparams(
                    k=previous
                )
            )
        ).one()
    until = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    assert until > datetime.now(UTC) + timedelta(minutes=50)


async def test_an_altered_head_fails_verification(make_app: AppFactory) -> None:
    app = await make_app(transparency_batch_size=4)
    platform = app.state.platform
    await write_events(platform, 1, 6)
    await platform.services["transparency"].run_until_idle()
    async with platform.db.transaction() as session:
        await session.exec(
            sa.text(
                "UPDATE transparency_heads SET root_hash = :r"
                " WHERE id = (SELECT MAX(id) FROM transparency_heads)"
            ).bindparams(r=b"\x07" * 32)
        )
    report = await verify_log(platform.db)
    assert not report.ok and report.first_bad_index is None
    assert any("signed payload differs" in p for p in report.problems), report.problems
    assert any("do not hash to its root" in p for p in report.problems), report.problems

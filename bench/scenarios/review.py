"""The review queue: `size` releases waiting for a reviewer (issue #3: at least half of /healthz).

Builds on the foundation scenario's data, then moves every release into `awaiting_review` with
the review bookkeeping automated review would have written (risk score, queue key), and adds a
reviewer who belongs to no organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import HEALTHZ, Target, bearer, insert_rows, password_hash, session_token
from bench.scenarios import foundation
from marketplace.accounts.models import Role
from marketplace.db import utcnow
from marketplace.ids import new_id
from marketplace.releases.lifecycle import ReleaseStatus
from review.automated import RISK_WEIGHT


@dataclass(frozen=True)
class Context:
    reviewer_token: str
    provider_token: str
    service_id: str
    release_id: str
    rows: dict[str, int]


async def load(database_url: str, size: int) -> Context:
    base = await foundation.load(database_url, size)
    engine = create_async_engine(database_url)
    rng = random.Random(3)
    now = utcnow()
    try:
        async with engine.begin() as conn:
            releases = sa.table("releases", sa.column("id"), sa.column("status"))
            await conn.execute(
                sa.update(releases).values(status=ReleaseStatus.AWAITING_REVIEW.value)
            )
            ids = [row[0] for row in (await conn.execute(sa.select(releases.c.id))).all()]
            states = []
            for release_id in ids:
                queued = now - timedelta(minutes=rng.randint(1, 60 * 24 * 7))
                risk = rng.randint(0, 12)
                states.append(
                    {
                        "release_id": release_id,
                        "risk_score": risk,
                        "risk_factors": [f"bench risk {risk}"],
                        "automated_at": queued,
                        "queued": True,
                        "queued_at": queued,
                        "queue_key": queued - RISK_WEIGHT * risk,
                        "claimed_by": None,
                        "lease_expires_at": None,
                        "excluded_reviewers": [],
                        "appealed": False,
                    }
                )
            await insert_rows(conn, "review_states", states)
            reviewer_id = new_id("acc")
            await insert_rows(
                conn,
                "accounts",
                [
                    {
                        "id": reviewer_id,
                        "email": "bench-reviewer@govstore.example",
                        "password_hash": password_hash("bench-reviewer-2026"),
                        "display_name": "Bench Reviewer",
                        "roles": [Role.REVIEWER.value],
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            token, row = session_token(reviewer_id, now=now)
            await insert_rows(conn, "access_tokens", [row])
    finally:
        await engine.dispose()
    return Context(
        reviewer_token=token,
        provider_token=base.token,
        service_id=base.service_id,
        release_id=base.release_id,
        rows={**base.rows, "review_states": len(ids)},
    )


def targets(ctx: Context) -> list[Target]:
    return [
        HEALTHZ,
        Target("GET /v1/review/queue", "GET", "/v1/review/queue", bearer(ctx.reviewer_token), None),
        Target(
            "GET /v1/review/queue?limit=100",
            "GET",
            "/v1/review/queue?limit=100",
            bearer(ctx.reviewer_token),
            None,
        ),
        Target(
            "GET release (provider, with queue position)",
            "GET",
            f"/v1/services/{ctx.service_id}/releases/{ctx.release_id}",
            bearer(ctx.provider_token),
            None,
        ),
    ]

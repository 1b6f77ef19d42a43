"""The citizen's access log (issue #5: the first page for a citizen with 100,000 access events
at least 40% of /healthz).

The oauth scenario's data at `size` (services, citizens with consents, a data API), then
`EVENTS` access events for one of those citizens, spread over a year and over the consent's
scopes as introspections record them, and a session token for that citizen. Targets: the first
page (20 lines), a page deep in the log (a cursor 50,000 lines in), and the first page filtered
by service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import HEALTHZ, Target, insert_rows, session_token, table
from bench.scenarios import oauth
from marketplace.db import utcnow
from marketplace.pagination import encode_cursor

EVENTS = 100_000
DEEP = 50_000


@dataclass(frozen=True)
class Context:
    token: str
    service: str
    deep_cursor: str
    rows: dict[str, int]


async def load(database_url: str, size: int) -> Context:
    base = await oauth.load(database_url, size)
    now = utcnow()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            consents, apis = table("consents"), table("data_apis")
            consent = (await conn.execute(sa.select(consents).limit(1))).mappings().one()
            api_id = (await conn.execute(sa.select(apis.c.id).limit(1))).scalar_one()
            token, token_row = session_token(consent["account_id"], now=now)
            uses = consent["uses"]
            scopes = [u["scope"] for u in (json.loads(uses) if isinstance(uses, str) else uses)]
            events: list[dict[str, Any]] = []
            for n in range(EVENTS):
                at = now - timedelta(seconds=(EVENTS - n) * 300)
                events.append(
                    {
                        "account_id": consent["account_id"],
                        "consent_id": consent["id"],
                        "service_id": consent["service_id"],
                        "token_id": "tok_bench",
                        "scope": scopes[n % len(scopes)],
                        "tier": "status",
                        "purpose": "eligibility",
                        "data_api_id": api_id,
                        "case_reference": f"CASE-{n}",
                        "created_at": at,
                    }
                )
            written = {
                "access_tokens": await insert_rows(conn, "access_tokens", [token_row]),
                "access_events": await insert_rows(conn, "access_events", events),
            }
            # The cursor a client holds after reading DEEP lines, newest first.
            deep = events[EVENTS - DEEP]
            access = table("access_events")
            deep_id = (
                await conn.execute(
                    sa.select(access.c.id).where(access.c.case_reference == deep["case_reference"])
                )
            ).scalar_one()
            deep_cursor = encode_cursor(
                [deep["created_at"].isoformat().replace("+00:00", "Z"), deep_id]
            )
    finally:
        await engine.dispose()
    rows = dict(base.rows)
    for name, count in written.items():
        rows[name] = rows.get(name, 0) + count
    return Context(token, consent["service_id"], deep_cursor, rows)


def _check(body: bytes) -> str | None:
    page = json.loads(body)
    if len(page.get("items", [])) != 20 or not page.get("next_cursor"):
        return "not a full page with a next cursor"
    return None


def targets(ctx: Context) -> list[Target]:
    auth = {"Authorization": f"Bearer {ctx.token}"}
    return [
        HEALTHZ,
        Target(
            "GET /v1/me/access-log (first page)",
            "GET",
            "/v1/me/access-log",
            auth,
            None,
            check=_check,
        ),
        Target(
            f"GET /v1/me/access-log (a page {DEEP:,} lines in)",
            "GET",
            f"/v1/me/access-log?cursor={ctx.deep_cursor}",
            auth,
            None,
            check=_check,
        ),
        Target(
            "GET /v1/me/access-log (filtered by service)",
            "GET",
            f"/v1/me/access-log?service={ctx.service}",
            auth,
            None,
            check=_check,
        ),
    ]

"""Catalogue search (issue #5: a ranked search at least 30% of /healthz, a 304 at least 70%).

`size` published services (100,000 by default in the README's runs), loaded straight into the
catalogue's read model the way `catalogue.index` writes it: an entry with its listing card, its
kitemark and scope filter rows, and its full-text index (FTS5 rows on SQLite; `tsvector`
columns and the rank-ordered `catalogue_postings` on PostgreSQL). Names, summaries and descriptions are generated from seeded word lists
in the shapes real ones take ("Ashworth Parking Permit Finder"), so many services share words
and a common word matches thousands of them.

Targets, all with relevance ranking (every query has words):

- a query mix: 400 searches people make (a topic, a place, a topic and a place, some with a
  category or kitemark filter or a second page), cycled, so after the first pass the answers
  come from the per-process cache keyed by catalogue version;
- cold searches: 40,000 different queries (place and topic pairs with varying page sizes), so
  every request misses the cache and runs the ranked statements;
- revalidation: the mix again with each query's current ETag in `If-None-Match` (304s).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.common import HEALTHZ, Target, insert_rows
from catalogue.search import etag_for, posting_term, rank_key
from marketplace.db import utcnow

SEED = 2026
SERVICES_PER_ORGANISATION = 100
CATEGORIES = ["health", "education", "tax", "benefits", "employment", "housing", "transport"]
TOPICS = [
    ("Council Tax", "tax"),
    ("Parking Permit", "transport"),
    ("Bus Pass", "transport"),
    ("Blue Badge", "transport"),
    ("School Meals", "education"),
    ("School Admissions", "education"),
    ("Childcare", "education"),
    ("Housing Benefit", "benefits"),
    ("Warm Home", "benefits"),
    ("Pension Credit", "benefits"),
    ("Carers Allowance", "benefits"),
    ("Job Search", "employment"),
    ("Apprenticeship", "employment"),
    ("Skills", "employment"),
    ("Tenancy Deposit", "housing"),
    ("Housing Register", "housing"),
    ("Repairs", "housing"),
    ("Prescription", "health"),
    ("GP Appointment", "health"),
    ("Dental", "health"),
    ("Mental Health", "health"),
    ("Self Assessment", "tax"),
    ("Business Rates", "tax"),
    ("Waste Collection", "housing"),
]
KINDS = ["Checker", "Finder", "Booking", "Renewal", "Calculator", "Helper", "Tracker", "Service"]
SYLLABLES = [
    "ash",
    "brad",
    "chel",
    "dun",
    "elm",
    "fen",
    "glen",
    "hay",
    "ire",
    "kel",
    "lang",
    "mar",
    "nor",
    "oak",
    "pen",
    "quin",
    "ros",
    "stan",
    "thorn",
    "wick",
    "york",
    "bel",
]
ENDINGS = ["ford", "ton", "by", "ham", "well", "field", "worth", "bury", "mouth", "stead"]
KITEMARKS = ["privacy-assured", "accessible", "secure-by-design"]
SCOPES = ["income.verify", "benefits.status", "address.verify", "age.verify"]


def places() -> list[str]:
    rng = random.Random(SEED)
    found = sorted({(a + b).title() for a in SYLLABLES for b in ENDINGS})
    rng.shuffle(found)
    return found


@dataclass(frozen=True)
class Service:
    doc_id: int
    service_id: str
    organisation_id: str
    slug: str
    name: str
    summary: str
    description: str
    provider: str
    category: str
    kitemarks: list[str]
    scopes: list[str]
    rating_count: int
    rating_mean: float


def services(size: int) -> Iterator[Service]:
    """The generated catalogue, deterministic for a size."""
    rng = random.Random(SEED)
    towns = places()
    for n in range(1, size + 1):
        town = towns[n % len(towns)]
        topic, category = TOPICS[rng.randrange(len(TOPICS))]
        kind = KINDS[rng.randrange(len(KINDS))]
        org = (n - 1) // SERVICES_PER_ORGANISATION + 1
        count = rng.choice([0, 0, 1, 3, 12, 40])
        yield Service(
            doc_id=n,
            service_id=f"svc_bench{n:08d}",
            organisation_id=f"org_bench{org:06d}",
            slug=f"{town}-{topic}-{kind}-{n}".lower().replace(" ", "-"),
            name=f"{town} {topic} {kind}"[:80],
            summary=f"{kind} for {topic.lower()} in {town}, online in a few minutes",
            description=(
                f"Use this service to sort out your {topic.lower()} with {town} "
                f"without phoning or queueing. It explains what you need, checks it with the "
                f"right department and tells you what happens next."
            ),
            provider=f"{towns[org % len(towns)]} Digital Ltd",
            category=category if rng.random() < 0.9 else rng.choice(CATEGORIES),
            kitemarks=[k for k in KITEMARKS if rng.random() < 0.3],
            scopes=[s for s in SCOPES if rng.random() < 0.25],
            rating_count=count,
            rating_mean=round(rng.uniform(2.5, 5.0), 2) if count else 0.0,
        )


def card(s: Service, listed: datetime, expires: datetime) -> str:
    """The listing card as `catalogue.index` renders it."""
    return json.dumps(
        {
            "id": s.service_id,
            "slug": s.slug,
            "name": s.name,
            "summary": s.summary,
            "category": s.category,
            "provider": {"id": s.organisation_id, "name": s.provider},
            "kitemarks": [
                {"scheme": k, "title": k, "expires_at": expires.isoformat().replace("+00:00", "Z")}
                for k in s.kitemarks
            ],
            "scopes": s.scopes,
            "rating": {"count": s.rating_count, "mean": s.rating_mean if s.rating_count else None},
            "under_review": False,
            "listed_at": listed.isoformat().replace("+00:00", "Z"),
            "url": f"/v1/catalogue/services/{s.slug}",
        },
        separators=(",", ":"),
    )


BATCH = 5_000


async def _load_batch(conn: AsyncConnection, batch: list[Service], now: datetime) -> None:
    expires = now + timedelta(days=365)
    sqlite = conn.dialect.name == "sqlite"
    orgs = sorted({s.organisation_id for s in batch})
    await conn.execute(
        sa.text(
            "INSERT INTO organisations (id, name, contact_email, created_at) "
            "VALUES (:id, :name, :email, :at) ON CONFLICT (id) DO NOTHING"
        ),
        [{"id": o, "name": f"Bench {o}", "email": "bench@example.org", "at": now} for o in orgs],
    )
    await conn.execute(
        sa.text(
            "INSERT INTO services (id, organisation_id, slug, name, created_at) "
            "VALUES (:id, :org, :slug, :name, :at)"
        ),
        [
            {
                "id": s.service_id,
                "org": s.organisation_id,
                "slug": s.slug,
                "name": s.name,
                "at": now,
            }
            for s in batch
        ],
    )
    await insert_rows(
        conn,
        "catalogue_entries",
        [
            {
                "doc_id": s.doc_id,
                "rank_key": rank_key(s.rating_mean, s.doc_id),
                "service_id": s.service_id,
                "slug": s.slug,
                "release_id": f"rel_bench{s.doc_id:08d}",
                "organisation_id": s.organisation_id,
                "name": s.name,
                "name_key": s.name.casefold(),
                "category": s.category,
                "under_review": False,
                "rating_count": s.rating_count,
                "rating_mean": s.rating_mean,
                "listed_at": now,
                "updated_at": now,
                "card": card(s, now, expires),
            }
            for s in batch
        ],
    )
    kitemarks = [
        {"scheme": k, "doc_id": s.doc_id, "expires_at": expires} for s in batch for k in s.kitemarks
    ]
    if kitemarks:
        await insert_rows(conn, "catalogue_kitemarks", kitemarks)
    scopes = [{"scope": x, "doc_id": s.doc_id} for s in batch for x in s.scopes]
    if scopes:
        await insert_rows(conn, "catalogue_scopes", scopes)
    texts = [
        {
            "d": s.doc_id,
            "k": rank_key(s.rating_mean, s.doc_id),
            "n": s.name,
            "s": s.summary,
            "desc": s.description,
            "p": s.provider,
        }
        for s in batch
    ]
    if sqlite:
        await conn.execute(
            sa.text(
                "INSERT INTO catalogue_fts (rowid, name, summary, description, provider) "
                "VALUES (:k, :n, :s, :desc, :p)"
            ),
            texts,
        )
        await conn.execute(
            sa.text("INSERT INTO catalogue_fts_names (rowid, name) VALUES (:k, :n)"), texts
        )
    else:
        # The same statement catalogue.index runs per entry.
        await conn.execute(
            sa.text(
                "UPDATE catalogue_entries SET "
                "name_vector = to_tsvector('english', :n), "
                "search_vector = setweight(to_tsvector('english', :n), 'A') "
                "|| setweight(to_tsvector('english', :s), 'B') "
                "|| setweight(to_tsvector('english', :p), 'C') "
                "|| setweight(to_tsvector('english', :desc), 'D') "
                "WHERE doc_id = :d"
            ),
            texts,
        )


async def _fill_postings(conn: AsyncConnection) -> None:
    """The rank-ordered postings of every entry, as `catalogue.index` writes them one by one.

    In one INSERT ... SELECT with the indexes built afterwards (a sorted build, much faster
    than 25 million inserts into a btree at a million services).
    """
    await conn.execute(sa.text("SET LOCAL maintenance_work_mem = '1GB'"))
    await conn.execute(sa.text("DROP INDEX ix_catalogue_postings_names"))
    await conn.execute(
        sa.text("ALTER TABLE catalogue_postings DROP CONSTRAINT pk_catalogue_postings")
    )
    await conn.execute(
        sa.text(
            "INSERT INTO catalogue_postings (term, rank_key, in_name) "
            f"SELECT {posting_term('l.lexeme')}, e.rank_key, "
            "l.lexeme = ANY (tsvector_to_array(e.name_vector)) "
            "FROM catalogue_entries e "
            "CROSS JOIN LATERAL unnest(tsvector_to_array(e.search_vector)) AS l(lexeme)"
        )
    )
    await conn.execute(
        sa.text(
            "ALTER TABLE catalogue_postings ADD CONSTRAINT pk_catalogue_postings "
            "PRIMARY KEY (term, rank_key) INCLUDE (in_name)"
        )
    )
    await conn.execute(
        sa.text(
            "CREATE INDEX ix_catalogue_postings_names ON catalogue_postings (term, rank_key) "
            "WHERE in_name"
        )
    )


async def _vacuum(database_url: str) -> None:
    """VACUUM ANALYZE outside a transaction: the statistics, and the visibility map that lets
    the postings be read from their indexes alone (as autovacuum keeps it on a live server)."""
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


async def load_catalogue(database_url: str, size: int) -> int:
    """Write `size` listings; returns the catalogue version the server will answer under."""
    now = utcnow()
    engine = create_async_engine(database_url)
    try:
        batch: list[Service] = []
        for s in services(size):
            batch.append(s)
            if len(batch) == BATCH:
                async with engine.begin() as conn:
                    await _load_batch(conn, batch, now)
                batch = []
        async with engine.begin() as conn:
            if batch:
                await _load_batch(conn, batch, now)
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('catalogue_entries', 'doc_id'), "
                        "(SELECT MAX(doc_id) FROM catalogue_entries))"
                    )
                )
                await _fill_postings(conn)
            else:
                await conn.execute(sa.text("ANALYZE"))
            await conn.execute(
                sa.text(
                    "INSERT INTO catalogue_version (id, value) VALUES (1, 1) "
                    "ON CONFLICT (id) DO UPDATE SET value = 1"
                )
            )
    finally:
        await engine.dispose()
    if database_url.startswith("postgresql"):
        await _vacuum(database_url)
    return 1


def query_mix(count: int = 400) -> list[str]:
    """Query strings people send: topics, places, both, some filtered, a few second pages."""
    rng = random.Random(SEED + 1)
    towns = places()
    out: list[str] = []
    while len(out) < count:
        topic = rng.choice(TOPICS)[0]
        town = rng.choice(towns[:60])
        shape = rng.random()
        params: dict[str, Any]
        if shape < 0.3:
            params = {"q": topic.lower()}
        elif shape < 0.5:
            params = {"q": town}
        elif shape < 0.75:
            params = {"q": f"{town} {topic.split()[0].lower()}"}
        elif shape < 0.85:
            params = {"q": topic.lower(), "category": rng.choice(CATEGORIES)}
        else:
            params = {"q": topic.split()[0].lower(), "kitemark": rng.choice(KITEMARKS)}
        query = urlencode(params)
        if query not in out:
            out.append(query)
    return out


def cold_queries(count: int = 40_000) -> list[str]:
    """As many different ranked queries, so that no answer is ever in the cache."""
    towns = places()
    out = []
    limits = range(10, 31)
    for n in range(count):
        town = towns[n % len(towns)]
        topic = TOPICS[(n // len(towns)) % len(TOPICS)][0].split()[0].lower()
        limit = limits[(n // (len(towns) * len(TOPICS))) % len(limits)]
        out.append(urlencode({"q": f"{town} {topic}", "limit": limit}))
    return out


@dataclass(frozen=True)
class Context:
    version: int
    rows: dict[str, int]


async def load(database_url: str, size: int) -> Context:
    version = await load_catalogue(database_url, size)
    return Context(version, {"catalogue_entries": size})


def _check(body: bytes) -> str | None:
    page = json.loads(body)
    if not page.get("items"):
        return "no results"
    return None


def targets(ctx: Context) -> list[Target]:
    mix = query_mix()
    cold = cold_queries()
    path = "/v1/catalogue/services?"
    return [
        HEALTHZ,
        Target(
            "GET /v1/catalogue/services (400-query mix)",
            "GET",
            path + mix[0],
            {},
            None,
            check=_check,
            paths=[path + q for q in mix],
        ),
        Target(
            "GET /v1/catalogue/services (cold: every query new)",
            "GET",
            path + cold[0],
            {},
            None,
            paths=[path + q for q in cold],
        ),
        Target(
            "GET /v1/catalogue/services (304 revalidation)",
            "GET",
            path + mix[0],
            {},
            None,
            paths=[f"{path}{q}\t{etag_for(ctx.version, q)}" for q in mix],
        ),
    ]

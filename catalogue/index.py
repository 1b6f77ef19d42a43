"""Keeps the catalogue's read model in step with what it is built from, in the same transaction.

Every state change records an audit event in its transaction (STYLE.md). When the events about
to commit touch what a listing shows (a release's status, a kitemark or scope grant, a rating),
the listener below rebuilds those services' entries, their filter rows and their full-text
index before the commit, and moves the catalogue version on: a suspended or withdrawn service
is gone from search the moment its change commits, in every process. Consent and complaint
events move the public per-service counters.

The full-text index is written here and only here, for both engines: FTS5 tables on SQLite,
`tsvector` columns (with a GIN index) and the rank-ordered `catalogue_postings` on PostgreSQL
(one row per lexeme and listing, keyed by the listing's rank key: a change of rating moves the
key, so the postings are deleted under the old key and written again; a delisted service's go
with its entry).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from catalogue.search import posting_term, rank_key
from catalogue.version import NOTIFY, announce_locally
from marketplace.db import utcnow
from marketplace.releases.lifecycle import SERVING, ReleaseStatus

# Audit tags (by prefix) that change what a listing shows.
REINDEXING = (
    "release:status:changed",
    "kitemark:grant:",
    "scope:grant:",
    "catalogue:rating:",
)
# Audit tags that move a public counter, and which.
COUNTERS = {
    "consent:consent:granted": "opt_ins",
    "consent:consent:revoked": "revocations",
    "consent:consent:expired": "expiries",
    "catalogue:complaint:received": "complaints",
}

BUMP = sa.text(
    "INSERT INTO catalogue_version (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = catalogue_version.value + 1"
)

# The SQLite full-text tables (created by the migration): `catalogue_fts` over every field and
# `catalogue_fts_names` over names alone, both with porter stemming over unicode61 ("checker"
# finds "checkers", "café" finds "cafe"); a listing's row id in both is its rank key.


def _in_flight_values() -> tuple[str, ...]:
    return tuple(s.value for s in SERVING if s is not ReleaseStatus.PUBLISHED)


def _listed_release(session: Session, service_id: str, current: str | None) -> Any:
    """The release a listing shows: the published one, or the listed one while it is re-reviewed."""
    rows = session.execute(
        sa.text(
            "SELECT id, status, manifest, number FROM releases WHERE service_id = :s "
            "AND status IN :statuses ORDER BY number DESC"
        ).bindparams(sa.bindparam("statuses", expanding=True)),
        {"s": service_id, "statuses": [s.value for s in SERVING]},
    ).all()
    for row in rows:
        if row.status == ReleaseStatus.PUBLISHED.value:
            return row
    for row in rows:
        if row.id == current and row.status in _in_flight_values():
            return row
    return None


def _manifest(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _aware(value: Any) -> datetime:
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def refresh_service(session: Session, service_id: str, now: datetime) -> None:
    """Rebuild one service's entry, filter rows and full-text index (or remove them)."""
    dialect = session.get_bind().dialect.name
    entry = session.execute(
        sa.text(
            "SELECT doc_id, release_id, listed_at, rank_key FROM catalogue_entries "
            "WHERE service_id = :s"
        ),
        {"s": service_id},
    ).first()
    release = _listed_release(session, service_id, entry.release_id if entry else None)
    if release is None:
        if entry is not None:
            _drop(session, dialect, entry.doc_id, entry.rank_key)
        return
    service = session.execute(
        sa.text(
            "SELECT s.slug, s.organisation_id, o.name AS provider FROM services s "
            "JOIN organisations o ON o.id = s.organisation_id WHERE s.id = :s"
        ),
        {"s": service_id},
    ).one()
    manifest = _manifest(release.manifest)
    kitemarks = session.execute(
        sa.text(
            "SELECT g.scheme, g.expires_at, k.title FROM kitemark_grants g "
            "LEFT JOIN kitemark_schemes k ON k.slug = g.scheme "
            "WHERE g.service_id = :s AND g.status = 'active' AND g.expires_at > :now "
            "ORDER BY g.scheme"
        ),
        {"s": service_id, "now": now.replace(tzinfo=None) if dialect == "sqlite" else now},
    ).all()
    scopes = [
        r.scope
        for r in session.execute(
            sa.text(
                "SELECT DISTINCT scope FROM scope_grants WHERE service_id = :s "
                "AND status = 'active' ORDER BY scope"
            ),
            {"s": service_id},
        ).all()
    ]
    count, mean = session.execute(
        sa.text("SELECT COUNT(*), AVG(stars) FROM ratings WHERE service_id = :s"),
        {"s": service_id},
    ).one()
    rating_mean = round(float(mean), 2) if count else 0.0
    under_review = release.status != ReleaseStatus.PUBLISHED.value
    listed_at = _aware(entry.listed_at) if entry is not None else now
    name = str(manifest.get("name", ""))
    card = {
        "id": service_id,
        "slug": service.slug,
        "name": name,
        "summary": manifest.get("summary", ""),
        "category": manifest.get("category", "other"),
        "provider": {"id": service.organisation_id, "name": service.provider},
        "kitemarks": [
            {
                "scheme": k.scheme,
                "title": k.title or k.scheme,
                "expires_at": _iso(_aware(k.expires_at)),
            }
            for k in kitemarks
        ],
        "scopes": scopes,
        "rating": {"count": int(count), "mean": rating_mean if count else None},
        "under_review": under_review,
        "listed_at": _iso(listed_at),
        "url": f"/v1/catalogue/services/{service.slug}",
    }
    values = {
        "service_id": service_id,
        "slug": service.slug,
        "release_id": release.id,
        "organisation_id": service.organisation_id,
        "name": name,
        "name_key": name.casefold()[:80],
        "category": card["category"],
        "under_review": under_review,
        "rating_count": int(count),
        "rating_mean": rating_mean,
        "listed_at": listed_at.replace(tzinfo=None) if dialect == "sqlite" else listed_at,
        "updated_at": now.replace(tzinfo=None) if dialect == "sqlite" else now,
        "card": json.dumps(card, separators=(",", ":"), ensure_ascii=False),
    }
    columns = ", ".join(values)
    if entry is None:
        # The rank key needs the doc_id: a provisional (negative, unique) key until it is known.
        doc_id = session.execute(
            sa.text(
                f"INSERT INTO catalogue_entries ({columns}, rank_key) "  # noqa: S608
                f"VALUES ({', '.join(':' + k for k in values)}, :provisional) RETURNING doc_id"
            ),
            {**values, "provisional": -secrets.randbelow(2**62) - 1},
        ).scalar_one()
        old_key = None
    else:
        doc_id, old_key = entry.doc_id, entry.rank_key
        assignments = ", ".join(f"{k} = :{k}" for k in values if k != "service_id")
        session.execute(
            sa.text(f"UPDATE catalogue_entries SET {assignments} WHERE doc_id = :doc_id"),  # noqa: S608
            {**values, "doc_id": doc_id},
        )
        session.execute(sa.text("DELETE FROM catalogue_kitemarks WHERE doc_id = :d"), {"d": doc_id})
        session.execute(sa.text("DELETE FROM catalogue_scopes WHERE doc_id = :d"), {"d": doc_id})
    key = rank_key(rating_mean, doc_id)
    session.execute(
        sa.text("UPDATE catalogue_entries SET rank_key = :k WHERE doc_id = :d"),
        {"k": key, "d": doc_id},
    )
    for k in kitemarks:
        session.execute(
            sa.text(
                "INSERT INTO catalogue_kitemarks (scheme, doc_id, expires_at) VALUES (:k, :d, :e)"
            ),
            {"k": k.scheme, "d": doc_id, "e": k.expires_at},
        )
    for scope in scopes:
        session.execute(
            sa.text("INSERT INTO catalogue_scopes (scope, doc_id) VALUES (:s, :d)"),
            {"s": scope, "d": doc_id},
        )
    _write_text(
        session,
        dialect,
        doc_id,
        key,
        old_key,
        name=name,
        summary=str(manifest.get("summary", "")),
        description=str(manifest.get("description", "")),
        provider=str(service.provider),
    )


def _write_text(
    session: Session,
    dialect: str,
    doc_id: int,
    key: int,
    old_key: int | None,
    *,
    name: str,
    summary: str,
    description: str,
    provider: str,
) -> None:
    """The full-text index of one entry: name, summary, description and provider.

    On SQLite the FTS5 row's id is the entry's rank key (so matches come out in rank order).
    """
    if dialect == "sqlite":
        if old_key is not None:
            _drop_text(session, old_key)
        session.execute(
            sa.text(
                "INSERT INTO catalogue_fts (rowid, name, summary, description, provider) "
                "VALUES (:k, :n, :s, :desc, :p)"
            ),
            {"k": key, "n": name, "s": summary, "desc": description, "p": provider},
        )
        session.execute(
            sa.text("INSERT INTO catalogue_fts_names (rowid, name) VALUES (:k, :n)"),
            {"k": key, "n": name},
        )
        return
    if old_key is not None:
        _drop_postings(session, doc_id, old_key)
    session.execute(
        sa.text(
            "UPDATE catalogue_entries SET "
            "name_vector = to_tsvector('english', :n), "
            "search_vector = setweight(to_tsvector('english', :n), 'A') "
            "|| setweight(to_tsvector('english', :s), 'B') "
            "|| setweight(to_tsvector('english', :p), 'C') "
            "|| setweight(to_tsvector('english', :desc), 'D') "
            "WHERE doc_id = :d"
        ),
        {"d": doc_id, "n": name, "s": summary, "desc": description, "p": provider},
    )
    session.execute(INSERT_POSTINGS, {"d": doc_id, "k": key})


# The rank-ordered postings of one entry (PostgreSQL), from the vectors just written: one row
# per lexeme of `search_vector`, `in_name` when `name_vector` holds it too (catalogue.search).
INSERT_POSTINGS = sa.text(
    "INSERT INTO catalogue_postings (term, rank_key, in_name) "  # noqa: S608
    f"SELECT {posting_term('l.lexeme')}, :k, "
    "l.lexeme = ANY (tsvector_to_array(e.name_vector)) "
    "FROM catalogue_entries e "
    "CROSS JOIN LATERAL unnest(tsvector_to_array(e.search_vector)) AS l(lexeme) "
    "WHERE e.doc_id = :d"
)
# Found by the terms of the entry's current `search_vector` and its old rank key: the primary
# key (term, rank_key) answers it, with no index on rank_key alone to keep.
DELETE_POSTINGS = sa.text(
    "DELETE FROM catalogue_postings WHERE rank_key = :k AND term = ANY (ARRAY("  # noqa: S608
    f"SELECT {posting_term('l.lexeme')} FROM catalogue_entries e "
    "CROSS JOIN LATERAL unnest(tsvector_to_array(e.search_vector)) AS l(lexeme) "
    "WHERE e.doc_id = :d))"
)


def _drop_postings(session: Session, doc_id: int, key: int) -> None:
    """Remove an entry's postings (PostgreSQL), before its vectors or rank key change."""
    session.execute(DELETE_POSTINGS, {"d": doc_id, "k": key})


def _drop_text(session: Session, key: int) -> None:
    session.execute(sa.text("DELETE FROM catalogue_fts WHERE rowid = :k"), {"k": key})
    session.execute(sa.text("DELETE FROM catalogue_fts_names WHERE rowid = :k"), {"k": key})


def _drop(session: Session, dialect: str, doc_id: int, key: int) -> None:
    if dialect == "sqlite":
        _drop_text(session, key)
    else:
        _drop_postings(session, doc_id, key)
    session.execute(sa.text("DELETE FROM catalogue_kitemarks WHERE doc_id = :d"), {"d": doc_id})
    session.execute(sa.text("DELETE FROM catalogue_scopes WHERE doc_id = :d"), {"d": doc_id})
    session.execute(sa.text("DELETE FROM catalogue_entries WHERE doc_id = :d"), {"d": doc_id})


def _count(session: Session, service_id: str, column: str) -> None:
    session.execute(
        sa.text(
            "INSERT INTO service_figures (service_id, opt_ins, revocations, expiries, complaints) "
            "VALUES (:s, 0, 0, 0, 0) ON CONFLICT (service_id) DO NOTHING"
        ),
        {"s": service_id},
    )
    session.execute(
        sa.text(f"UPDATE service_figures SET {column} = {column} + 1 WHERE service_id = :s"),  # noqa: S608
        {"s": service_id},
    )


def _before_commit(session: Session) -> None:
    events: list[Any] = session.info.get("events", [])
    # A session may commit more than once before its events are handed on: take each once.
    marker = session.info.get("catalogue_seen")
    start = marker[1] if marker is not None and marker[0] == id(events) else 0
    fresh = events[start:]
    if not fresh:
        return
    session.info["catalogue_seen"] = (id(events), len(events))
    reindex: set[str] = set()
    for e in fresh:
        tag = getattr(e, "tag", "")
        service_id = (getattr(e, "body", None) or {}).get("service_id")
        if not isinstance(service_id, str):
            continue
        if tag.startswith(REINDEXING):
            reindex.add(service_id)
        column = COUNTERS.get(tag)
        if column is not None:
            _count(session, service_id, column)
    if reindex:
        session.flush()
        now = utcnow()
        for service_id in sorted(reindex):
            refresh_service(session, service_id, now)
        _bump(session)


def _bump(session: Session) -> None:
    """A new catalogue version; on PostgreSQL announced to every process when this commits."""
    session.execute(BUMP)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(NOTIFY)
        callbacks = session.info.setdefault("after_commit", [])
        if announce_locally not in callbacks:
            callbacks.append(announce_locally)


def install() -> None:
    """Listen on every ORM session (idempotent). AsyncSession runs this inside its greenlet."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


def rebuild(session: Session) -> int:
    """Build every listing from scratch (first start after the migration); returns how many."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Whatever the postings hold, they are rebuilt from the entries below.
        session.execute(sa.text("DELETE FROM catalogue_postings"))
    for doc_id, key in session.execute(
        sa.text("SELECT doc_id, rank_key FROM catalogue_entries")
    ).all():
        _drop(session, dialect, doc_id, key)
    services = session.execute(
        sa.text(
            "SELECT DISTINCT service_id FROM releases WHERE status = :published ORDER BY service_id"
        ),
        {"published": ReleaseStatus.PUBLISHED.value},
    ).scalars()
    now = utcnow()
    count = 0
    for service_id in list(services):
        refresh_service(session, service_id, now)
        count += 1
    _bump(session)
    return count

"""Catalogue search: the read model through the driver, answers cached by catalogue version.

A search is one statement over `catalogue_entries` (and the full-text index beside it), run
through the driver (`marketplace/rawdb.py`), never the ORM. Answers are kept per process under
the catalogue version, which every change to the read model moves on in its own transaction
(`catalogue.index`); so a request reads the version (one primary-key read), and answers a repeat
from memory, a revalidation with 304, and anything else from the database. A suspended service
drops out at once: its change moves the version, and no older answer is served after that.

Relevance is deliberately simple and stable: services whose name holds a query word first, then
the better rated, then the newer. It does not depend on corpus statistics, so the cursor of a
page stays valid while services are added. Ranking looks at the newest `search_candidates`
matches of a query (default 1,000), which keeps a common word as cheap at a million services as
at ten thousand; the other sorts, and every filter, are exact.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from marketplace import errors
from marketplace.pagination import decode_cursor, encode_cursor
from marketplace.platform import Platform

Sort = Literal["relevance", "rating", "newest", "name"]
CATEGORIES = (
    "health",
    "education",
    "tax",
    "benefits",
    "employment",
    "housing",
    "transport",
    "justice",
    "other",
)
Category = Literal[
    "health",
    "education",
    "tax",
    "benefits",
    "employment",
    "housing",
    "transport",
    "justice",
    "other",
]
_WORD = re.compile(r"\w+")
MAX_TERMS = 8


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(
        default=None,
        max_length=200,
        description="words to look for in name, summary, description and provider (all must match)",
    )
    category: Category | None = Field(default=None, description="only this category")
    kitemark: str | None = Field(
        default=None,
        max_length=60,
        description="only services holding an active kitemark of this scheme",
    )
    scope: str | None = Field(
        default=None, max_length=100, description="only services granted this scope"
    )
    sort: Sort | None = Field(
        default=None,
        description="`relevance` (the default with `q`: name matches first, then rating, then "
        "newest), `rating` (the default without `q`), `newest`, `name`",
    )
    limit: int = Field(default=20, ge=1, le=100, description="items per page (1 to 100)")
    cursor: str | None = Field(
        default=None, max_length=500, description="`next_cursor` from the previous page"
    )


class ProviderRef(BaseModel):
    id: str
    name: str


class KitemarkBadge(BaseModel):
    scheme: str
    title: str
    expires_at: datetime


class RatingSummary(BaseModel):
    count: int
    mean: float | None = Field(description="null until the service has a rating")


class ListingOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str
    slug: str
    name: str
    summary: str
    category: str
    provider: ProviderRef
    kitemarks: list[KitemarkBadge] = Field(description="active kitemarks only")
    scopes: list[str] = Field(description="the scopes the service was granted")
    rating: RatingSummary
    under_review: bool = Field(description="complaints sent the live release back to review")
    listed_at: datetime
    url: str


class SearchPage(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[ListingOut]
    next_cursor: str | None


def terms_of(q: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS (punctuation never reaches SQL)."""
    return _WORD.findall(q.casefold())[:MAX_TERMS]


class _Plan:
    """One search as SQL with `?` placeholders, and how its cursor is made."""

    def __init__(self, sql: str, params: list[Any], arity: int) -> None:
        self.sql = sql
        self.params = params
        self.arity = arity


_ORDER = {
    # sort: (ORDER BY, the cursor's columns, and each column's direction)
    "relevance": ("tier DESC, rating_mean DESC, doc_id DESC", ("tier", "rating_mean", "doc_id")),
    "rating": (
        "rating_mean DESC, rating_count DESC, doc_id DESC",
        ("rating_mean", "rating_count", "doc_id"),
    ),
    "newest": ("doc_id DESC", ("doc_id",)),
    "name": ("name_key ASC, doc_id ASC", ("name_key", "doc_id")),
}


def sort_of(query: SearchQuery) -> str:
    """The sort in force: relevance needs words to be relevant to; without them, rating."""
    has_terms = bool(query.q and terms_of(query.q))
    sort = query.sort or ("relevance" if has_terms else "rating")
    return "rating" if sort == "relevance" and not has_terms else sort


def plan(query: SearchQuery, *, sqlite: bool, candidates: int, now: Any) -> _Plan | None:
    """The statement for a search; None when the query has words but none that can match."""
    terms = terms_of(query.q) if query.q else []
    if query.q is not None and query.q.strip() and not terms:
        return None
    sort = sort_of(query)
    filters: list[str] = []
    params: list[Any] = []
    if query.category is not None:
        filters.append("e.category = ?")
        params.append(query.category)
    if query.kitemark is not None:
        filters.append(
            "EXISTS (SELECT 1 FROM catalogue_kitemarks k WHERE k.doc_id = e.doc_id "
            "AND k.scheme = ? AND k.expires_at > ?)"
        )
        params += [query.kitemark, now]
    if query.scope is not None:
        filters.append(
            "EXISTS (SELECT 1 FROM catalogue_scopes s WHERE s.doc_id = e.doc_id AND s.scope = ?)"
        )
        params.append(query.scope)
    where = "".join(f" AND {f}" for f in filters)
    order, keys = _ORDER[sort]
    columns = "e.doc_id, e.card, e.rating_mean, e.rating_count, e.name_key"
    if terms and sqlite:
        match = " ".join(f'"{t}"' for t in terms)
        if sort == "relevance":
            # The newest `candidates` matches, each with whether its name holds a query word
            # (bm25 weighted on the name column alone is non-zero exactly then).
            inner = (
                f"SELECT {columns}, CASE WHEN bm25(catalogue_fts, 1.0, 0.0, 0.0, 0.0) < 0 "  # noqa: S608
                "THEN 1 ELSE 0 END AS tier FROM catalogue_fts "
                "JOIN catalogue_entries e ON e.doc_id = catalogue_fts.rowid "
                f"WHERE catalogue_fts MATCH ?{where} ORDER BY catalogue_fts.rowid DESC LIMIT ?"
            )
            params = [match, *params, candidates]
        else:
            inner = (
                f"SELECT {columns}, 0 AS tier FROM catalogue_entries e WHERE e.doc_id IN "  # noqa: S608
                f"(SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH ?){where}"
            )
            params = [match, *params]
    elif terms:
        # plainto_tsquery parses the words itself (nothing of the query is tsquery syntax);
        # the name test wants any word, so its ANDs become ORs.
        words = " ".join(terms)
        if sort == "relevance":
            inner = (
                f"SELECT {columns}, CASE WHEN e.name_vector @@ "  # noqa: S608
                "replace(plainto_tsquery('english', ?)::text, '&', '|')::tsquery "
                "THEN 1 ELSE 0 END AS tier FROM catalogue_entries e "
                f"WHERE e.search_vector @@ plainto_tsquery('english', ?){where} "
                "ORDER BY e.doc_id DESC LIMIT ?"
            )
            params = [words, words, *params, candidates]
        else:
            inner = (
                f"SELECT {columns}, 0 AS tier FROM catalogue_entries e "  # noqa: S608
                f"WHERE e.search_vector @@ plainto_tsquery('english', ?){where}"
            )
            params = [words, *params]
    else:
        inner = f"SELECT {columns}, 0 AS tier FROM catalogue_entries e WHERE 1 = 1{where}"  # noqa: S608
    after = ""
    if query.cursor is not None:
        values = decode_cursor(query.cursor, len(keys) + 1)
        if values[0] != sort or not all(
            _KEY_TYPES[k](v) for k, v in zip(keys, values[1:], strict=True)
        ):
            raise _bad_cursor()
        descending = "DESC" in order.split(",")[0]
        # Every sort runs all its columns in one direction, so one row-value comparison does.
        after = (
            f" WHERE ({', '.join(keys)}) {'<' if descending else '>'} "
            f"({', '.join('?' for _ in keys)})"
        )
        params += values[1:]
    sql = (
        f"SELECT doc_id, card, tier, rating_mean, rating_count, name_key FROM ({inner}) hits"  # noqa: S608
        f"{after} ORDER BY {order} LIMIT ?"
    )
    params.append(query.limit + 1)
    return _Plan(sql, params, len(keys))


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62


_KEY_TYPES: dict[str, Callable[[Any], bool]] = {
    "tier": _int,
    "rating_mean": lambda v: _int(v) or (isinstance(v, float) and 0 <= v <= 5),
    "rating_count": _int,
    "doc_id": _int,
    "name_key": lambda v: isinstance(v, str) and len(v) <= 80,
}


def _bad_cursor() -> errors.MalformedRequest:
    return errors.MalformedRequest(
        "invalid cursor",
        [
            errors.FieldError(
                pointer="", detail="is not a cursor this search issued", parameter="cursor"
            )
        ],
    )


def _cursor_of(sort: str, row: tuple[Any, ...]) -> str:
    doc_id, _card, tier, mean, count, name_key = row
    values: dict[str, Any] = {
        "tier": tier,
        "rating_mean": mean,
        "rating_count": count,
        "doc_id": doc_id,
        "name_key": name_key,
    }
    return encode_cursor([sort, *(values[k] for k in _ORDER[sort][1])])


class SearchCache:
    """Answers by (catalogue version, query): dropped wholesale when the version moves on."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.version = -1
        self.max_entries = max_entries
        self._answers: OrderedDict[str, bytes] = OrderedDict()

    def get(self, version: int, key: str) -> bytes | None:
        if version != self.version:
            self.version = version
            self._answers.clear()
            return None
        return self._answers.get(key)

    def put(self, version: int, key: str, body: bytes) -> None:
        if version != self.version:
            return
        self._answers[key] = body
        if len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)


VERSION_SQL = "SELECT COALESCE((SELECT value FROM catalogue_version WHERE id = 1), 0)"


async def catalogue_version(platform: Platform) -> int:
    row = await platform.db.raw.fetchrow(VERSION_SQL, ())
    return int(row[0]) if row is not None else 0


def etag_for(version: int, key: str) -> str:
    return '"c' + str(version) + "-" + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'


def not_modified(header: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against each listed tag, or `*`."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


CACHE_HEADERS = {"cache-control": "no-cache"}


async def search(request: Request, platform: Platform, query: SearchQuery) -> Response:
    cache: SearchCache = platform.services.setdefault("catalogue_search", SearchCache())
    version = await catalogue_version(platform)
    key = request.url.query
    etag = etag_for(version, key)
    headers = {**CACHE_HEADERS, "etag": etag}
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = cache.get(version, key)
    if body is None:
        body = await _run(platform, query)
        cache.put(version, key, body)
    return Response(body, media_type="application/json", headers=headers)


async def _run(platform: Platform, query: SearchQuery) -> bytes:
    raw = platform.db.raw
    now = datetime.now(UTC)
    statement = plan(
        query,
        sqlite=raw.is_sqlite,
        candidates=platform.settings.search_candidates,
        now=now.strftime("%Y-%m-%d %H:%M:%S.%f") if raw.is_sqlite else now,
    )
    if statement is None:
        return b'{"items":[],"next_cursor":null}'
    rows = await raw.fetchall(statement.sql, statement.params)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = '"' + _cursor_of(sort_of(query), rows[-1]) + '"' if more and rows else "null"
    return (
        '{"items":[' + ",".join(r[1] for r in rows) + '],"next_cursor":' + cursor + "}"
    ).encode()

"""Catalogue search: the read model through the driver, answers cached by catalogue version.

A search is one statement over `catalogue_entries` (and the full-text index beside it), run
through the driver (`marketplace/rawdb.py`), never the ORM. Answers are kept per process under
the catalogue version, which every change to the read model moves on in its own transaction
(`catalogue.index`); so a request reads the version (one primary-key read), and answers a repeat
from memory, a revalidation with 304, and anything else from the database. A suspended service
drops out at once: its change moves the version, and no older answer is served after that.

Relevance is deliberately simple and stable: services whose name holds every query word first,
then the better rated, then the newer. It does not depend on corpus statistics, so the cursor of a
page stays valid while services are added. "Better rated, then newer" is one integer per listing
(`rank_key`): a ranked page is the first matches of an index walked in rank order (one walk for
the names that match, then one for the rest), so its cost follows the page size rather than the
number of matches.

- SQLite: the FTS5 tables' row id is the rank key, so FTS5 yields matches in rank order.
- PostgreSQL: its GIN index yields every match at once, to be sorted; so the ranked sorts walk
  `catalogue_postings` (migration 0007), one row per (lexeme, rank_key) with `in_name`, kept by
  `catalogue.index`. The query's lexemes come from `to_tsvector('english')` (the stemming and
  stop words of `plainto_tsquery`); a bounded probe picks the term whose postings are sparsest
  at the top of the ranking (`_driver`); its postings are walked from the cursor with the other
  terms, the listing and the filters checked by primary-key probes (`_walk`). A walk that
  spends its budget on terms that seldom meet hands the rest of the page to the GIN index
  (`_page`). The answers are those of the GIN index, in the same order, with the same cursors.

The `newest` and `name` sorts order every match (FTS5, or the GIN index).
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

from catalogue.version import VersionWatch
from marketplace import errors
from marketplace.pagination import decode_cursor, encode_cursor
from marketplace.platform import Platform
from marketplace.rawdb import RawReader

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
        description="`relevance` (the default with `q`: names holding every word first, then "
        "rating, then newest), `rating` (the default without `q`), `newest`, `name`",
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


def rank_key(rating_mean: float, doc_id: int) -> int:
    """One integer whose ascending order is "better rated first, then newer first".

    It is the row id of the service's full-text row on SQLite and an indexed column on both
    engines, so a ranked search walks the index in rank order and stops after a page: its cost
    follows the page size, not the number of matches. A change of rating moves the key (the
    listing is re-indexed in the same transaction).
    """
    return (500 - round(rating_mean * 100)) * 10**12 + (10**12 - doc_id)


POSTING_TERM_LENGTH = 100


def posting_term(lexeme: str) -> str:
    """SQL for a lexeme as `catalogue_postings` stores it (a long one as '#' and its MD5).

    The parser never puts '#' in a lexeme, so a stored hash cannot be taken for a word.
    """
    return (
        f"CASE WHEN length({lexeme}) > {POSTING_TERM_LENGTH} "
        f"THEN '#' || md5({lexeme}) ELSE {lexeme} END"
    )


def sort_of(query: SearchQuery) -> str:
    """The sort in force: relevance needs words to be relevant to; without them, rating."""
    has_terms = bool(query.q and terms_of(query.q))
    sort = query.sort or ("relevance" if has_terms else "rating")
    return "rating" if sort == "relevance" and not has_terms else sort


# Per sort: the cursor's values after the sort's name, and a check of each.
def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _name(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 80


_CURSORS: dict[str, tuple[Callable[[Any], bool], ...]] = {
    "relevance": (lambda v: v in (0, 1) and _int(v), _int),  # tier, rank_key
    "rating": (_int,),  # rank_key
    "newest": (_int,),  # doc_id
    "name": (_name, _int),  # name_key, doc_id
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


def _cursor_values(query: SearchQuery, sort: str) -> list[Any] | None:
    if query.cursor is None:
        return None
    checks = _CURSORS[sort]
    values = decode_cursor(query.cursor, len(checks) + 1)
    if values[0] != sort or not all(check(v) for check, v in zip(checks, values[1:], strict=True)):
        raise _bad_cursor()
    return values[1:]


# Postings read per term to choose the one to walk (`Search._driver`).
PROBE = 200
# Postings of the driving term a ranked page walks at most before it asks the GIN index
# (at least PROBE: a term the probe saw to the end is walked to the end).
WALK = 1000
# Query texts whose lexemes are remembered (PostgreSQL), least recently used dropped first.
LEXEME_CACHE = 10_000
_LEXEMES: OrderedDict[str, list[str]] = OrderedDict()

# Each row a search reads: (rank_key, card, doc_id, name_key).
Row = tuple[Any, ...]
COLUMNS = "e.rank_key, e.card, e.doc_id, e.name_key"


class Search:
    """One search as statements with `?` placeholders, for the SQLite or PostgreSQL reader."""

    def __init__(self, query: SearchQuery, *, sqlite: bool, now: Any) -> None:
        self.query = query
        self.sqlite = sqlite
        self.terms = terms_of(query.q) if query.q else []
        self.sort = sort_of(query)
        filters: list[str] = []
        self.filter_params: list[Any] = []
        if query.category is not None:
            filters.append("e.category = ?")
            self.filter_params.append(query.category)
        if query.kitemark is not None:
            filters.append(
                "EXISTS (SELECT 1 FROM catalogue_kitemarks k WHERE k.doc_id = e.doc_id "
                "AND k.scheme = ? AND k.expires_at > ?)"
            )
            self.filter_params += [query.kitemark, now]
        if query.scope is not None:
            filters.append(
                "EXISTS (SELECT 1 FROM catalogue_scopes s WHERE s.doc_id = e.doc_id "
                "AND s.scope = ?)"
            )
            self.filter_params.append(query.scope)
        self.filters = "".join(f" AND {f}" for f in filters)

    @property
    def hopeless(self) -> bool:
        """Words were given, but none that can match (punctuation only)."""
        return bool(self.query.q and self.query.q.strip()) and not self.terms

    def _matching(self, tier: int | None) -> tuple[str, list[Any], str]:
        """FROM and WHERE for the matches (of one relevance tier), and the rank column.

        Tier 1 is the services whose name holds every word; tier 0 the other matches. On SQLite
        tier 1 reads a names-only full-text table, so a word that no name holds costs nothing.
        On PostgreSQL this is the GIN index on the `tsvector` columns, which yields every match
        at once: the exact sorts use it, and a ranked page only past its walk's budget (`_page`).
        """
        if self.sqlite:
            every = " ".join(f'"{t}"' for t in self.terms)
            table, match = "catalogue_fts", every
            if tier == 1:
                table = "catalogue_fts_names"
            elif tier == 0:
                match = f"({every}) NOT (name : ({every}))"
            return (
                f"FROM {table} f JOIN catalogue_entries e ON e.rank_key = f.rowid "
                f"WHERE {table} MATCH ?",
                [match],
                "f.rowid",
            )
        # plainto_tsquery parses the words itself: nothing of the query is tsquery syntax.
        words = " ".join(self.terms)
        if tier == 1:
            return (
                "FROM catalogue_entries e WHERE e.name_vector @@ plainto_tsquery('english', ?)",
                [words],
                "e.rank_key",
            )
        where = "FROM catalogue_entries e WHERE e.search_vector @@ plainto_tsquery('english', ?)"
        params: list[Any] = [words]
        if tier == 0:
            where += " AND NOT (e.name_vector @@ plainto_tsquery('english', ?))"
            params.append(words)
        return where, params, "e.rank_key"

    def _ranked(self, tier: int | None, after: int | None, count: int) -> tuple[str, list[Any]]:
        """A page in rank order: the index is walked from the cursor and stops after `count`."""
        if self.terms:
            source, params, rank = self._matching(tier)
        else:
            source, params, rank = "FROM catalogue_entries e WHERE 1 = 1", [], "e.rank_key"
        params = [*params, *self.filter_params]
        bound = ""
        if after is not None:
            bound = f" AND {rank} > ?"
            params.append(after)
        # The page size is written into the statement: PostgreSQL then keeps one generic plan.
        sql = f"SELECT {COLUMNS} {source}{self.filters}{bound} ORDER BY {rank} LIMIT {int(count)}"
        return sql, params

    @staticmethod
    def _driver(lexemes: list[str], tier: int | None, after: int | None) -> tuple[str, list[Any]]:
        """The term whose postings to walk: the sparsest where the walk goes (PostgreSQL).

        Each term's next PROBE postings from the cursor (in the names for tier 1) are read in
        rank order: a term with fewer than PROBE left is the cheapest walk (fewest first), and
        among terms with at least PROBE, the one whose PROBE-th posting lies furthest down the
        ranking is the sparsest at the top, where the page is found. Bounded: at most PROBE
        index entries per term, whatever the size of the catalogue, and no counters to keep.
        """
        names = " AND p.in_name" if tier == 1 else ""
        bound = " AND p.rank_key > ?" if after is not None else ""
        sql = (
            "SELECT t.term, x.n FROM unnest(?::text[]) AS t(term) CROSS JOIN LATERAL ("  # noqa: S608
            "SELECT count(*) AS n, max(w.rank_key) AS last FROM (SELECT p.rank_key "
            f"FROM catalogue_postings p WHERE p.term = t.term{names}{bound} "
            f"ORDER BY p.rank_key LIMIT {PROBE}) w) x "
            f"ORDER BY x.n < {PROBE} DESC, x.n, x.last DESC, t.term LIMIT 1"
        )
        return sql, [lexemes] if after is None else [lexemes, after]

    def _walk(
        self, lexemes: list[str], driver: str, tier: int | None, after: int | None, count: int
    ) -> tuple[str, list[Any]]:
        """A ranked page on PostgreSQL: the driving term's postings in rank order from the cursor.

        Every posting walked is checked by primary-key probes (the other terms, in the names for
        tier 1; the listing and the filters), each a LATERAL subquery with LIMIT 1 so that the
        planner keeps them as nested-loop probes and stops at the page's LIMIT (joined plainly,
        it merges or hashes all of a common term's postings). Tier 1: every term in the name;
        tier 0: every term somewhere, not all in the name; None: every term somewhere.
        """
        names = " AND p.in_name" if tier == 1 else ""
        bound = " AND p.rank_key > ?" if after is not None else ""
        sql = (
            f"SELECT {COLUMNS} FROM (SELECT p.rank_key, p.in_name "  # noqa: S608
            f"FROM catalogue_postings p WHERE p.term = ?{names}{bound} "
            f"ORDER BY p.rank_key LIMIT {WALK}) p1"
        )
        params: list[Any] = [driver] if after is None else [driver, after]
        others = [t for t in lexemes if t != driver]
        for n, term in enumerate(others, start=2):
            sql += (
                f" CROSS JOIN LATERAL (SELECT p.in_name FROM catalogue_postings p "  # noqa: S608
                f"WHERE p.term = ? AND p.rank_key = p1.rank_key{names} LIMIT 1) p{n}"
            )
            params.append(term)
        sql += (
            f" CROSS JOIN LATERAL (SELECT {COLUMNS} FROM catalogue_entries e "  # noqa: S608
            f"WHERE e.rank_key = p1.rank_key{self.filters} LIMIT 1) e"
        )
        params += self.filter_params
        if tier == 0:
            every = " AND ".join(f"p{n}.in_name" for n in range(1, len(others) + 2))
            sql += f" WHERE NOT ({every})"
        # The page size is written into the statement: PostgreSQL then keeps one generic plan.
        return f"{sql} ORDER BY p1.rank_key LIMIT {int(count)}", params

    async def _lexemes(self, reader: RawReader) -> list[str]:
        """The query's lexemes as the postings store them (PostgreSQL; cached per query text)."""
        words = " ".join(self.terms)
        found = _LEXEMES.get(words)
        if found is None:
            rows = await reader.fetchall(
                f"SELECT DISTINCT {posting_term('l.lexeme')} "  # noqa: S608
                "FROM unnest(tsvector_to_array(to_tsvector('english', ?))) AS l(lexeme) "
                "ORDER BY 1",
                [words],
            )
            found = [str(r[0]) for r in rows]
            _LEXEMES[words] = found
            if len(_LEXEMES) > LEXEME_CACHE:
                _LEXEMES.popitem(last=False)
        else:
            _LEXEMES.move_to_end(words)
        return found

    async def _page(
        self, reader: RawReader, tier: int | None, after: int | None, count: int
    ) -> list[Row]:
        """Up to `count` rows of a ranked walk (of one relevance tier) after the cursor."""
        if self.sqlite or not self.terms:
            return await reader.fetchall(*self._ranked(tier, after, count))
        lexemes = await self._lexemes(reader)
        if not lexemes:
            # Stop words only: plainto_tsquery matches nothing, and neither does this.
            return []
        driver, left = lexemes[0], PROBE
        if len(lexemes) > 1:
            row = await reader.fetchrow(*self._driver(lexemes, tier, after))
            if row is not None:
                driver, left = str(row[0]), int(row[1])
        rows = await reader.fetchall(*self._walk(lexemes, driver, tier, after, count))
        if len(rows) == count or left < PROBE:
            # A full page, or the probe saw the driving term's last postings (PROBE <= WALK):
            # the walk read them all.
            return rows
        # Short: either the driving term has no more postings (the tier is done), or the walk
        # spent its budget on terms that seldom meet. Then the matches past the last posting
        # walked are few, and the GIN index finds them all at once and sorts them.
        names = " AND in_name" if tier == 1 else ""
        bound = " AND rank_key > ?" if after is not None else ""
        walked = await reader.fetchrow(
            f"SELECT rank_key FROM catalogue_postings WHERE term = ?{names}{bound} "  # noqa: S608
            f"ORDER BY rank_key OFFSET {WALK - 1} LIMIT 1",
            [driver] if after is None else [driver, after],
        )
        if walked is None:
            return rows
        return rows + await reader.fetchall(*self._ranked(tier, walked[0], count - len(rows)))

    def _exact(self, cursor: list[Any] | None, count: int) -> tuple[str, list[Any]]:
        """Newest or by name: every match is ordered (these sorts are exact, not ranked)."""
        if self.terms:
            source, params, _ = self._matching(None)
        else:
            source, params = "FROM catalogue_entries e WHERE 1 = 1", []
        params = [*params, *self.filter_params]
        if self.sort == "newest":
            order, bound = "e.doc_id DESC", " AND e.doc_id < ?"
        else:
            order, bound = "e.name_key ASC, e.doc_id ASC", " AND (e.name_key, e.doc_id) > (?, ?)"
        if cursor is None:
            bound = ""
        else:
            params += cursor
        sql = f"SELECT {COLUMNS} {source}{self.filters}{bound} ORDER BY {order} LIMIT ?"
        return sql, [*params, count]

    async def run(self, reader: RawReader) -> tuple[list[Row], str | None]:
        """One page of rows and the cursor of the next (None at the end)."""
        if self.hopeless:
            return [], None
        want = self.query.limit + 1
        cursor = _cursor_values(self.query, self.sort)
        tiers: list[int] = []
        rows: list[Row] = []
        if self.sort == "relevance":
            tier, after = (cursor[0], cursor[1]) if cursor else (1, None)
            for current in (1, 0):
                if current > tier:
                    continue
                found = await self._page(
                    reader, current, after if current == tier else None, want - len(rows)
                )
                rows += found
                tiers += [current] * len(found)
                if len(rows) >= want:
                    break
        elif self.sort == "rating":
            rows = await self._page(reader, None, cursor[0] if cursor else None, want)
        else:
            rows = await reader.fetchall(*self._exact(cursor, want))
        if len(rows) <= self.query.limit:
            return rows, None
        rows = rows[: self.query.limit]
        last = rows[-1]
        values: list[Any] = {
            "relevance": [tiers[len(rows) - 1] if tiers else 0, last[0]],
            "rating": [last[0]],
            "newest": [last[2]],
            "name": [last[3], last[2]],
        }[self.sort]
        return rows, encode_cursor([self.sort, *values])


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


async def catalogue_version(platform: Platform) -> int:
    """The current catalogue version (see `catalogue.version`: no read per request on PostgreSQL)."""
    watch: VersionWatch | None = platform.services.get("catalogue_version")
    if watch is None:
        watch = platform.services["catalogue_version"] = VersionWatch(None)
    return await watch.current(platform.db.raw)


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


async def results(platform: Platform, query: SearchQuery) -> SearchPage:
    """The page of results the API serves, as a model (the web pages render it)."""
    return SearchPage.model_validate_json(await _run(platform, query))


def search_for(query: SearchQuery, *, sqlite: bool) -> Search:
    now = datetime.now(UTC)
    return Search(
        query,
        sqlite=sqlite,
        now=now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now,
    )


async def _run(platform: Platform, query: SearchQuery) -> bytes:
    raw = platform.db.raw
    rows, cursor = await search_for(query, sqlite=raw.is_sqlite).run(raw)
    after = '"' + cursor + '"' if cursor else "null"
    return ('{"items":[' + ",".join(r[1] for r in rows) + '],"next_cursor":' + after + "}").encode()

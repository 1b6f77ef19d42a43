"""catalogue postings: a rank-ordered inverted index for ranked search on PostgreSQL

PostgreSQL's GIN index answers a text query with every match at once, which then has to be
sorted: the cost of a ranked page grew with the number of matches. `catalogue_postings` holds,
per lexeme of a listing's `search_vector`, one row keyed (term, rank_key), with `in_name` when
the lexeme is also in the name: a ranked page walks one term's postings in rank order and stops
after the page (catalogue.search). Terms are PostgreSQL's own lexemes (`to_tsvector('english')`),
so stemming and stop words are those of `plainto_tsquery`; a lexeme longer than 100 characters
is stored as '#' and its MD5 (catalogue.index.POSTING_TERM). SQLite keeps its FTS5 tables, whose
row id is already the rank key: the table exists on PostgreSQL only, outside the models (like the
FTS5 tables), kept by `catalogue.index` in the transaction of every change to a listing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The primary key carries in_name (INCLUDE), so every walk and probe reads the index only.
    op.execute(
        "CREATE TABLE catalogue_postings ("
        "term varchar(100) NOT NULL, rank_key bigint NOT NULL, in_name boolean NOT NULL, "
        "CONSTRAINT pk_catalogue_postings PRIMARY KEY (term, rank_key) INCLUDE (in_name))"
    )
    op.execute(
        "INSERT INTO catalogue_postings (term, rank_key, in_name) "
        "SELECT CASE WHEN length(l.lexeme) > 100 THEN '#' || md5(l.lexeme) ELSE l.lexeme END, "
        "e.rank_key, l.lexeme = ANY (tsvector_to_array(e.name_vector)) "
        "FROM catalogue_entries e "
        "CROSS JOIN LATERAL unnest(tsvector_to_array(e.search_vector)) AS l(lexeme) "
        "WHERE e.search_vector IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_catalogue_postings_names ON catalogue_postings (term, rank_key) "
        "WHERE in_name"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE catalogue_postings")

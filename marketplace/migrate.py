"""Schema migrations: Alembic revisions in migrations/, applied by `marketplace migrate` and `serve`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from marketplace.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.effective_database_url)
    config.attributes["settings"] = settings
    return config


def _ensure_data_dir(settings: Settings) -> None:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply pending migrations (synchronous; Alembic's env runs its own event loop)."""
    _ensure_data_dir(settings)
    command.upgrade(alembic_config(settings), revision)


async def upgrade_async(settings: Settings) -> None:
    await asyncio.to_thread(upgrade, settings)


def heads(settings: Settings) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


# The engine-specific full-text index, which `catalogue.index` writes: SQLite's FTS5 tables
# (and their shadow tables); on PostgreSQL the text vectors of catalogue_entries with their GIN
# indexes (migration 0006) and the rank-ordered postings (migration 0007).
UNMODELLED_TABLES = ("catalogue_fts", "catalogue_postings")
UNMODELLED = {
    "column": {"name_vector", "search_vector"},
    "index": {"ix_catalogue_entries_names", "ix_catalogue_entries_search"},
}


def modelled(name: str | None, type_: str, _parents: Any) -> bool:
    """The engine-specific full-text index is not modelled (autogenerate leaves it alone)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(UNMODELLED_TABLES)
    return name not in UNMODELLED.get(type_, set())


async def schema_differences(settings: Settings) -> list[Any]:
    """Differences between the migrated database and the models (empty when they agree)."""
    from marketplace.tables import metadata

    engine = create_async_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "compare_type": True,
                        "render_as_batch": True,
                        "include_name": modelled,
                    },
                )
                return list(compare_metadata(context, metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()

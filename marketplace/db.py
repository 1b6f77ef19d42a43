"""The database: engines, sessions (a unit of work per request), column types and the naming convention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.rawdb import RawReader, RawTransaction
from marketplace.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def table_of(model: Any) -> sa.Table:
    """A SQLModel table class's core `Table`, for statements written with SQLAlchemy core."""
    table: sa.Table = model.__table__
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def ts_column(*, nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def json_column(*, nullable: bool = False) -> Any:
    return sa.Column(JSONType, nullable=nullable)


def enum_column(enum: type[Any], *, name: str, nullable: bool = False, index: bool = False) -> Any:
    """A string column limited to the enum's values by a CHECK constraint."""
    return sa.Column(
        sa.Enum(
            enum,
            name=name,
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        nullable=nullable,
        index=index,
    )


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed (jobs, notifications)."""
    session.info.setdefault("after_commit", []).append(callback)


EventHook = Callable[[list[Any]], Awaitable[None]]


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        await callback()
    # Audit events the transaction recorded go to the hooks (webhooks, later the log).
    events = session.info.pop("events", [])
    if events:
        for hook in session.info.get("event_hooks", []):
            await hook(events)


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)
    session.info.pop("events", None)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    # pysqlite/aiosqlite manage transactions badly by default; take control so writes
    # start with BEGIN IMMEDIATE and never fail on a read-to-write lock upgrade.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engines. Writes and reads use separate pools so SQLite reads never queue behind writes."""

    def __init__(self, settings: Settings) -> None:
        url = settings.effective_database_url
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine = create_async_engine(url, connect_args={"timeout": 30})
            self.read_engine = create_async_engine(url, connect_args={"timeout": 30})
            _configure_sqlite(self.engine, immediate=True)
            _configure_sqlite(self.read_engine, immediate=False)
        else:
            self.engine = create_async_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                pool_pre_ping=True,
            )
            self.read_engine = self.engine
        self._writer = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._reader = async_sessionmaker(
            self.read_engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite allows one writer: queue writers here rather than in busy-wait loops.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Called after a commit with the audit events it recorded.
        self.event_hooks: list[EventHook] = []
        # Hot-path reads through the driver (see rawdb.py).
        self.raw = RawReader(url, settings.db_pool_size)

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits; rolled back on error or if left open."""
        factory = self._writer if write else self._reader
        if write and self._write_lock is not None:
            async with self._write_lock, factory() as session:
                session.info["event_hooks"] = self.event_hooks
                yield session
        else:
            async with factory() as session:
                session.info["event_hooks"] = self.event_hooks
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write unit of work: commits on success, then runs after-commit callbacks."""
        async with self.session(write=True) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                discard_after_commit(session)
                await session.rollback()
                raise
        await run_after_commit(session)

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[RawTransaction]:
        """A write transaction through the driver (rawdb.py), for batched hot-path writes: no
        ORM, no audit events. Takes this process's SQLite write lock like every other writer."""
        if self._write_lock is not None:
            async with self._write_lock, self.raw.transaction() as tx:
                yield tx
        else:
            async with self.raw.transaction() as tx:
                yield tx

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.raw.close()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

"""Database URLs people paste, and the engine settings the repositories rely on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import DatabaseUrlError, create_engine, normalize_url
from storage.uow import SqlUnitOfWorkFactory

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("pasted", "normalized"),
    [
        ("sqlite:///advocate-bot.db", "sqlite+aiosqlite:///advocate-bot.db"),
        ("sqlite:////var/lib/bot/bot.db", "sqlite+aiosqlite:////var/lib/bot/bot.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("sqlite+pysqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("SQLite:///my%20bot.db", "sqlite+aiosqlite:///my%20bot.db"),
        ("postgresql://bot:pw@db:5432/bot", "postgresql+asyncpg://bot:pw@db:5432/bot"),
        ("postgres://bot:pw@db/bot", "postgresql+asyncpg://bot:pw@db/bot"),
        ("postgresql+psycopg2://bot@db/bot", "postgresql+asyncpg://bot@db/bot"),
        ("postgresql+asyncpg://bot@db/bot", "postgresql+asyncpg://bot@db/bot"),
        ("postgresql+psycopg://bot@db/bot", "postgresql+psycopg://bot@db/bot"),
        ("postgresql://bot:p%40ss%2Fword@db/bot", "postgresql+asyncpg://bot:p%40ss%2Fword@db/bot"),
        ("postgres://u:pw@host.example:25060/defaultdb?sslmode=require",
         "postgresql+asyncpg://u:pw@host.example:25060/defaultdb?ssl=require"),
        ("postgresql://u@h/db?sslmode=verify-full&application_name=bot",
         "postgresql+asyncpg://u@h/db?application_name=bot&ssl=verify-full"),
        ("postgresql://u@h/db?sslmode=prefer&sslmode=disable",
         "postgresql+asyncpg://u@h/db?ssl=disable"),
        ("  postgresql://u@h/db  ", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_pasted_urls_are_turned_into_async_ones(pasted: str, normalized: str) -> None:
    assert normalize_url(pasted) == normalized


@pytest.mark.parametrize(
    ("pasted", "complaint"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("advocate-bot.db", "cannot parse"),
        ("", "cannot parse"),
        ("postgresql://u@h/db?sslmode=sometimes", "unsupported sslmode='sometimes'"),
    ],
)
def test_unusable_urls_are_refused_with_what_to_write(pasted: str, complaint: str) -> None:
    with pytest.raises(DatabaseUrlError, match=complaint) as error:
        normalize_url(pasted)
    if "cannot parse" in complaint:
        assert "postgresql://user:password@host:5432/db" in str(error.value)


def test_a_url_that_does_not_parse_is_not_echoed_with_its_password() -> None:
    with pytest.raises(DatabaseUrlError) as error:
        normalize_url("postgresql://bot:s3cret@db:notaport/bot")
    assert "s3cret" not in str(error.value)
    assert error.value.__cause__ is None


async def test_sqlite_connections_enforce_foreign_keys_use_wal_and_wait_for_locks(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            ]
        assert pragmas == [1, "wal", 30000]
    finally:
        await engine.dispose()


async def test_a_sqlite_transaction_takes_the_write_lock_at_its_first_statement(
    tmp_path: Path,
) -> None:
    """BEGIN IMMEDIATE: even a transaction that has only read holds the write lock, so
    two read-then-write transactions queue instead of deadlocking."""
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))  # only a read so far
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                await connection.rollback()
                other.execute("BEGIN IMMEDIATE")  # free again
                other.execute("ROLLBACK")
            finally:
                other.close()
    finally:
        await engine.dispose()


async def test_an_in_memory_sqlite_database_works() -> None:
    engine = create_engine("sqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT x FROM t")).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
def test_postgres_engines_ping_pooled_connections_before_use(pg_url: str) -> None:
    engine = create_engine(pg_url)
    assert engine.dialect.name == "postgresql"
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    engine.sync_engine.dispose()


async def test_datetimes_are_timestamptz_on_postgres_and_utc_text_on_sqlite(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.idempotency.claim("k", now=datetime(2026, 3, 2, 18, 0, tzinfo=TOKYO))
        await uow.commit()
    async with engine.connect() as connection:
        raw = (await connection.execute(text("SELECT created_at FROM idempotency_keys"))).scalar()
        if engine.dialect.name == "sqlite":
            assert raw == "2026-03-02 09:00:00.000000"
            return
        kinds = set((await connection.execute(text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'"
        ))).scalars())
    assert kinds == {"timestamp with time zone"}
    assert raw == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

"""Fixtures for storage tests on both databases.

``engine`` is parametrized over ``sqlite`` and ``postgres``: every test that uses it (or
``uow_factory``) runs on both, against a schema built by the real migrations. Each test
starts from empty tables:

* SQLite: a copy of a file migrated once per session (copying is ~1 ms, migrating ~20);
* PostgreSQL: one migrated database on a throwaway server (``tests/postgres.py``) whose
  tables are truncated, identities restarted, before each test. That database is shared,
  so a test that changes the schema (downgrades, extra migrations) must use
  ``empty_engine`` instead, which is a database of its own.

Without PostgreSQL binaries the ``postgres`` variants are skipped, loudly — except when
``CI=true``, where a missing PostgreSQL fails the run rather than shrinking it silently.
Deselect them with ``-m "not postgres"``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from storage.tables import Base
from storage.uow import SqlUnitOfWorkFactory
from tests.postgres import PostgresServer, PostgresUnavailable

T = TypeVar("T")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_database_names = itertools.count(1)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous (session) fixture code.

    In a worker thread with its own event loop: session fixtures are first requested from
    inside a test's running loop, where ``asyncio.run`` is not allowed.
    """

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (skipped, or failed on CI, if none)."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as error:
        message = f"PostgreSQL tests NOT RUN — {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: PostgreSQL is required on CI)", pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: PostgresServer) -> str:
    """``postgresql://…`` URL of a session-wide database, migrated to head."""
    url = pg_server.create_database("advocate_bot")
    run_async(lambda: _migrate(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_async(lambda: _migrate(f"sqlite:///{path}"))
    # dispose() closed the last connection, which checkpointed and removed the WAL file.
    assert not Path(f"{path}-wal").exists()
    return path


_TRUNCATE = text(
    "TRUNCATE {} RESTART IDENTITY CASCADE".format(
        ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    )
)


_TERMINATE_OTHERS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated database with empty tables, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "advocate-bot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = create_engine(f"sqlite:///{path}")
    else:
        engine = create_engine(request.getfixturevalue("pg_url"))
        async with engine.begin() as connection:
            # A connection an earlier, failed test leaked would hold locks TRUNCATE waits
            # for: end such sessions, and never wait long.
            await connection.execute(_TERMINATE_OTHERS)
            await connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            await connection.execute(_TRUNCATE)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture(params=BACKENDS)
async def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A database with no tables at all, for migration tests."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"empty_{os.getpid()}_{next(_database_names)}"
    engine = create_engine(server.create_database(name))
    try:
        yield engine
    finally:
        await engine.dispose()
        server.drop_database(name)

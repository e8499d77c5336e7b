"""Database URLs and engines: one place that knows the quirks of SQLite and PostgreSQL.

People paste the URL their tooling gave them (``postgres://…?sslmode=require`` from a
hosting dashboard, ``sqlite:///bot.db`` from a README); the bot runs on SQLAlchemy's
asyncio layer, which needs an async driver in the URL. ``normalize_url`` bridges the two
so that ``DATABASE_URL`` accepts both.

``create_engine`` also sets up what the repositories rely on:

* SQLite: foreign keys on, WAL (readers do not block the writer), a busy timeout, and
  ``BEGIN IMMEDIATE`` for every transaction. The last one matters: with SQLite's default
  deferred ``BEGIN`` two transactions that both read and then write deadlock (neither can
  upgrade its shared lock), and one fails with "database is locked". Taking the write lock
  up front makes concurrent writers wait their turn (up to the busy timeout) instead —
  which is also what makes "re-check the limits with the advocate row locked" safe on
  SQLite, where ``SELECT … FOR UPDATE`` does not exist.
* PostgreSQL: pool pre-ping, so a connection the server or a proxy dropped while idle is
  replaced instead of failing the next request.

On both, ``hide_parameters``: a failed statement's error names its SQL but not the values
bound to it. Those values are people's emails, names and deal data, and the error text
ends up in logs (with a traceback) that far more people read than the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"

#: Async PostgreSQL drivers SQLAlchemy supports; a URL naming one is kept as written.
_ASYNC_POSTGRES_DRIVERS = frozenset({"asyncpg", "psycopg", "psycopg_async"})

#: libpq ``sslmode`` values; asyncpg takes the same words as its ``ssl`` argument.
_SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})

#: Seconds a SQLite writer waits for the lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30


class DatabaseUrlError(ValueError):
    """The URL is not one the bot can use; the message says what to write instead."""


def normalize_url(url: str) -> str:
    """Return ``url`` with an async driver, as ``create_async_engine`` needs it.

    ``sqlite://…`` becomes ``sqlite+aiosqlite://…`` (paths are kept as written:
    ``sqlite:///rel.db`` is relative, ``sqlite:////abs.db`` absolute); ``postgres://``,
    ``postgresql://`` and sync drivers such as ``postgresql+psycopg2://`` become
    ``postgresql+asyncpg://``, with libpq's ``sslmode=`` rewritten to asyncpg's ``ssl=``.
    URLs that already name an async driver come back unchanged. Only the scheme and the
    query are touched, so escapes in passwords and paths survive as typed.
    """
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    backend, _, driver = scheme.lower().partition("+")
    if not separator or not backend:
        raise DatabaseUrlError(f"cannot parse the database URL: {_EXPECTED}")
    if backend == "sqlite":
        normalized = f"{SQLITE_DRIVER}://{rest}"
    elif backend in ("postgresql", "postgres"):
        if driver in _ASYNC_POSTGRES_DRIVERS:
            normalized = f"postgresql+{driver}://{rest}"
        else:
            normalized = f"{POSTGRES_DRIVER}://{_asyncpg_query(rest)}"
    else:
        raise DatabaseUrlError(f"unsupported database {scheme!r}: {_EXPECTED}")
    try:
        make_url(normalized)
    except Exception:  # ArgumentError, ValueError; the cause would echo the password
        raise DatabaseUrlError(f"cannot parse the database URL: {_EXPECTED}") from None
    return normalized


_EXPECTED = "expected sqlite:///path/to/file.db or postgresql://user:password@host:5432/db"


def _asyncpg_query(rest: str) -> str:
    """Translate libpq query parameters that asyncpg spells differently."""
    location, question, query = rest.partition("?")
    if not question:
        return rest
    pairs = parse_qsl(query, keep_blank_values=True)
    modes = [value for key, value in pairs if key == "sslmode"]
    if not modes:
        return rest
    sslmode = modes[-1]  # libpq uses the last one
    if sslmode not in _SSL_MODES:
        raise DatabaseUrlError(
            f"unsupported sslmode={sslmode!r} in the database URL: expected one of "
            + ", ".join(sorted(_SSL_MODES))
        )
    kept = [(key, value) for key, value in pairs if key != "sslmode"]
    if not any(key == "ssl" for key, _ in kept):
        kept.append(("ssl", sslmode))
    return f"{location}?{urlencode(kept)}"


def create_engine(url: str, **kw: Any) -> AsyncEngine:
    """Build the async engine for ``url`` (any form ``normalize_url`` accepts).

    Keyword arguments go to ``create_async_engine`` and win over the defaults here.
    """
    normalized = normalize_url(url)
    backend = make_url(normalized).get_backend_name()
    options: dict[str, Any] = {"hide_parameters": True}
    if backend == "postgresql":
        options["pool_pre_ping"] = True
        options.update(kw)
        return create_async_engine(normalized, **options)

    database = make_url(normalized).database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():  # else aiosqlite fails late, from its own thread
            raise DatabaseUrlError(f"the folder {folder} for the SQLite database does not "
                                   "exist; create it or fix DATABASE_URL")
    options.update(kw)
    engine = create_async_engine(normalized, **options)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Install SQLAlchemy's documented recipe for real transactions on (aio)sqlite."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 driver from issuing its own (deferred) BEGIN; "begin" below
        # issues BEGIN IMMEDIATE instead. COMMIT and ROLLBACK still go through the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            # WAL: readers never block the writer and vice versa. An in-memory database
            # answers "memory" and carries on, which is fine.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""Migrations on SQLite and PostgreSQL: from empty to head, in step with the models, and
start-up's decision (migrate, carry on, or refuse with the command to run)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import (
    MIGRATIONS_DIR,
    SchemaBehindError,
    SchemaStatus,
    SchemaUnknownError,
    alembic_config,
    prepare_database,
    schema_status,
    upgrade,
)
from storage.tables import Base

#: The newest shipped revision, read from the scripts so a new migration needs no edit here.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
#: A revision a later release would add on top of it.
NEXT = f"{HEAD}_next"


def _differences(connection: Connection, metadata: MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture
def next_version_scripts(tmp_path: Path) -> Path:
    """The shipped migrations plus one more, as a later release would have them."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_add_widgets.py").write_text(
        '"""A later release\'s migration."""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f'revision = "{NEXT}"\n'
        f'down_revision = "{HEAD}"\n'
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        '    op.create_table("widgets", sa.Column("id", sa.Integer(), primary_key=True))\n\n\n'
        "def downgrade() -> None:\n"
        '    op.drop_table("widgets")\n'
    )
    return scripts


async def test_migrating_an_empty_database_creates_every_table(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        tables = await connection.run_sync(_tables)
        version = (await connection.execute(text("SELECT version_num FROM alembic_version"))
                   ).scalar_one()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert version == HEAD


async def test_the_migrated_schema_matches_the_models_exactly(engine: AsyncEngine) -> None:
    """Autogenerate against the migrated database finds nothing to do: no model change
    without its migration, no migration that drifted from the models."""
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences, Base.metadata) == []


async def test_the_schema_check_does_notice_a_difference(engine: AsyncEngine) -> None:
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["outbox"].append_column(Column("priority", Integer()))
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences, drifted)
    assert [d[0] for d in differences if isinstance(d, tuple)] == ["add_column"]


async def test_downgrading_to_base_removes_every_table(empty_engine: AsyncEngine) -> None:
    engine = empty_engine
    await upgrade(engine)

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"alembic_version"}


async def test_an_empty_database_is_migrated_on_start(empty_engine: AsyncEngine) -> None:
    assert await schema_status(empty_engine) == SchemaStatus("empty", None, HEAD)
    await prepare_database(empty_engine, auto_migrate=False)
    assert await schema_status(empty_engine) == SchemaStatus("current", HEAD, HEAD)


async def test_a_current_database_is_left_alone(engine: AsyncEngine) -> None:
    assert await schema_status(engine) == SchemaStatus("current", HEAD, HEAD)
    await prepare_database(engine, auto_migrate=False)
    assert await schema_status(engine) == SchemaStatus("current", HEAD, HEAD)


async def test_replicas_starting_together_on_an_empty_database_both_come_up(
    empty_engine: AsyncEngine,
) -> None:
    await asyncio.gather(*(prepare_database(empty_engine, auto_migrate=False)
                           for _ in range(3)))
    assert (await schema_status(empty_engine)).state == "current"


async def test_a_database_behind_the_code_stops_start_up_with_the_command_to_run(
    engine: AsyncEngine, next_version_scripts: Path
) -> None:
    status = await schema_status(engine, script_location=next_version_scripts)
    assert status == SchemaStatus("behind", HEAD, NEXT)

    with pytest.raises(SchemaBehindError) as error:
        await prepare_database(engine, auto_migrate=False, script_location=next_version_scripts)
    assert str(error.value) == (
        f"database schema is at {HEAD}, this version needs {NEXT}: "
        "run `advocate-bot db upgrade` (or set AUTO_MIGRATE=true)"
    )
    assert error.value.status == status
    async with engine.connect() as connection:
        assert "widgets" not in await connection.run_sync(_tables)


async def test_auto_migrate_upgrades_a_database_behind_the_code(
    empty_engine: AsyncEngine, next_version_scripts: Path
) -> None:
    engine = empty_engine
    await upgrade(engine)
    await prepare_database(engine, auto_migrate=True, script_location=next_version_scripts)
    assert await schema_status(engine, script_location=next_version_scripts) == SchemaStatus(
        "current", NEXT, NEXT)
    async with engine.connect() as connection:
        assert "widgets" in await connection.run_sync(_tables)


async def test_a_migration_that_fails_half_way_leaves_nothing_behind(
    empty_engine: AsyncEngine, next_version_scripts: Path
) -> None:
    script = next_version_scripts / "versions" / "9999_add_widgets.py"
    script.write_text(script.read_text().replace(
        '    op.create_table("widgets", sa.Column("id", sa.Integer(), primary_key=True))\n',
        '    op.create_table("widgets", sa.Column("id", sa.Integer(), primary_key=True))\n'
        '    raise RuntimeError("half-way")\n',
    ))
    await upgrade(empty_engine)
    with pytest.raises(RuntimeError, match="half-way"):
        await upgrade(empty_engine, script_location=next_version_scripts)
    async with empty_engine.connect() as connection:
        assert "widgets" not in await connection.run_sync(_tables)
    assert (await schema_status(empty_engine)).current == HEAD


async def test_a_database_migrated_by_a_newer_version_is_refused(
    empty_engine: AsyncEngine, next_version_scripts: Path
) -> None:
    await upgrade(empty_engine, script_location=next_version_scripts)
    assert await schema_status(empty_engine) == SchemaStatus("unknown", NEXT, HEAD)
    with pytest.raises(SchemaUnknownError, match=f"at {NEXT}, which this version does not know"):
        await prepare_database(empty_engine, auto_migrate=True)
    with pytest.raises(SchemaUnknownError, match="a newer version of advocate-bot"):
        await upgrade(empty_engine)  # `advocate-bot db upgrade` says so too


async def test_tables_without_migration_history_are_refused(empty_engine: AsyncEngine) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    assert await schema_status(empty_engine) == SchemaStatus("unknown", None, HEAD)
    with pytest.raises(SchemaUnknownError, match="no migration history"):
        await prepare_database(empty_engine, auto_migrate=True)
    with pytest.raises(SchemaUnknownError, match="no migration history"):
        await upgrade(empty_engine)


async def test_unrelated_tables_do_not_make_a_database_non_empty(
    empty_engine: AsyncEngine,
) -> None:
    async with empty_engine.begin() as connection:
        await connection.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
    assert (await schema_status(empty_engine)).state == "empty"
    await prepare_database(empty_engine, auto_migrate=False)
    assert (await schema_status(empty_engine)).state == "current"


def to(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    """Upgrade (or downgrade) to ``revision`` on a connection (``run_sync``)."""
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    return run


_ADVOCATE = (
    "INSERT INTO advocates (email, email_key, name, company, title, account_id, "
    "industry, region, country, products, use_cases, languages, timezone, "
    "reference_types, public_recognition, status, do_not_use_with, points, "
    "consent_source, notes) VALUES (:email, :email, 'A', 'X', '', '', '', '', '', "
    "'[]', '[]', :languages, 'UTC', '[\"call\"]', false, 'active', '[]', 0, '', '')")


async def test_0009_adds_the_locales_and_keeps_the_people_and_advocates_it_finds(
    empty_engine: AsyncEngine,
) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0008"))
        await connection.execute(text(
            "INSERT INTO people (platform, workspace_id, user_id, email, display_name, "
            "updated_at) VALUES ('slack', 'T1', 'U1', 'ken@x.example', 'Ken', "
            "'2026-12-01 00:00:00')"))
        for n, languages in enumerate(('["日本語", "en", "Klingon-ish"]', '["English"]', '[]')):
            await connection.execute(text(_ADVOCATE),
                                     {"email": f"a{n}@x.example", "languages": languages})
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0009"))
        before = (await connection.execute(text(
            "SELECT locale, chosen_locale FROM people"))).one()
        await connection.execute(text("UPDATE people SET locale = 'ja_JP', chosen_locale = 'en'"))
        spoken = [json.loads(v) if isinstance(v, str) else v for v in (await connection.execute(
            text("SELECT languages FROM advocates ORDER BY email"))).scalars()]
    assert tuple(before) == (None, None)  # nobody said yet: the program's language
    # one spelling per language, as the import now writes them; unknown ones kept
    assert spoken == [["Japanese", "English", "Klingon-ish"], ["English"], []]
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0008", down=True))
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("people")})
        kept = (await connection.execute(text("SELECT email FROM people"))).scalar_one()
    assert "locale" not in columns and "chosen_locale" not in columns
    assert kept == "ken@x.example"


async def test_0011_adds_customer_since_and_keeps_the_advocates_it_finds(
    empty_engine: AsyncEngine,
) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0010"))
        await connection.execute(text(_ADVOCATE),
                                 {"email": "ada@x.example", "languages": '["English"]'})
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0011"))
        before = (await connection.execute(text(
            "SELECT customer_since FROM advocates"))).scalar_one()
        await connection.execute(text("UPDATE advocates SET customer_since = :day"),
                                 {"day": date(2021, 3, 1)})
        after = (await connection.execute(text(
            "SELECT customer_since FROM advocates"))).scalar_one()
    assert before is None  # the roster has not said yet: tenure unknown
    assert str(after)[:10] == "2021-03-01"
    async with empty_engine.begin() as connection:
        await connection.run_sync(to("0010", down=True))
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("advocates")})
        kept = (await connection.execute(text("SELECT email FROM advocates"))).scalar_one()
    assert "customer_since" not in columns
    assert kept == "ada@x.example"

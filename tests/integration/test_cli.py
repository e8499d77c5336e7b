"""The command line as a user meets it: help, version, database commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from bot import __version__
from bot.cli import app
from storage.migrate import alembic_config

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    return database


def test_help_lists_every_command_group() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "advocates", "ADVOCATE_BOT_CONFIG"):
        assert command in result.output
    assert "--port" in CliRunner().invoke(app, ["serve", "--help"]).output


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_db_upgrade_migrates_an_empty_database_once(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to {HEAD}" in first.output
    second = runner.invoke(app, ["db", "upgrade"])
    assert f"already at {HEAD}" in second.output
    status = runner.invoke(app, ["db", "status"])
    assert "schema: current" in status.output


def test_a_bad_setting_is_one_line_naming_it(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://db")
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 1
    assert "DATABASE_URL" in result.output
    assert "Traceback" not in result.output

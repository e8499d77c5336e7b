"""``advocate-bot digest``: dry run prints, a real run queues once per manager."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli_digest import app as digest_app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("PROGRAM_MANAGERS", "pat@vendor.example,quinn@vendor.example")
    monkeypatch.setenv("PROGRAM_TIMEZONE", "Europe/Berlin")
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    root = typer.Typer()  # mounted as bot.cli mounts it
    root.command("version")(lambda: None)
    root.add_typer(digest_app, name="digest")
    return root


def test_dry_run_prints_the_digest_and_writes_the_chart(cli: typer.Typer,
                                                        tmp_path: Path) -> None:
    chart = tmp_path / "trend.png"
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--week", "2026-03-02",
                                      "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Reference program: week 2026-W10* (2026-02-23 to 2026-03-01" in result.output
    assert "Requests opened: *0*" in result.output
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_sending_queues_one_digest_per_manager_once(cli: typer.Typer) -> None:
    first = CliRunner().invoke(cli, ["digest", "--week", "2026-03-02"])
    assert first.exit_code == 0, first.output
    assert "Queued the 2026-W10 digest for 2 program manager(s)." in first.output
    again = CliRunner().invoke(cli, ["digest", "--week", "2026-03-02"])
    assert "already sent" in again.output


def test_a_bad_week_is_named(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--week", "March"])
    assert result.exit_code != 0 and "--week" in result.output


def test_dry_run_prints_the_digest_in_the_language_asked_for(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--week", "2026-03-02",
                                      "--locale", "ja-JP"])
    assert result.exit_code == 0, result.output
    assert "2026-W10" in result.output
    assert "• 新規の依頼: *0* (前週と同じ)" in result.output
    assert "Requests opened" not in result.output


def test_a_language_the_bot_does_not_speak_is_named_with_the_ones_it_does(
        cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--locale", "Klingon"])
    assert result.exit_code != 0
    said = " ".join(result.output.replace("│", " ").split())  # out of typer's error box
    assert "'Klingon' is not a language the bot speaks (one of: en, ja" in said

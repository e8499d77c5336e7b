"""Command-line doors: what a typo or a hostile path meets is one clear line, never a
traceback, and never a password.

``teams package --output`` refuses a directory, a path it cannot write, an existing file
(unless ``--force``) and a symbolic link. A URL setting's credentials are masked in every
message the CLI prints.
"""

from __future__ import annotations

import os
import socket
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import _slack_mode, app
from bot.config import Settings, mask_url

APP_ID = "7d3c9a1e-5b2f-4c8d-9e0a-1f2b3c4d5e6f"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    return tmp_path


def package(output: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["teams", "package", "--website-url",
                                      "https://acme.example/bot", "--output", str(output),
                                      *extra])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_the_package_goes_to_a_new_file(env: Path) -> None:
    code, output = package(env / "new" / "teams.zip")
    assert code == 0, output
    assert "manifest.json" in zipfile.ZipFile(env / "new" / "teams.zip").namelist()


def test_a_directory_as_output_is_refused(env: Path) -> None:
    code, output = package(env)
    assert code == 1
    assert f"{env} is a directory" in output


def test_an_existing_file_is_kept_unless_forced(env: Path) -> None:
    target = env / "teams.zip"
    target.write_bytes(b"the admin's previous package")
    code, output = package(target)
    assert code == 1
    assert "already exists; pass --force to replace it" in output
    assert target.read_bytes() == b"the admin's previous package"

    code, output = package(target, "--force")
    assert code == 0, output
    assert "manifest.json" in zipfile.ZipFile(target).namelist()
    assert [p.name for p in env.iterdir() if p.name.startswith(".advocate-bot-")] == []


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_symbolic_link_is_never_written_through(env: Path, force: list[str]) -> None:
    precious = env / "precious.txt"
    precious.write_text("do not overwrite")
    link = env / "teams.zip"
    link.symlink_to(precious)
    dangling = env / "dangling.zip"
    dangling.symlink_to(env / "created-by-the-link.txt")
    for path in (link, dangling):
        code, output = package(path, *force)
        assert code == 1
        assert "is a symbolic link" in output
    assert precious.read_text() == "do not overwrite"
    assert not (env / "created-by-the-link.txt").exists()
    assert link.is_symlink() and dangling.is_symlink()


def test_a_path_under_a_file_is_a_clear_error(env: Path) -> None:
    (env / "notes.txt").write_text("a file, not a folder")
    code, output = package(env / "notes.txt" / "teams.zip")
    assert code == 1
    assert "cannot create the folder" in output and "notes.txt" in output


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_an_unwritable_folder_is_a_clear_error(env: Path) -> None:
    locked = env / "locked"
    locked.mkdir(mode=0o500)
    try:
        code, output = package(locked / "teams.zip")
    finally:
        locked.chmod(0o700)
    assert code == 1
    assert "permission denied" in output


@pytest.mark.parametrize("variable, value", [
    ("DATABASE_URL", "mysql://bot:S3cret@db.internal:3306/refs"),
    ("DATABASE_URL", "postgresql://bot:S3cret@db.internal/refs?sslmode=bogus"),
    ("DATABASE_URL", "postgresql://bot:S3cret@@db.internal:notaport/refs"),
    ("SLACK_API_URL", "ftp://bot:S3cret@slack.internal/api/"),
])
def test_a_url_setting_never_prints_its_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 1, result.output
    assert "S3cret" not in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error:")


def test_a_url_setting_in_a_toml_file_never_prints_its_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('database_url = "mysql://bot:S3cret@db.internal/refs"\n')
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ADVOCATE_BOT_CONFIG", str(config))
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 1
    assert "S3cret" not in result.output and "mysql://bot:***@db.internal/refs" in result.output


def test_the_startup_line_masks_the_web_api_url() -> None:
    settings = Settings(slack_bot_token="xoxb-1", slack_signing_secret="s",
                        slack_api_url="https://proxy:S3cret@slack.internal/api/")
    assert "S3cret" not in _slack_mode(settings)
    assert "https://proxy:***@slack.internal/api/" in _slack_mode(settings)


@pytest.mark.parametrize("text, masked", [
    ("postgresql://bot:S3cret@db/refs", "postgresql://bot:***@db/refs"),
    ("postgresql://bot:p@ss@db/refs", "postgresql://bot:***@db/refs"),
    ("https://xoxb-token@slack.example/api/", "https://***@slack.example/api/"),
    ("got 'mysql://a:b@h/x' and 'redis://:pw@cache'", "got 'mysql://a:***@h/x' and "
                                                     "'redis://:***@cache'"),
    ("sqlite:///bot.db", "sqlite:///bot.db"),
    ("https://slack.com/api/?email=a@b.example", "https://slack.com/api/?email=a@b.example"),
])
def test_mask_url_hides_passwords_and_keeps_the_rest(text: str, masked: str) -> None:
    assert mask_url(text) == masked


@pytest.mark.parametrize("url, expected", [
    ("postgresql://bot:S3cret@127.0.0.1:1/refs", "cannot connect"),
    ("sqlite:////nonexistent-folder/bot.db", "the folder /nonexistent-folder for the SQLite"),
])
def test_a_database_that_cannot_be_reached_is_one_line(
        monkeypatch: pytest.MonkeyPatch, url: str, expected: str) -> None:
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "status"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error:") and expected in result.output.replace("\n", " ")
    assert "S3cret" not in result.output and "Traceback" not in result.output


def test_serve_on_a_port_that_is_taken_is_one_line(env: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error:") and "address already in use" in result.output

"""Fuzzing the command line: the roster CSV importer, cell by cell, and every argument of
every command (enumerated from the Typer app; ``serve`` and ``try`` aside, which would
start a server — their arguments are tested in ``tests/integration/test_serve.py`` and
``tests/integration/test_sandbox_cli.py``).

Whatever is typed or imported: no traceback, no uncaught exception, an exit code of
0, 1 or 2 (usage), and a refused import names the line it refused.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.roster_csv import CANONICAL_HEADERS
from tests.integration.fuzz.harness import ODD_STRINGS

SKIPPED = {"serve", "try"}
GOOD_ROW = {"Email": "ada@harbor.example", "Name": "Ada Advocate", "Company": "Harbor",
            "Title": "CTO", "Industry": "Fintech", "Region": "EMEA"}

# argv cannot carry NUL; everything else can (lone surrogates arrive from the OS too).
cli_text = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=30)).map(
    lambda s: s.replace("\x00", ""))
cells = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=30),
                  st.integers(-(10**30), 10**30).map(str), st.just("x" * 200_000))


def commands() -> dict[tuple[str, ...], Any]:
    """Every leaf command of the CLI by its words, with its parameters."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, words: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, (*words, name))
        elif words[0] not in SKIPPED:
            found[words] = command

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = commands()


@pytest.fixture(scope="module")
def place(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory of its own (relative --output paths land here) and a
    migrated database; the environment points the CLI at both."""
    folder = tmp_path_factory.mktemp("fuzz-cli")
    shutil.copyfile(sqlite_template, folder / "bot.db")
    (folder / "a-folder").mkdir()
    (folder / "kept.txt").write_text("a file the CLI must not replace without --force")
    before = Path.cwd()
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "ADVOCATE_BOT_CONFIG", "COLUMNS")}
    os.environ.update(DATABASE_URL=f"sqlite:///{folder / 'bot.db'}", COLUMNS="200")
    os.environ.pop("ADVOCATE_BOT_CONFIG", None)
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    text = result.output
    assert "Traceback" not in text, text[-2000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception), text[-2000:])
    assert result.exit_code in (0, 1, 2), (result.exit_code, text[-2000:])
    return result


def csv_bytes(rows: list[dict[str, str]], headers: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


def test_every_command_is_fuzzed() -> None:
    assert {" ".join(words) for words in COMMANDS} >= {
        "advocates import", "advocates export", "advocates list", "advocates show",
        "advocates forget", "teams package", "db upgrade", "db status"}


@given(data=st.data())
def test_a_hostile_cell_is_refused_with_its_line(place: Path, data: st.DataObject) -> None:
    headers = list(CANONICAL_HEADERS)
    rows = [dict(GOOD_ROW), dict(GOOD_ROW, Email="bo@harbor.example", Name="Bo")]
    for _ in range(data.draw(st.integers(1, 3))):
        row = data.draw(st.sampled_from(rows))
        row[data.draw(st.sampled_from(headers))] = data.draw(cells)
    file = place / "roster.csv"
    file.write_bytes(csv_bytes(rows, headers))
    flags = data.draw(st.lists(st.sampled_from(["--dry-run", "--skip-invalid", "--day-first"]),
                               unique=True))
    result = run("advocates", "import", str(file), *flags)
    if result.exit_code == 1 and "--skip-invalid" not in flags:
        assert "line " in result.output or "roster.csv" in result.output, result.output


@given(data=st.data())
def test_a_hostile_header_or_file_is_refused_in_a_sentence(place: Path,
                                                           data: st.DataObject) -> None:
    headers = data.draw(st.lists(st.one_of(st.sampled_from(CANONICAL_HEADERS), cli_text),
                                 min_size=1, max_size=6))
    body = data.draw(st.one_of(
        st.just(csv_bytes([dict(GOOD_ROW)], headers)),
        st.binary(max_size=200),
        st.just(b'"Email\n' + b"x" * 100_000),
        st.just("Email,Name\nada@harbor.example,Ada\n".encode("utf-16"))))
    file = place / "odd.csv"
    file.write_bytes(body)
    result = run("advocates", "import", str(file), "--dry-run",
                 *data.draw(st.sampled_from([[], ["--encoding", "latin-1"],
                                             ["--encoding", "no-such-codec"]])))
    if result.exit_code:
        assert result.output.strip()


@given(data=st.data())
def test_every_command_takes_any_argument_without_a_traceback(
        place: Path, data: st.DataObject) -> None:
    words = data.draw(st.sampled_from(sorted(COMMANDS)))
    args: list[str] = list(words)
    for param in COMMANDS[words].params:
        if not data.draw(st.booleans()) and not param.required:
            continue
        is_flag = bool(getattr(param, "is_flag", False))
        value = data.draw(st.one_of(cli_text, st.sampled_from(
            ["a-folder", "out.zip", "new/sub/out.csv", "kept.txt", "-", "--", "-1", "0"])))
        if param.name in ("output", "file") and value != "new/sub/out.csv":
            value = value.replace("/", "_")  # stay inside this test's folder
        if param.param_type_name == "argument":
            args.append(value)
        elif is_flag:
            args.append(param.opts[0])
        else:
            args.extend([param.opts[0], value])
    if "forget" in words and "--yes" not in args:
        args.append("--yes")  # else it waits for an answer on stdin
    run(*args)

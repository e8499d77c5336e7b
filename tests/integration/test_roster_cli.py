"""``advocate-bot advocates …`` end to end: the real CLI entry point (``bot.cli:app``), the
real bootstrap and storage, a temporary SQLite database migrated on first use."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.roster_csv import CANONICAL_HEADERS

ROOT = Path(__file__).parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "roster"
EXAMPLE = ROOT / "examples" / "roster.csv"

Run = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``advocate-bot …`` against a fresh SQLite file; returns the Result."""
    monkeypatch.delenv("ADVOCATE_BOT_CONFIG", raising=False)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'roster.db'}", "COLUMNS": "250"}
    runner = CliRunner()

    def run(*args: str, stdin: bytes | None = None) -> Result:
        return runner.invoke(app, list(args), env=env, input=stdin)

    return run


def one_line(text: str) -> str:
    """Output with rich's wrapping undone, for substring checks."""
    return " ".join(text.split())


def test_importing_the_sample_roster_creates_forty_advocates(cli: Run) -> None:
    result = cli("advocates", "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "Imported" in result.stdout
    assert "40 created, 0 updated, 0 unchanged, 0 skipped." in result.stdout
    assert "warning" not in result.output


def test_one_bad_row_writes_nothing_exits_1_and_lists_every_bad_row(cli: Run) -> None:
    result = cli("advocates", "import", str(FIXTURES / "bad_rows.csv"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["line 3", "line 5", "line 6"]
    assert lines[0].startswith("line 3: Email 'bob@' is not a valid email address")
    assert lines[1] == "line 5: email 'ok@good.example' already appears on line 2"
    assert lines[3] == ("3 invalid rows (lines 3, 5, 6): nothing was imported. Fix them, or "
                        "use --skip-invalid to import the 2 valid rows.")
    listed = cli("advocates", "list")
    assert "No advocates" in listed.stdout


def test_skip_invalid_imports_the_rest_and_says_which_lines_were_skipped(cli: Run) -> None:
    result = cli("advocates", "import", "--skip-invalid", str(FIXTURES / "bad_rows.csv"))
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped")]
    assert [s.split(":")[0] for s in skipped] == [
        "skipped line 3", "skipped line 5", "skipped line 6"]
    assert "2 created, 0 updated, 0 unchanged, 3 skipped (lines 3, 5, 6)." in result.stdout
    assert "Fiona Fine" in cli("advocates", "list").stdout


def test_import_export_import_is_lossless(cli: Run, tmp_path: Path) -> None:
    assert cli("advocates", "import", str(EXAMPLE)).exit_code == 0
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    exported = cli("advocates", "export", "--output", str(first))
    assert exported.exit_code == 0, exported.output
    assert "Exported 40 advocates" in exported.stderr

    again = cli("advocates", "import", str(first))
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 40 unchanged, 0 skipped." in again.stdout

    assert cli("advocates", "export", "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for "Zoë"
    rows = list(csv.reader(io.StringIO(first.read_text("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CANONICAL_HEADERS
    assert len(rows) == 41


def test_export_to_stdout_is_plain_utf8_csv(cli: Run) -> None:
    assert cli("advocates", "import", str(EXAMPLE)).exit_code == 0
    result = cli("advocates", "export")
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"Email,Name,Title,Company,")
    assert "Zoë Laurent" in result.stdout
    assert result.stderr == ""


def test_list_shows_a_table_and_filters_by_status(cli: Run) -> None:
    assert cli("advocates", "import", str(EXAMPLE)).exit_code == 0
    listed = cli("advocates", "list")
    assert listed.exit_code == 0
    text = one_line(listed.stdout)
    assert "Roster: 40 advocates" in text
    for heading in ("Name", "Email", "Company", "Industry", "Region", "Status", "Types",
                    "Points"):
        assert heading in text
    assert "Małgorzata Wiśniewska" in text and "Sklepik" in text

    paused = cli("advocates", "list", "--status", "paused")
    text = one_line(paused.stdout)
    assert "Roster: 2 advocates (paused)" in text
    assert "Pieter de Vries" in text and "Olivia Schmidt" in text
    assert "Zoë Laurent" not in text


def test_show_prints_every_field_of_one_advocate(cli: Run) -> None:
    assert cli("advocates", "import", str(EXAMPLE)).exit_code == 0
    result = cli("advocates", "show", "PRISCILLA.OWUSU@learnloop.example")
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    for header in CANONICAL_HEADERS:
        assert header in text, header
    for value in ("Priscilla Owusu", "Learnloop", "Africa/Accra", "51-200",
                  "video_call; email; case_study", "jordan.lee@lumora.example", "2026-08-28",
                  '"Billing without spreadsheets"'):
        assert value in text, value


def test_show_an_unknown_email_is_a_clear_error_with_exit_code_1(cli: Run) -> None:
    result = cli("advocates", "show", "nobody@nowhere.example")
    assert result.exit_code == 1
    assert "no advocate with email 'nobody@nowhere.example'" in one_line(result.stderr)
    assert "Traceback" not in result.output


def test_a_file_without_an_email_column_is_one_red_line(cli: Run) -> None:
    result = cli("advocates", "import", str(FIXTURES / "no_email_column.csv"))
    assert result.exit_code == 1
    assert "no email column" in one_line(result.stderr)
    assert "Traceback" not in result.output


def test_a_latin1_file_is_refused_unless_its_encoding_is_given(cli: Run) -> None:
    refused = cli("advocates", "import", str(FIXTURES / "latin1.csv"))
    assert refused.exit_code == 1
    assert "not UTF-8" in one_line(refused.stderr)
    accepted = cli("advocates", "import", "--encoding", "cp1252", str(FIXTURES / "latin1.csv"))
    assert accepted.exit_code == 0, accepted.output
    assert "Zoë Laurent" in cli("advocates", "show", "zoe@verdier.example").stdout


def test_a_missing_file_is_a_clear_error(cli: Run, tmp_path: Path) -> None:
    result = cli("advocates", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert "cannot read" in one_line(result.stderr)


def test_unknown_columns_are_named_once(cli: Run) -> None:
    result = cli("advocates", "import", str(FIXTURES / "salesforce_report.csv"))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "unknown columns" in line]
    assert warnings == ["warning: ignored unknown columns: 'Contact ID', 'Lead Source'"]
    assert "warning: ignored the Salesforce report footer (lines 5-9)" in result.stderr
    assert "2 created" in result.stdout


def test_a_dry_run_reports_and_writes_nothing(cli: Run) -> None:
    result = cli("advocates", "import", "--dry-run", str(EXAMPLE))
    assert result.exit_code == 0
    assert "nothing written: would be 40 created, 0 updated, 0 unchanged" in result.stdout
    assert "No advocates" in cli("advocates", "list").stdout


def test_import_reads_stdin_given_a_dash(cli: Run) -> None:
    result = cli("advocates", "import", "-",
                 stdin="Email,Name,Company\r\nana@harbor.example,Ana López,Harbor\r\n".encode())
    assert result.exit_code == 0, result.output
    assert "Imported stdin: 1 created" in result.stdout


def test_hostile_numbers_and_a_huge_cell_are_reported_by_line_without_a_traceback(
        cli: Run, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("Email,Name,Company,NPS,Max per 90 Days\n"
                       "ok@good.example,Ok,Good,9,3\n"
                       "nps@bad.example,Nps,Bad,1e1000000,3\n"
                       "limit@bad.example,Limit,Bad,8,1e200000\n")
    result = cli("advocates", "import", str(numbers))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines[0] == "line 3: NPS '1e1000000' is not a number"
    assert lines[1] == "line 4: Max per 90 Days '1e200000' is not a whole number"
    huge = tmp_path / "huge.csv"
    huge.write_text('Email,Name,Company,Notes\nok@good.example,Ok,Good,"' + "x" * 20_000_000
                    + '"\n')
    result = cli("advocates", "import", str(huge))
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("error: line 2: a cell is too long")
    assert "Traceback" not in result.output

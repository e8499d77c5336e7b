"""Reading a roster file: bytes → text → header and physical-line-numbered rows.

The importer reports every problem by the line a spreadsheet shows, so rows keep the line
they start on (quoted multi-line cells counted). Whole-file problems (not CSV, not UTF-8,
broken quoting, a cell too long to be a roster value) are a ``RosterFileError``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from bot.domain.errors import DomainError


class RosterFileError(DomainError):
    """The file as a whole cannot be read as a roster (not CSV, not UTF-8, no email column).

    A ``DomainError``, so the CLI prints it as one line and exits 1.
    """


def decode_csv_bytes(data: bytes, encoding: str | None = None) -> str:
    """Decode a roster file: UTF-8 (with or without BOM), or UTF-16 with a BOM.

    We do not guess legacy encodings: a Windows-1252 file decoded as anything else (or a
    UTF-8 file decoded as Windows-1252) silently mangles exactly the names that matter —
    the non-ASCII ones — and those names end up in messages to customers. Instead the error
    says what to do; ``encoding`` (the CLI's ``--encoding``) opts into a legacy codec.
    """
    if not data.strip():
        raise RosterFileError("the file is empty: expected a header row with an Email column")
    if data.startswith(b"PK\x03\x04"):
        raise RosterFileError(
            "this is an Excel workbook (.xlsx) or another zip file, not a CSV: in Excel use "
            "File > Save As > 'CSV UTF-8 (Comma delimited)'"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterFileError(
            "this is an old Excel workbook (.xls), not a CSV: in Excel use File > Save As > "
            "'CSV UTF-8 (Comma delimited)'"
        )
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise RosterFileError(f"unknown encoding {encoding!r}") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise RosterFileError(
                f"the file is not {encoding}: {_where(data, error.start)} cannot be decoded"
            ) from None
        text = text.removeprefix("\ufeff")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")  # Excel's "Unicode text"; the BOM makes it unambiguous
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RosterFileError(
                f"the file is not UTF-8: {_where(data, error.start)} is not valid UTF-8 — it "
                "was probably saved as Windows-1252/Latin-1 (Excel's plain 'CSV' format). "
                "Save it as 'CSV UTF-8', or import it with --encoding cp1252"
            ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise RosterFileError(
            f"the file contains NUL characters (the first on line {line}), so it is not a "
            "text CSV (is it UTF-16 without a byte-order mark, or a spreadsheet?)"
        )
    return text


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line} has the byte 0x{data[offset]:02X}, which"


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file as header + rows, each row with the physical line it starts on."""

    header: tuple[str, ...]
    header_line: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    warnings: tuple[str, ...] = ()


def sniff_delimiter(text: str) -> str:
    """``,`` unless the header line has more ``;`` (European Excel) or tabs (UTF-16 text)."""
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def parse_csv(text: str) -> CsvTable:
    """Split CSV text into a header and rows, numbering rows by the physical line they start
    on (header = line 1, quoted multi-line cells counted), dropping blank rows.

    Blank rows (nothing but delimiters and spaces) are skipped silently: spreadsheets are
    full of them. A Salesforce report footer ("Copyright (c) ... salesforce.com") is
    dropped with a warning. Broken quoting is an error for the whole file, because once a
    quote is unbalanced every later line boundary is a guess.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text),
                        strict=True)
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[str, ...]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = tuple(cells), start
            else:
                rows.append((start, tuple(cells)))
    except csv.Error as error:
        raise RosterFileError(_csv_error(error, previous_end + 1, reader.line_num)) from None
    if header is None:
        raise RosterFileError("the file is empty: expected a header row with an Email column")
    rows, warnings = _drop_salesforce_footer(rows)
    return CsvTable(header=header, header_line=header_line, rows=tuple(rows),
                    warnings=tuple(warnings))


def _csv_error(error: csv.Error, start: int, end: int) -> str:
    message = str(error)
    if "field larger than field limit" in message:
        return (f"line {start}: a cell is too long (more than {csv.field_size_limit():,} "
                "characters; roster cells are names, lists and notes). If the cell is meant "
                "to be shorter, a closing quote (\") is probably missing")
    if "unexpected end of data" in message:
        return (f"line {start}: a quoted cell that starts on this line is never closed "
                "(a missing \")")
    if "expected after" in message:
        return (f"line {end}: a quote in the middle of a quoted cell must be doubled (\"\"), "
                f"as Excel writes it ({message})")
    return f"line {end}: not valid CSV ({message})"


_SALESFORCE_COPYRIGHT = re.compile(r"^copyright \(c\).*salesforce", re.IGNORECASE)


def _drop_salesforce_footer(
    rows: list[tuple[int, tuple[str, ...]]],
) -> tuple[list[tuple[int, tuple[str, ...]]], list[str]]:
    """Salesforce report exports end with one-cell rows: report name, copyright, "Generated
    By"... They are not advocates; drop them (and the one-cell rows just before them)."""
    for index, (_, cells) in enumerate(rows):
        if len(cells) == 1 and _SALESFORCE_COPYRIGHT.match(cells[0].strip()):
            start = index
            while start > 0 and len(rows[start - 1][1]) == 1:
                start -= 1
            lines = f"lines {rows[start][0]}-{rows[-1][0]}"
            return rows[:start], [f"ignored the Salesforce report footer ({lines})"]
    return rows, []



def read_roster_source(source: str | bytes | Path, *, encoding: str | None = None) -> str:
    """CSV text from a path, raw bytes, or text that is already decoded."""
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as error:
            raise RosterFileError(f"cannot read {source}: {error.strerror or error}") from None
        return decode_csv_bytes(data, encoding)
    if isinstance(source, bytes):
        return decode_csv_bytes(source, encoding)
    return source.removeprefix("\ufeff")

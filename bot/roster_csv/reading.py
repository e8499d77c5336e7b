"""Reading a roster file: bytes → text → header and physical-line-numbered rows.

A file is streamed: decoded and split into rows as it is read, once per pass, never held
in memory whole (``open_roster``), so a 100,000-row export costs the memory of a row. The
importer reports every problem by the line a spreadsheet shows, so rows keep the line
they start on (quoted multi-line cells counted). Whole-file problems (not CSV, not UTF-8,
broken quoting, a cell too long to be a roster value) are a ``RosterFileError``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


class RosterFileError(ValueError):
    """The file as a whole cannot be read as a roster (not CSV, not UTF-8, no email column).

    Only the CLI imports rosters, and CLI output is English in code: ``bot.cli`` prints the
    message as one line and exits 1.
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
    _refuse_non_csv(data[:8])
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
        raise RosterFileError(_nul(text.count("\n", 0, text.index("\x00")) + 1))
    return text


def _refuse_non_csv(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise RosterFileError(
            "this is an Excel workbook (.xlsx) or another zip file, not a CSV: in Excel use "
            "File > Save As > 'CSV UTF-8 (Comma delimited)'"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterFileError(
            "this is an old Excel workbook (.xls), not a CSV: in Excel use File > Save As > "
            "'CSV UTF-8 (Comma delimited)'"
        )


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line} has the byte 0x{data[offset]:02X}, which"


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file as a header and its data rows, read again from the source on every call
    of ``rows()`` so that a 100,000-row file is never held in memory as a whole."""

    header: tuple[str, ...]
    header_line: int
    opener: Callable[[], Iterator[str]]  # a fresh pass over the text, line by line
    delimiter: str = ","

    def rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The data rows (blank ones dropped), each with the physical line it starts on."""
        records = _records(self.opener(), self.delimiter)
        next(records)  # the header
        return records


def sniff_delimiter(first_line: str) -> str:
    """``,`` unless the header line has more ``;`` (European Excel) or tabs (UTF-16 text)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def parse_csv(text: str) -> CsvTable:
    """A CSV table over text already in memory (see ``open_table``)."""
    return open_table(lambda: iter(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def open_table(opener: Callable[[], Iterator[str]]) -> CsvTable:
    """Read the header of the CSV text ``opener`` yields line by line (newlines kept);
    rows are numbered by the physical line they start on (header = line 1, quoted
    multi-line cells counted) and blank rows dropped.

    Blank rows (nothing but delimiters and spaces) are skipped silently: spreadsheets are
    full of them. Broken quoting is an error for the whole file (raised while the rows
    are read), because once a quote is unbalanced every later line boundary is a guess.
    """
    first = next((line for line in opener() if line.strip()), "")
    delimiter = sniff_delimiter(first)
    found = next(_records(opener(), delimiter), None)
    if found is None:
        raise RosterFileError("the file is empty: expected a header row with an Email column")
    line, header = found
    return CsvTable(header=header, header_line=line, opener=opener, delimiter=delimiter)


def _records(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    reader = csv.reader(_text_lines(lines), delimiter=delimiter, strict=True)
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, tuple(cells)
    except csv.Error as error:
        raise RosterFileError(_csv_error(error, previous_end + 1, reader.line_num)) from None


def _text_lines(lines: Iterator[str]) -> Iterator[str]:
    for number, line in enumerate(lines, 1):
        if "\x00" in line:
            raise RosterFileError(_nul(number))
        yield line


def _nul(line: int) -> str:
    return (f"the file contains NUL characters (the first on line {line}), so it is not a "
            "text CSV (is it UTF-16 without a byte-order mark, or a spreadsheet?)")


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


class SalesforceFooter:
    """Finds a Salesforce report's footer while the rows stream by. Report exports end with
    one-cell rows: report name, copyright, "Generated By"... They are not advocates: the
    footer is the copyright row, the one-cell rows just before it and everything after."""

    def __init__(self) -> None:
        self.span: tuple[int, int] | None = None  # its first and last line, once found
        self.run = 0  # one-cell rows just before the copyright row (fed before it was seen)
        self._run_start = 0

    def feed(self, line: int, cells: tuple[str, ...]) -> bool:
        """Is this row the copyright row or after it?"""
        if self.span:
            self.span = (self.span[0], line)
            return True
        if len(cells) != 1:
            self.run = 0
            return False
        if not self.run:
            self._run_start = line
        if _SALESFORCE_COPYRIGHT.match(cells[0].strip()):
            self.span = (self._run_start, line)
            return True
        self.run += 1
        return False


def open_roster(source: str | bytes | Path, *, encoding: str | None = None) -> CsvTable:
    """The roster file as a table: a path is streamed (decoded as it is read, never held
    whole), bytes and text are read from memory."""
    if isinstance(source, str):
        return parse_csv(source)
    head = _head(source)
    _refuse_non_csv(head)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise RosterFileError(f"unknown encoding {encoding!r}") from None
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text"; the BOM makes it unambiguous
    else:
        encoding = "utf-8-sig"

    def opener() -> Iterator[str]:
        binary = io.BytesIO(source) if isinstance(source, bytes) else _open(source)
        with io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
            try:
                first = True
                for line in text:
                    yield line.removeprefix("\ufeff") if first else line
                    first = False
            except UnicodeDecodeError:
                data = source if isinstance(source, bytes) else source.read_bytes()
                decode_csv_bytes(data, None if encoding == "utf-8-sig" else encoding)
                raise RosterFileError(f"the file is not {encoding}") from None

    return open_table(opener)


def _head(source: bytes | Path) -> bytes:
    if isinstance(source, bytes):
        return source[:8]
    with _open(source) as handle:
        return handle.read(8)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise RosterFileError(f"cannot read {path}: {error.strerror or error}") from None

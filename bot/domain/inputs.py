"""Bounded parsing of what people type: numbers, amounts, free text, dates and ids.

Everything that arrives from a form, a button, a command or a CSV cell is checked here
*before* any arithmetic, for two reasons:

* cost: ``int(Decimal("1e1000000"))`` builds a million-digit integer and holds the event
  loop for seconds. A number is refused on its length and shape first (a regular
  expression over at most ``MAX_NUMBER_CHARS`` characters), so a hostile value costs
  microseconds, however large the number it spells;
* storage: what the database cannot hold must be refused here, on the field, identically
  on SQLite and PostgreSQL, rather than failing the write on one of them. Amounts are
  ``NUMERIC(14, 2)``, ids 32-bit integers (PostgreSQL's ``INTEGER``), text columns refuse
  NUL, and date maths overflows near the year 9999.

Each function raises ``InvalidInput`` with one ``Problem`` on ``field``, worded by its
template (``templates/text/errors/``) next to that field of a form. Pure: no I/O, no
clock (callers pass ``today``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.domain.errors import InvalidInput, Problem

#: Longer than any number a person types (thousands separators, currency, decimals).
MAX_NUMBER_CHARS = 32
#: The largest amount a ``NUMERIC(14, 2)`` column holds.
MAX_AMOUNT = Decimal("999999999999.99")
#: Ids are ``INTEGER`` columns: 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1
#: The largest per-advocate limit count (per 90 or 365 days, open asks); far past any
#: real program, and inside every integer column.
MAX_LIMIT_COUNT = 1000
#: The most points an advocate can hold (an ``INTEGER`` column, with room to add to it).
MAX_POINTS = 10**9
#: The latest date anyone plans for; date maths (a day after, a week after) stays safe.
LATEST_DATE = date(2999, 12, 31)

# Plain decimal notation with a small exponent: "1200", "-3", "87.5", ".5", "1.2e3".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,2})?")
# Unicode's control characters (category Cc): C0, DEL and C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # not \t \n \r
_CURRENCY = ("$", "€", "£", "¥")
_SPACES = re.compile(r"[\s_]")
# Grouped digits: "1,200,000" and India's "12,00,000"; any other comma is not ours to guess.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{2,3})+(?:\.\d*)?")


def decimal_or_none(raw: object) -> Decimal | None:
    """A finite number from text or a number, or None when it is not one (or too long to
    be a number a person meant). Never does arithmetic on an unchecked value."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return Decimal(raw) if abs(raw) < 10**MAX_NUMBER_CHARS else None
    if isinstance(raw, float | Decimal):
        text = str(raw)
        if len(text) > MAX_NUMBER_CHARS:
            # Decimal/float spellings of large or tiny values use an exponent: check it.
            try:
                value = Decimal(raw)
            except (InvalidOperation, ValueError):
                return None
            if not value.is_finite() or abs(value.adjusted()) > 99:
                return None
            return value
    elif isinstance(raw, str):
        text = raw
    else:
        return None
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS:
        return None
    text = _SPACES.sub("", text)
    for symbol in _CURRENCY:
        text = text.removeprefix(symbol)
    if "," in text:
        if not _GROUPED.fullmatch(text):
            return None
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def whole_number(raw: object, field: str, *, low: int, high: int,
                 problem: Problem | None = None) -> int:
    """A whole number in ``low..high`` (``"45"``, ``45``, ``45.0``; not ``True`` or 45.5)."""
    value = decimal_or_none(raw)
    if value is None or not low <= value <= high or value != value.to_integral_value():
        raise InvalidInput({field: problem or Problem("number_out_of_range", low=low,
                                                      high=high)})
    return int(value)


def amount(raw: object, field: str, *, problem: Problem | None = None) -> Decimal:
    """A money amount from 0 up to what the database holds, rounded to cents."""
    value = decimal_or_none(raw)
    if value is None:
        raise InvalidInput({field: problem or Problem("amount_not_a_number")})
    if value < 0:
        raise InvalidInput({field: problem or Problem("amount_negative")})
    if value > MAX_AMOUNT:
        raise InvalidInput({field: Problem("amount_too_large", most=MAX_AMOUNT)})
    return value.quantize(Decimal("0.01"))


def has_control_characters(text: str, *, multiline: bool = True) -> bool:
    """Does ``text`` hold a control character (other than line breaks and tabs, when
    ``multiline``)? One regular-expression scan, cheap enough for every cell of a file."""
    return (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text) is not None


def refuse_control_characters(text: str, field: str, *, multiline: bool = True) -> str:
    """``text`` unchanged, unless it holds NUL or another control character (line breaks
    and tabs are fine in multi-line fields). PostgreSQL cannot store NUL in text at all,
    and the others only ever arrive by accident or on purpose, never by typing."""
    if has_control_characters(text, multiline=multiline):
        raise InvalidInput({field: Problem("control_characters")})
    return text


def date_in_range(value: date, field: str, *, earliest: date,
                  latest: date = LATEST_DATE, problem: Problem | None = None) -> date:
    """``value`` if it lies in ``earliest..latest``; the problem says the range."""
    if not earliest <= value <= latest:
        raise InvalidInput({field: problem or Problem("date_out_of_range", earliest=earliest,
                                                      latest=latest)})
    return value


def record_id(raw: object, field: str = "id") -> int:
    """The id of a stored record, from a button value or a typed command. The same
    refusal for a malformed id and one no row can have, so neither says more."""
    return whole_number(raw, field, low=1, high=MAX_ID, problem=Problem("no_such_record"))

"""Reading what Teams sends: the words of a message and card buttons.

Pure functions over plain dicts and strings (no botbuilder types), so they are tested with
payloads shaped like Teams' own. A card button arrives two ways — as an
``adaptiveCard/action`` invoke (Action.Execute) or, from clients without Universal Actions,
as a message whose ``value`` is the Action.Submit data — and both carry the verb in their
data, so one parser serves both. Anything malformed is refused with ``BadAction`` instead
of reaching a service half-read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

VERBS = frozenset({
    "intake.open", "intake.submit",
    "request.ask", "request.ask_best", "request.cancel",
    "ask.accept", "ask.decline", "ask.not_now",
    "approval.approve", "approval.deny",
    "schedule.pick", "schedule.propose", "schedule.confirm", "schedule.reject",
    "schedule.reschedule",
    "outcome.completed", "outcome.no_show", "outcome.rescheduled", "outcome.comment",
    "checkin.answer",
    "profile.pause", "profile.resume", "profile.limits", "profile.leave",
    "roster.show", "roster.limits",
})

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

class BadAction(ValueError):
    """A button or form payload the bot cannot read (an old card, a forged value)."""


@dataclass(frozen=True, slots=True)
class CardAction:
    """A clicked button with its data (ids from the card plus the inputs filled in)."""

    verb: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def integer(self, name: str) -> int:
        raw = self.data.get(name)
        if isinstance(raw, bool):
            raise BadAction(f"{name} is not a number")
        try:
            return int(str(raw).strip())
        except (TypeError, ValueError):
            raise BadAction(f"{name} is missing or not a number") from None

    def text(self, name: str) -> str:
        raw = self.data.get(name)
        return "" if raw is None else str(raw).strip()


def clean_text(text: str | None) -> str:
    """The words of a message: @mentions (channels, group chats) and markup removed."""
    without = _MENTION.sub(" ", text or "")
    return " ".join(_TAG.sub(" ", without).replace("&nbsp;", " ").split())


def parse_action(value: Any) -> CardAction:
    """Read an Action.Execute invoke value or an Action.Submit message value.

    Execute: ``{"action": {"type": "Action.Execute", "verb": v, "data": {...}}}`` (botbuilder
    4.17 hands ``action`` over as a plain dict). Submit: the data itself, with ``verb``.
    """
    if not isinstance(value, Mapping):
        raise BadAction("the card sent no data")
    action = value.get("action")
    if isinstance(action, Mapping):
        data = action.get("data")
        data = dict(data) if isinstance(data, Mapping) else {}
        verb = action.get("verb") or data.get("verb")
    else:
        data = dict(value)
        verb = data.get("verb")
    if not isinstance(verb, str) or verb not in VERBS:
        raise BadAction(f"unknown button {verb!r}")
    data.pop("verb", None)
    return CardAction(verb=verb, data=data)


# --- form values -------------------------------------------------------------------------


def proposed_times(data: Mapping[str, Any]) -> list[str]:
    """The intake form's day/time pairs as naive ISO strings (read in the rep's zone by
    ``validate_draft``); a day without a time, or a time without a day, is passed on as
    written so validation names it instead of dropping it."""
    found: list[str] = []
    for i in range(1, 4):
        day = str(data.get(f"proposed_date_{i}") or "").strip()
        clock = str(data.get(f"proposed_time_{i}") or "").strip()
        if day and clock:
            found.append(f"{day}T{clock}")
        elif day or clock:
            found.append(day or clock)
    return found


def moment_in_zone(day: str, clock: str, zone: str) -> datetime:
    """An Input.Date and Input.Time pair as an aware datetime in ``zone``."""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=tz)
    except ValueError:
        raise BadAction("give the day as YYYY-MM-DD and the time as HH:MM") from None


def whole(raw: Any) -> int | None:
    """An Input.Number value (``3`` or ``3.0``); None when empty; BadAction otherwise."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise BadAction(f"{text!r} is not a number") from None
    if not number.is_integer():
        raise BadAction(f"{text!r} is not a whole number")
    return int(number)


def helpfulness(raw: Any) -> int | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return -1  # out of range on purpose: the service names the field


def amount(raw: Any) -> Decimal | None:
    text = "" if raw is None else str(raw).strip().replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal("-1")  # the service refuses it with the field's message

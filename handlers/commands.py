"""The words people type to the bot, parsed the same way on every platform.

Slack's ``/advocate …`` and ``/advocates …`` and a Teams message ``advocate …`` or
``advocates …`` carry the same words after the command; this module is the one place that
reads them. Pure: plain strings in, frozen dataclasses (or ``InvalidInput`` naming what is
wrong) out, no chat SDK, so the parsing is tested without either platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.errors import InvalidInput
from bot.domain.model import LimitOverrides

LIMIT_KEYS = {
    "90d": "max_per_90_days", "quarter": "max_per_90_days", "max_per_90_days": "max_per_90_days",
    "365d": "max_per_365_days", "year": "max_per_365_days",
    "max_per_365_days": "max_per_365_days",
    "cooldown": "cooldown_days", "rest": "cooldown_days", "cooldown_days": "cooldown_days",
    "open": "max_open_asks", "asks": "max_open_asks", "max_open_asks": "max_open_asks",
}
LIMIT_NAMES = {
    "max_per_90_days": "the 90-day limit", "max_per_365_days": "the 365-day limit",
    "cooldown_days": "the rest between references", "max_open_asks": "the open-asks limit",
}
# What ``/advocate`` (about oneself) and ``/advocates`` (program managers) understand.
OWN_WORDS = frozenset({"me", "pause", "resume", "limits", "leave"})
ROSTER_WORDS = frozenset({"find", "show", "pause", "resume", "limits", "export", "digest",
                          "import"})


def split_command(text: str) -> tuple[str, str]:
    """``"cancel 12"`` → ``("cancel", "12")``; the word is lower-cased, the rest kept."""
    word, _, rest = (text or "").strip().partition(" ")
    return word.lower(), rest.strip()


_PAUSE = re.compile(
    r"^(?P<who>.*?)(?:\s*\buntil\s+(?P<until>\S+))?(?:\s*\b(?:because|reason:?)\s+(?P<why>.*))?$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class PauseArgs:
    who: str
    until: date | None
    reason: str


def parse_day(text: str, field: str = "until") -> date:
    """A day as ``YYYY-MM-DD``; ``InvalidInput`` on ``field`` otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput({field: f"The day {text.strip()!r} is not a date; write "
                            "YYYY-MM-DD, e.g. 2026-04-01."}) from None


def parse_pause(text: str) -> PauseArgs:
    """``"Ada Lovelace until 2026-04-01 because parental leave"`` (both parts optional;
    without a name, as in ``advocate pause until 2026-04-01``, ``who`` is empty)."""
    match = _PAUSE.match(text.strip())
    assert match is not None  # the pattern matches any text
    until = parse_day(match["until"]) if match["until"] else None
    return PauseArgs(match["who"].strip(), until, (match["why"] or "").strip())


@dataclass(frozen=True, slots=True)
class LimitsArgs:
    who: str
    limits: LimitOverrides | None  # None: only show the current limits
    reason: str


_ASSIGNMENT = re.compile(r"^(?P<key>[a-z_0-9]+)=(?P<value>\S*)$", re.IGNORECASE)


def parse_limits(text: str) -> LimitsArgs:
    """``"ada@x.example 90d=4 cooldown=7 because renewal push"``; ``clear`` drops every
    override; no assignment at all means "show me"."""
    head, reason = split_reason(text)
    who: list[str] = []
    values: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    cleared = False
    for word in head.split():
        found = _ASSIGNMENT.match(word)
        if word.lower() == "clear":
            cleared = True
        elif found:
            key = LIMIT_KEYS.get(found["key"].lower())
            if key is None:
                errors[found["key"]] = "is not a limit; use 90d, 365d, cooldown or open"
                continue
            raw = found["value"]
            if not raw.isdigit():
                errors[key] = f"{raw!r} is not a whole number"
                continue
            values[key] = int(raw)
        else:
            who.append(word)
    if errors:
        raise InvalidInput(errors)
    limits = LimitOverrides() if cleared else (LimitOverrides(**values) if values else None)
    return LimitsArgs(" ".join(who), limits, reason)


def split_reason(text: str) -> tuple[str, str]:
    """``"x 90d=4 because busy"`` → ``("x 90d=4", "busy")``."""
    parts = re.split(r"\s+(?:because|reason:?)\s+", " " + text.strip(), maxsplit=1,
                     flags=re.IGNORECASE)
    return parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""


def error_text(error: InvalidInput) -> str:
    """Field errors as sentences for a chat reply: a message that is already a sentence
    stands alone, a fragment ("can be at most 3", "'x' is not a whole number") gets its
    field's name in front."""
    parts = []
    for name, message in error.errors.items():
        if not message[:1].isupper() and name:
            subject = LIMIT_NAMES.get(name, name)
            joint = " " if message[:1].islower() else ": "
            message = f"{subject[:1].upper()}{subject[1:]}{joint}{message}"
        parts.append(message if message.endswith((".", "!", "?")) else message + ".")
    return " ".join(parts)


__all__ = [
    "LIMIT_KEYS",
    "LIMIT_NAMES",
    "OWN_WORDS",
    "ROSTER_WORDS",
    "LimitsArgs",
    "PauseArgs",
    "error_text",
    "parse_day",
    "parse_limits",
    "parse_pause",
    "split_command",
    "split_reason",
]

"""Replacing a person's identifying strings inside stored text and JSON.

Used when an advocate is forgotten (``bot.services.privacy``): outbox contexts and audit
details written before then may quote their email or name. Matching ignores case and takes
whole words only, so forgetting "Al" leaves "Alice" alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


def _pattern(replacements: Mapping[str, str]) -> re.Pattern[str] | None:
    words = sorted((w for w in replacements if w), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                      re.IGNORECASE)


def redact_text(text: str, replacements: Mapping[str, str]) -> str:
    """``text`` with every whole-word occurrence of a key replaced by its value."""
    pattern = _pattern(replacements)
    if pattern is None or not text:
        return text
    lookup = {k.lower(): v for k, v in replacements.items()}
    return pattern.sub(lambda m: lookup[m.group(0).lower()], text)


#: Keys that, next to a redacted name or email, describe the same person (an advocate's
#: card in a message: ``{"id", "name", "company", "title", "email"}``): they are cleared too.
SIBLINGS = ("company", "title")


def redact_json(value: Any, replacements: Mapping[str, str]) -> Any:
    """A copy of a JSON-like value with ``redact_text`` applied to every string in it,
    dictionary keys included. In a dictionary whose ``name`` or ``email`` was redacted,
    the ``SIBLINGS`` (the person's company and title) become empty strings."""
    if isinstance(value, str):
        return redact_text(value, replacements)
    if isinstance(value, Mapping):
        out = {redact_text(str(k), replacements): redact_json(v, replacements)
               for k, v in value.items()}
        if any(isinstance(value.get(k), str) and out.get(k) != value.get(k)
               for k in ("name", "email")):
            out.update({k: "" for k in SIBLINGS if isinstance(out.get(k), str)})
        return out
    if isinstance(value, list | tuple):
        return [redact_json(v, replacements) for v in value]
    return value


def search_forms(word: str) -> list[str]:
    """How ``word`` may appear in a JSON column's text: as is, lower case, and escaped the
    way ``json.dumps`` writes non-ASCII (SQLite stores JSON that way)."""
    escaped = json.dumps(word)[1:-1]
    return sorted({word, word.lower(), escaped, escaped.lower()})


__all__ = ["SIBLINGS", "redact_json", "redact_text", "search_forms"]

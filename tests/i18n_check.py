"""The pseudo-locale check: what a person would read, rendered with every catalog word
wrapped in ⟦ ⟧, must have no word left outside the brackets but the data it shows.

``stray_words(text, data)`` removes the bracketed words, the data (every string the
message's context carries: names, companies, what people typed), links, Slack's
``<@U…>``/``<!here>`` tokens and emoji codes, and returns the words that are left: words
that reached a person without passing through the catalog.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, is_dataclass
from functools import lru_cache
from typing import Any

from bot.i18n import PseudoTranslations
from bot.rendering import Renderer

# A bracketed word, or one whose end a length limit cut off (with its "…").
_BRACKETED = re.compile(r"⟦[^⟦⟧]*(?:⟧|…?$)")
_NOISE = re.compile(
    r"https?://\S*|mailto:\S+|<[@#!][^>]*>|<[^|>]+\||:[a-z0-9_+-]+:|\b[\w.+-]+@[\w-]+\.[\w.]+"
    r"|data:[^\s\"]+|&(?:amp|lt|gt|quot|#\d+);")
_WORD = re.compile(r"[^\W\d_]{2,}")

# Keys whose string values a person reads, in Slack Block Kit and Adaptive Cards.
VISIBLE_KEYS = frozenset({"text", "title", "label", "placeholder", "hint", "summary",
                          "fallbackText", "altText", "alt_text", "errorMessage"})


def pseudo_renderer() -> Renderer:
    """A renderer whose catalog wraps every word in ⟦ ⟧ and whose times are digits only
    (a formatted date is data, not a word the catalog holds)."""
    renderer = Renderer(translations=PseudoTranslations())
    renderer.extend(_digits_only_times)
    return renderer


def _digits_only_times(env: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def local_time(value: Any, zone: str, style: str = "full") -> str:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    env.filters["local_time"] = local_time


def data_strings(value: Any) -> Iterator[str]:
    """Every string in a context, however nested (dataclasses included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from data_strings(key)
            yield from data_strings(item)
    elif is_dataclass(value) and not isinstance(value, type):
        yield from data_strings(asdict(value))
    elif isinstance(value, Iterable) and not isinstance(value, bytes):
        for item in value:
            yield from data_strings(item)


def visible_strings(node: Any) -> Iterator[str]:
    """The strings of a Block Kit payload or an Adaptive Card that a person reads."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, str) and key in VISIBLE_KEYS:
                yield value
            elif key == "facts" and isinstance(value, list):  # a FactSet's values are read
                yield from (str(f.get("value", "")) for f in value if isinstance(f, Mapping))
                yield from visible_strings(value)
            else:
                yield from visible_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from visible_strings(item)


@lru_cache(maxsize=1)
def _named_in_code() -> frozenset[str]:
    """Words the code names (``N_``) and messages carry in English: the templates must
    translate them, so they do not count as data."""
    from bot.domain.model import REFERENCE_TYPE_LABELS
    from bot.services.advocates import Tier

    return frozenset([*REFERENCE_TYPE_LABELS.values(), *(t.label for t in Tier)])


def _without_cut(text: str, value: str) -> str:
    """``text`` without what is left of a long ``value`` that a length limit cut short."""
    if len(value) < 40:
        return text
    start = text.find(value[:20])
    while start >= 0:
        end = start
        while end < len(text) and end - start < len(value) and text[end] == value[end - start]:
            end += 1
        text = text[:start] + " " + text[end:]
        start = text.find(value[:20])
    return text


def stray_words(text: str, data: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that are neither catalog words nor data."""
    data = set(data) - _named_in_code()
    text = html.unescape(text)  # Slack's &amp; &lt; &gt;: data is matched as typed
    while True:  # innermost first: a sentence's placeholder may hold a bracketed word
        stripped = _BRACKETED.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    for value in sorted({d for d in data if len(d) > 1}, key=len, reverse=True):
        text = _without_cut(text.replace(value, " "), value)
    return _WORD.findall(_NOISE.sub(" ", text))

"""Jinja additions the Block Kit templates (``templates/slack/``) need.

Slack rejects a whole message or modal when one text is a character too long
(``invalid_blocks``), so every text a template builds from people's input is cut to its
field's limit with ``truncate``. The cut happens after ``slack_escape`` (Slack counts the
escaped text) and never splits an escape like ``&amp;`` in two, which Slack would show as
``&am…``.

``slack_renderer()`` is the renderer bootstrap should build: the core ``Renderer`` plus
these filters and the ``ids`` global, so templates name buttons by the constants in
``handlers/slack/ids.py`` rather than by strings that could drift. ``install`` adds the
same to a renderer built elsewhere; the form builders call it, so they work whichever
renderer they are handed.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from bot.rendering import Renderer, slack_escape
from handlers.slack import ids

# Slack's documented limits, by where the text goes (characters).
SECTION_TEXT: Final = 3000
SECTION_FIELD: Final = 2000
CONTEXT_TEXT: Final = 3000
HEADER_TEXT: Final = 150
BUTTON_TEXT: Final = 75
OPTION_TEXT: Final = 75
OPTION_VALUE: Final = 150
PLACEHOLDER: Final = 150
LABEL: Final = 2000
HINT: Final = 2000
VIEW_TITLE: Final = 24
CONFIRM_TITLE: Final = 100
CONFIRM_TEXT: Final = 300
NOTIFICATION: Final = 300  # the message's ``text``: what a phone notification shows
MAX_OPTIONS: Final = 100
MAX_VIEW_BLOCKS: Final = 100
MAX_MESSAGE_BLOCKS: Final = 50
ELLIPSIS: Final = "\N{HORIZONTAL ELLIPSIS}"

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


def truncate(text: object, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut.

    Trailing whitespace before the ellipsis goes, and so does a half-cut ``&amp;``,
    ``&lt;`` or ``&gt;`` (the escapes ``slack_escape`` writes), so the result is still
    valid Slack text.
    """
    value = str(text)
    if len(value) <= limit:
        return value
    if limit <= 0:
        return ""
    head = value[: limit - 1]
    head = _PARTIAL_ENTITY.sub("", head).rstrip()
    return head + ELLIPSIS


def one_line(text: object) -> str:
    """Newlines and runs of spaces as one space: for headers, buttons and options, which
    Slack shows on one line anyway (and some clients reject newlines in)."""
    return " ".join(str(text).split())


def unix(value: str | datetime) -> int:
    """An ISO or aware datetime as Unix seconds: what a datetime picker and the
    ``proposed:<seconds>`` block ids of ``time_proposed`` carry."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int(moment.timestamp())


def install(renderer: Renderer) -> Renderer:
    """Add the Block Kit filters and globals to ``renderer`` and its other locales
    (idempotent) and return it."""
    renderer.extend(_install)
    return renderer


def _install(env: Any) -> None:
    env.filters["truncate"] = truncate
    env.filters["one_line"] = one_line
    env.filters["unix"] = unix
    env.globals["ids"] = ids
    env.globals["limits"] = {
        "section": SECTION_TEXT,
        "field": SECTION_FIELD,
        "context": CONTEXT_TEXT,
        "header": HEADER_TEXT,
        "button": BUTTON_TEXT,
        "option": OPTION_TEXT,
        "placeholder": PLACEHOLDER,
        "label": LABEL,
        "hint": HINT,
        "title": VIEW_TITLE,
        "confirm_title": CONFIRM_TITLE,
        "confirm_text": CONFIRM_TEXT,
        "notification": NOTIFICATION,
    }


class SlackMarkup:
    """Shared reply text in Slack mrkdwn."""

    def b(self, text: object) -> str:
        return f"*{text}*"

    def t(self, text: object) -> str:
        return slack_escape(text)

    def code(self, text: object) -> str:
        return f"`{text}`"

    def cmd(self, text: str) -> str:
        return f"`/{text}`"


MARKUP = SlackMarkup()


def reply_text(renderer: Renderer, reply: Any) -> str:
    """A conversation reply's shared words in Slack mrkdwn."""
    return "\n".join(renderer.reply_lines(reply, MARKUP))


def slack_renderer(root: Path | None = None) -> Renderer:
    """The renderer for a process that talks to Slack (text and Teams templates render
    as before; Slack's Block Kit templates get what they need)."""
    return install(Renderer(root))


__all__ = ["MARKUP", "SlackMarkup", "install", "one_line", "reply_text", "slack_renderer",
           "truncate", "unix"]

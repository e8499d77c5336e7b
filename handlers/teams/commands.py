"""The words of a Teams message; its buttons are read by ``bot.conversation.clicks``."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def clean_text(text: str | None) -> str:
    """The words of a message: @mentions (channels, group chats) and markup removed."""
    without = _MENTION.sub(" ", text or "")
    return " ".join(_TAG.sub(" ", without).replace("&nbsp;", " ").split())

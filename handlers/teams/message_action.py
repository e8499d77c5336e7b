"""The Teams message action "Nominate as advocate" (the package's ``composeExtensions``):
the same as Slack's message shortcut.

Teams first asks for a form (``composeExtension/fetchTask``): a card pre-filled with the
message's author — their email when Teams' roster of that conversation knows it, their
name — and the message's text as the reason. Sending it (``composeExtension/submitAction``)
is ``advocates nominate`` with those values; the answer (filed with its readiness check,
or refused with the reasons) is shown in the task module. Pure functions over the invoke's
value; ``handler.AdvocateTeamsBot`` does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.conversation import commands as c
from bot.domain.model import Actor
from bot.services.nominations import NAME_MAX_CHARS, REASON_MAX_CHARS
from handlers.teams.commands import clean_text

COMMAND_ID = "nominateAdvocate"  # the package's composeExtensions command
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def author_of(value: Mapping[str, Any]) -> tuple[str, str, str]:
    """(the author's user id, their name, the message as plain text) of the message the
    action was used on."""
    payload = _mapping(value.get("messagePayload"))
    user = _mapping(_mapping(payload.get("from")).get("user"))
    body = _mapping(payload.get("body"))
    return (str(user.get("id") or ""), str(user.get("displayName") or ""),
            _cut(clean_text(str(body.get("content") or "")), REASON_MAX_CHARS))


def form_context(value: Mapping[str, Any], email: str | None) -> dict[str, Any]:
    """What the nominate card is pre-filled with."""
    _, name, text = author_of(value)
    return {"email": email or "", "name": _cut(name, NAME_MAX_CHARS), "reason": text,
            "reason_max": REASON_MAX_CHARS, "name_max": NAME_MAX_CHARS}


def command_of(actor: Actor, value: Mapping[str, Any]) -> c.Nominate:
    """The submitted card as the nominate command."""
    data = _mapping(value.get("data"))
    return c.Nominate(actor, email=str(data.get("email") or "").strip(),
                      reason=str(data.get("reason") or "").strip(),
                      name=str(data.get("name") or "").strip())


__all__ = ["COMMAND_ID", "FETCH_TASK", "SUBMIT_ACTION", "author_of", "command_of",
           "form_context"]

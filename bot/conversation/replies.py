"""What the conversation answers: a reply is a template name and a view model.

Every surface renders the same reply with its own templates: ``templates/<surface>/replies/
<name>.json.j2`` when the surface lays that reply out itself (a Teams card, Slack blocks),
else the shared words in ``templates/text/replies/<name>.txt.j2``. Shared text marks up
through ``m`` (a surface's ``Markup``: bold, code, escaping of what people typed), so the
same sentence reads right in Slack mrkdwn and Teams markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Tone = Literal["good", "attention", "default"]


class Markup(Protocol):
    """How a surface marks up shared text."""

    def b(self, text: object) -> str: ...  # strong
    def t(self, text: object) -> str: ...  # what a person typed, made inert
    def code(self, text: object) -> str: ...  # a literal to copy (a shell command)
    def cmd(self, words: str) -> str: ...  # a command to type, as this surface spells it


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that comes with a reply (the roster export); surfaces hand it over their way
    (Slack: uploaded into the person's DM; Teams: a file consent card)."""

    filename: str
    content: bytes
    media_type: str
    title: str


@dataclass(frozen=True, slots=True)
class Reply:
    """``template`` names the reply; ``context`` is its view model. ``form`` asks the
    surface to open a form (``forms.py`` names them) instead of, or as, the answer.
    ``locale``: the language to show it in when the command changed the person's (else
    the surface renders in the actor's)."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    tone: Tone = "default"
    form: str | None = None
    attachment: Attachment | None = None
    locale: str | None = None


def text_reply(template: str, tone: Tone = "default", **context: Any) -> Reply:
    return Reply(template, context, tone)


__all__ = ["Attachment", "Markup", "Reply", "Tone", "text_reply"]

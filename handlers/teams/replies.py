"""Conversation replies as Teams shows them: cards for what has a card, text for the rest.

The words are the shared reply templates (``templates/text/replies/``) marked up in Teams
markdown; the profile, the roster, the request list and the intake form have cards of their
own; a reply with a file hands it over as a file consent card (the file is made again, and
the role checked again, when the person accepts it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.conversation.formspec import PROPOSED_TIMES
from bot.conversation.replies import Reply
from bot.domain.errors import Problem
from bot.services.intake import RequestDraft
from bot.services.nominations import INVITE
from handlers.teams.cards import CARD_CONTENT_TYPE, TeamsCards, inert_links
from handlers.teams.messenger import file_activity

EXPORT_CONTEXT = "roster"  # the file consent card's acceptContext["export"] for the CSV
# Replies that are a sentence to read, not a result to keep: sent as a plain message.
PLAIN_REPLIES = frozenset({"help", "refused", "invalid", "unreadable", "cancel_which",
                           "digest_sent", "import_elsewhere", "roster_export", "language",
                           "language_chosen"})

Outgoing = Activity | str


class TeamsMarkup:
    """Shared reply text in the markdown Teams renders in messages and TextBlocks."""

    def b(self, text: object) -> str:
        return f"**{text}**"

    def t(self, text: object) -> str:
        return inert_links(str(text))

    def code(self, text: object) -> str:
        return f'"{text}"'

    def cmd(self, text: str) -> str:
        return f"**{text}**"


MARKUP = TeamsMarkup()


def card_activity(card: dict[str, Any]) -> Activity:
    return Activity(type=ActivityTypes.message,
                    attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)])


def lines(cards: TeamsCards, reply: Reply) -> list[str]:
    return cards.renderer.reply_lines(reply, MARKUP)


def reply_text(cards: TeamsCards, reply: Reply) -> str:
    """A shared reply's words as one Teams message."""
    return "\n\n".join(lines(cards, reply))


def text_of(cards: TeamsCards, template: str, **context: Any) -> str:
    return reply_text(cards, Reply(template, context))


def status_card(cards: TeamsCards, reply: Reply) -> dict[str, Any]:
    """A reply's words as a card: the first line its headline, the rest below."""
    head, *rest = lines(cards, reply) or [""]
    return cards.status(head, rest, tone=reply.tone)


def draft_values(draft: RequestDraft | None, zone: str = "UTC") -> dict[str, Any]:
    """The intake card's inputs pre-filled from the words typed after ``reference``, and
    the suggested times (aware ones, shown on the card's day and time boxes in ``zone``)."""
    if draft is None:
        return {}
    times = {name: f"{t.astimezone(ZoneInfo(zone)):%Y-%m-%dT%H:%M}"
             for name, t in zip(PROPOSED_TIMES, draft.proposed_times, strict=False)
             if isinstance(t, datetime) and t.tzinfo is not None}
    return {"industry": draft.industry, "region": draft.region, "language": draft.language,
            "reference_type": draft.reference_type, "company_size": draft.company_size,
            "products": ",".join(draft.products), "use_cases": ",".join(draft.use_cases),
            "notes": draft.notes, **times}


def intake_card(cards: TeamsCards, context: Mapping[str, Any], *,
                values: Mapping[str, Any] | None = None,
                errors: Mapping[str, Problem] | None = None) -> dict[str, Any]:
    """The intake card, pre-filled, with each field's problem worded on its field."""
    shown = dict(values) if values is not None else draft_values(context["draft"],
                                                                  context["timezone"])
    shown = {"timezone": context["timezone"], **shown}
    return cards.intake(form_id=uuid.uuid4().hex, values=shown, errors=errors or {},
                        known=context["known"], today=context["today"])


def own_card(cards: TeamsCards, reply: Reply) -> dict[str, Any] | None:
    """The card of a reply Teams lays out itself (a form, a profile, a list), else None."""
    context = reply.context
    if reply.form == "intake":
        return intake_card(cards, context)
    if reply.template == "profile" or reply.form == "own_limits":
        return cards.profile(context["profile"], viewer=context["viewer"],
                             timezone=context["timezone"],
                             program_limits=context["program_limits"], today=context["today"])
    if reply.template == "roster":
        return cards.roster(context["advocates"], query=context["query"])
    if reply.template == "request_list":
        return cards.request_list(list(context["requests"]))
    if reply.template == INVITE:  # `advocate join`: the invitation card, with its form
        return cards.outgoing(INVITE, context).card
    return None


def render(cards: TeamsCards, reply: Reply, *, channel_id: str | None, first_name: str,
           bot_name: str) -> list[Outgoing]:
    """What to send for ``reply``."""
    card = own_card(cards, reply)
    if card is not None:
        return [card_activity(card)]
    if reply.template == "help" and reply.context["topic"] == "all":
        welcome = card_activity(cards.welcome(name=first_name, bot_name=bot_name,
                                              rep=reply.context.get("rep", True)))
        return [lines(cards, reply)[0], welcome] if reply.context["unknown"] else [welcome]
    if reply.attachment is not None:
        file = reply.attachment
        return [reply_text(cards, reply),
                file_activity(file.content, file.filename, channel_id,
                              media_type=file.media_type, description=file.title,
                              accept_context={"export": EXPORT_CONTEXT,
                                              "filename": file.filename})]
    if reply.template in PLAIN_REPLIES:
        return [reply_text(cards, reply)]
    return [card_activity(status_card(cards, reply))]

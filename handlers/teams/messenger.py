"""Delivers outbox messages to Teams as proactive Adaptive Cards.

Teams lets a bot message someone unprompted only through the conversation reference it
received when that person first talked to the bot or installed it; those are stored per
chat identity (``PersonRepository.save_conversation_reference``). A recipient without
one cannot be reached at all: delivery raises ``Unreachable``, the outbox row becomes a
dead letter the digest lists, and the dispatcher has the program managers told (once per
person, ``bot.services.notices``) — never a silent skip.

A message that replaces an earlier one (an answered ask) updates that activity in place;
``platform_ref`` is the activity id Teams gave it. A message carrying an ``.ics`` invite
is followed by a file consent card (Teams' way for a bot to hand over a file in a
personal chat: the user accepts, the bot uploads to their OneDrive, see ``handler.py``);
elsewhere (the Emulator) the invite is attached inline. A chart (the digest's) is shown in
the card; one too big for the card follows as an inline image (``TeamsCards.outgoing``).

Teams throttles bots (per conversation 7 messages/s and 60 per 30 s, per app and tenant
50/s). ``SendPacer`` keeps this replica under those numbers, and what Teams still refuses
(429, 412, 502, 504) becomes ``DeliveryError(retry_after=...)`` so the outbox dispatcher
backs off; 403/404 (the bot was uninstalled or blocked) are permanent.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference

from bot.domain.model import Platform
from bot.ports import DeliveryError, OutboxMessage, OutgoingMessage, UnitOfWorkFactory, Unreachable
from handlers.teams.cards import (
    ACTIVITY_HEADROOM,
    CARD_CONTENT_TYPE,
    MAX_CARD_BYTES,
    InlineImage,
    TeamsCards,
)

log = logging.getLogger(__name__)

FILE_CONSENT_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
THROTTLED = {429: 2.0, 412: 2.0, 502: 5.0, 504: 5.0}  # status -> default wait (s)
PERMANENT = frozenset({400, 403, 404, 413})
MAX_PACING_WAIT = 5.0  # longer than this, hand the message back to the dispatcher instead


class SendPacer:
    """Sliding-window limits per conversation and per tenant, for one replica.

    In memory on purpose: it only spares Teams (and us) pointless 429s; correctness comes
    from the outbox, which retries whatever Teams refuses.
    """

    WINDOWS: tuple[tuple[str, float, int], ...] = (
        ("conversation", 1.0, 7),
        ("conversation", 30.0, 60),
        ("tenant", 1.0, 50),
    )

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[tuple[str, str], deque[float]] = {}

    def wait_for(self, conversation: str, tenant: str) -> float:
        """Seconds until one more message may go to ``conversation`` in ``tenant``."""
        now = self._clock()
        wait = 0.0
        for scope, window, limit in self.WINDOWS:
            sent = self._sent.get((scope, conversation if scope == "conversation" else tenant))
            if not sent:
                continue
            recent = [t for t in sent if t > now - window]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + window - now)
        return wait

    async def acquire(self, conversation: str, tenant: str) -> None:
        """Wait for a free slot and take it. The dispatcher sends several messages at once:
        checking and taking a slot happen with no ``await`` between them, so two sends
        can never both take the last slot; one that had to wait checks again."""
        while True:
            wait = self.wait_for(conversation, tenant)
            if wait > MAX_PACING_WAIT:
                raise DeliveryError("Teams send limit reached for this conversation",
                                    retry_after=wait)
            if wait <= 0:
                break
            await self._sleep(wait)
        now = self._clock()
        for key in (("conversation", conversation), ("tenant", tenant)):
            sent = self._sent.setdefault(key, deque())
            sent.append(now)
            while sent and sent[0] <= now - 30.0:
                sent.popleft()


class TeamsMessenger:
    platform = Platform.TEAMS

    def __init__(self, adapter: BotAdapter, cards: TeamsCards, uow: UnitOfWorkFactory, *,
                 app_id: str = "", pacer: SendPacer | None = None) -> None:
        self.adapter = adapter
        self.cards = cards
        self.uow = uow
        self.app_id = app_id
        self.pacer = pacer or SendPacer()

    def render(self, message: OutgoingMessage, locale: str | None = None) -> list[Activity]:
        """The message as a card activity (its text is the notification preview), then any
        image too big to go in the card, each in an activity of its own, in ``locale``."""
        rendered = self.cards.for_locale(locale).outgoing(message.template, message.context)
        card = Activity(
            type=ActivityTypes.message,
            summary=rendered.text[:200],
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=rendered.card)],
        )
        return [card, *(image_activity(image) for image in rendered.follow_up_images)]

    async def deliver(self, message: OutboxMessage) -> str | None:
        recipient = message.message.recipient
        identity = recipient.identity
        if identity is None or identity.platform != Platform.TEAMS:
            raise DeliveryError(f"{recipient.email or 'recipient'} has no Teams identity",
                                permanent=True)
        async with self.uow() as uow:
            stored = await uow.people.conversation_reference(identity)
        if stored is None:
            log.warning("Teams cannot reach %s: no conversation reference",
                        recipient.email or identity.user_id)
            raise Unreachable(
                f"no Teams conversation for {recipient.email or identity.user_id}: they have "
                "not opened the bot in Teams yet (program managers told)", recipient)
        reference = ConversationReference().deserialize(stored)
        activity, *follow_ups = self.render(message.message, message.locale)
        renderer = self.cards.renderer.for_locale(message.locale)
        report = await asyncio.to_thread(renderer.report_files, message.message.context)
        ics = renderer.invite_ics(message.message.context) or ""
        filename = str(message.message.context.get("ics_filename") or "invite.ics")
        sent: list[str | None] = []

        async def send(turn_context: TurnContext) -> None:
            channel = turn_context.activity.channel_id
            if message.replaces_ref:
                activity.id = message.replaces_ref
                await turn_context.update_activity(activity)
                sent.append(message.replaces_ref)
            else:
                response = await turn_context.send_activity(activity)
                sent.append(response.id if response is not None else None)
                for follow_up in follow_ups:
                    await turn_context.send_activity(follow_up)
                for extra in report_activities(report, message.message.context, channel):
                    await turn_context.send_activity(extra)
            if ics:
                await turn_context.send_activity(invite_activity(ics, filename, channel))

        conversation = reference.conversation.id if reference.conversation else ""
        await self.pacer.acquire(conversation, identity.workspace_id)
        try:
            # Positional: CloudAdapter names it bot_app_id, TestAdapter bot_id.
            await self.adapter.continue_conversation(reference, send, self.app_id)
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error) from error
        return sent[0] if sent else None



def report_activities(files: list[Any], context: Mapping[str, Any],
                      channel_id: str | None) -> list[Activity]:
    """The program report's charts as inline images after its card (each that fits an
    activity), then its CSV and XLSX as files to accept: the consent card carries the
    period, and ``handler.py`` makes the file again for the program manager who accepts."""
    images = [InlineImage(file.filename, f"data:{file.media_type};base64,"
                          + base64.b64encode(file.content).decode("ascii"), file.media_type)
              for file in files if file.media_type.startswith("image/")]
    shown = [image_activity(image) for image in images
             if image.size <= MAX_CARD_BYTES - ACTIVITY_HEADROOM]
    return shown + [file_activity(
        file.content, file.filename, channel_id, media_type=file.media_type,
        description=file.title, accept_context={
            "report": file.filename.rsplit(".", 1)[-1], "period": context.get("period"),
            "from_day": context.get("from_day"), "to_day": context.get("to_day")})
        for file in files if not file.media_type.startswith("image/")]


def image_activity(image: InlineImage) -> Activity:
    """An image shown in the conversation (Teams' inline image: an image attachment whose
    ``contentUrl`` is a ``data:`` URI), not a file to accept or open."""
    return Activity(type=ActivityTypes.message, attachments=[Attachment(
        content_type=image.media_type, content_url=image.data_url, name=image.name)])


def invite_activity(ics: str, filename: str, channel_id: str | None) -> Activity:
    """The calendar invite: a file consent card in Teams, an inline file elsewhere."""
    return file_activity(ics.encode(), filename, channel_id, media_type="text/calendar",
                         description="Calendar invite for your reference call",
                         accept_context={"ics": ics, "filename": filename})


def file_activity(data: bytes, filename: str, channel_id: str | None, *, media_type: str,
                  description: str, accept_context: Mapping[str, Any]) -> Activity:
    """A file for the person: in Teams a file consent card (accepting it makes Teams ask
    the bot to upload the file, see ``handler.py``; ``accept_context`` comes back with
    that request), elsewhere (the Emulator) the file inline as a ``data:`` URL."""
    if channel_id == "msteams":
        attachment = Attachment(
            content_type=FILE_CONSENT_CONTENT_TYPE,
            name=filename,
            content={
                "description": description,
                "sizeInBytes": len(data),
                "acceptContext": dict(accept_context),
                "declineContext": {"filename": filename},
            },
        )
    else:
        attachment = Attachment(
            content_type=media_type, name=filename,
            content_url=f"data:{media_type};base64," + base64.b64encode(data).decode())
    return Activity(type=ActivityTypes.message, attachments=[attachment])


def delivery_error(error: BaseException) -> DeliveryError:
    """Map a Bot Framework connector failure to what the dispatcher should do next."""
    response: Any = getattr(error, "response", None)
    status = int(getattr(response, "status_code", 0) or getattr(response, "status", 0) or 0)
    if status == 0:
        return DeliveryError(f"Teams unreachable: {error!r}")
    if status in THROTTLED:
        return DeliveryError(f"Teams answered {status}",
                             retry_after=_retry_after(response, THROTTLED[status]))
    if status in PERMANENT:
        return DeliveryError(f"Teams refused ({status}): {_error_code(error)}", permanent=True)
    return DeliveryError(f"Teams answered {status}: {_error_code(error)}")


def _retry_after(response: Any, default: float) -> float:
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(raw), 0.0) if raw is not None else default
    except ValueError:
        return default


def _error_code(error: BaseException) -> str:
    inner = getattr(getattr(error, "error", None), "error", None)
    code = getattr(inner, "code", None)
    return str(code or error)[:200]

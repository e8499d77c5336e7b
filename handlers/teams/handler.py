"""The Teams bot: activity in, conversation command out, its reply back as a card.

Kept thin on purpose. Every turn first remembers who is talking (chat identity, email from
the Teams roster, the ``localTimezone`` and ``locale`` Teams reports) and the conversation
reference proactive messages need later, and works out the language they read (their own
choice, the roster's, their Teams client's: ``bot.services.locales``); every reply and card
of the turn is rendered in it. Then:

* a typed message (``reference …``, ``advocate …``, ``advocates …``, ``help``) is read by
  ``bot.conversation.words``, the parser Slack's slash commands use too, dispatched, and
  its reply rendered by ``replies.render``;
* a card button arrives as an ``adaptiveCard/action`` invoke (Action.Execute), is read
  into a command by ``clicks.command_of``, dispatched, and answered with the reply's
  card, which replaces the clicked one, so a second click finds no button;
  older clients send the Action.Submit fallback as a message with a ``value``, answered by
  updating the card the button was on;
* the file consent card of a calendar invite (or of the roster export) uploads the file
  when accepted.

The invoke response is built here as an ``InvokeResponse`` holding a model, because
botbuilder 4.17's ``ActivityHandler`` serializes invoke bodies once and ``CloudAdapter``
again, which fails (docs/design.md, "Pitfalls already found").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import (
    FileConsentCardResponse,
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleTaskInfo,
)
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.conversation import clicks, words
from bot.conversation.clicks import BadAction, CardAction, draft_from_form
from bot.conversation.commands import ExportRoster, StartRequest
from bot.conversation.dispatcher import dispatch
from bot.conversation.replies import Reply as ConversationReply
from bot.conversation.views import zone_of
from bot.domain.errors import DomainError
from bot.domain.model import (
    Actor,
    Identity,
    Person,
    Platform,
)
from bot.i18n import normalize
from bot.report_files import FILE_PREFIX as REPORT_FILE_PREFIX
from bot.report_files import file_again
from bot.services.context import ServiceContext
from bot.services.locales import reading
from bot.services.roles import may_request, resolve_actor
from handlers.teams import commands, message_action, replies
from handlers.teams.cards import TeamsCards
from handlers.teams.graph import GraphGroups
from handlers.teams.replies import EXPORT_CONTEXT, card_activity

log = logging.getLogger(__name__)

ACTOR_KEY = "advocate_bot.actor"
FILE_INFO_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.info"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


class Member(NamedTuple):
    """What Teams' roster says about a user: their email, and whether they are a full
    member of the tenant (False: a guest or anonymous; None: Teams did not say)."""

    email: str | None
    internal: bool | None = None


MemberEmail = Callable[[TurnContext], Awaitable[Member]]
Outgoing = Activity | str


class InvokeBody(Model):
    """The body of an ``adaptiveCard/action`` answer: a card or a message. A model of our
    own because botbuilder's ``AdaptiveCardInvokeResponse`` cannot carry a plain string."""

    _attribute_map = {  # noqa: RUF012 - msrest reads this class attribute
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, status_code: int, type: str, value: Any) -> None:
        super().__init__()
        self.status_code = status_code
        self.type = type
        self.value = value


@dataclass(frozen=True, slots=True)
class Reply:
    """What a button click comes to: a card replacing the clicked one, or a short message
    (an error, a refusal) that leaves the card as it was so the person can try again."""

    card: dict[str, Any] | None = None
    message: str | None = None


def identity_of(activity: Activity) -> Identity:
    """A Teams user is (tenant, ``from.id``); the Emulator has no tenant, so its channel
    stands in."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    named = channel_data.get("tenant")
    tenant = (getattr(activity.conversation, "tenant_id", None)
              or (named.get("id") if isinstance(named, Mapping) else None)
              or activity.channel_id or "unknown")
    return Identity(Platform.TEAMS, str(tenant), str(activity.from_property.id))


def valid_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        return None
    return name


def keeps_reference(activity: Activity) -> bool:
    """Only one-to-one chats are addresses for a person: a reference from a channel or a
    group chat would post their asks where everyone reads them."""
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, "", "personal")


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference to store, without the id of the activity it came from
    (it changes every turn and proactive messages do not need it)."""
    reference = TurnContext.get_conversation_reference(activity).serialize()
    reference.pop("activityId", None)
    return reference


async def teams_member_email(turn_context: TurnContext) -> Member:
    """The user's email and role: Teams' roster knows them; the Emulator has none, so a
    user id or name typed as an email there (local testing) stands in."""
    activity = turn_context.activity
    if activity.channel_id == "msteams":
        try:
            member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
        except Exception as error:  # the roster call failing must not lose the message
            # One line, no traceback: a user the roster does not know is the sender's
            # doing (an id anyone can type in an activity), not a bug of ours.
            log.warning("could not read the Teams roster for %.60r: %s: %.200s",
                        activity.from_property.id, type(error).__name__, error)
            return Member(None)
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        role = str(getattr(member, "user_role", None) or "").lower()
        internal = {"user": True, "guest": False, "anonymous": False}.get(role)
        home = identity_of(activity).workspace_id  # the tenant the activity came from
        if str(getattr(member, "tenant_id", None) or home).lower() != home.lower():
            internal = False  # a user of another tenant (shared channel, federation)
        return Member(str(email).lower() if email else None, internal)
    for candidate in (activity.from_property.id, activity.from_property.name):
        if candidate and "@" in candidate:
            return Member(str(candidate).strip().lower())
    return Member(None)


class AdvocateTeamsBot(TeamsActivityHandler):
    def __init__(self, ctx: ServiceContext, cards: TeamsCards, *, bot_name: str,
                 member_email: MemberEmail = teams_member_email,
                 rep_group: GraphGroups | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.cards = cards
        self.bot_name = bot_name
        self.member_email = member_email
        self.rep_group = rep_group  # REP_TEAMS_GROUP: only its members are reps

    # --- every turn -------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        sender = activity.from_property
        from_user = sender is not None and sender.id and (
            activity.recipient is None or sender.id != activity.recipient.id)
        if from_user and activity.type in (ActivityTypes.message, ActivityTypes.invoke,
                                           ActivityTypes.conversation_update,
                                           ActivityTypes.installation_update):
            turn_context.turn_state[ACTOR_KEY] = await self.remember(turn_context)
        await super().on_turn(turn_context)

    async def remember(self, turn_context: TurnContext) -> Actor:
        """Store who this is (refreshing their time zone) and how to reach them later."""
        activity = turn_context.activity
        identity = identity_of(activity)
        async with self.ctx.uow() as uow:
            known = await uow.people.get_by_identity(identity)
            stored_reference = await uow.people.conversation_reference(identity)
        member = (Member(known.email, known.internal) if known is not None and known.email
                  and known.internal is not None else None)
        if member is None:
            member = await self.member_email(turn_context)  # a network call: outside the uow
        person = Person(
            email=member.email or (known.email if known is not None else None),
            internal=member.internal,
            display_name=activity.from_property.name or (known.display_name if known else ""),
            identity=identity,
            timezone=valid_zone(activity.local_timezone) or (known.timezone if known else None),
            # The language their Teams client is in, on every activity; their own choice
            # is kept by the people table.
            locale=normalize(activity.locale) or (known.locale if known else None),
            chosen_locale=known.chosen_locale if known else None,
        )
        judged = person  # what the roles are read from; the table keeps what Teams said
        if self.rep_group is not None and person.internal is not False and not (
                await self.rep_group.contains(activity.from_property.aad_object_id)):
            judged = replace(person, internal=False)
        async with self.ctx.uow() as uow:
            if person != known:
                await uow.people.upsert(person)
            if keeps_reference(activity):
                reference = reference_of(activity)
                if reference != stored_reference:
                    await uow.people.save_conversation_reference(identity, reference)
            actor = await reading(self.ctx, uow, await resolve_actor(self.ctx, uow, judged))
            await uow.commit()
        return actor

    @staticmethod
    def actor(turn_context: TurnContext) -> Actor:
        return turn_context.turn_state[ACTOR_KEY]

    def cards_for(self, actor: Actor, reply: ConversationReply | None = None) -> TeamsCards:
        """The cards in the actor's language, or in the one a reply says it is in (the
        language the person just chose)."""
        return self.cards.for_locale(reply.locale if reply is not None and reply.locale
                                     else actor.locale)

    # --- joining ----------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Teams also sends an installationUpdate on install (welcomed there); the
        Emulator sends only this, so it is welcomed here."""
        activity = turn_context.activity
        bot = activity.recipient.id if activity.recipient is not None else None
        bot_added = bool(bot) and any(m is not None and m.id == bot
                                      for m in activity.members_added or [])
        if bot_added and activity.channel_id != "msteams":
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        name = turn_context.activity.from_property.name or ""
        actor = self.actor(turn_context)
        await turn_context.send_activity(card_activity(
            self.cards_for(actor).welcome(name=name.split(" ")[0], bot_name=self.bot_name,
                                          rep=may_request(actor))))

    # --- typed messages ---------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, Mapping) and not (activity.text or "").strip():
            await self._submitted(turn_context, activity.value)
            return
        actor = self.actor(turn_context)
        command = words.read(commands.clean_text(activity.text), actor)
        reply = await dispatch(self.ctx, command)
        first_name = (activity.from_property.name or "").split(" ")[0]
        for outgoing in replies.render(self.cards_for(actor, reply), reply,
                                       channel_id=activity.channel_id,
                                       first_name=first_name, bot_name=self.bot_name):
            await turn_context.send_activity(outgoing)

    async def _submitted(self, turn_context: TurnContext, value: Mapping[str, Any]) -> None:
        """Action.Submit (no Universal Actions): answer by updating the clicked card."""
        reply = await self.act(self.actor(turn_context), value)
        reply_to = turn_context.activity.reply_to_id
        if reply.card is not None and reply_to:
            activity = card_activity(reply.card)
            activity.id = reply_to
            await turn_context.update_activity(activity)
            return
        await send_reply(turn_context, reply)

    # --- Universal Actions ------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name in (message_action.FETCH_TASK,
                                          message_action.SUBMIT_ACTION):
            return await self.message_action(turn_context)
        if turn_context.activity.name != "adaptiveCard/action":
            try:
                if not isinstance(turn_context.activity.value, Mapping):
                    raise DeserializationError("the invoke's value is not an object")
                return await super().on_invoke_activity(turn_context)
            except DeserializationError:  # botbuilder read a value of the wrong shape
                log.info("an invoke %.40r with a value of the wrong shape",
                         turn_context.activity.name)
                return InvokeResponse(status=int(HTTPStatus.BAD_REQUEST))
        reply = await self.act(self.actor(turn_context), turn_context.activity.value)
        if reply.card is not None:
            body = InvokeBody(status_code=200, type=CARD_RESPONSE, value=reply.card)
        else:
            body = InvokeBody(status_code=200, type=MESSAGE_RESPONSE, value=reply.message or "")
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    async def message_action(self, turn_context: TurnContext) -> InvokeResponse:
        """"Nominate as advocate" on a message: the pre-filled form, then its answer, as
        task module responses (a model, serialized once by the adapter)."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, Mapping) else {}
        if value.get("commandId") != message_action.COMMAND_ID:
            return InvokeResponse(status=int(HTTPStatus.BAD_REQUEST))
        if activity.name == message_action.FETCH_TASK:
            user_id = message_action.author_of(value)[0]
            email = await self.author_email(turn_context, user_id) if user_id else None
            card = self.cards.renderer.render_json(
                "teams/nominate_task.json.j2", message_action.form_context(value, email))
            task: Model = TaskModuleContinueResponse(value=TaskModuleTaskInfo(
                title=self.cards.renderer.text("nominate_task_title", {}),
                card=Attachment(content_type=CARD_RESPONSE, content=card),
                height="medium", width="medium"))
        else:
            command = message_action.command_of(self.actor(turn_context), value)
            reply = await dispatch(self.ctx, command)
            task = TaskModuleMessageResponse(value=replies.reply_text(self.cards, reply))
        return InvokeResponse(status=int(HTTPStatus.OK),
                              body=MessagingExtensionActionResponse(task=task))

    @staticmethod
    async def author_email(turn_context: TurnContext, user_id: str) -> str | None:
        """The author's email from Teams' roster of the conversation the message is in;
        None when the bot cannot read it there (the nominator types it)."""
        try:
            member = await TeamsInfo.get_member(turn_context, user_id)
        except Exception as error:  # not a member there, or no roster: ask instead
            log.info("no roster entry for a message's author: %s", type(error).__name__)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return str(email).lower() if email else None

    async def act(self, actor: Actor, value: Any) -> Reply:
        try:
            action = clicks.parse_action(value)
        except BadAction:
            return Reply(message=replies.text_of(self.cards_for(actor), "stale_button"))
        return await self.run(actor, action)

    async def run(self, actor: Actor, action: CardAction) -> Reply:
        """One button, one command. The reply replaces the clicked card; a short message
        (a refusal, an error) leaves the card as it was, so the person can try again."""
        cards = self.cards_for(actor)
        refused = clicks.refusal(action, self.ctx.policy.limits, cards.renderer)
        try:
            draft = draft_from_form(action.data) if action.verb == "intake.submit" else None
            command = None if refused is not None else clicks.command_of(
                actor, action, zone=zone_of(self.ctx, actor), draft=draft)
        except BadAction:
            return Reply(message=replies.text_of(cards, "stale_button"))
        answer = refused if refused is not None else \
            await dispatch(self.ctx, command)  # type: ignore[arg-type]
        if action.verb == "intake.submit" and answer.template == "invalid":
            values = {k: v for k, v in action.data.items() if k not in ("form_id", "choose")}
            form = await dispatch(self.ctx, StartRequest(actor))
            return Reply(card=replies.intake_card(cards, form.context, values=values,
                                                  errors=answer.context["errors"]))
        cards = self.cards_for(actor, answer)
        card = replies.own_card(cards, answer)
        if card is not None:
            return Reply(card=card)
        if answer.template in replies.PLAIN_REPLIES:
            return Reply(message=replies.reply_text(cards, answer))
        return Reply(card=replies.status_card(cards, answer))

    # --- calendar files ---------------------------------------------------------------

    async def on_teams_file_consent_accept(
            self, turn_context: TurnContext,
            file_consent_card_response: FileConsentCardResponse) -> None:
        """Upload the accepted file to the user's OneDrive (the URL Teams gave) and show
        it: a calendar invite travels in the card's context; the roster export is made
        now, for a program manager only, so the card never carries contact details."""
        context = file_consent_card_response.context or {}
        kind = "roster" if context.get("export") == EXPORT_CONTEXT else "invite"
        cards = self.cards_for(self.actor(turn_context))
        if context.get("report"):  # the program report's CSV or XLSX, made again now
            kind = "report"
            try:
                data = await file_again(self.ctx, self.actor(turn_context),
                                        cards.renderer, context)
            except DomainError as error:
                await turn_context.send_activity(
                    replies.text_of(cards, "refused", problem=error.problem))
                return
        elif kind == "roster":
            export = await dispatch(self.ctx, ExportRoster(self.actor(turn_context)))
            if export.attachment is None:
                await turn_context.send_activity(
                    replies.text_of(cards, export.template, **export.context))
                return
            data = export.attachment.content
        else:
            data = str(context.get("ics", "")).encode()
        failed = replies.text_of(
            cards, "report_file_not_saved" if kind == "report" else "file_not_saved",
            kind=kind)
        info = file_consent_card_response.upload_info
        headers = {"Content-Length": str(len(data)),
                   "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
        async with aiohttp.ClientSession() as session, session.put(
                info.upload_url, data=data, headers=headers) as response:
            if response.status >= 400:
                await turn_context.send_activity(failed)
                return
        await turn_context.send_activity(Activity(
            type=ActivityTypes.message,
            attachments=[Attachment(
                content_type=FILE_INFO_CONTENT_TYPE, content_url=info.content_url,
                name=info.name, content={"uniqueId": info.unique_id,
                                         "fileType": info.file_type})]))

    async def on_teams_file_consent_decline(
            self, turn_context: TurnContext,
            file_consent_card_response: FileConsentCardResponse) -> None:
        context = file_consent_card_response.context or {}
        cards = self.cards_for(self.actor(turn_context))
        filename = str(context.get("filename", ""))
        if filename.startswith(REPORT_FILE_PREFIX):
            await turn_context.send_activity(replies.text_of(cards, "report_file_declined"))
            return
        kind = "roster" if filename.endswith(".csv") else "invite"
        await turn_context.send_activity(replies.text_of(cards, "file_declined", kind=kind))


# --- helpers --------------------------------------------------------------------------


async def send_reply(turn_context: TurnContext, reply: Reply) -> None:
    if reply.card is not None:
        await turn_context.send_activity(card_activity(reply.card))
    elif reply.message:
        await turn_context.send_activity(reply.message)

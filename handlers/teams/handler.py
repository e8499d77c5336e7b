"""The Teams bot: activity in, command out, a service call, a card back.

Kept thin on purpose. Every turn first remembers who is talking (chat identity, email from
the Teams roster, the ``localTimezone`` Teams reports) and the conversation reference
proactive messages need later; then:

* a typed message (``reference …``, ``advocate …``, ``advocates …``, ``help``) is parsed
  by ``commands.parse_text``; the words after ``advocate``/``advocates`` by
  ``handlers.commands``, the same parser Slack's slash commands use;
* a card button arrives as an ``adaptiveCard/action`` invoke (Action.Execute) and is
  answered with a card that replaces the clicked one, so a second click finds no button;
  older clients send the Action.Submit fallback as a message with a ``value``, answered by
  updating the card the button was on;
* the file consent card of a calendar invite (or of the roster export) uploads the file
  when accepted.

The invoke response is built here as an ``InvokeResponse`` holding a model, because
botbuilder 4.17's ``ActivityHandler`` serializes invoke bodies once and ``CloudAdapter``
again, which fails (ARCHITECTURE.md, "Pitfalls already found").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import FileConsentCardResponse
from msrest.serialization import Model

from bot.conversation import words
from bot.conversation.commands import StartRequest
from bot.conversation.dispatcher import dispatch
from bot.conversation.forms import LIMIT_LABELS, forgive
from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.domain.model import (
    Actor,
    AskState,
    EngagementState,
    Identity,
    LimitOverrides,
    Outcome,
    Person,
    Platform,
    Role,
)
from bot.rendering import local_time
from bot.services import asks, checkins, outcomes, requests, scheduling
from bot.services.advocates import (
    advocate_profile,
    leave_program,
    pause_advocate,
    resume_advocate,
    set_manager_limits,
    set_own_limits,
)
from bot.services.context import ServiceContext
from bot.services.requests import RequestDraft
from bot.services.roles import is_advocate, require, resolve_actor
from bot.services.roster import export_roster
from handlers.teams import commands, replies
from handlers.teams.cards import TeamsCards
from handlers.teams.commands import BadAction, CardAction
from handlers.teams.replies import EXPORT_CONTEXT, card_activity

log = logging.getLogger(__name__)

ACTOR_KEY = "advocate_bot.actor"
FILE_INFO_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.info"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
STALE_BUTTON = ("That button belongs to an old card; type \"reference list\" to see where "
                "things are.")


MemberEmail = Callable[[TurnContext], Awaitable[str | None]]
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
    tenant = (getattr(activity.conversation, "tenant_id", None)
              or (channel_data.get("tenant") or {}).get("id")
              or activity.channel_id or "unknown")
    return Identity(Platform.TEAMS, str(tenant), str(activity.from_property.id))


def valid_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
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


async def teams_member_email(turn_context: TurnContext) -> str | None:
    """The user's email: Teams' roster knows it; the Emulator has none, so a user id or
    name typed as an email there (local testing) stands in."""
    activity = turn_context.activity
    if activity.channel_id == "msteams":
        try:
            member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
        except Exception:  # the roster call failing must not lose the user's message
            log.warning("could not read the Teams roster for %s", activity.from_property.id,
                        exc_info=True)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return str(email).lower() if email else None
    for candidate in (activity.from_property.id, activity.from_property.name):
        if candidate and "@" in candidate:
            return str(candidate).strip().lower()
    return None


class AdvocateTeamsBot(TeamsActivityHandler):
    def __init__(self, ctx: ServiceContext, cards: TeamsCards, *, bot_name: str,
                 member_email: MemberEmail = teams_member_email) -> None:
        super().__init__()
        self.ctx = ctx
        self.cards = cards
        self.bot_name = bot_name
        self.member_email = member_email

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
        email = known.email if known is not None and known.email else None
        if email is None:
            email = await self.member_email(turn_context)  # a network call: outside the uow
        person = Person(
            email=email,
            display_name=activity.from_property.name or (known.display_name if known else ""),
            identity=identity,
            timezone=valid_zone(activity.local_timezone) or (known.timezone if known else None),
        )
        async with self.ctx.uow() as uow:
            if person != known:
                await uow.people.upsert(person)
            if keeps_reference(activity):
                reference = reference_of(activity)
                if reference != stored_reference:
                    await uow.people.save_conversation_reference(identity, reference)
            actor = await resolve_actor(self.ctx, uow, person)
            await uow.commit()
        return actor

    @staticmethod
    def actor(turn_context: TurnContext) -> Actor:
        return turn_context.turn_state[ACTOR_KEY]

    # --- joining ----------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Teams also sends an installationUpdate on install (welcomed there); the
        Emulator sends only this, so it is welcomed here."""
        activity = turn_context.activity
        bot_added = any(m.id == activity.recipient.id for m in activity.members_added or [])
        if bot_added and activity.channel_id != "msteams":
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        name = turn_context.activity.from_property.name or ""
        await turn_context.send_activity(card_activity(
            self.cards.welcome(name=name.split(" ")[0], bot_name=self.bot_name)))

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
        for outgoing in replies.render(self.cards, reply, channel_id=activity.channel_id,
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
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        reply = await self.act(self.actor(turn_context), turn_context.activity.value)
        if reply.card is not None:
            body = InvokeBody(status_code=200, type=CARD_RESPONSE, value=reply.card)
        else:
            body = InvokeBody(status_code=200, type=MESSAGE_RESPONSE, value=reply.message or "")
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    async def act(self, actor: Actor, value: Any) -> Reply:
        try:
            action = commands.parse_action(value)
        except BadAction:
            return Reply(message=STALE_BUTTON)
        return await self.run(actor, action)

    async def run(self, actor: Actor, action: CardAction) -> Reply:
        """One button, one service call; refusals become a message, not an error."""
        try:
            return await self._dispatch(actor, action)
        except BadAction:
            return Reply(message=STALE_BUTTON)
        except InvalidInput as error:
            return Reply(message=replies.text_of(self.cards, "invalid", errors=error.errors))
        except words.BadWords as error:
            return Reply(message=replies.text_of(self.cards, "unreadable", errors=error.errors,
                                                         typed=error.typed))
        except DomainError as error:
            return Reply(message=str(error))

    async def _dispatch(self, actor: Actor, action: CardAction) -> Reply:
        verb, ctx = action.verb, self.ctx
        zone = actor.person.timezone or ctx.program_timezone
        if verb == "intake.open":
            shown = await dispatch(ctx, StartRequest(actor))
            return Reply(card=replies.intake_card(self.cards, shown.context))
        if verb == "intake.submit":
            return await self.submit_intake(actor, action)
        if verb in ("request.ask", "request.ask_best"):
            advocate_id = action.integer("advocate_id") if verb == "request.ask" else None
            ask = await asks.ask_advocate(ctx, actor, action.integer("request_id"), advocate_id)
            if ask is None:
                return Reply(card=self.cards.status(
                    "Nobody is left to ask.", ["The request is closed as unfulfilled; the "
                                               "program managers have been told."],
                    tone="attention"))
            waiting = ask.state == AskState.AWAITING_APPROVAL
            return Reply(card=self.cards.status(
                "Asked." if not waiting else "Waiting for the account owner's approval.",
                ["I'll tell you as soon as there is an answer. Contact details are shared once "
                 "the advocate says yes."], tone="good"))
        if verb == "request.cancel":
            request = await requests.cancel_request(ctx, actor, action.integer("request_id"))
            return Reply(card=self.cards.status(
                f"Request #{request.id} ({request.prospect_company}) is cancelled.",
                ["Anyone asked has been told that nothing is needed any more."]))
        if verb in ("ask.accept", "ask.decline", "ask.not_now"):
            answer = verb.removeprefix("ask.")
            ask = await asks.answer_ask(ctx, actor, action.integer("ask_id"), answer,  # type: ignore[arg-type]
                                        action.text("reason"))
            return Reply(card=self.cards.status(*ASK_STATUS.get(
                ask.state, ("This ask is closed.", ())), tone=_tone(ask.state)))
        if verb in ("approval.approve", "approval.deny"):
            ask = await asks.decide_approval(ctx, actor, action.integer("ask_id"),
                                             verb == "approval.approve", action.text("reason"))
            return Reply(card=self.cards.status(*APPROVAL_STATUS.get(
                ask.state, ("This approval is closed.", ())), tone=_tone(ask.state)))
        if verb in ("schedule.pick", "schedule.propose"):
            engagement_id = action.integer("engagement_id")
            if verb == "schedule.pick":
                engagement = await scheduling.pick_time(ctx, actor, engagement_id,
                                                        slot=action.integer("slot"))
            else:
                proposed = commands.moment_in_zone(action.text("proposed_date"),
                                                   action.text("proposed_time"), zone)
                engagement = await scheduling.pick_time(ctx, actor, engagement_id,
                                                        proposed=proposed)
            return Reply(card=self._schedule_status(engagement, zone))
        if verb in ("schedule.confirm", "schedule.reject"):
            shown = action.text("proposed_at")
            engagement = await scheduling.confirm_time(
                ctx, actor, action.integer("engagement_id"), verb == "schedule.confirm",
                proposed=_moment(shown))
            return Reply(card=self._schedule_status(engagement, zone))
        if verb == "schedule.reschedule":
            engagement = await scheduling.reschedule(ctx, actor, action.integer("engagement_id"))
            return Reply(card=self._schedule_status(engagement, zone))
        if verb in ("outcome.completed", "outcome.no_show", "outcome.rescheduled"):
            outcome = Outcome(verb.removeprefix("outcome."))
            engagement = await outcomes.record_outcome(
                ctx, actor, action.integer("engagement_id"), outcome,
                helpfulness=commands.helpfulness(action.data.get("helpfulness")),
                influenced_amount=commands.amount(action.data.get("influenced_amount")))
            return Reply(card=self.cards.status(*OUTCOME_STATUS.get(
                engagement.state, ("Thanks, noted.", ())), tone="good"))
        if verb == "outcome.comment":
            await outcomes.add_comment(ctx, actor, action.integer("engagement_id"),
                                       action.text("comment"))
            return Reply(card=self.cards.status("Thank you for your comment!",
                                                [action.text("comment")], tone="good"))
        if verb == "checkin.answer":
            return Reply(card=await self._check_in(actor, action))
        if verb.startswith(("profile.", "roster.")):
            return await self._profile_action(actor, action)
        raise BadAction(verb)

    async def profile_card(self, actor: Actor, advocate_id: int) -> dict[str, Any]:
        """The advocate's profile as the actor may see it (their own, or a manager's)."""
        profile = await advocate_profile(self.ctx, actor, advocate_id)
        zone = valid_zone(actor.person.timezone) or valid_zone(self.ctx.program_timezone) \
            or "UTC"
        return self.cards.profile(
            profile, viewer="self" if is_advocate(actor, profile.advocate) else "manager",
            timezone=zone, program_limits=self.ctx.policy.limits,
            today=self.ctx.now().astimezone(ZoneInfo(zone)).date())

    async def _profile_action(self, actor: Actor, action: CardAction) -> Reply:
        """The profile card's buttons; each answers with the card refreshed in place."""
        ctx, verb = self.ctx, action.verb
        advocate_id = action.integer("advocate_id")
        if verb == "profile.pause":
            day = action.text("until")
            await pause_advocate(ctx, actor, advocate_id,
                                 until=words.parse_day(day) if day else None,
                                 reason=action.text("reason"))
        elif verb == "profile.resume":
            await resume_advocate(ctx, actor, advocate_id)
        elif verb == "profile.limits":
            await set_own_limits(ctx, actor, advocate_id, _limits_from(action))
        elif verb == "roster.limits":
            await set_manager_limits(ctx, actor, advocate_id, _limits_from(action),
                                     reason=action.text("reason"))
        elif verb == "profile.leave":
            return Reply(card=await self._left(actor, advocate_id))
        elif verb != "roster.show":
            raise BadAction(verb)
        return Reply(card=await self.profile_card(actor, advocate_id))

    async def _left(self, actor: Actor, advocate_id: int) -> dict[str, Any]:
        result = await leave_program(self.ctx, actor, advocate_id)
        lines = [f"Nobody will ask you again; {len(result.withdrawn)} open ask(s) were "
                 "withdrawn."]
        if result.kept:
            lines.append(f"{len(result.kept)} call(s) you already agreed to stay booked; "
                         "the message that follows lists them.")
        return self.cards.status("You've left the advocate program.", lines, tone="good")

    async def _check_in(self, actor: Actor, action: CardAction) -> dict[str, Any]:
        choice = action.text("choice")
        limits = None
        if choice == "change_limits":
            limits = LimitOverrides(
                max_per_90_days=commands.whole(action.data.get("max_per_90_days")),
                max_per_365_days=commands.whole(action.data.get("max_per_365_days")),
                cooldown_days=commands.whole(action.data.get("cooldown_days")))
        months = commands.whole(action.data.get("months")) if choice == "pause" else None
        advocate = await checkins.answer_check_in(
            self.ctx, actor, action.integer("advocate_id"), choice, months=months,
            limits=limits, feedback=action.text("feedback"))
        headline = CHECK_IN_STATUS.get(choice, "Thanks for checking in!")
        if choice == "pause" and advocate.unavailable_until is not None:
            headline += f" (until {advocate.unavailable_until.isoformat()})"
        return self.cards.status(headline, ["Thank you for being part of the program."],
                                 tone="good")

    def _schedule_status(self, engagement: Any, zone: str) -> dict[str, Any]:
        if engagement.state is EngagementState.SCHEDULED and engagement.scheduled_at:
            return self.cards.status(
                f"Booked: {local_time(engagement.scheduled_at, zone)}.",
                ["The confirmation with the calendar invite follows."], tone="good")
        if engagement.state is EngagementState.PROPOSED and engagement.proposed_at:
            return self.cards.status(
                f"Proposed: {local_time(engagement.proposed_at, zone)}.",
                ["The rep is asked to confirm it; you'll hear back here."])
        if scheduling.awaiting_pick(engagement):
            return self.cards.status("No time is agreed yet.",
                                     ["The advocate is asked to pick a new time."])
        return self.cards.status(f"This call is {engagement.state.value.replace('_', ' ')}.")

    # --- intake -----------------------------------------------------------------------

    async def submit_intake(self, actor: Actor, action: CardAction) -> Reply:
        data = action.data
        async with self.ctx.uow() as uow:
            known = await requests.known_values(uow)
        draft = forgive(draft_from_form(data), known)
        choose = "best" if action.text("choose") == "best" else "rep"
        try:
            requests.validate_draft(draft, now=self.ctx.now())
            form_id = action.text("form_id")
            if form_id:
                async with self.ctx.uow() as uow:
                    first = await uow.idempotency.claim(
                        f"teams:intake:{form_id}", now=self.ctx.now())
                    await uow.commit()
                if not first:
                    return Reply(card=self.cards.status(
                        "This form was sent already.", ["Type \"reference list\" to see it."]))
            result = await requests.submit_request(self.ctx, actor, draft, choose=choose)
        except InvalidInput as error:
            values = {k: v for k, v in data.items() if k not in ("form_id", "choose")}
            shown = await dispatch(self.ctx, StartRequest(actor))
            return Reply(card=replies.intake_card(self.cards, shown.context, values=values,
                                                  errors=error.errors))
        request = result.request
        if not result.matches:
            return Reply(card=self.cards.status(
                f"Request #{request.id}: nobody fits right now.",
                ["The details of why follow in a message; the program managers know too."],
                tone="attention"))
        follow = ("I'm asking the best fit now." if choose == "best"
                  else "Pick who to ask from the matches that follow.")
        return Reply(card=self.cards.status(
            f"Request #{request.id} for {request.prospect_company} is in.",
            [f"I found {len(result.matches)} good fits. {follow}"], tone="good"))

    # --- calendar files ---------------------------------------------------------------

    async def on_teams_file_consent_accept(
            self, turn_context: TurnContext,
            file_consent_card_response: FileConsentCardResponse) -> None:
        """Upload the accepted file to the user's OneDrive (the URL Teams gave) and show
        it: a calendar invite travels in the card's context; the roster export is made
        now, for a program manager only, so the card never carries contact details."""
        context = file_consent_card_response.context or {}
        if context.get("export") == EXPORT_CONTEXT:
            try:
                require(self.actor(turn_context), Role.PROGRAM_MANAGER,
                        action="export the advocate roster")
            except NotAllowed as error:
                await turn_context.send_activity(str(error))
                return
            data = (await export_roster(self.ctx.uow)).encode()
            failed = "Sorry, I couldn't save the roster to your OneDrive; please try again."
        else:
            data = str(context.get("ics", "")).encode()
            failed = ("Sorry, I couldn't save the invite to your OneDrive; the times are in "
                      "the message above.")
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
        if str(context.get("filename", "")).endswith(".csv"):
            await turn_context.send_activity("OK, no roster file.")
            return
        await turn_context.send_activity("OK, no calendar file. The time is in the message above.")


# --- helpers --------------------------------------------------------------------------


def draft_from_form(data: Mapping[str, Any]) -> RequestDraft:
    """The form's raw strings as a draft; ``validate_draft`` judges them."""

    def text(name: str) -> str | None:
        raw = data.get(name)
        return None if raw is None else str(raw)

    return RequestDraft(
        prospect_company=text("prospect_company"),
        reference_type=text("reference_type"),
        needed_by=text("needed_by"),
        opportunity_name=text("opportunity_name"),
        crm_opportunity_id=text("crm_opportunity_id"),
        opportunity_amount=text("opportunity_amount"),
        opportunity_stage=text("opportunity_stage"),
        industry=text("industry"),
        region=text("region"),
        company_size=text("company_size"),
        products=text("products") or (),
        use_cases=text("use_cases") or (),
        language=text("language"),
        proposed_times=commands.proposed_times(data),
        timezone=text("timezone"),
        call_length_minutes=text("call_length_minutes"),
        meeting_link=text("meeting_link"),
        notes=text("notes"),
        parallel_asks=text("parallel_asks"),
    )


def _limits_from(action: CardAction) -> LimitOverrides:
    """The four limit inputs of a profile card (an empty one: the program's value)."""
    return LimitOverrides(**{name: commands.whole(action.data.get(name))
                             for name in LIMIT_LABELS})


async def send_reply(turn_context: TurnContext, reply: Reply) -> None:
    if reply.card is not None:
        await turn_context.send_activity(card_activity(reply.card))
    elif reply.message:
        await turn_context.send_activity(reply.message)


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        raise BadAction("proposed_at is not a time") from None


def _tone(state: AskState) -> Any:
    if state in (AskState.ACCEPTED, AskState.PENDING):
        return "good"
    return "default"


ASK_STATUS: dict[AskState, tuple[str, tuple[str, ...]]] = {
    AskState.ACCEPTED: ("You said yes. Thank you!",
                        ("Next, pick a time for the call in the message that follows.",)),
    AskState.DECLINED: ("You declined. Thanks for letting us know.",
                        ("The rep is not told why; we'll ask someone else.",)),
    AskState.SNOOZED: ("Not now. We'll leave you be for a while.",
                       ("You won't be asked again during the snooze.",)),
    AskState.EXPIRED: ("This ask has expired.", ("Someone else has been asked instead.",)),
    AskState.WITHDRAWN: ("This ask was withdrawn.", ("Nothing is needed from you any more.",)),
    AskState.PENDING: ("This ask is waiting for your answer.", ()),
}

APPROVAL_STATUS: dict[AskState, tuple[str, tuple[str, ...]]] = {
    AskState.PENDING: ("Approved.", ("The advocate is being asked now.",)),
    AskState.ACCEPTED: ("Approved.", ("The advocate has already said yes.",)),
    AskState.DENIED: ("Denied.", ("The next best fit will be asked instead.",)),
    AskState.WITHDRAWN: ("Not asked.", ("The advocate is unavailable now (limits or leave).",)),
    AskState.EXPIRED: ("This approval has expired.", ()),
}

CHECK_IN_STATUS: dict[str, str] = {
    "keep_active": "You're active for the next quarter.",
    "change_limits": "Your limits are updated.",
    "pause": "You're paused.",
    "leave": "You've left the program. Every open ask is withdrawn.",
}

OUTCOME_STATUS: dict[EngagementState, tuple[str, tuple[str, ...]]] = {
    EngagementState.COMPLETED: ("Recorded: the call took place. Thank you!",
                                ("The advocate is thanked and earns their points.",)),
    EngagementState.NO_SHOW: ("Recorded: no-show.",
                              ("You can ask another advocate or cancel the request.",)),
    EngagementState.ACCEPTED: ("Recorded: rescheduled.",
                               ("The advocate is asked to pick a new time.",)),
    EngagementState.PROPOSED: ("Recorded: rescheduled.",
                               ("The advocate is asked to pick a new time.",)),
}

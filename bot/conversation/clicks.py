"""Reading a clicked button or a sent form: a verb and its data in, a command out.

Surfaces whose buttons carry a verb and plain data read them here: Teams (an
``adaptiveCard/action`` invoke, Action.Execute, or from clients without Universal Actions a
message whose ``value`` is the Action.Submit data — both carry the verb in their data) and
the browser sandbox (a form posting ``verb`` and its fields). Pure functions over plain
dicts and strings, tested with payloads shaped like Teams' own. Anything malformed is
refused with ``BadAction`` instead of reaching a service half-read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation import commands as c
from bot.conversation.forms import LIMIT_NAMES
from bot.conversation.formspec import FORMS, PROPOSED_TIMES, Kind, Sources, check, refused_reply
from bot.conversation.nominating import onboarding_answers
from bot.conversation.replies import Reply
from bot.domain.errors import InvalidInput
from bot.domain.inputs import decimal_or_none
from bot.domain.model import Actor, LimitOverrides, Outcome
from bot.domain.policy import LimitPolicy
from bot.services.intake import RequestDraft

if TYPE_CHECKING:
    from bot.rendering import Renderer

VERBS = frozenset({
    "intake.open", "intake.submit",
    "request.ask", "request.ask_best", "request.cancel",
    "ask.accept", "ask.decline", "ask.not_now",
    "approval.approve", "approval.deny",
    "schedule.pick", "schedule.propose", "schedule.suggest", "schedule.confirm",
    "schedule.reject", "schedule.reschedule",
    "outcome.record", "outcome.comment",
    "outcome.completed", "outcome.no_show", "outcome.rescheduled",  # cards sent before
    # outcome.record: their outcome was the button
    "checkin.answer", "checkin.feedback",
    "profile.pause", "profile.resume", "profile.limits", "profile.leave", "profile.hours",
    "roster.show", "roster.limits", "language.choose",
    "nomination.approve", "nomination.decline",
    "invite.join", "invite.not_now", "invite.no_thanks", "consent.confirm",
})

MAX_ID_DIGITS = 10  # ids are 32-bit on PostgreSQL


class BadAction(ValueError):
    """A button or form payload the bot cannot read (an old card, a forged value)."""


@dataclass(frozen=True, slots=True)
class CardAction:
    """A clicked button with its data (ids from the card plus the inputs filled in)."""

    verb: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def integer(self, name: str) -> int:
        """An id the card carries: digits only, small enough to be a row's id."""
        raw = self.data.get(name)
        text = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
            raise BadAction(f"{name} is missing or not an id")
        return int(text)

    def text(self, name: str) -> str:
        raw = self.data.get(name)
        return "" if raw is None else str(raw).strip()


def parse_action(value: Any) -> CardAction:
    """Read an Action.Execute invoke value or an Action.Submit message value.

    Execute: ``{"action": {"type": "Action.Execute", "verb": v, "data": {...}}}`` (botbuilder
    4.17 hands ``action`` over as a plain dict). Submit: the data itself, with ``verb``.
    """
    if not isinstance(value, Mapping):
        raise BadAction("the card sent no data")
    action = value.get("action")
    if isinstance(action, Mapping):
        data = action.get("data")
        data = dict(data) if isinstance(data, Mapping) else {}
        verb = action.get("verb") or data.get("verb")
    else:
        data = dict(value)
        verb = data.get("verb")
    if not isinstance(verb, str) or verb not in VERBS:
        raise BadAction(f"unknown button {verb!r}")
    data.pop("verb", None)
    return CardAction(verb=verb, data=data)


# --- form values -------------------------------------------------------------------------


def moment_text(data: Mapping[str, Any], name: str) -> str:
    """A date-and-time field (``<name>.date`` and ``<name>.time`` inputs: ``fields.j2``)
    as a naive ISO string; a day without a time, or a time without a day, as written, so
    validation names it instead of dropping it; "" when both are empty."""
    day = str(data.get(f"{name}.date") or "").strip()
    clock = str(data.get(f"{name}.time") or "").strip()
    return f"{day}T{clock}" if day and clock else day or clock


def proposed_times(data: Mapping[str, Any]) -> list[str]:
    """The intake form's proposed times, read in the rep's zone by ``validate_draft``."""
    return [t for name in PROPOSED_TIMES if (t := moment_text(data, name))]


def form_values(form: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a card sent for each of ``form``'s fields, for ``formspec.check``."""
    return {f.name: moment_text(data, f.name) if f.kind is Kind.DATETIME else data.get(f.name)
            for f in FORMS[form].fields()}


def form_of(action: CardAction) -> str | None:
    """The form (``formspec.FORMS``) whose fields a clicked button submits, if any."""
    if action.verb == "checkin.answer":
        return "check_in_limits" if action.text("choice") == "change_limits" else None
    return FORM_VERBS.get(action.verb)


def refusal(action: CardAction, program: LimitPolicy, renderer: Renderer) -> Reply | None:
    """The ``invalid`` reply to a submitted form that breaks its spec (its limits bounded
    by the ``program``'s), or None. The intake card shows each error under its field; a
    message card's form is answered with a message, so there each error names its field."""
    form = form_of(action)
    if form is None:
        return None
    zone, length = action.text("timezone") or "UTC", action.text("call_length_minutes")
    sources = Sources(program=program, timezone=zone, keep={"call_length_minutes": [length]})
    try:
        check(FORMS[form].fields(sources), form_values(form, action.data))
    except InvalidInput as error:
        return refused_reply(form, error, named=form != "intake")
    return None


def moment_in_zone(day: str, clock: str, zone: str) -> datetime:
    """An Input.Date and Input.Time pair as an aware datetime in ``zone``."""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=tz)
    except ValueError:
        raise BadAction("give the day as YYYY-MM-DD and the time as HH:MM") from None


def whole(raw: Any) -> int | None:
    """An Input.Number value (``3`` or ``3.0``); None when empty; BadAction otherwise.
    Checked for length and shape before any arithmetic (``1e1000000`` is refused)."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    number = decimal_or_none(text)
    if number is None or number != number.to_integral_value():
        raise BadAction(f"{text[:40]!r} is not a whole number")
    return int(number)


def helpfulness(raw: Any) -> int | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 2):
        return -1  # out of range on purpose: the service names the field
    return int(text)


def amount(raw: Any) -> Decimal | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    value = decimal_or_none(text)
    return Decimal("-1") if value is None else value  # -1: the service names the field


# --- buttons as conversation commands ------------------------------------------------------

# The buttons that submit a form's fields (the check-in's limits: ``form_of``).
FORM_VERBS = {"intake.submit": "intake", "ask.decline": "decline_reason",
              "approval.deny": "deny_reason",
              "schedule.propose": "propose_time", "outcome.record": "outcome",
              "outcome.comment": "comment", "profile.limits": "own_limits",
              "profile.pause": "pause", "checkin.feedback": "check_in_feedback",
              "profile.hours": "call_hours",
              "nomination.decline": "nomination_decline", "invite.join": "onboarding"}


def _limits(action: CardAction, names: tuple[str, ...]) -> LimitOverrides:
    """The limit inputs of a card (an empty one: the program's value)."""
    return LimitOverrides(**{name: whole(action.data.get(name)) for name in names})


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadAction("the day is not YYYY-MM-DD") from None


def _shown(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        raise BadAction("proposed_at is not a time") from None


def command_of(actor: Actor, action: CardAction, *, zone: str,
               draft: RequestDraft | None = None) -> c.Command:
    """The conversation command a clicked button means. ``draft``: the intake form's
    values, read by the caller (``intake.submit`` only)."""
    verb = action.verb
    group, _, what = verb.partition(".")
    if verb == "intake.open":
        return c.StartRequest(actor)
    if verb == "intake.submit":
        assert draft is not None
        form_id = action.text("form_id")
        return c.SubmitIntake(actor, draft, "best" if action.text("choose") == "best" else "rep",
                              key=f"teams:intake:{form_id}" if form_id else None)
    if verb in ("request.ask", "request.ask_best"):
        return c.AskAdvocate(actor, action.integer("request_id"),
                             action.integer("advocate_id") if verb == "request.ask" else None)
    if verb == "request.cancel":
        return c.CancelRequest(actor, action.integer("request_id"))
    if group == "ask":
        return c.AnswerAsk(actor, action.integer("ask_id"), what,  # type: ignore[arg-type]
                           action.text("reason"))
    if group == "approval":
        return c.DecideApproval(actor, action.integer("ask_id"), what == "approve",
                                action.text("reason"))
    if group == "schedule":
        return _schedule(actor, action, what, zone)
    if group == "outcome":
        return _outcome(actor, action, what)
    if verb == "language.choose":
        return c.ChooseLanguage(actor, action.text("language")[:40])
    if verb == "consent.confirm":
        return c.ConfirmConsent(actor, action.integer("advocate_id"))
    if group in ("nomination", "invite"):
        return _nomination(actor, action, what)
    if verb == "checkin.feedback":
        return c.SendCheckInFeedback(actor, action.integer("advocate_id"),
                                     action.text("feedback"))
    if verb == "checkin.answer":
        choice = action.text("choice")
        return c.AnswerCheckIn(
            actor, action.integer("advocate_id"), choice,
            months=whole(action.data.get("months")) if choice == "pause" else None,
            limits=_limits(action, LIMIT_NAMES) if choice == "change_limits" else None,
            feedback=action.text("feedback"))
    return _profile(actor, action)


def _schedule(actor: Actor, action: CardAction, what: str, zone: str) -> c.Command:
    engagement_id = action.integer("engagement_id")
    if what == "pick":
        return c.PickTime(actor, engagement_id, slot=action.integer("slot"))
    if what == "propose":
        return c.PickTime(actor, engagement_id, proposed=moment_in_zone(
            action.text("proposed_time.date"), action.text("proposed_time.time"), zone))
    if what == "suggest":
        suggested = _shown(action.text("at"))
        if suggested is None:
            raise BadAction("a suggested time needs its time")
        return c.PickTime(actor, engagement_id, proposed=suggested)
    if what in ("confirm", "reject"):
        return c.ConfirmTime(actor, engagement_id, what == "confirm",
                             _shown(action.text("proposed_at")))
    return c.Reschedule(actor, engagement_id)


def _outcome(actor: Actor, action: CardAction, what: str) -> c.Command:
    engagement_id = action.integer("engagement_id")
    if what == "comment":
        return c.AddComment(actor, engagement_id, action.text("comment"))
    chosen = action.text("outcome") if what == "record" else what
    if chosen not in {o.value for o in Outcome}:
        raise BadAction("no such outcome")
    return c.RecordOutcome(actor, engagement_id, Outcome(chosen),
                           helpfulness=helpfulness(action.data.get("helpfulness")),
                           influenced_amount=amount(action.data.get("influenced_amount")))


def _nomination(actor: Actor, action: CardAction, what: str) -> c.Command:
    """A program manager's decision, or the invited contact's answer (Join submits the
    onboarding form)."""
    nomination_id = action.integer("nomination_id")
    if what in ("approve", "decline"):
        return c.DecideNomination(actor, nomination_id, what == "approve",
                                  action.text("reason"))
    if what == "join":
        return c.SubmitOnboarding(actor, nomination_id,
                                  onboarding_answers(form_values("onboarding", action.data)))
    return c.AnswerInvite(actor, nomination_id,
                          "not_now" if what == "not_now" else "no_thanks")


def _profile(actor: Actor, action: CardAction) -> c.Command:
    advocate_id = action.integer("advocate_id")
    verb = action.verb
    if verb == "profile.pause":
        return c.PauseProfile(actor, advocate_id, _day(action.text("until")),
                              action.text("reason"))
    if verb == "profile.resume":
        return c.ResumeProfile(actor, advocate_id)
    if verb in ("profile.limits", "roster.limits"):
        return c.SetProfileLimits(actor, advocate_id, _limits(action, LIMIT_NAMES),
                                  override=verb == "roster.limits",
                                  reason=action.text("reason"))
    if verb == "profile.leave":
        return c.LeaveFromProfile(actor, advocate_id)
    if verb == "profile.hours":  # the advocate's own; empty: the program's
        return c.SetMyHours(actor, action.text("hours") or "default")
    if verb == "roster.show":
        return c.ShowProfile(actor, advocate_id)
    raise BadAction(verb)


def draft_from_form(data: Mapping[str, Any]) -> RequestDraft:
    """The intake form's raw strings as a draft; ``validate_draft`` judges them."""

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
        proposed_times=proposed_times(data),
        timezone=text("timezone"),
        call_length_minutes=text("call_length_minutes"),
        meeting_link=text("meeting_link"),
        notes=text("notes"),
        parallel_asks=text("parallel_asks"),
    )

"""What a person can ask the bot for: one frozen dataclass per thing.

Commands carry the acting person (``Actor``: identity plus the roles the program gives them,
never trusted from a payload) and nothing platform-specific. Typed words become commands in
``bot.conversation.words``; each command has exactly one handler in
``bot.conversation.dispatcher``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from bot.domain.errors import Problem
from bot.domain.model import Actor, LimitOverrides, Outcome
from bot.services.intake import RequestDraft
from bot.services.onboarding import OnboardingAnswers

HelpTopic = Literal["all", "reference", "advocate", "advocates"]


@dataclass(frozen=True, slots=True)
class Command:
    """``key``: the idempotency key of a command that must happen once (a click, a form
    submission, a retried delivery); the service claims it in its own transaction."""

    actor: Actor
    key: str | None = field(default=None, kw_only=True)


# --- help and words that could not be read -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Help(Command):
    """What the bot understands; ``unknown`` is what was typed when it was not understood."""

    topic: HelpTopic = "all"
    unknown: str = ""


@dataclass(frozen=True, slots=True)
class Unreadable(Command):
    """Words that name a command but whose details are wrong (``pause until tomorrow``):
    the errors say, per part, what is wrong (a ``Problem``, worded by its template)."""

    errors: dict[str, Problem] = field(default_factory=dict)


# --- reference requests (sales reps) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRequest(Command):
    """Open the intake form, pre-filled from the keywords typed after ``reference``."""

    keywords: str = ""


@dataclass(frozen=True, slots=True)
class ListRequests(Command):
    include_closed: bool = False


@dataclass(frozen=True, slots=True)
class CancelRequest(Command):
    request_id: int | None  # None: the words named no request
    reason: str = ""


# --- anyone about themself ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChooseLanguage(Command):
    """The language the person reads the bot in (``advocate language ja``, the App Home's
    and the profile card's menu); empty: show the current one and the choices."""

    language: str = ""


# --- an advocate about themself -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowMyProfile(Command):
    pass


@dataclass(frozen=True, slots=True)
class PauseMe(Command):
    until: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResumeMe(Command):
    pass


@dataclass(frozen=True, slots=True)
class SetMyLimits(Command):
    """Stricter limits of one's own; ``None`` asks for the limits form."""

    limits: LimitOverrides | None = None


@dataclass(frozen=True, slots=True)
class SetMyHours(Command):
    """The hours one takes calls in, as typed (``Mon-Fri 09:00-17:00``; ``default``
    clears them); empty shows the profile, where they are."""

    hours: str = ""


@dataclass(frozen=True, slots=True)
class LeaveProgram(Command):
    pass


# --- the roster (program managers) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindAdvocates(Command):
    words: str = ""


@dataclass(frozen=True, slots=True)
class ShowAdvocate(Command):
    who: str = ""


@dataclass(frozen=True, slots=True)
class PauseAdvocate(Command):
    who: str = ""
    until: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResumeAdvocate(Command):
    who: str = ""


@dataclass(frozen=True, slots=True)
class SetAdvocateLimits(Command):
    """A program manager's override (may loosen the program's limits; audited with the
    reason); ``None`` only shows the advocate's limits."""

    who: str = ""
    limits: LimitOverrides | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ExportRoster(Command):
    pass


@dataclass(frozen=True, slots=True)
class SendDigestNow(Command):
    pass


@dataclass(frozen=True, slots=True)
class ImportRoster(Command):
    pass


@dataclass(frozen=True, slots=True)
class SendReport(Command):
    """``advocates report [2026-Q4 | last-quarter | FROM..TO]``: the period as typed (the
    service reads it and names what it cannot)."""

    period: str = ""


# --- buttons and forms ----------------------------------------------------------------------

Answer = Literal["accept", "decline", "not_now"]
FormName = Literal["decline_reason", "deny_reason", "propose_time", "outcome", "comment",
                   "own_limits", "check_in_limits", "check_in_feedback", "pause",
                   "call_hours", "nomination_decline", "onboarding"]


@dataclass(frozen=True, slots=True)
class SubmitIntake(Command):
    """The intake form sent: ``choose`` "rep" shows the matches, "best" asks the best."""

    draft: RequestDraft
    choose: Literal["rep", "best"] = "rep"


@dataclass(frozen=True, slots=True)
class AskAdvocate(Command):
    request_id: int
    advocate_id: int | None = None  # None: the best available


@dataclass(frozen=True, slots=True)
class AnswerAsk(Command):
    ask_id: int
    answer: Answer
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DecideApproval(Command):
    ask_id: int
    approve: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PickTime(Command):
    """One of the rep's proposed times (``slot``), or a new time (``proposed``)."""

    engagement_id: int
    slot: int | None = None
    proposed: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConfirmTime(Command):
    """The rep's answer to a time the advocate proposed; ``shown`` is the time the
    clicked message showed (a stale click changes nothing)."""

    engagement_id: int
    accept: bool
    shown: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reschedule(Command):
    engagement_id: int


@dataclass(frozen=True, slots=True)
class RecordOutcome(Command):
    engagement_id: int
    outcome: Outcome
    helpfulness: int | None = None
    influenced_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AddComment(Command):
    engagement_id: int
    text: str


@dataclass(frozen=True, slots=True)
class AnswerCheckIn(Command):
    advocate_id: int
    choice: str
    months: int | None = None
    limits: LimitOverrides | None = None
    feedback: str = ""


@dataclass(frozen=True, slots=True)
class SendCheckInFeedback(Command):
    advocate_id: int
    text: str


@dataclass(frozen=True, slots=True)
class ShowProfile(Command):
    """An advocate's profile by id (a button on a roster list or a profile)."""

    advocate_id: int


@dataclass(frozen=True, slots=True)
class PauseProfile(Command):
    advocate_id: int
    until: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResumeProfile(Command):
    advocate_id: int


@dataclass(frozen=True, slots=True)
class SetProfileLimits(Command):
    """The limits form of a profile: the advocate's own (stricter only), or with
    ``override`` a program manager's (audited with the reason)."""

    advocate_id: int
    limits: LimitOverrides
    override: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LeaveFromProfile(Command):
    advocate_id: int


@dataclass(frozen=True, slots=True)
class OpenForm(Command):
    """A button that opens a form (where the surface shows forms apart from messages):
    ``subject_id`` is the ask, engagement or advocate the form is about."""

    form: FormName
    subject_id: int


# --- nominations (account owners and program managers) and invites -------------------------


@dataclass(frozen=True, slots=True)
class Nominate(Command):
    """``advocates nominate EMAIL [--override] [why]``; ``email`` "" asks which."""

    email: str = ""
    reason: str = ""
    name: str = ""
    override: bool = False


@dataclass(frozen=True, slots=True)
class DecideNomination(Command):
    nomination_id: int
    approve: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShowInvitation(Command):
    """``advocate join``: the person's open invitation again (an invite the bot could not
    deliver, or one answered "Not now"), wherever they now reach the bot."""


InviteAnswer = Literal["not_now", "no_thanks"]


@dataclass(frozen=True, slots=True)
class AnswerInvite(Command):
    """"Not now" or "No thanks" on an invite ("Join" is the onboarding form)."""

    nomination_id: int
    answer: InviteAnswer


@dataclass(frozen=True, slots=True)
class ConfirmConsent(Command):
    """The advocate agrees to a new consent wording (their check-in asks)."""

    advocate_id: int


@dataclass(frozen=True, slots=True)
class SubmitOnboarding(Command):
    nomination_id: int
    answers: OnboardingAnswers


BUTTON_COMMANDS: tuple[type[Command], ...] = (
    SubmitIntake, AskAdvocate, CancelRequest, AnswerAsk, DecideApproval, PickTime,
    ConfirmTime, Reschedule, RecordOutcome, AddComment, AnswerCheckIn, SendCheckInFeedback,
    ShowProfile, PauseProfile, ResumeProfile, SetProfileLimits, LeaveFromProfile,
    ChooseLanguage, DecideNomination, AnswerInvite, SubmitOnboarding, ConfirmConsent,
)

TYPED_COMMANDS: tuple[type[Command], ...] = (
    Help, Unreadable, StartRequest, ListRequests, CancelRequest,
    ShowMyProfile, PauseMe, ResumeMe, SetMyLimits, LeaveProgram, SetMyHours,
    FindAdvocates, ShowAdvocate, PauseAdvocate, ResumeAdvocate, SetAdvocateLimits,
    ExportRoster, SendDigestNow, ImportRoster, SendReport, ChooseLanguage, Nominate,
    ShowInvitation,
)

"""What a person can ask the bot for: one frozen dataclass per thing.

Commands carry the acting person (``Actor``: identity plus the roles the program gives them,
never trusted from a payload) and nothing platform-specific. Typed words become commands in
``bot.conversation.words``; each command has exactly one handler in
``bot.conversation.dispatcher``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.domain.model import Actor, LimitOverrides

HelpTopic = Literal["all", "reference", "advocate", "advocates"]


@dataclass(frozen=True, slots=True)
class Command:
    actor: Actor


# --- help and words that could not be read -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Help(Command):
    """What the bot understands; ``unknown`` is what was typed when it was not understood."""

    topic: HelpTopic = "all"
    unknown: str = ""


@dataclass(frozen=True, slots=True)
class Unreadable(Command):
    """Words that name a command but whose details are wrong (``pause until tomorrow``):
    the errors say, per part, what is wrong."""

    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)  # what was typed, per part


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


TYPED_COMMANDS: tuple[type[Command], ...] = (
    Help, Unreadable, StartRequest, ListRequests, CancelRequest,
    ShowMyProfile, PauseMe, ResumeMe, SetMyLimits, LeaveProgram,
    FindAdvocates, ShowAdvocate, PauseAdvocate, ResumeAdvocate, SetAdvocateLimits,
    ExportRoster, SendDigestNow, ImportRoster,
)

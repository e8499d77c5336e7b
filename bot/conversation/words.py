"""The one parser for what people type, on every surface.

Slack's ``/reference …``, ``/advocate …``, ``/advocates …`` and a Teams message
``reference …``, ``advocate …``, ``advocates …`` carry the same words; ``read`` turns them
into a command. Pure: plain strings in, a frozen command out, never an exception: words
whose details are wrong (a date that is not a date, a limit that does not exist) become
``Unreadable`` with a problem code per part, which the ``unreadable`` reply template
words for the person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.conversation import commands as c
from bot.domain.errors import Problem
from bot.domain.model import Actor, LimitOverrides

# What each limit is called when typed (``90d=4``), by the ``LimitOverrides`` field it sets.
LIMIT_KEYS = {
    "90d": "max_per_90_days", "quarter": "max_per_90_days", "max_per_90_days": "max_per_90_days",
    "365d": "max_per_365_days", "year": "max_per_365_days",
    "max_per_365_days": "max_per_365_days",
    "cooldown": "cooldown_days", "rest": "cooldown_days", "cooldown_days": "cooldown_days",
    "open": "max_open_asks", "asks": "max_open_asks", "max_open_asks": "max_open_asks",
}
MAX_TYPED_DIGITS = 6  # a typed limit or request number is small; longer digits are refused

COMMAND_WORDS = ("reference", "advocate", "advocates")
GREETINGS = frozenset({"", "help", "hi", "hello", "start", "?"})


class BadWords(ValueError):
    """Raised inside the parser only; ``read`` turns it into ``commands.Unreadable``."""

    def __init__(self, errors: dict[str, Problem]) -> None:
        super().__init__(errors)
        self.errors = errors


def split_command(text: str) -> tuple[str, str]:
    """``"cancel 12"`` → ``("cancel", "12")``; the word is lower-cased, the rest kept."""
    word, _, rest = (text or "").strip().partition(" ")
    return word.lower(), rest.strip()


def split_reason(text: str) -> tuple[str, str]:
    """``"x 90d=4 because busy"`` → ``("x 90d=4", "busy")``."""
    parts = re.split(r"\s+(?:because|reason:?)\s+", " " + text.strip(), maxsplit=1,
                     flags=re.IGNORECASE)
    return parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""


def parse_day(text: str) -> date:
    """A day as ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadWords({"until": Problem("typed_not_a_date", typed=text.strip()[:40])}) from None


_PAUSE = re.compile(
    r"^(?P<who>.*?)(?:\s*\buntil\s+(?P<until>\S+))?(?:\s*\b(?:because|reason:?)\s+(?P<why>.*))?$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class PauseArgs:
    who: str
    until: date | None
    reason: str


def parse_pause(text: str) -> PauseArgs:
    """``"Ada Lovelace until 2026-04-01 because parental leave"`` (both parts optional;
    without a name, as in ``advocate pause until 2026-04-01``, ``who`` is empty)."""
    match = _PAUSE.match(text.strip())
    assert match is not None  # the pattern matches any text
    until = parse_day(match["until"]) if match["until"] else None
    return PauseArgs(match["who"].strip(), until, (match["why"] or "").strip())


@dataclass(frozen=True, slots=True)
class LimitsArgs:
    who: str
    limits: LimitOverrides | None  # None: only show the current limits
    reason: str


_ASSIGNMENT = re.compile(r"^(?P<key>[a-z_0-9]+)=(?P<value>\S*)$", re.IGNORECASE)


def parse_limits(text: str) -> LimitsArgs:
    """``"ada@x.example 90d=4 cooldown=7 because renewal push"``; ``clear`` drops every
    override; no assignment at all means "show me"."""
    head, reason = split_reason(text)
    who: list[str] = []
    values: dict[str, int | None] = {}
    errors: dict[str, Problem] = {}
    cleared = False
    for word in head.split():
        found = _ASSIGNMENT.match(word)
        if word.lower() == "clear":
            cleared = True
        elif found:
            key = LIMIT_KEYS.get(found["key"].lower())
            if key is None:
                errors[found["key"][:40]] = Problem("unknown_limit", typed=found["key"][:40])
            elif not _small_whole(found["value"]):
                errors[key] = Problem("limit_not_whole", field=key)
            else:
                values[key] = int(found["value"])
        else:
            who.append(word)
    if errors:
        raise BadWords(errors)
    limits = LimitOverrides() if cleared else (LimitOverrides(**values) if values else None)
    return LimitsArgs(" ".join(who), limits, reason)


def _small_whole(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= MAX_TYPED_DIGITS


def read(text: str | None, actor: Actor, *, command: str | None = None) -> c.Command:
    """The command in ``text``. ``command`` is the slash command's word when the surface
    has one (Slack's ``/advocate`` → ``"advocate"``); otherwise the first word of ``text``
    names it, as in a Teams message."""
    words = " ".join((text or "").split())
    if command is None:
        head, _, words = words.partition(" ")
        command = head
    command = command.casefold().lstrip("/")
    if command == "ref":
        command = "reference"
    try:
        if command == "reference":
            return _reference(words, actor)
        if command == "advocate":
            return _advocate(words, actor)
        if command == "advocates":
            return _advocates(words, actor)
    except BadWords as problem:
        return c.Unreadable(actor, errors=problem.errors)
    said = " ".join(part for part in (command, words) if part)
    if said.casefold() in GREETINGS:
        return c.Help(actor)
    return c.Help(actor, unknown=said[:80])


def _reference(words: str, actor: Actor) -> c.Command:
    word, rest = split_command(words)
    if word == "list":
        return c.ListRequests(actor, include_closed=rest.casefold() == "all")
    if word == "cancel":
        number, _, reason = rest.lstrip("#").partition(" ")
        if not _small_whole(number):
            return c.CancelRequest(actor, None)
        return c.CancelRequest(actor, int(number), reason.strip())
    if word == "help":
        return c.Help(actor, "reference")
    return c.StartRequest(actor, keywords=words)


def _advocate(words: str, actor: Actor) -> c.Command:
    word, rest = split_command(words)
    if word == "me":
        return c.ShowMyProfile(actor)
    if word == "pause":
        args = parse_pause(rest)
        return c.PauseMe(actor, until=args.until, reason=args.reason)
    if word == "resume":
        return c.ResumeMe(actor)
    if word == "limits":
        return c.SetMyLimits(actor, parse_limits(rest).limits)
    if word == "leave":
        return c.LeaveProgram(actor)
    if word == "hours":
        return c.SetMyHours(actor, rest.strip())
    if word == "language":
        return c.ChooseLanguage(actor, rest[:40])
    if word == "join":
        return c.ShowInvitation(actor)
    return c.Help(actor, "advocate")


def _advocates(words: str, actor: Actor) -> c.Command:
    word, rest = split_command(words)
    if word == "find":
        return c.FindAdvocates(actor, rest)
    if word == "show":
        return c.ShowAdvocate(actor, rest)
    if word == "pause":
        args = parse_pause(rest)
        return c.PauseAdvocate(actor, args.who, args.until, args.reason)
    if word == "resume":
        return c.ResumeAdvocate(actor, rest)
    if word == "limits":
        parsed = parse_limits(rest)
        return c.SetAdvocateLimits(actor, parsed.who, parsed.limits, parsed.reason)
    if word == "export":
        return c.ExportRoster(actor)
    if word == "digest":
        return c.SendDigestNow(actor)
    if word == "import":
        return c.ImportRoster(actor)
    if word == "report":
        return c.SendReport(actor, rest)
    if word == "nominate":
        return parse_nominate(rest, actor)
    return c.Help(actor, "advocates")


def parse_nominate(text: str, actor: Actor) -> c.Nominate:
    """``"ada@x.example --override great reference last year"``: the email first (Slack
    writes a typed email as ``<mailto:a@x|a@x>``), then ``--override`` (a manager
    nominating someone who said "No thanks"), then why."""
    email, _, rest = text.strip().partition(" ")
    email = re.sub(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$", r"\1", email)
    rest = rest.strip()
    override = rest.split(" ", 1)[0].casefold() == "--override"
    if override:
        rest = rest[len("--override"):].strip()
    return c.Nominate(actor, email=email, reason=rest, override=override)

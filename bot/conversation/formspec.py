"""Every form a person fills in, declared once: its fields, their kinds, choices and bounds.

A ``FormSpec`` names a form (``intake``, ``decline_reason``, ``deny_reason``,
``propose_time``, ``outcome``, ``comment``, ``own_limits``, ``check_in_limits``,
``check_in_feedback``) and builds its
``Field``s from ``Sources`` — the roster's known values, the person's time zone, the
program's limits and the advocate's own — so the choices a menu offers and the bounds a
number takes are computed in one place. Each surface renders the same fields: Slack as a
modal's input blocks (``templates/slack/views/fields.j2``), Teams as an Adaptive Card's
``Input.*`` elements (``templates/teams/fields.j2``); a parity test
(``tests/integration/test_parity.py``) holds every form to its spec on both.

Nothing here is a sentence or a surface's detail: labels, hints and placeholders live in
``templates/text/forms/words.j2`` keyed by form and field, and a field's name is what the
service calls it, so an ``InvalidInput`` lands on its field (``aliases`` name the few
errors a service files under another name).

``check`` validates submitted values against the fields (required, kind, length, bounds,
choices) before any service runs, raising ``InvalidInput`` with a ``Problem`` per
field (``field_*`` codes, worded like every error by ``Renderer.problem_text``).

Not specs yet, because only Teams shows them as inputs (Slack takes the same answers as
typed words or a message's menu): the profile card's pause (until a day; a manager's
reason), a manager's override of an advocate's limits, and the check-in's pause menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from bot.conversation.forms import (
    DEFAULT_CALL_LENGTH,
    LIMIT_NAMES,
    Choice,
    intake_choices,
    limit_fields,
)
from bot.conversation.replies import Reply, text_reply
from bot.domain.errors import InvalidInput, Problem
from bot.domain.hours import MAX_TEXT as HOURS_MAX_TEXT
from bot.domain.inputs import MAX_AMOUNT, decimal_or_none
from bot.domain.model import Outcome
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.checkins import FEEDBACK_MAX_CHARS
from bot.services.intake import MAX_PROPOSED_TIMES, TEXT_LIMITS, KnownValues
from bot.services.outcomes import COMMENT_MAX_CHARS

REASON_MAX_CHARS: Final = 500
PROPOSED_TIMES: Final = tuple(f"proposed_time_{n}" for n in range(1, MAX_PROPOSED_TIMES + 1))
HELPFULNESS: Final = tuple(str(n) for n in range(1, 6))
WORDS: Final = "text/forms/words.j2"  # labels, hints, placeholders and choice titles


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    URL = "url"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    RADIO = "radio"  # a select whose few choices are all shown at once


CHOOSING: Final = frozenset({Kind.SELECT, Kind.MULTI_SELECT, Kind.RADIO})


@dataclass(frozen=True, slots=True)
class Field:
    """One input. ``typed``: the choices are the roster's values, and with none known the
    field is a text box (comma-separated for a multi-select) instead of an empty menu.
    ``default``: what a required field holds until changed, and what an empty answer to
    it means (the service fills it in), so leaving it alone is never an error."""

    name: str
    kind: Kind
    required: bool = False
    max_length: int | None = None
    low: int | None = None
    high: int | Decimal | None = None
    whole: bool = False
    choices: tuple[Choice, ...] = ()
    typed: bool = False
    default: str | None = None  # shown when nothing is chosen; an empty answer means it

    @property
    def shown_kind(self) -> Kind:
        """What a surface shows: a roster menu with no values is a text box."""
        if self.kind in CHOOSING and self.typed and not self.choices:
            return Kind.TEXT
        return self.kind


@dataclass(frozen=True, slots=True)
class Sources:
    """What a form's choices and bounds are computed from."""

    known: KnownValues = field(default_factory=KnownValues)
    timezone: str = "UTC"
    limits: LimitPolicy = field(default_factory=LimitPolicy)  # effective ones
    program: LimitPolicy = field(default_factory=LimitPolicy)
    keep: Mapping[str, Sequence[str]] = field(default_factory=dict)  # values to keep listed
    locale: str = "en"  # the reader's: the languages' menu names them in it


@dataclass(frozen=True, slots=True)
class FormSpec:
    id: str
    build: Callable[[Sources], tuple[Field, ...]]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def fields(self, sources: Sources | None = None) -> tuple[Field, ...]:
        return self.build(sources or Sources())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields())


# --- the forms ---------------------------------------------------------------------------


def _intake(s: Sources) -> tuple[Field, ...]:
    menus = {k: tuple(v) for k, v in intake_choices(s.known, timezone=s.timezone,
                                                     keep=s.keep, locale=s.locale).items()}
    text = {name: Field(name, Kind.TEXT, max_length=TEXT_LIMITS[name])
            for name in ("opportunity_name", "crm_opportunity_id", "opportunity_stage")}
    return (
        Field("prospect_company", Kind.TEXT, required=True,
              max_length=TEXT_LIMITS["prospect_company"]),
        Field("reference_type", Kind.SELECT, required=True, choices=menus["reference_type"]),
        Field("needed_by", Kind.DATE, required=True),
        *(Field(name, Kind.DATETIME) for name in PROPOSED_TIMES),
        Field("timezone", Kind.SELECT, required=True, choices=menus["timezone"],
              default=s.timezone),
        Field("call_length_minutes", Kind.SELECT, required=True,
              choices=menus["call_length_minutes"], default=str(DEFAULT_CALL_LENGTH)),
        Field("meeting_link", Kind.URL, max_length=TEXT_LIMITS["meeting_link"]),
        Field("industry", Kind.SELECT, choices=menus["industry"], typed=True,
              max_length=TEXT_LIMITS["industry"]),
        Field("region", Kind.SELECT, choices=menus["region"], typed=True,
              max_length=TEXT_LIMITS["region"]),
        Field("company_size", Kind.SELECT, choices=menus["company_size"]),
        Field("products", Kind.MULTI_SELECT, choices=menus["products"], typed=True,
              max_length=TEXT_LIMITS["products"]),
        Field("use_cases", Kind.MULTI_SELECT, choices=menus["use_cases"], typed=True,
              max_length=TEXT_LIMITS["use_cases"]),
        Field("language", Kind.SELECT, choices=menus["language"], typed=True,
              max_length=TEXT_LIMITS["language"]),
        Field("notes", Kind.LONG_TEXT, max_length=TEXT_LIMITS["notes"]),
        text["opportunity_name"], text["crm_opportunity_id"],
        Field("opportunity_amount", Kind.NUMBER, low=0, high=MAX_AMOUNT),
        text["opportunity_stage"],
        Field("parallel_asks", Kind.SELECT, required=True, choices=menus["parallel_asks"],
              default="1"),
    )


def _limits(s: Sources) -> tuple[Field, ...]:
    """The four limits: never looser than the program (``forms.limit_fields``); an empty
    box means the program's value."""
    return tuple(Field(f.name, Kind.NUMBER, whole=True, low=f.low, high=f.high)
                 for f in limit_fields(s.limits, s.program))


def _one(name: str, kind: Kind, **options: Any) -> Callable[[Sources], tuple[Field, ...]]:
    only = (Field(name, kind, **options),)
    return lambda _sources: only


def _outcome(_sources: Sources) -> tuple[Field, ...]:
    return (
        Field("outcome", Kind.RADIO, required=True,
              choices=tuple(Choice(o.value, o.value) for o in Outcome)),
        Field("helpfulness", Kind.SELECT, choices=tuple(Choice(n, n) for n in HELPFULNESS)),
        Field("influenced_amount", Kind.NUMBER, low=0, high=MAX_AMOUNT),
    )


def _onboarding(s: Sources) -> tuple[Field, ...]:
    """Joining the program: what they will do, for how many a quarter (never more than
    the program allows), about what; their consent (the wording is shown with the form)."""
    menus = intake_choices(s.known, timezone=s.timezone, keep=s.keep)
    return (
        Field("reference_types", Kind.MULTI_SELECT, required=True,
              choices=tuple(menus["reference_type"])),
        Field("languages", Kind.MULTI_SELECT, required=True, typed=True,
              choices=tuple(menus["language"]), max_length=TEXT_LIMITS["language"]),
        Field("timezone", Kind.SELECT, required=True, choices=tuple(menus["timezone"]),
              default=s.timezone),
        Field("per_quarter", Kind.NUMBER, whole=True, low=1,
              high=s.program.max_per_90_days),
        Field("products", Kind.MULTI_SELECT, typed=True, choices=tuple(menus["products"]),
              max_length=TEXT_LIMITS["products"]),
        Field("use_cases", Kind.MULTI_SELECT, typed=True, choices=tuple(menus["use_cases"]),
              max_length=TEXT_LIMITS["use_cases"]),
        Field("public_thanks", Kind.RADIO, required=True,
              choices=(Choice("yes", "yes"), Choice("no", "no"))),
        Field("consent", Kind.RADIO, required=True, choices=(Choice("agree", "agree"),)),
    )


FORMS: Final[Mapping[str, FormSpec]] = {spec.id: spec for spec in (
    FormSpec("intake", _intake, aliases={
        "proposed_times": PROPOSED_TIMES[0], "proposed": PROPOSED_TIMES[0],
        "slot": PROPOSED_TIMES[0], "reference": "reference_type",
        "prospect": "prospect_company", "amount": "opportunity_amount",
        "stage": "opportunity_stage", "opportunity": "opportunity_name",
        "link": "meeting_link", "zone": "timezone", "size": "company_size"}),
    FormSpec("decline_reason", _one("reason", Kind.LONG_TEXT, max_length=REASON_MAX_CHARS)),
    FormSpec("pause", lambda _sources: (
        Field("until", Kind.DATE), Field("reason", Kind.LONG_TEXT, max_length=REASON_MAX_CHARS))),
    FormSpec("deny_reason", _one("reason", Kind.LONG_TEXT, max_length=REASON_MAX_CHARS)),
    FormSpec("propose_time", _one("proposed_time", Kind.DATETIME, required=True),
             aliases={"proposed": "proposed_time", "slot": "proposed_time"}),
    FormSpec("outcome", _outcome, aliases={"amount": "influenced_amount",
                                           "rating": "helpfulness"}),
    FormSpec("comment", _one("comment", Kind.LONG_TEXT, required=True,
                             max_length=COMMENT_MAX_CHARS)),
    FormSpec("own_limits", _limits),
    FormSpec("check_in_limits", _limits),
    FormSpec("check_in_feedback", _one("feedback", Kind.LONG_TEXT, required=True,
                                       max_length=FEEDBACK_MAX_CHARS)),
    # empty: the program's hours (``/advocate hours default``)
    FormSpec("call_hours", _one("hours", Kind.TEXT, max_length=HOURS_MAX_TEXT)),
    FormSpec("nomination_decline", _one("reason", Kind.LONG_TEXT, required=True,
                                        max_length=REASON_MAX_CHARS)),
    FormSpec("onboarding", _onboarding),
)}
assert all(set(spec.names) == set(LIMIT_NAMES) for spec in
           (FORMS["own_limits"], FORMS["check_in_limits"]))


def shown(fields: Iterable[Field], values: Mapping[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    """The fields as plain data for a surface's template, each with its initial value."""
    values = values or {}
    return [{
        "name": f.name, "kind": f.shown_kind.value, "required": f.required,
        # a multi-select shown as a text box holds several values, comma-separated
        "max_length": None if f.kind is Kind.MULTI_SELECT and not f.choices else f.max_length,
        "low": f.low, "high": f.high, "whole": f.whole, "multiple": f.kind is Kind.MULTI_SELECT,
        "choices": [{"value": c.value, "title": c.title} for c in f.choices],
        "value": f.default if values.get(f.name) in (None, "", [], ()) else values[f.name],
    } for f in fields]


# --- validation --------------------------------------------------------------------------


def _empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple) and not
                           [v for v in ([raw] if isinstance(raw, str) else raw)
                            if str(v).strip()])


def _as_list(raw: object) -> list[str]:
    parts = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list | tuple) \
        else [raw]
    return [str(p).strip() for p in parts if str(p).strip()]


def _number_problem(spec: Field, raw: object) -> Problem | None:
    value = decimal_or_none(raw)
    if value is None:
        return Problem("field_not_a_number")
    if spec.whole and value != value.to_integral_value():
        return Problem("field_not_whole")
    if (spec.low is not None and value < spec.low) or (
            spec.high is not None and value > spec.high):
        return Problem("field_out_of_range", low=spec.low, high=spec.high)
    return None


def _moment_problem(spec: Field, raw: object) -> Problem | None:
    if spec.kind is Kind.DATE and not isinstance(raw, date):
        try:
            date.fromisoformat(str(raw).strip())
        except ValueError:
            return Problem("field_not_a_date")
    if spec.kind is Kind.DATETIME and not isinstance(raw, datetime | int):
        try:
            datetime.fromisoformat(str(raw).strip())
        except ValueError:
            return Problem("field_not_a_time")
    return None


def problem(spec: Field, raw: object) -> Problem | None:
    """What is wrong with one submitted value, or None."""
    if _empty(raw):
        return Problem("field_required") if spec.required and spec.default is None else None
    kind = spec.shown_kind
    if kind is Kind.NUMBER:
        return _number_problem(spec, raw)
    if kind in (Kind.DATE, Kind.DATETIME):
        return _moment_problem(spec, raw)
    values = _as_list(raw) if spec.kind is Kind.MULTI_SELECT else [str(raw).strip()]
    if spec.max_length is not None and any(len(v) > spec.max_length for v in values):
        return Problem("field_too_long", most=spec.max_length)
    if kind in CHOOSING and not spec.typed:
        offered = {c.value for c in spec.choices}
        if any(v not in offered for v in values):
            return Problem("field_not_a_choice")
    return None


def check(fields: Iterable[Field], values: Mapping[str, Any]) -> None:
    """Refuse the submission with one problem per wrong field (``InvalidInput``)."""
    found = {f.name: p for f in fields if (p := problem(f, values.get(f.name))) is not None}
    if found:
        raise InvalidInput(found)


def refused_reply(form: str, error: InvalidInput, *, named: bool = False) -> Reply:
    """A form refused on its spec, as the reply a service's ``InvalidInput`` gets.
    ``named``: each error says which field it is about (where it is not shown under the
    field itself, as in a message)."""
    return text_reply("invalid", "attention", errors=dict(error.errors),
                      form=form if named else None)


def field_errors(renderer: Renderer, spec: FormSpec, error: InvalidInput,
                 shown: Sequence[str] | None = None) -> dict[str, str]:
    """``InvalidInput.errors`` keyed by the field that shows each: the field itself, else
    its alias, else the first field shown (an error is never dropped, or the form would
    close as if it had worked); two messages for one field are joined."""
    names = tuple(shown or spec.names)
    collected: dict[str, list[str]] = {}
    for name, value in error.errors.items():
        target = name if name in names else spec.aliases.get(name, names[0])
        if target not in names:
            target = names[0]
        collected.setdefault(target, []).append(renderer.problem_text(value))
    return {name: " ".join(texts) for name, texts in collected.items()}


__all__ = ["FORMS", "Field", "FormSpec", "Kind", "Sources", "check", "field_errors",
           "problem", "refused_reply", "shown"]

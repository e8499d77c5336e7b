"""Slack modals and the App Home: building the views and reading what people submitted.

Pure functions, no network: a listener opens ``intake_view(...)`` with ``views.open`` and
hands ``view_submission`` payloads' ``view`` to ``parse_intake``. Layout lives in
``templates/slack/views/*.json.j2``; this module decides what goes in them (which options,
which one is pre-selected) and reads ``view["state"]["values"]`` back.

Conventions the listeners can rely on:

* Every input's ``block_id`` is the name of the service field it fills (``RequestDraft``,
  ``record_outcome``, ``LimitOverrides`` ...), and its ``action_id`` is the same, so an
  ``InvalidInput`` maps onto the form with the ``*_errors`` helpers and comes back inline
  (``{"response_action": "errors", "errors": ...}``) on the field that is wrong.
* The ``parse_*`` functions never raise on a missing, empty or unexpected input: they
  return ``None`` (or ``""``/``()``), and validation stays the services' job, so the
  rep sees the service's words, not a parser's.
* ``private_metadata`` carries the id the submission is about (see ``handlers/slack/ids``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation.forms import (
    CALL_LENGTHS,
    COMMON_TIMEZONES,
    DEFAULT_CALL_LENGTH,
    LIMIT_LABELS,
    Choice,
    intake_choices,
)
from bot.domain.errors import InvalidInput
from bot.domain.inputs import decimal_or_none
from bot.domain.model import (
    CompanySize,
    LimitOverrides,
    Outcome,
    ReferenceType,
    RequestState,
)
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.checkins import FEEDBACK_MAX_CHARS
from bot.services.requests import (
    MAX_PROPOSED_TIMES,
    REFERENCE_TYPE_WORDS,
    TEXT_LIMITS,
    KnownValues,
    RequestDraft,
)
from handlers.slack import blockkit, ids

Option = dict[str, str]  # {"text": shown, "value": sent back}

# --- vocabulary --------------------------------------------------------------------------

PROPOSED_TIME_BLOCKS: Final = tuple(f"proposed_time_{n}" for n in range(1, MAX_PROPOSED_TIMES + 1))
ERROR_MESSAGE_LIMIT: Final = 150
MAX_PICKER_SECONDS: Final = 9_999_999_999  # the datetime picker's largest initial value
PRIVATE_METADATA_LIMIT: Final = 3000
DECLINE_REASON_MAX: Final = 500
COMMENT_MAX: Final = 500  # outcomes.COMMENT_MAX_CHARS; a test keeps them equal
LIMIT_FIELDS: Final = ("max_per_90_days", "max_per_365_days", "cooldown_days", "max_open_asks")

# The intake form's inputs, top to bottom: where an error about any other name lands.
INTAKE_BLOCKS: Final = (
    "prospect_company", "reference_type", "needed_by", *PROPOSED_TIME_BLOCKS, "timezone",
    "call_length_minutes", "meeting_link", "industry", "region", "company_size", "products",
    "use_cases", "language", "notes", "opportunity_name", "crm_opportunity_id",
    "opportunity_amount", "opportunity_stage", "parallel_asks",
)
# Names services (or older forms) use that are not a block of the intake form.
INTAKE_ALIASES: Final[Mapping[str, str]] = {
    "proposed_times": PROPOSED_TIME_BLOCKS[0],
    "proposed": PROPOSED_TIME_BLOCKS[0],
    "slot": PROPOSED_TIME_BLOCKS[0],
    "reference": "reference_type",
    "prospect": "prospect_company",
    "amount": "opportunity_amount",
    "stage": "opportunity_stage",
    "opportunity": "opportunity_name",
    "link": "meeting_link",
    "zone": "timezone",
    "size": "company_size",
}

OUTCOME_LABELS: Final[Mapping[Outcome, str]] = {
    Outcome.COMPLETED: "Completed: the call took place",
    Outcome.NO_SHOW: "No-show: it didn't happen",
    Outcome.RESCHEDULED: "Rescheduled: find a new time with the same advocate",
}
HELPFULNESS_LABELS: Final[Mapping[int, str]] = {
    1: "1 - Not helpful",
    2: "2 - A little helpful",
    3: "3 - Helpful",
    4: "4 - Very helpful",
    5: "5 - It made the difference",
}
STATE_LABELS: Final[Mapping[RequestState, str]] = {
    RequestState.OPEN: "Open",
    RequestState.MATCHING: "Finding advocates",
    RequestState.AWAITING_APPROVAL: "Waiting for approval",
    RequestState.ASKING: "Asking an advocate",
    RequestState.ACCEPTED: "Accepted, picking a time",
    RequestState.SCHEDULED: "Call booked",
    RequestState.COMPLETED: "Completed",
    RequestState.UNFULFILLED: "Unfulfilled",
    RequestState.CANCELLED: "Cancelled",
    RequestState.EXPIRED: "Expired",
}


# --- options ----------------------------------------------------------------------------


def option(text: str, value: str | None = None) -> Option:
    """One menu entry; the template cuts the shown text to Slack's 75 characters."""
    return {"text": text, "value": text if value is None else value}


def _fits(value: str) -> bool:
    return 0 < len(value) <= blockkit.OPTION_VALUE


def capped_options(known: Iterable[str], selected: Iterable[str] = ()) -> list[Option]:
    """A menu of at most 100 entries (Slack's cap) that always holds the ``selected``
    values, so a pre-filled answer is never lost because the roster is large.

    Values Slack cannot carry (empty, or over 150 characters) are left out: they could
    never come back in a submission anyway.
    """
    chosen = _unique(v for v in selected if _fits(v))
    room = blockkit.MAX_OPTIONS - len(chosen)
    rest = [v for v in _unique(known) if _fits(v) and v not in chosen]
    keep = set(chosen) | set(rest[: max(room, 0)])
    ordered = [v for v in _unique([*known, *chosen]) if v in keep]
    return [option(v) for v in ordered[: blockkit.MAX_OPTIONS]]


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _pick(options: Sequence[Option], value: object) -> Option | None:
    """The option whose value is ``value`` (Slack needs the very same object as initial)."""
    if value is None:
        return None
    wanted = str(value).strip()
    return next((o for o in options if o["value"] == wanted), None)


def _canonical(known: Sequence[str], wanted: str) -> str:
    """The roster's spelling of ``wanted`` ("fintech" typed, "Fintech" known), so a menu
    never lists one value twice in two cases."""
    folded = wanted.casefold()
    return next((k for k in known if k.strip().casefold() == folded), wanted)


def _menu(known: Sequence[str], initial: object) -> dict[str, Any]:
    """A single-choice menu from the roster's values, with the draft's choice kept. With
    no values at all (an empty roster) the template shows a text box instead."""
    wanted = _canonical(known, _str(initial)) if _str(initial) else ""
    options = capped_options(known, [wanted] if wanted else [])
    return {"options": options, "initial": _pick(options, wanted)}


def _multi_menu(known: Sequence[str], initial: Sequence[str] | str) -> dict[str, Any]:
    wanted = _unique(_canonical(known, v) for v in _as_list(initial))
    options = capped_options(known, wanted)
    chosen = [o for v in wanted if (o := _pick(options, v))]
    return {"options": options, "initial": _unique_options(chosen)}


def _unique_options(options: Iterable[Option]) -> list[Option]:
    seen: dict[str, Option] = {}
    for o in options:
        seen.setdefault(o["value"], o)
    return list(seen.values())


def _as_list(raw: Sequence[str] | str | None) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return [str(part).strip() for part in raw if str(part).strip()]


def _str(raw: object) -> str:
    return "" if raw is None else str(raw).strip()


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timezone_options(*wanted: str | None) -> list[Option]:
    """The curated zones plus any ``wanted`` zone (the rep's own) that is real, at most
    100. The rep's zone comes first when it is not a common one, so it is easy to find."""
    extra = [z for z in _unique(w or "" for w in wanted)
             if z not in COMMON_TIMEZONES and is_zone(z) and _fits(z)]
    zones = [*extra, *COMMON_TIMEZONES][: blockkit.MAX_OPTIONS]
    return [option(zone.replace("_", " "), zone) for zone in zones]


def _metadata(value: object) -> str:
    text = str(value)
    if len(text) > PRIVATE_METADATA_LIMIT:
        raise ValueError(f"private_metadata is {len(text)} characters; Slack keeps at most "
                         f"{PRIVATE_METADATA_LIMIT}")
    return text


def _timestamp(raw: datetime | str | int | float | None, zone: str) -> int | None:
    """A proposed time as Unix seconds for the datetime picker's initial value."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        if isinstance(raw, int | float):
            seconds = int(raw)
            return seconds if 0 <= seconds <= MAX_PICKER_SECONDS else None
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone) if is_zone(zone) else UTC)
        seconds = int(moment.timestamp())
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    # The picker takes 10-digit Unix seconds; anything else would make Slack refuse the
    # whole modal, so it is left empty (validation names a bad time on submission).
    return seconds if 0 <= seconds <= MAX_PICKER_SECONDS else None


def _date_text(raw: date | str | None) -> str | None:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return date.fromisoformat(_str(raw)).isoformat() if _str(raw) else None
    except ValueError:
        return None


def _number_text(raw: object) -> str | None:
    """An amount as the number input shows it: plain digits, no exponent."""
    value = decimal_or_none(raw)
    return None if value is None else format(value, "f")


def render_view(renderer: Renderer, name: str, context: dict[str, Any]) -> dict[str, Any]:
    view = blockkit.install(renderer).render_json(f"slack/views/{name}.json.j2", context)
    assert isinstance(view, dict)
    return view


# --- intake -----------------------------------------------------------------------------


def intake_view(renderer: Renderer, *, known: KnownValues, draft: RequestDraft | None,
                user_timezone: str, private_metadata: str = "") -> dict[str, Any]:
    """The ``/reference`` modal (callback id ``ids.VIEW_INTAKE``), pre-filled from
    ``draft`` (the keywords typed after ``/reference``, or a form being shown again).

    Menus list what the roster knows (so a rep cannot ask for an industry no advocate
    has, by typo); with an empty roster they fall back to text boxes. Proposed times are
    datetime pickers, which Slack shows in the rep's own Slack time zone; the time-zone
    menu (defaulting to ``user_timezone``) says which zone the rep's messages use.
    """
    draft = draft or RequestDraft()
    zone = _str(draft.timezone) if is_zone(_str(draft.timezone)) else _str(user_timezone)
    zone = zone if is_zone(zone) else "UTC"
    shared = intake_choices(known, timezone=zone)
    types = _options(shared["reference_type"])
    sizes = _options(shared["company_size"])
    zones = timezone_options(zone, user_timezone)
    length = _to_int(draft.call_length_minutes)
    lengths = sorted({*CALL_LENGTHS, *([length] if length and 0 < length <= 600 else [])})
    length_options = [option(f"{n} minutes", str(n)) for n in lengths]
    parallel = _options(shared["parallel_asks"])
    raw_times = [t for t in draft.proposed_times if t is not None and t != ""]
    times = [_timestamp(t, zone) for t in raw_times[:MAX_PROPOSED_TIMES]]
    times += [None] * (MAX_PROPOSED_TIMES - len(times))
    context = {
        "private_metadata": _metadata(private_metadata),
        "timezone": zone,
        "prospect_company": _str(draft.prospect_company) or None,
        "reference_type": {"options": types,
                           "initial": _reference_type_option(types, draft.reference_type)},
        "needed_by": _date_text(draft.needed_by),
        "proposed_times": [{"block_id": block, "initial": moment, "n": n}
                           for n, (block, moment) in
                           enumerate(zip(PROPOSED_TIME_BLOCKS, times, strict=True), 1)],
        "zone": {"options": zones, "initial": _pick(zones, zone)},
        "call_length": {"options": length_options,
                        "initial": _pick(length_options, str(length or DEFAULT_CALL_LENGTH))},
        "meeting_link": _str(draft.meeting_link) or None,
        "industry": _menu(known.industries, draft.industry),
        "region": _menu(known.regions, draft.region),
        "company_size": {"options": sizes,
                         "initial": _pick(sizes, draft.company_size)
                         or _company_size_option(sizes, draft.company_size)},
        "products": _multi_menu(known.products, draft.products),
        "use_cases": _multi_menu(known.use_cases, draft.use_cases),
        "language": _menu(known.languages, draft.language),
        "notes": (_str(draft.notes)[: TEXT_LIMITS["notes"]] or None),
        "opportunity_name": _str(draft.opportunity_name) or None,
        "crm_opportunity_id": _str(draft.crm_opportunity_id) or None,
        "opportunity_amount": _number_text(draft.opportunity_amount),
        "opportunity_stage": _str(draft.opportunity_stage) or None,
        "parallel_asks": {"options": parallel,
                          "initial": _pick(parallel, _to_int(draft.parallel_asks) or 1)},
        "text_limits": TEXT_LIMITS,
    }
    return render_view(renderer, "intake", context)


def _options(choices: Iterable[Choice]) -> list[Option]:
    return [option(c.title, c.value) for c in choices]


def _reference_type_option(options: Sequence[Option], raw: object) -> Option | None:
    """The draft's reference type by value, label or a word people use ("phone")."""
    text = _str(raw).casefold()
    if not text:
        return None
    words = {t.value: t.value for t in ReferenceType}
    words.update({t.label.casefold(): t.value for t in ReferenceType})
    words.update({word: t.value for word, t in REFERENCE_TYPE_WORDS.items()})
    return _pick(options, words.get(text))


def _company_size_option(options: Sequence[Option], raw: object) -> Option | None:
    text = _str(raw)
    by_name = {s.name.casefold(): s.value for s in CompanySize}
    return _pick(options, by_name.get(text.casefold()))


def _to_int(raw: object) -> int | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    return int(text) if text.isdigit() else None


def _state(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state") if isinstance(view, Mapping) else None
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def _action(view: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    """The state of the input in ``block_id`` (its action id is not relied on: Slack
    generates one when a template forgets it)."""
    block = _state(view).get(block_id)
    if not isinstance(block, Mapping) or not block:
        return {}
    action = block.get(block_id)
    if not isinstance(action, Mapping):
        action = next((a for a in block.values() if isinstance(a, Mapping)), {})
    return action


def input_value(view: Mapping[str, Any], block_id: str) -> Any:
    """What one input holds, by its element type, or ``None`` when it is empty/missing.

    Text, URL, email and number inputs give their string; single menus and radio buttons
    their option's value; multi menus and checkboxes a list of values; the date picker
    ``YYYY-MM-DD``; the datetime picker Unix seconds; the time picker ``HH:MM``.
    """
    action = _action(view, block_id)
    kind = action.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        selected = action.get("selected_option")
        return selected.get("value") if isinstance(selected, Mapping) else None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        selected = action.get("selected_options") or []
        return [o["value"] for o in selected if isinstance(o, Mapping) and "value" in o]
    if kind == "datepicker":
        return action.get("selected_date")
    if kind == "datetimepicker":
        return action.get("selected_date_time")
    if kind == "timepicker":
        return action.get("selected_time")
    if kind in ("users_select", "conversations_select", "channels_select"):
        return action.get(f"selected_{kind.split('_')[0][:-1]}")
    value = action.get("value")
    return value if value is None or isinstance(value, str) else str(value)


def _text_value(view: Mapping[str, Any], block_id: str) -> str | None:
    value = input_value(view, block_id)
    if isinstance(value, list):
        value = ", ".join(value)
    text = _str(value)
    return text or None


def _list_value(view: Mapping[str, Any], block_id: str) -> tuple[str, ...]:
    value = input_value(view, block_id)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(_as_list(value))  # the free-text fallback of an empty roster
    return tuple(str(v) for v in value)


def _moment(raw: object) -> datetime | None:
    """Unix seconds from a datetime picker as an aware UTC datetime."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        return datetime.fromtimestamp(int(str(raw).strip()), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _decimal(raw: object) -> Decimal | None:
    """A number as typed, checked for length and shape before any arithmetic."""
    return decimal_or_none(_str(raw)) if _str(raw) else None


def parse_intake(view: Mapping[str, Any]) -> RequestDraft:
    """The submitted intake modal as a ``RequestDraft`` for ``validate_draft``.

    Proposed times come back as aware UTC datetimes in the order of the pickers (empty
    ones skipped); ``needed_by`` as a ``date``; numbers as ``int``/``Decimal``. Whatever
    does not parse is passed on as typed so ``validate_draft`` names the field.
    """
    times = tuple(m for block in PROPOSED_TIME_BLOCKS
                  if (m := _moment(input_value(view, block))) is not None)
    needed_by_raw = _text_value(view, "needed_by")
    needed_by: date | str | None = needed_by_raw
    if needed_by_raw:
        try:
            needed_by = date.fromisoformat(needed_by_raw)
        except ValueError:
            needed_by = needed_by_raw
    amount_raw = _text_value(view, "opportunity_amount")
    length_raw = _text_value(view, "call_length_minutes")
    parallel_raw = _text_value(view, "parallel_asks")
    return RequestDraft(
        prospect_company=_text_value(view, "prospect_company"),
        reference_type=_text_value(view, "reference_type"),
        needed_by=needed_by,
        opportunity_name=_text_value(view, "opportunity_name"),
        crm_opportunity_id=_text_value(view, "crm_opportunity_id"),
        opportunity_amount=_decimal(amount_raw) if _decimal(amount_raw) is not None
        else amount_raw,
        opportunity_stage=_text_value(view, "opportunity_stage"),
        industry=_text_value(view, "industry"),
        region=_text_value(view, "region"),
        company_size=_text_value(view, "company_size"),
        products=_list_value(view, "products"),
        use_cases=_list_value(view, "use_cases"),
        language=_text_value(view, "language"),
        proposed_times=times,
        timezone=_text_value(view, "timezone"),
        call_length_minutes=_to_int(length_raw) if _to_int(length_raw) is not None
        else length_raw,
        meeting_link=_text_value(view, "meeting_link"),
        notes=_text_value(view, "notes"),
        parallel_asks=_to_int(parallel_raw) if _to_int(parallel_raw) is not None
        else parallel_raw,
    )


def error_message(text: str) -> str:
    """One inline error, short enough for Slack to show under the field."""
    return blockkit.truncate(" ".join(str(text).split()), ERROR_MESSAGE_LIMIT)


def map_errors(error: InvalidInput, blocks: Sequence[str],
               aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """``InvalidInput.errors`` keyed by the block that shows each: the field's own block,
    else its alias, else the first block of the form (an error must never be dropped,
    or the modal would close as if it had worked). Two messages for one block are joined.
    """
    aliases = aliases or {}
    collected: dict[str, list[str]] = {}
    for name, message in error.errors.items():
        block = name if name in blocks else aliases.get(name, blocks[0])
        text = _sentence(str(message))
        if name and name != block and name not in aliases:
            text = f"{_label(name)}: {text}"  # say which field it meant
        collected.setdefault(block, []).append(text)
    return {block: error_message(" ".join(texts)) for block, texts in collected.items()}


def _sentence(text: str) -> str:
    """Service messages like "cannot be negative" read as a sentence under a field."""
    text = text.strip()
    if not text:
        return "Please check this field."
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def intake_errors(error: InvalidInput) -> dict[str, str]:
    """``validate_draft``'s errors as ``response_action: errors`` for the intake modal."""
    return map_errors(error, INTAKE_BLOCKS, INTAKE_ALIASES)


# --- the advocate's answers -------------------------------------------------------------


def decline_reason_view(renderer: Renderer, *, ask_id: int) -> dict[str, Any]:
    """Opened by Decline: an optional reason, kept for the program team only."""
    return render_view(renderer, "decline_reason", {
        "private_metadata": _metadata(ask_id), "max_length": DECLINE_REASON_MAX})


def parse_decline_reason(view: Mapping[str, Any]) -> str:
    return _str(input_value(view, "reason"))


def propose_time_view(renderer: Renderer, *, engagement_id: int, timezone: str,
                      latest: date | None) -> dict[str, Any]:
    """"Propose another time": one datetime picker (in the advocate's Slack time zone),
    with the last day the call may take place."""
    return render_view(renderer, "propose_time", {
        "private_metadata": _metadata(engagement_id),
        "timezone": timezone if is_zone(timezone) else "UTC",
        "latest": latest.isoformat() if latest else None,
    })


def parse_propose_time(view: Mapping[str, Any]) -> datetime | None:
    """The proposed start as an aware UTC datetime, or None when nothing was picked."""
    return _moment(input_value(view, "proposed_time"))


def propose_time_errors(error: InvalidInput) -> dict[str, str]:
    """``pick_time``'s errors (``proposed``, ``slot``) on the modal's one field."""
    return map_errors(error, ("proposed_time",), {"proposed": "proposed_time",
                                                  "slot": "proposed_time"})


def proposed_block_id(moment: datetime) -> str:
    """The ``block_id`` of the confirm/reject buttons under a proposed time: it names the
    time the rep saw, so a click on an older proposal cannot book a newer one
    (``scheduling.confirm_time(proposed=...)``)."""
    return f"proposed:{int(moment.timestamp())}"


def parse_proposed_block_id(block_id: str | None) -> datetime | None:
    """The time a ``time_proposed`` message showed, from the clicked block's id."""
    if not block_id or not block_id.startswith("proposed:"):
        return None
    return _moment(block_id.removeprefix("proposed:"))


# --- after the call ---------------------------------------------------------------------


def outcome_view(renderer: Renderer, *, engagement_id: int, advocate_name: str,
                 currency: str = "USD") -> dict[str, Any]:
    """The rep's report: did it happen, how helpful (1-5), how much of the deal it
    influenced (optional)."""
    outcomes = [option(OUTCOME_LABELS[o], o.value) for o in Outcome]
    ratings = [option(label, str(n)) for n, label in HELPFULNESS_LABELS.items()]
    return render_view(renderer, "outcome", {
        "private_metadata": _metadata(engagement_id),
        "advocate_name": advocate_name,
        "currency": currency,
        "outcomes": outcomes,
        "ratings": ratings,
    })


def parse_outcome(view: Mapping[str, Any]
                  ) -> tuple[Outcome | None, int | None, Decimal | None]:
    """(outcome, helpfulness, influenced amount); each None when left empty."""
    raw = _str(input_value(view, "outcome"))
    outcome = Outcome(raw) if raw in {o.value for o in Outcome} else None
    helpfulness = _to_int(input_value(view, "helpfulness"))
    amount = _decimal(input_value(view, "influenced_amount"))
    return outcome, helpfulness, amount


def outcome_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, ("outcome", "helpfulness", "influenced_amount"),
                      {"amount": "influenced_amount", "rating": "helpfulness"})


def comment_view(renderer: Renderer, *, engagement_id: int) -> dict[str, Any]:
    """The advocate's one-line comment after a completed call."""
    return render_view(renderer, "comment", {
        "private_metadata": _metadata(engagement_id), "max_length": COMMENT_MAX})


def parse_comment(view: Mapping[str, Any]) -> str:
    return _str(input_value(view, "comment"))


def comment_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, ("comment",))


# --- the advocate's own limits ----------------------------------------------------------


def own_limits_view(renderer: Renderer, *, advocate_id: int,
                    current: LimitPolicy) -> dict[str, Any]:
    """"Change my limits": the four limits, pre-filled with ``current`` (the effective
    ones). An advocate may only make them stricter; emptying a box means "the program's
    value"."""
    return render_view(renderer, "own_limits", {
        "private_metadata": _metadata(advocate_id),
        "fields": _limit_fields(current),
    })


def _limit_fields(current: LimitPolicy) -> list[dict[str, str]]:
    return [{"block_id": name, "label": LIMIT_LABELS[name],
             "initial": str(getattr(current, name)),
             "unit": "days" if name == "cooldown_days" else ""}
            for name in LIMIT_FIELDS]


def parse_own_limits(view: Mapping[str, Any]) -> LimitOverrides:
    return LimitOverrides(**{name: _whole(input_value(view, name)) for name in LIMIT_FIELDS})


def _whole(raw: object) -> int | None:
    value = decimal_or_none(_str(raw))
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def limits_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, LIMIT_FIELDS)


# --- the quarterly check-in -------------------------------------------------------------


def check_in_limits_view(renderer: Renderer, *, advocate_id: int,
                         current: LimitPolicy) -> dict[str, Any]:
    """"Change my limits" opened from the check-in (callback ``ids.VIEW_CHECKIN_LIMITS``):
    the own-limits form, whose submission answers the check-in with ``change_limits``."""
    return render_view(renderer, "check_in_limits", {
        "private_metadata": _metadata(advocate_id),
        "fields": _limit_fields(current),
    })


def check_in_feedback_view(renderer: Renderer, *, advocate_id: int) -> dict[str, Any]:
    """The check-in's feedback box (callback ``ids.VIEW_CHECKIN_FEEDBACK``)."""
    return render_view(renderer, "check_in_feedback", {
        "private_metadata": _metadata(advocate_id), "max_length": FEEDBACK_MAX_CHARS})


def parse_check_in_feedback(view: Mapping[str, Any]) -> str:
    return _str(input_value(view, "feedback"))


def check_in_feedback_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, ("feedback",))


def parse_pause_value(value: str) -> tuple[int, int]:
    """The pause menu's option value ``"advocate_id:months"``; ``ValueError`` if malformed."""
    advocate_id, months = ids.split_value(value, 2)
    return advocate_id, months


def metadata(view: Mapping[str, Any]) -> str:
    """The view's ``private_metadata`` ("" when absent)."""
    value = view.get("private_metadata") if isinstance(view, Mapping) else None
    return value if isinstance(value, str) else ""


def metadata_id(view: Mapping[str, Any]) -> int | None:
    """``private_metadata`` as the id it carries for every modal but intake."""
    text = metadata(view).strip()
    return int(text) if text.isdigit() else None


__all__ = [
    "COMMON_TIMEZONES",
    "INTAKE_BLOCKS",
    "PROPOSED_TIME_BLOCKS",
    "STATE_LABELS",
    "check_in_feedback_errors",
    "check_in_feedback_view",
    "check_in_limits_view",
    "comment_errors",
    "comment_view",
    "decline_reason_view",
    "input_value",
    "intake_errors",
    "intake_view",
    "limits_errors",
    "metadata",
    "metadata_id",
    "outcome_errors",
    "outcome_view",
    "own_limits_view",
    "parse_check_in_feedback",
    "parse_comment",
    "parse_decline_reason",
    "parse_intake",
    "parse_outcome",
    "parse_own_limits",
    "parse_pause_value",
    "parse_propose_time",
    "parse_proposed_block_id",
    "propose_time_errors",
    "proposed_block_id",
    "render_view",
    "timezone_options",
]

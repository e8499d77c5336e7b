"""The ``/reference`` intake modal: its inputs pre-filled from a draft, its submission read
back into a ``RequestDraft``, and the service's field errors mapped onto its blocks.

The choices come from ``bot.conversation.forms`` (the same ones Teams offers); menus list
what the roster knows, so a rep cannot ask for an industry no advocate has, by typo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.conversation.forms import (
    CALL_LENGTHS,
    COMMON_TIMEZONES,
    DEFAULT_CALL_LENGTH,
    Choice,
    intake_choices,
)
from bot.domain.errors import InvalidInput
from bot.domain.inputs import decimal_or_none
from bot.domain.model import CompanySize, ReferenceType
from bot.rendering import Renderer
from bot.services.intake import (
    MAX_PROPOSED_TIMES,
    REFERENCE_TYPE_WORDS,
    TEXT_LIMITS,
    KnownValues,
    RequestDraft,
)
from handlers.slack import blockkit
from handlers.slack.forms import (
    Option,
    checked_metadata,
    clean,
    decimal_value,
    input_value,
    is_zone,
    map_errors,
    moment_value,
    option,
    render_view,
    small_whole,
    text_value,
)

PROPOSED_TIME_BLOCKS: Final = tuple(f"proposed_time_{n}" for n in range(1, MAX_PROPOSED_TIMES + 1))


MAX_PICKER_SECONDS: Final = 9_999_999_999  # the datetime picker's largest initial value


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
    wanted = _canonical(known, clean(initial)) if clean(initial) else ""
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


def timezone_options(*wanted: str | None) -> list[Option]:
    """The curated zones plus any ``wanted`` zone (the rep's own) that is real, at most
    100. The rep's zone comes first when it is not a common one, so it is easy to find."""
    extra = [z for z in _unique(w or "" for w in wanted)
             if z not in COMMON_TIMEZONES and is_zone(z) and _fits(z)]
    zones = [*extra, *COMMON_TIMEZONES][: blockkit.MAX_OPTIONS]
    return [option(zone.replace("_", " "), zone) for zone in zones]


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
        return date.fromisoformat(clean(raw)).isoformat() if clean(raw) else None
    except ValueError:
        return None


def _number_text(raw: object) -> str | None:
    """An amount as the number input shows it: plain digits, no exponent."""
    value = decimal_or_none(raw)
    return None if value is None else format(value, "f")


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
    zone = clean(draft.timezone) if is_zone(clean(draft.timezone)) else clean(user_timezone)
    zone = zone if is_zone(zone) else "UTC"
    shared = intake_choices(known, timezone=zone)
    types = _options(shared["reference_type"])
    sizes = _options(shared["company_size"])
    zones = timezone_options(zone, user_timezone)
    length = small_whole(draft.call_length_minutes)
    lengths = sorted({*CALL_LENGTHS, *([length] if length and 0 < length <= 600 else [])})
    length_options = [option(f"{n} minutes", str(n)) for n in lengths]
    parallel = _options(shared["parallel_asks"])
    raw_times = [t for t in draft.proposed_times if t is not None and t != ""]
    times = [_timestamp(t, zone) for t in raw_times[:MAX_PROPOSED_TIMES]]
    times += [None] * (MAX_PROPOSED_TIMES - len(times))
    context = {
        "private_metadata": checked_metadata(private_metadata),
        "timezone": zone,
        "prospect_company": clean(draft.prospect_company) or None,
        "reference_type": {"options": types,
                           "initial": _reference_type_option(types, draft.reference_type)},
        "needed_by": _date_text(draft.needed_by),
        "proposed_times": [{"block_id": block, "initial": moment, "n": n}
                           for n, (block, moment) in
                           enumerate(zip(PROPOSED_TIME_BLOCKS, times, strict=True), 1)],
        "zone": {"options": zones, "initial": _pick(zones, zone)},
        "call_length": {"options": length_options,
                        "initial": _pick(length_options, str(length or DEFAULT_CALL_LENGTH))},
        "meeting_link": clean(draft.meeting_link) or None,
        "industry": _menu(known.industries, draft.industry),
        "region": _menu(known.regions, draft.region),
        "company_size": {"options": sizes,
                         "initial": _pick(sizes, draft.company_size)
                         or _company_size_option(sizes, draft.company_size)},
        "products": _multi_menu(known.products, draft.products),
        "use_cases": _multi_menu(known.use_cases, draft.use_cases),
        "language": _menu(known.languages, draft.language),
        "notes": (clean(draft.notes)[: TEXT_LIMITS["notes"]] or None),
        "opportunity_name": clean(draft.opportunity_name) or None,
        "crm_opportunity_id": clean(draft.crm_opportunity_id) or None,
        "opportunity_amount": _number_text(draft.opportunity_amount),
        "opportunity_stage": clean(draft.opportunity_stage) or None,
        "parallel_asks": {"options": parallel,
                          "initial": _pick(parallel, small_whole(draft.parallel_asks) or 1)},
        "text_limits": TEXT_LIMITS,
    }
    return render_view(renderer, "intake", context)


def _options(choices: Iterable[Choice]) -> list[Option]:
    return [option(c.title, c.value) for c in choices]


def _reference_type_option(options: Sequence[Option], raw: object) -> Option | None:
    """The draft's reference type by value, label or a word people use ("phone")."""
    text = clean(raw).casefold()
    if not text:
        return None
    words = {t.value: t.value for t in ReferenceType}
    words.update({t.label.casefold(): t.value for t in ReferenceType})
    words.update({word: t.value for word, t in REFERENCE_TYPE_WORDS.items()})
    return _pick(options, words.get(text))


def _company_size_option(options: Sequence[Option], raw: object) -> Option | None:
    text = clean(raw)
    by_name = {s.name.casefold(): s.value for s in CompanySize}
    return _pick(options, by_name.get(text.casefold()))


def _list_value(view: Mapping[str, Any], block_id: str) -> tuple[str, ...]:
    value = input_value(view, block_id)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(_as_list(value))  # the free-text fallback of an empty roster
    if not isinstance(value, list):  # a picker's number where a list was expected
        return (str(value),)
    return tuple(str(v) for v in value)


def parse_intake(view: Mapping[str, Any]) -> RequestDraft:
    """The submitted intake modal as a ``RequestDraft`` for ``validate_draft``.

    Proposed times come back as aware UTC datetimes in the order of the pickers (empty
    ones skipped); ``needed_by`` as a ``date``; numbers as ``int``/``Decimal``. Whatever
    does not parse is passed on as typed so ``validate_draft`` names the field.
    """
    times = tuple(m for block in PROPOSED_TIME_BLOCKS
                  if (m := moment_value(input_value(view, block))) is not None)
    needed_by_raw = text_value(view, "needed_by")
    needed_by: date | str | None = needed_by_raw
    if needed_by_raw:
        try:
            needed_by = date.fromisoformat(needed_by_raw)
        except ValueError:
            needed_by = needed_by_raw
    amount_raw = text_value(view, "opportunity_amount")
    length_raw = text_value(view, "call_length_minutes")
    parallel_raw = text_value(view, "parallel_asks")
    return RequestDraft(
        prospect_company=text_value(view, "prospect_company"),
        reference_type=text_value(view, "reference_type"),
        needed_by=needed_by,
        opportunity_name=text_value(view, "opportunity_name"),
        crm_opportunity_id=text_value(view, "crm_opportunity_id"),
        opportunity_amount=decimal_value(amount_raw) if decimal_value(amount_raw) is not None
        else amount_raw,
        opportunity_stage=text_value(view, "opportunity_stage"),
        industry=text_value(view, "industry"),
        region=text_value(view, "region"),
        company_size=text_value(view, "company_size"),
        products=_list_value(view, "products"),
        use_cases=_list_value(view, "use_cases"),
        language=text_value(view, "language"),
        proposed_times=times,
        timezone=text_value(view, "timezone"),
        call_length_minutes=small_whole(length_raw) if small_whole(length_raw) is not None
        else length_raw,
        meeting_link=text_value(view, "meeting_link"),
        notes=text_value(view, "notes"),
        parallel_asks=small_whole(parallel_raw) if small_whole(parallel_raw) is not None
        else parallel_raw,
    )


def intake_errors(error: InvalidInput) -> dict[str, str]:
    """``validate_draft``'s errors as ``response_action: errors`` for the intake modal."""
    return map_errors(error, INTAKE_BLOCKS, INTAKE_ALIASES)


__all__ = [
    "INTAKE_BLOCKS",
    "PROPOSED_TIME_BLOCKS",
    "capped_options",
    "intake_errors",
    "intake_view",
    "parse_intake",
    "timezone_options",
]

"""The ``/reference`` intake modal: its inputs (the ``intake`` form's spec) pre-filled from
a draft, and its submission read back into a ``RequestDraft``.

The fields and choices come from ``bot.conversation.formspec`` (the same ones Teams
offers); menus list what the roster knows, so a rep cannot ask for an industry no
advocate has, by typo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.conversation.forms import DEFAULT_CALL_LENGTH, same_value
from bot.conversation.formspec import PROPOSED_TIMES, Sources
from bot.domain.inputs import decimal_or_none
from bot.domain.model import CompanySize, ReferenceType
from bot.rendering import Renderer
from bot.services.intake import (
    REFERENCE_TYPE_WORDS,
    TEXT_LIMITS,
    KnownValues,
    RequestDraft,
)
from handlers.slack.forms import (
    checked_metadata,
    clean,
    decimal_value,
    input_value,
    is_zone,
    moment_value,
    render_form,
    small_whole,
    text_value,
)

PROPOSED_TIME_BLOCKS: Final = PROPOSED_TIMES
MAX_PICKER_SECONDS: Final = 9_999_999_999  # the datetime picker's largest initial value


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _as_list(raw: Sequence[str] | str | None) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return [str(part).strip() for part in raw if str(part).strip()]


def _spelled(known: Sequence[str], wanted: Sequence[str] | str | None) -> list[str]:
    """The draft's values in the roster's spelling ("fintech" typed, "Fintech" known), so
    a menu never lists one value twice in two cases. One typed value stays whole."""
    typed = [clean(wanted)] if isinstance(wanted, str) else _as_list(wanted)
    return _unique(same_value(known, v) or v for v in typed)


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

    Its inputs are the ``intake`` form's fields (``bot/conversation/formspec.py``), with
    the choices Teams offers too: menus list what the roster knows (so a rep cannot ask
    for an industry no advocate has, by typo), and with an empty roster they fall back to
    text boxes. Proposed times are datetime pickers, which Slack shows in the rep's own
    Slack time zone; the time-zone menu (defaulting to ``user_timezone``) says which zone
    the rep's messages use.
    """
    draft = draft or RequestDraft()
    zone = clean(draft.timezone) if is_zone(clean(draft.timezone)) else clean(user_timezone)
    zone = zone if is_zone(zone) else "UTC"
    length = small_whole(draft.call_length_minutes)
    values: dict[str, Any] = {
        "prospect_company": clean(draft.prospect_company) or None,
        "reference_type": _reference_type(draft.reference_type),
        "needed_by": _date_text(draft.needed_by),
        "timezone": zone,
        "call_length_minutes": str(length or DEFAULT_CALL_LENGTH),
        "meeting_link": clean(draft.meeting_link) or None,
        "industry": _spelled(known.industries, draft.industry),
        "region": _spelled(known.regions, draft.region),
        "company_size": _company_size(draft.company_size),
        "products": _spelled(known.products, draft.products),
        "use_cases": _spelled(known.use_cases, draft.use_cases),
        "language": _spelled(known.languages, draft.language),
        "notes": clean(draft.notes)[: TEXT_LIMITS["notes"]] or None,
        "opportunity_name": clean(draft.opportunity_name) or None,
        "crm_opportunity_id": clean(draft.crm_opportunity_id) or None,
        "opportunity_amount": _number_text(draft.opportunity_amount),
        "opportunity_stage": clean(draft.opportunity_stage) or None,
        "parallel_asks": str(small_whole(draft.parallel_asks) or 1),
    }
    raw_times = [t for t in draft.proposed_times if t is not None and t != ""]
    values.update(zip(PROPOSED_TIMES, [_timestamp(t, zone) for t in raw_times], strict=False))
    keep = {name: values[name] for name in ("industry", "region", "language", "products",
                                            "use_cases")}
    sources = Sources(known=known, timezone=zone, locale=renderer.locale,
                      keep={**keep, "call_length_minutes": [values["call_length_minutes"]]})
    for name in ("industry", "region", "language"):  # one value each, or a text box's text
        values[name] = next(iter(values[name]), None)
    for name, listed in (("products", known.products), ("use_cases", known.use_cases)):
        if not listed:  # a text box: the values comma-separated
            values[name] = ", ".join(values[name]) or None
    return render_form(renderer, "intake", {"private_metadata":
                                            checked_metadata(private_metadata)},
                       sources=sources, values=values)


def _reference_type(raw: object) -> str | None:
    """The draft's reference type by value, label or a word people use ("phone")."""
    text = clean(raw).casefold()
    words = {t.value: t.value for t in ReferenceType}
    words.update({t.label.casefold(): t.value for t in ReferenceType})
    words.update({word: t.value for word, t in REFERENCE_TYPE_WORDS.items()})
    return words.get(text)


def _company_size(raw: object) -> str | None:
    text = clean(raw)
    sizes = {s.value for s in CompanySize}
    by_name = {s.name.casefold(): s.value for s in CompanySize}
    return text if text in sizes else by_name.get(text.casefold())


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


__all__ = [
    "PROPOSED_TIME_BLOCKS",
    "intake_view",
    "parse_intake",
]

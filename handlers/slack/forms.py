"""Slack modals: building the small forms and reading what people submitted into them.

Pure functions, no network: a listener opens a view with ``views.open`` and hands
``view_submission`` payloads' ``view`` to its ``parse_*`` (the intake modal: ``intake.py``;
the App Home: ``home.py``). Layout lives in
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

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation.forms import (
    LIMIT_LABELS,
)
from bot.domain.errors import InvalidInput
from bot.domain.inputs import decimal_or_none
from bot.domain.model import (
    LimitOverrides,
    Outcome,
)
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from bot.services.checkins import FEEDBACK_MAX_CHARS
from handlers.slack import blockkit, ids

Option = dict[str, str]  # {"text": shown, "value": sent back}

# --- vocabulary --------------------------------------------------------------------------

ERROR_MESSAGE_LIMIT: Final = 150
PRIVATE_METADATA_LIMIT: Final = 3000
DECLINE_REASON_MAX: Final = 500
COMMENT_MAX: Final = 500  # outcomes.COMMENT_MAX_CHARS; a test keeps them equal
LIMIT_FIELDS: Final = tuple(LIMIT_LABELS)  # the limits forms' inputs, in order


# --- options ----------------------------------------------------------------------------


def option(text: str, value: str | None = None) -> Option:
    """One menu entry; the template cuts the shown text to Slack's 75 characters."""
    return {"text": text, "value": text if value is None else value}


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def small_whole(raw: object) -> int | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()  # "²" and 5,000 digits are digits that int() refuses
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def clean(raw: object) -> str:
    return "" if raw is None else str(raw).strip()


def checked_metadata(value: object) -> str:
    text = str(value)
    if len(text) > PRIVATE_METADATA_LIMIT:
        raise ValueError(f"private_metadata is {len(text)} characters; Slack keeps at most "
                         f"{PRIVATE_METADATA_LIMIT}")
    return text


def render_view(renderer: Renderer, name: str, context: dict[str, Any]) -> dict[str, Any]:
    view = blockkit.install(renderer).render_json(f"slack/views/{name}.json.j2", context)
    assert isinstance(view, dict)
    return view


# --- intake -----------------------------------------------------------------------------


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
        selected = action.get("selected_options")
        if not isinstance(selected, list):
            return None
        return [str(o["value"]) for o in selected if isinstance(o, Mapping) and "value" in o]
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


def text_value(view: Mapping[str, Any], block_id: str) -> str | None:
    value = input_value(view, block_id)
    if isinstance(value, list):
        value = ", ".join(value)
    text = clean(value)
    return text or None


def moment_value(raw: object) -> datetime | None:
    """Unix seconds from a datetime picker as an aware UTC datetime."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        return datetime.fromtimestamp(int(str(raw).strip()), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def decimal_value(raw: object) -> Decimal | None:
    """A number as typed, checked for length and shape before any arithmetic."""
    return decimal_or_none(clean(raw)) if clean(raw) else None


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


# --- the advocate's answers -------------------------------------------------------------


def decline_reason_view(renderer: Renderer, *, ask_id: int) -> dict[str, Any]:
    """Opened by Decline: an optional reason, kept for the program team only."""
    return render_view(renderer, "decline_reason", {
        "private_metadata": checked_metadata(ask_id), "max_length": DECLINE_REASON_MAX})


def parse_decline_reason(view: Mapping[str, Any]) -> str:
    return clean(input_value(view, "reason"))


def propose_time_view(renderer: Renderer, *, engagement_id: int, timezone: str,
                      latest: date | None) -> dict[str, Any]:
    """"Propose another time": one datetime picker (in the advocate's Slack time zone),
    with the last day the call may take place."""
    return render_view(renderer, "propose_time", {
        "private_metadata": checked_metadata(engagement_id),
        "timezone": timezone if is_zone(timezone) else "UTC",
        "latest": latest.isoformat() if latest else None,
    })


def parse_propose_time(view: Mapping[str, Any]) -> datetime | None:
    """The proposed start as an aware UTC datetime, or None when nothing was picked."""
    return moment_value(input_value(view, "proposed_time"))


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
    return moment_value(block_id.removeprefix("proposed:"))


# --- after the call ---------------------------------------------------------------------


def outcome_view(renderer: Renderer, *, engagement_id: int, advocate_name: str,
                 currency: str = "USD") -> dict[str, Any]:
    """The rep's report: did it happen, how helpful (1-5), how much of the deal it
    influenced (optional)."""
    return render_view(renderer, "outcome", {
        "private_metadata": checked_metadata(engagement_id),
        "advocate_name": advocate_name,
        "currency": currency,
    })


def parse_outcome(view: Mapping[str, Any]
                  ) -> tuple[Outcome | None, int | None, Decimal | None]:
    """(outcome, helpfulness, influenced amount); each None when left empty."""
    raw = clean(input_value(view, "outcome"))
    outcome = Outcome(raw) if raw in {o.value for o in Outcome} else None
    helpfulness = small_whole(input_value(view, "helpfulness"))
    amount = decimal_value(input_value(view, "influenced_amount"))
    return outcome, helpfulness, amount


def outcome_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, ("outcome", "helpfulness", "influenced_amount"),
                      {"amount": "influenced_amount", "rating": "helpfulness"})


def comment_view(renderer: Renderer, *, engagement_id: int) -> dict[str, Any]:
    """The advocate's one-line comment after a completed call."""
    return render_view(renderer, "comment", {
        "private_metadata": checked_metadata(engagement_id), "max_length": COMMENT_MAX})


def parse_comment(view: Mapping[str, Any]) -> str:
    return clean(input_value(view, "comment"))


def comment_errors(error: InvalidInput) -> dict[str, str]:
    return map_errors(error, ("comment",))


# --- the advocate's own limits ----------------------------------------------------------


def own_limits_view(renderer: Renderer, *, advocate_id: int,
                    current: LimitPolicy) -> dict[str, Any]:
    """"Change my limits": the four limits, pre-filled with ``current`` (the effective
    ones). An advocate may only make them stricter; emptying a box means "the program's
    value"."""
    return render_view(renderer, "own_limits", {
        "private_metadata": checked_metadata(advocate_id),
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
    value = decimal_or_none(clean(raw))
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
        "private_metadata": checked_metadata(advocate_id),
        "fields": _limit_fields(current),
    })


def check_in_feedback_view(renderer: Renderer, *, advocate_id: int) -> dict[str, Any]:
    """The check-in's feedback box (callback ``ids.VIEW_CHECKIN_FEEDBACK``)."""
    return render_view(renderer, "check_in_feedback", {
        "private_metadata": checked_metadata(advocate_id), "max_length": FEEDBACK_MAX_CHARS})


def parse_check_in_feedback(view: Mapping[str, Any]) -> str:
    return clean(input_value(view, "feedback"))


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
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


__all__ = [
    "Option",
    "check_in_feedback_errors",
    "check_in_feedback_view",
    "check_in_limits_view",
    "checked_metadata",
    "clean",
    "comment_errors",
    "comment_view",
    "decimal_value",
    "decline_reason_view",
    "input_value",
    "is_zone",
    "limits_errors",
    "map_errors",
    "metadata",
    "metadata_id",
    "moment_value",
    "option",
    "outcome_errors",
    "outcome_view",
    "own_limits_view",
    "parse_check_in_feedback",
    "parse_comment",
    "parse_decline_reason",
    "parse_outcome",
    "parse_own_limits",
    "parse_pause_value",
    "parse_propose_time",
    "parse_proposed_block_id",
    "propose_time_errors",
    "proposed_block_id",
    "render_view",
    "small_whole",
    "text_value",
]

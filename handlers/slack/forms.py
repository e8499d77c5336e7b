"""Slack modals: building the small forms and reading what people submitted into them.

Pure functions, no network: a listener opens a view with ``views.open`` and hands
``view_submission`` payloads' ``view`` to its ``parse_*`` (the intake modal: ``intake.py``;
the App Home: ``home.py``). Layout lives in
``templates/slack/views/*.json.j2``; this module decides what goes in them (which options,
which one is pre-selected) and reads ``view["state"]["values"]`` back.

Conventions the listeners can rely on:

* A modal's inputs are its form's fields (``bot/conversation/formspec.py``), rendered by
  ``templates/slack/views/fields.j2``: every input's ``block_id`` and ``action_id`` is the
  name of the service field it fills, so an ``InvalidInput`` maps onto the form with
  ``form_errors`` (from the spec) and comes back inline
  (``{"response_action": "errors", "errors": ...}``) on the field that is wrong.
* The ``parse_*`` functions never raise on a missing, empty or unexpected input: they
  return ``None`` (or ``""``/``()``). The listener checks the submission against its
  spec first (``form_values`` → ``formspec.check``) and the services judge the rest, so
  the person sees the spec's or the service's words, not a parser's.
* ``private_metadata`` carries the id the submission is about (see ``handlers/slack/ids``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.conversation.forms import LIMIT_NAMES, limit_fields
from bot.conversation.formspec import (
    FORMS,
    Sources,
    field_errors,
    shown,
)
from bot.domain.errors import InvalidInput
from bot.domain.inputs import decimal_or_none
from bot.domain.model import (
    LimitOverrides,
    Outcome,
)
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer
from handlers.slack import blockkit, ids

Option = dict[str, str]  # {"text": shown, "value": sent back}

# --- vocabulary --------------------------------------------------------------------------

ERROR_MESSAGE_LIMIT: Final = 150
PRIVATE_METADATA_LIMIT: Final = 3000


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


def form_errors(renderer: Renderer, form: str, error: InvalidInput) -> dict[str, str]:
    """An ``InvalidInput`` as ``response_action: errors`` for the modal of ``form``: each
    error on its field's block (``formspec.field_errors``), as a sentence Slack can show."""
    return {block: error_message(text)
            for block, text in field_errors(renderer, FORMS[form], error).items()}


def form_values(view: Mapping[str, Any], form: str) -> dict[str, Any]:
    """What each of the form's inputs holds, by field name, for ``formspec.check``."""
    return {name: input_value(view, name) for name in FORMS[form].names}


def render_form(renderer: Renderer, form: str, context: dict[str, Any], *,
                sources: Sources | None = None,
                values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A modal whose inputs are ``form``'s fields (``slack/views/fields.j2``), laid out by
    its own template (``slack/views/<form>.json.j2``: title, context blocks)."""
    fields = shown(FORMS[form].fields(sources), values)
    return render_view(renderer, form, {**context, "form": form, "fields": fields})


# --- the advocate's answers -------------------------------------------------------------


def decline_reason_view(renderer: Renderer, *, ask_id: int) -> dict[str, Any]:
    """Opened by Decline: an optional reason, kept for the program team only."""
    return render_form(renderer, "decline_reason",
                       {"private_metadata": checked_metadata(ask_id)})


def deny_reason_view(renderer: Renderer, *, ask_id: int) -> dict[str, Any]:
    """Opened by Deny on an approval request: an optional reason, for the audit log."""
    return render_form(renderer, "deny_reason",
                       {"private_metadata": checked_metadata(ask_id)})


def pause_view(renderer: Renderer, *, advocate_id: int) -> dict[str, Any]:
    """Opened by "Pause my requests": until when (optional), and why (optional)."""
    return render_form(renderer, "pause", {"private_metadata": checked_metadata(advocate_id)})


def call_hours_view(renderer: Renderer, *, advocate_id: int, hours: str) -> dict[str, Any]:
    """Opened by "Change call hours": the hours as the advocate writes them, pre-filled
    with their own (empty: the program's)."""
    return render_form(renderer, "call_hours",
                       {"private_metadata": checked_metadata(advocate_id)},
                       values={"hours": hours})


def parse_call_hours(view: Mapping[str, Any]) -> str:
    """The hours typed ("" when cleared: back to the program's)."""
    return clean(input_value(view, "hours"))


def parse_pause(view: Mapping[str, Any]) -> tuple[date | None, str]:
    """The pause modal's day (None: until resumed) and reason; ``ValueError`` for a day
    Slack's date picker never sends."""
    day = clean(input_value(view, "until"))
    return (date.fromisoformat(day) if day else None), clean(input_value(view, "reason"))


def parse_reason(view: Mapping[str, Any]) -> str:
    """The reason of a decline or a denial ("" when none was given)."""
    return clean(input_value(view, "reason"))


def propose_time_view(renderer: Renderer, *, engagement_id: int, timezone: str,
                      latest: date | None) -> dict[str, Any]:
    """"Propose another time": one datetime picker (in the advocate's Slack time zone),
    with the last day the call may take place."""
    return render_form(renderer, "propose_time", {
        "private_metadata": checked_metadata(engagement_id),
        "timezone": timezone if is_zone(timezone) else "UTC",
        "latest": latest.isoformat() if latest else None,
    })


def parse_propose_time(view: Mapping[str, Any]) -> datetime | None:
    """The proposed start as an aware UTC datetime, or None when nothing was picked."""
    return moment_value(input_value(view, "proposed_time"))


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
                 currency: str) -> dict[str, Any]:
    """The rep's report: did it happen, how helpful (1-5), how much of the deal it
    influenced (optional)."""
    return render_form(renderer, "outcome", {
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


def comment_view(renderer: Renderer, *, engagement_id: int) -> dict[str, Any]:
    """The advocate's one-line comment after a completed call."""
    return render_form(renderer, "comment", {
        "private_metadata": checked_metadata(engagement_id)})


def parse_comment(view: Mapping[str, Any]) -> str:
    return clean(input_value(view, "comment"))


# --- the advocate's own limits ----------------------------------------------------------


def own_limits_view(renderer: Renderer, *, advocate_id: int, current: LimitPolicy,
                    program: LimitPolicy) -> dict[str, Any]:
    """"Change my limits": the four limits, pre-filled with ``current`` (the effective
    ones) and bounded by the ``program``'s. An advocate may only make them stricter;
    emptying a box means "the program's value"."""
    return _limits_view(renderer, "own_limits", advocate_id, current, program)


def _limits_view(renderer: Renderer, form: str, advocate_id: int, current: LimitPolicy,
                 program: LimitPolicy) -> dict[str, Any]:
    values = {f.name: f.value for f in limit_fields(current, program)}
    return render_form(renderer, form, {"private_metadata": checked_metadata(advocate_id)},
                       sources=Sources(limits=current, program=program), values=values)


def parse_own_limits(view: Mapping[str, Any]) -> LimitOverrides:
    return LimitOverrides(**{name: _whole(input_value(view, name)) for name in LIMIT_NAMES})


def _whole(raw: object) -> int | None:
    value = decimal_or_none(clean(raw))
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


# --- the quarterly check-in -------------------------------------------------------------


def check_in_limits_view(renderer: Renderer, *, advocate_id: int, current: LimitPolicy,
                         program: LimitPolicy) -> dict[str, Any]:
    """"Change my limits" opened from the check-in (callback ``ids.VIEW_CHECKIN_LIMITS``):
    the own-limits form, whose submission answers the check-in with ``change_limits``."""
    return _limits_view(renderer, "check_in_limits", advocate_id, current, program)


def check_in_feedback_view(renderer: Renderer, *, advocate_id: int) -> dict[str, Any]:
    """The check-in's feedback box (callback ``ids.VIEW_CHECKIN_FEEDBACK``)."""
    return render_form(renderer, "check_in_feedback", {
        "private_metadata": checked_metadata(advocate_id)})


def parse_check_in_feedback(view: Mapping[str, Any]) -> str:
    return clean(input_value(view, "feedback"))


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
    "call_hours_view",
    "check_in_feedback_view",
    "check_in_limits_view",
    "checked_metadata",
    "clean",
    "comment_view",
    "decimal_value",
    "decline_reason_view",
    "deny_reason_view",
    "form_errors",
    "form_values",
    "input_value",
    "is_zone",
    "metadata",
    "metadata_id",
    "moment_value",
    "option",
    "outcome_view",
    "own_limits_view",
    "parse_call_hours",
    "parse_check_in_feedback",
    "parse_comment",
    "parse_outcome",
    "parse_own_limits",
    "parse_pause_value",
    "parse_propose_time",
    "parse_proposed_block_id",
    "parse_reason",
    "proposed_block_id",
    "render_form",
    "render_view",
    "small_whole",
    "text_value",
]

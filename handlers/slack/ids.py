"""The names that tie Slack payloads to listeners: callback ids of modals, action ids of
buttons. Templates (``templates/slack/``) and listeners (``handlers/slack/``) both use
these, and the manifest test checks them, so a renamed button cannot silently stop working.

Button values (and menu option values) carry the ids the service needs, joined with ``:``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

# Slash commands (also in manifest.yml).
COMMAND_REFERENCE: Final = "/reference"
COMMAND_ADVOCATE: Final = "/advocate"
COMMAND_ADVOCATES: Final = "/advocates"

# Modal callback ids.
VIEW_INTAKE: Final = "intake"  # private_metadata: JSON {"channel": ...}
VIEW_DECLINE_REASON: Final = "decline_reason"  # private_metadata: ask id
VIEW_DENY_REASON: Final = "deny_reason"  # private_metadata: ask id
VIEW_PROPOSE_TIME: Final = "propose_time"  # private_metadata: engagement id
VIEW_OUTCOME: Final = "outcome"  # private_metadata: engagement id
VIEW_COMMENT: Final = "comment"  # private_metadata: engagement id
VIEW_OWN_LIMITS: Final = "own_limits"  # private_metadata: advocate id
VIEW_PAUSE: Final = "pause"  # private_metadata: advocate id
VIEW_CALL_HOURS: Final = "call_hours"  # private_metadata: advocate id
# The check-in's own forms: saving them answers the check-in (or records feedback).
VIEW_CHECKIN_LIMITS: Final = "checkin_limits"  # private_metadata: advocate id
VIEW_CHECKIN_FEEDBACK: Final = "checkin_feedback"  # private_metadata: advocate id

# Buttons on the rep's matches message.
ACTION_ASK_ADVOCATE: Final = "ask_advocate"  # value "request_id:advocate_id"
ACTION_ASK_BEST: Final = "ask_best"  # value "request_id"
ACTION_CANCEL_REQUEST: Final = "cancel_request"  # value "request_id"
# Buttons on the advocate's ask.
ACTION_ASK_ACCEPT: Final = "ask_accept"  # value "ask_id"
ACTION_ASK_DECLINE: Final = "ask_decline"  # value "ask_id"; opens VIEW_DECLINE_REASON
ACTION_ASK_NOT_NOW: Final = "ask_not_now"  # value "ask_id"
# Buttons on the account owner's approval request.
ACTION_APPROVE: Final = "approval_approve"  # value "ask_id"
ACTION_DENY: Final = "approval_deny"  # value "ask_id"; opens VIEW_DENY_REASON
# Scheduling.
ACTION_PICK_SLOT: Final = "pick_slot"  # value "engagement_id:slot_index"
ACTION_PROPOSE_TIME: Final = "propose_time"  # value "engagement_id"; opens VIEW_PROPOSE_TIME
ACTION_PROPOSE_SUGGESTED: Final = "propose_suggested"  # value "engagement_id:ISO instant"
ACTION_CONFIRM_TIME: Final = "confirm_time"  # value "engagement_id"
ACTION_REJECT_TIME: Final = "reject_time"  # value "engagement_id"
ACTION_RESCHEDULE: Final = "reschedule"  # value "engagement_id"
# After the call.
ACTION_RECORD_OUTCOME: Final = "record_outcome"  # value "engagement_id"; opens VIEW_OUTCOME
ACTION_ADD_COMMENT: Final = "add_comment"  # value "engagement_id"; opens VIEW_COMMENT
# App Home.
ACTION_HOME_NEW_REQUEST: Final = "home_new_request"  # opens VIEW_INTAKE
ACTION_HOME_PAUSE: Final = "home_pause"  # value "advocate_id"; opens VIEW_PAUSE
ACTION_HOME_RESUME: Final = "home_resume"  # value "advocate_id"
ACTION_HOME_LIMITS: Final = "home_limits"  # value "advocate_id"; opens VIEW_OWN_LIMITS
ACTION_HOME_HOURS: Final = "home_hours"  # value "advocate_id"; opens VIEW_CALL_HOURS
ACTION_PROFILE_LEAVE: Final = "profile_leave"  # value "advocate_id"; has a confirm dialog
ACTION_CHOOSE_LANGUAGE: Final = "choose_language"  # a select; option value "ja", "en"
# /advocates find: each advocate's profile.
ACTION_ROSTER_SHOW: Final = "roster_show"  # value "advocate_id"
# The quarterly check-in (and its reminder); an answer replaces the message in place.
ACTION_CHECKIN_KEEP: Final = "checkin_keep"  # value "advocate_id"
ACTION_CHECKIN_LIMITS: Final = "checkin_limits"  # value "advocate_id"; opens VIEW_CHECKIN_LIMITS
ACTION_CHECKIN_PAUSE: Final = "checkin_pause"  # static_select; option value "advocate_id:months"
ACTION_CHECKIN_LEAVE: Final = "checkin_leave"  # value "advocate_id"; has a confirm dialog
ACTION_CHECKIN_FEEDBACK: Final = "checkin_feedback"  # value "advocate_id"; opens
#   VIEW_CHECKIN_FEEDBACK (feedback alone: the check-in stays open)

# Nominations and invites.
VIEW_NOMINATION_DECLINE: Final = "nomination_decline"  # private_metadata: nomination id
VIEW_ONBOARDING: Final = "onboarding"  # private_metadata: nomination id
ACTION_NOMINATION_APPROVE: Final = "nomination_approve"  # value "nomination_id"
ACTION_NOMINATION_DECLINE: Final = "nomination_decline"  # value "nomination_id"; opens
#   VIEW_NOMINATION_DECLINE
ACTION_INVITE_JOIN: Final = "invite_join"  # value "nomination_id"; opens VIEW_ONBOARDING
ACTION_INVITE_NOT_NOW: Final = "invite_not_now"  # value "nomination_id"
ACTION_INVITE_NO_THANKS: Final = "invite_no_thanks"  # value "nomination_id"; confirm dialog

ACTION_CONSENT_CONFIRM: Final = "consent_confirm"  # value "advocate_id" (the check-in)

# Shortcuts (also in manifest.yml).
SHORTCUT_NOMINATE: Final = "nominate_advocate"  # message shortcut: the author is nominated
SHORTCUT_REQUEST: Final = "request_reference"  # global shortcut: opens the intake


def split_value(value: str, parts: int) -> tuple[int, ...]:
    """``"12:3"`` → ``(12, 3)``; a malformed value is a ``ValueError`` (never trusted)."""
    pieces = value.split(":")
    if len(pieces) != parts or not all(p.isascii() and p.isdigit() and len(p) <= 10
                                       for p in pieces):  # ids are 32-bit on PostgreSQL
        raise ValueError(f"malformed button value {value!r}")
    return tuple(int(p) for p in pieces)


def split_moment(value: str) -> tuple[int, datetime]:
    """``"12:2026-12-08T14:00:00+00:00"`` → ``(12, that instant)``; a malformed value, or
    a time without its offset, is a ``ValueError`` (never trusted)."""
    first, _, moment = value.partition(":")
    (number,) = split_value(first, 1)
    try:
        at = datetime.fromisoformat(moment) if len(moment) <= 40 else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ValueError(f"malformed button value {value!r}")
    return number, at

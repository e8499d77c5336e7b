"""Slack's request signature, checked before anything reads the request.

Bolt verifies signatures too, but only after it has parsed the body (a ``payload=`` that
is not JSON raised there, with a traceback and a 500) and it logs the whole body of every
request that fails. slack_sdk's verifier also raises, instead of answering "no", on a
timestamp that is not a number, which sent unverified bodies down Bolt's error path. So
``handlers.web`` calls ``verify`` first, on the raw bytes, and lets Bolt see only what
Slack really sent; ``parse`` then turns a verified body into Bolt's request or says why it
cannot, which becomes a 400.

``verify`` never raises: every failure is a short reason, and the caller answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from handlers.payloads import has_lone_surrogate

#: How old a timestamp may be, in seconds (Slack's own recommendation: five minutes).
MAX_AGE_SECONDS = 5 * 60
#: The largest body the server reads; Slack's payloads (a modal's state included) are far
#: smaller, and a bigger one is refused before it is hashed.
MAX_BODY_BYTES = 1024 * 1024

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SlackRequestError(Exception):
    """A verified body the bot cannot read; the message says what is wrong with it."""


def check_headers(headers: Mapping[str, str], *, now: float | None = None) -> str | None:
    """Why the headers alone rule the request out, or None. Cheap, so it runs before the
    body is read: a request with no signature never costs a read of 1 MB."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        return "no signature headers"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not a number"
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_AGE_SECONDS:
        return "timestamp older than five minutes"
    if not _SIGNATURE.fullmatch(signature):
        return "signature is not a v0 signature"
    return None


def verify(secret: str, headers: Mapping[str, str], body: bytes, *,
           now: float | None = None) -> str | None:
    """None when Slack signed ``body`` with ``secret`` within the last five minutes, else
    the reason it did not (for one short log line)."""
    try:
        problem = check_headers(headers, now=now)
        if problem is not None:
            return problem
        if not secret:
            return "no signing secret configured"
        timestamp = headers["X-Slack-Request-Timestamp"].encode()
        expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp + b":" + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers["X-Slack-Signature"]):
            return "signature does not match"
        return None
    except Exception:  # whatever went wrong, the request is not verified
        return "signature could not be checked"


def parse(body: bytes, headers: Mapping[str, str], query: str) -> AsyncBoltRequest:
    """Bolt's request for a verified ``body``; ``SlackRequestError`` if it is not text,
    not the form or JSON Slack sends, or not an object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SlackRequestError("body is not UTF-8") from None
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    except ValueError:  # json.JSONDecodeError included
        raise SlackRequestError("payload is not JSON") from None
    except Exception:  # Bolt read a field of an unexpected type while building its context
        raise SlackRequestError("payload does not have the shape of a Slack request") from None
    if not isinstance(request.body, dict):
        raise SlackRequestError("payload is not a JSON object")
    problem = shape_problem(request.body)
    if problem is not None:
        raise SlackRequestError(problem)
    return request


def shape_problem(body: Mapping[str, Any]) -> str | None:
    """What Bolt's listener matching would trip over, or None.

    Bolt indexes a few fields before any listener runs (``actions[0].action_id``,
    ``view.callback_id``, ``view.type``, ``event.type``) and the listeners a command's or
    a click's ``trigger_id``; one missing or of the wrong type raised inside its
    dispatch, which logged a traceback (or answered 500) and apologised to whoever the
    body named.
    Text with a lone surrogate failed later, in the database driver
    (``handlers.payloads``). Slack sends neither.
    """
    if has_lone_surrogate(body):
        return "payload has text that is not valid Unicode"
    kind = body.get("type")
    if ("command" in body or kind == "block_actions") and not isinstance(
            body.get("trigger_id"), str):  # Slack sends one with every command and click
        return "no trigger_id"
    if kind == "block_actions":
        actions = body.get("actions")
        if not (isinstance(actions, list) and actions and all(
                isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)):
            return "actions is not a list of actions with an action_id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not (isinstance(view, dict) and isinstance(view.get("callback_id"), str)
                and isinstance(view.get("type"), str)):
            return "view has no callback_id or type"
    if kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            return "event has no type"
    if not isinstance(body.get("callback_id", ""), str):
        return "callback_id is not text"
    if not isinstance(body.get("response_url", ""), str):  # Bolt's respond() posts to it
        return "response_url is not text"
    return None

"""Modal submissions (``view_submission``).

The intake form is checked with ``validate_draft`` (pure, no I/O) before the ack, so a
wrong field comes back inline; matching and the rep's DM happen after. The small forms
whose rules need the database (an outcome for a call that has not happened yet, a time
after the request's deadline, limits that are not stricter) run their service call
inside ``ack_after``'s budget for the same reason. A submission is keyed by its view id,
so a form that Slack delivers twice is acted on once.

The check-in's two forms work the same way: "Change my limits" answers the check-in
(``answer_check_in`` with ``change_limits``, which replaces the check-in message), and the
feedback box records the feedback alone (``record_check_in_feedback``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.forms import forgive
from bot.domain.errors import InvalidInput
from bot.services.advocates import set_own_limits
from bot.services.asks import answer_ask
from bot.services.checkins import CheckInChoice, answer_check_in, record_check_in_feedback
from bot.services.outcomes import add_comment, record_outcome
from bot.services.requests import known_values, submit_request, validate_draft
from bot.services.scheduling import pick_time
from handlers.slack import forms, ids
from handlers.slack.listeners import Ack, SlackDeps, ack_after, publish_home

log = logging.getLogger(__name__)


def submission_key(view: dict[str, Any]) -> str:
    return f"slack:submit:{view.get('callback_id')}:{view.get('id')}"


async def refuse(ack: Ack, to_errors: Callable[[InvalidInput], dict[str, str]], field: str,
                 message: str) -> None:
    """Answer a form with one inline error on ``field``; Slack keeps the modal open."""
    await ack(response_action="errors", errors=to_errors(InvalidInput({field: message})))


def register(app: AsyncApp, deps: SlackDeps) -> None:
    ctx = deps.ctx

    @app.view(ids.VIEW_INTAKE)
    async def intake(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                     client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            draft = forms.parse_intake(view)
            if not draft.timezone:
                draft = replace(draft, timezone=(await deps.person(body)).timezone)
            try:
                validate_draft(draft, now=ctx.now(), policy=ctx.policy)
            except InvalidInput as error:
                await ack(response_action="errors", errors=forms.intake_errors(error))
                return
            await ack()
            async with deps.after_ack():
                actor = await deps.actor(body)
                async with ctx.uow() as uow:
                    typed = forgive(draft, await known_values(uow))
                await deps.once.run(submission_key(view), lambda: submit_request(ctx, actor, typed))

    @app.view(ids.VIEW_DECLINE_REASON)
    async def decline_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            await ack()
            async with deps.after_ack():
                ask_id = forms.metadata_id(view)
                if ask_id is None:
                    raise InvalidInput({"reason": "This form lost track of its ask; please click "
                                        "Decline again."})
                actor = await deps.actor(body)
                reason = forms.parse_decline_reason(view)
                await deps.once.run(submission_key(view),
                                    lambda: answer_ask(ctx, actor, ask_id, "decline", reason))

    @app.view(ids.VIEW_PROPOSE_TIME)
    async def propose_time(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                           client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            engagement_id = forms.metadata_id(view)
            proposed = forms.parse_propose_time(view)
            if engagement_id is None or proposed is None:
                await refuse(ack, forms.propose_time_errors, "proposed",
                             "Pick a day and a time.")
                return
            actor = await deps.actor(body)
            await ack_after(ack, deps, lambda: pick_time(ctx, actor, engagement_id,
                                                         proposed=proposed),
                            forms.propose_time_errors)

    @app.view(ids.VIEW_OUTCOME)
    async def outcome(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                      client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            engagement_id = forms.metadata_id(view)
            what, helpfulness, amount = forms.parse_outcome(view)
            if engagement_id is None or what is None:
                await refuse(ack, forms.outcome_errors, "outcome",
                             "Choose what happened.")
                return
            actor = await deps.actor(body)
            await ack_after(ack, deps, lambda: record_outcome(
                ctx, actor, engagement_id, what, helpfulness=helpfulness,
                influenced_amount=amount), forms.outcome_errors)

    @app.view(ids.VIEW_COMMENT)
    async def comment(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                      client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            engagement_id = forms.metadata_id(view)
            if engagement_id is None:
                await refuse(ack, forms.comment_errors, "comment",
                             "This form lost track of its call; please open "
                             "it again from the thank-you message.")
                return
            actor = await deps.actor(body)
            text = forms.parse_comment(view)
            await ack_after(ack, deps, lambda: add_comment(ctx, actor, engagement_id, text),
                            forms.comment_errors)

    @app.view(ids.VIEW_OWN_LIMITS)
    async def own_limits(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                         client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            advocate_id = forms.metadata_id(view)
            if advocate_id is None:
                await refuse(ack, forms.limits_errors, "",
                             "This form lost track of whose limits these are; "
                             "please open it again.")
                return
            actor = await deps.actor(body)
            limits = forms.parse_own_limits(view)
            if await ack_after(ack, deps,
                               lambda: set_own_limits(ctx, actor, advocate_id, limits),
                               forms.limits_errors):
                await publish_home(deps, client, actor)

    @app.view(ids.VIEW_CHECKIN_LIMITS)
    async def check_in_limits(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                              client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            advocate_id = forms.metadata_id(view)
            if advocate_id is None:
                await refuse(ack, forms.limits_errors, "",
                             "This form lost track of whose check-in this is; "
                             "please open it again from the check-in.")
                return
            actor = await deps.actor(body)
            limits = forms.parse_own_limits(view)
            await ack_after(ack, deps, lambda: deps.once.run(
                submission_key(view), lambda: answer_check_in(
                    ctx, actor, advocate_id, CheckInChoice.CHANGE_LIMITS, limits=limits)),
                forms.limits_errors)

    @app.view(ids.VIEW_CHECKIN_FEEDBACK)
    async def check_in_feedback(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                                client: AsyncWebClient) -> None:
        async with deps.reporting(ack, body, client):
            advocate_id = forms.metadata_id(view)
            if advocate_id is None:
                await refuse(ack, forms.check_in_feedback_errors, "feedback",
                             "This form lost track of whose check-in this "
                             "is; please open it again from the check-in.")
                return
            actor = await deps.actor(body)
            text = forms.parse_check_in_feedback(view)
            await ack_after(ack, deps, lambda: deps.once.run(
                submission_key(view),
                lambda: record_check_in_feedback(ctx, actor, advocate_id, text)),
                forms.check_in_feedback_errors)


__all__ = ["register", "submission_key"]

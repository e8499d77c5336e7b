"""The sandbox's conversation: who is playing, what they typed or clicked, what they see.

Everything here is the same path Slack and Teams take: words through
``bot.conversation.words``, buttons and forms through ``bot.conversation.clicks`` (checked
against their spec first, as Teams does), every command through the one dispatcher. What
the page keeps between requests is one ``Screen`` per person: the last answer, an open
form with its values and errors, and the answers each clicked message turned into.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.clock import AheadClock
from bot.conversation import clicks, words
from bot.conversation.clicks import BadAction
from bot.conversation.commands import StartRequest
from bot.conversation.dispatcher import dispatch
from bot.conversation.formspec import FORMS, field_errors
from bot.conversation.replies import Attachment, Reply
from bot.conversation.views import zone_of
from bot.domain.errors import InvalidInput
from bot.domain.model import Actor, Person
from bot.rendering import Renderer
from bot.services.asks import expire_asks
from bot.services.context import ServiceContext
from bot.services.reminders import due_outcome_prompts, due_reminders
from bot.services.roles import resolve_actor
from handlers.sandbox.messenger import (
    Inbox,
    SandboxDirectory,
    SandboxMessenger,
    identity_for,
)

log = logging.getLogger(__name__)

MAX_TYPED = 2000  # characters of a typed command
SETTLE_SECONDS = 10.0  # how long an action waits at most for the messages it queued
JUMP_STEP = timedelta(hours=1)  # the clock jumps ahead this much at a time (a call's
# reminders are an hour and a day ahead: a step lands in each window)


@dataclass
class OpenForm:
    """A form the person has open (the intake form, their limits): its reply's context,
    what they filled in and what was wrong with it."""

    name: str
    context: Mapping[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Screen:
    """What one person's page shows beside their messages and home."""

    reply: Reply | None = None
    form: OpenForm | None = None
    answered: dict[str, Reply] = field(default_factory=dict)  # message ref -> its answer
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # message ref -> fields
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachment: Attachment | None = None


class Sandbox:
    """The sandbox surface of one running app (single user, so one set of screens)."""

    def __init__(self, ctx: ServiceContext, renderer: Renderer, clock: AheadClock | None,
                 *, settle: Any = None) -> None:
        self.ctx = ctx
        self.renderer = renderer
        self.clock = clock  # None: a real platform shares the clock, so no jumping ahead
        self.inbox = Inbox()
        self.messenger = SandboxMessenger(self.inbox)
        self.directory = SandboxDirectory()
        self.screens: dict[str, Screen] = {}
        self._files: dict[str, list[Any]] = {}  # message ref -> its report files, made once
        self.people: set[str] = set()  # emails played here (reps have no roster row)
        # Awaited after each action, so the page shows what the outbox delivered; None
        # while nothing delivers yet (the demo is made before the scheduler starts).
        self.settle_with = settle

    def screen(self, email: str) -> Screen:
        return self.screens.setdefault(email, Screen())

    async def files(self, message: Any) -> list[Any]:
        """The charts and files a message carries (the program report's:
        ``Renderer.report_files``), made once, off the event loop."""
        if message.ref not in self._files:
            renderer = self.renderer.for_locale(message.locale)
            self._files[message.ref] = await asyncio.to_thread(renderer.report_files,
                                                               message.context)
        return self._files[message.ref]

    def renderer_for(self, email: str) -> Renderer:
        """The renderer in the person's locale (as the program last addressed them)."""
        return self.renderer.for_locale(self.inbox.locale_of(email))

    async def actor(self, email: str) -> Actor:
        """Who ``email`` is right now, remembered as a sandbox person (so messages to their
        email reach their inbox), with the roles the program gives them."""
        email = email.strip().lower()
        async with self.ctx.uow() as uow:
            advocate = await uow.advocates.get_by_email(email)
            known = await uow.people.get_by_identity(identity_for(email))
            person = Person(
                email=email, identity=identity_for(email),
                display_name=advocate.name if advocate else email.split("@")[0],
                timezone=advocate.timezone if advocate else None,
                internal=advocate is None)
            if person != known:
                await uow.people.upsert(person)
            actor = await resolve_actor(self.ctx, uow, person)
            await uow.commit()
        self.people.add(email)
        return actor

    # --- what people do -------------------------------------------------------------

    async def say(self, email: str, text: str) -> None:
        """Typed words, as in Slack's slash commands or a Teams message."""
        actor = await self.actor(email)
        reply = await dispatch(self.ctx, words.read(text[:MAX_TYPED], actor))
        self._show(email, reply)
        await self.settle()

    async def click(self, email: str, data: Mapping[str, Any], ref: str = "") -> Reply:
        """A button or a sent form: ``data`` holds its ``verb`` and fields; ``ref`` is the
        message it was on (its answer and field errors are shown there)."""
        actor = await self.actor(email)
        screen = self.screen(email)
        try:
            action = clicks.parse_action(dict(data))
        except BadAction:
            self._show(email, Reply("stale_button"))
            return Reply("stale_button")
        answer = await self._run(actor, action)
        if action.verb == "intake.submit":
            await self._intake_answer(email, actor, action, answer)
        elif answer.template == "invalid" and ref:
            form = clicks.form_of(action)
            spec = FORMS[form] if form else None
            screen.errors[ref] = field_errors(self.renderer_for(email), spec, InvalidInput(
                dict(answer.context["errors"]))) if spec else {}
            screen.values[ref] = dict(action.data)
            if not spec:
                screen.answered[ref] = answer
        elif answer.template != "repeat":
            screen.errors.pop(ref, None)
            if ref:
                screen.answered[ref] = answer
            else:
                self._show(email, answer)
        await self.settle()
        return answer

    async def _run(self, actor: Actor, action: clicks.CardAction) -> Reply:
        refused = clicks.refusal(action, self.ctx.policy.limits, self.renderer)
        if refused is not None:
            return refused
        try:
            draft = clicks.draft_from_form(action.data) if action.verb == "intake.submit" \
                else None
            command = clicks.command_of(actor, action, zone=zone_of(self.ctx, actor),
                                        draft=draft)
        except BadAction:
            return Reply("stale_button")
        return await dispatch(self.ctx, command)

    async def _intake_answer(self, email: str, actor: Actor, action: clicks.CardAction,
                             answer: Reply) -> None:
        """A filed request closes the form; a refused one shows it again as it was sent,
        each error on its field (with the form's choices, read again if it was not open)."""
        screen = self.screen(email)
        if answer.template != "invalid":
            screen.form = None
            if answer.template != "repeat":
                screen.reply = answer
            return
        values = {k: v for k, v in action.data.items() if k not in ("form_id", "choose")}
        context = screen.form.context if screen.form else {}
        if "known" not in context:
            context = (await dispatch(self.ctx, StartRequest(actor))).context
        screen.form = OpenForm("intake", context, values, field_errors(
            self.renderer_for(email), FORMS["intake"],
            InvalidInput(dict(answer.context["errors"]))))

    async def reopen_intake(self, email: str) -> None:
        """The intake form's choices again (a form shown before a restart has none)."""
        actor = await self.actor(email)
        self._show(email, await dispatch(self.ctx, StartRequest(actor)))

    def _show(self, email: str, reply: Reply) -> None:
        screen = self.screen(email)
        if reply.template == "repeat":
            return
        if reply.form is not None:
            screen.form = OpenForm(reply.form, reply.context)
            screen.reply = None
            return
        screen.reply = reply
        screen.attachment = reply.attachment

    def close_form(self, email: str) -> None:
        self.screen(email).form = None

    # --- time -----------------------------------------------------------------------

    async def jump(self, hours: int) -> None:
        """Move the sandbox clock ahead, in the steps the scheduler would have seen, running
        its sweeps and the program's calendar jobs at each (a reminder's window or the
        digest's hour is never jumped over), so what fell due arrives."""
        if self.clock is None:
            raise RuntimeError("the clock is shared with a real chat platform")
        left = timedelta(hours=hours)
        while left > timedelta(0):
            step = min(JUMP_STEP, left)
            self.clock.jump(step)
            left -= step
            await self._sweep()
        await self.settle()

    async def _sweep(self) -> None:
        from bot.jobs import run_due_jobs  # the jobs import every scheduled service

        await expire_asks(self.ctx)
        await due_reminders(self.ctx)
        await due_outcome_prompts(self.ctx)
        await run_due_jobs(self.ctx)

    async def settle(self) -> None:
        if self.settle_with is not None:
            try:
                await asyncio.wait_for(self.settle_with(), SETTLE_SECONDS)
            except TimeoutError:
                log.info("sandbox: the outbox is still delivering; the page shows it later")

"""Bolt listeners, one module per kind of payload, each with ``register(app)``.

Every listener is a module-level function with the same shape (docs/architecture.md,
"The pieces"): acknowledge first, work out who is acting (``SlackDeps.actor``: the
directory's cached profile and the roles the program gives them), read the payload into
a conversation command, dispatch it, and show the reply the Slack way. Services write
what people should see into the outbox, which the dispatcher delivers; a listener only
answers directly what must be immediate (a modal for a ``trigger_id``, inline form
errors, an ephemeral reply to a command). The shared ``SlackDeps`` reach the listeners
through Bolt's context (``register_all`` adds the middleware that puts them there).

Errors: a refusal is a reply like any other; anything else is
logged and answered with an apology (``tell_user``). Before the ack, Bolt's global error
handler (``handlers.slack.app``) does it. After the ack, each listener does it itself,
inside ``deps.reporting(...)``: Bolt 1.x, when a listener raises within its 10 ms polling
interval after acking, resets the ack and answers Slack nothing for 3 seconds, then 404
(``AsyncioListenerRunner``: ``ack.response = response`` with ``response = None``). A quick
refusal is exactly such an error, so listeners must not raise after their ack.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.dispatcher import dispatch
from bot.conversation.replies import Reply
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.model import Actor, Person
from bot.rendering import Renderer
from bot.services.context import ServiceContext
from bot.services.home import home as home_of
from bot.services.locales import reading
from bot.services.roles import resolve_actor
from handlers.slack import home
from handlers.slack.blockkit import MARKUP, reply_text
from handlers.slack.directory import SlackDirectory
from handlers.slack.idempotency import Once, Repeat
from handlers.slack.inflight import InFlight

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

DEFAULT_ACK_BUDGET = 2.0  # seconds a form may spend validating before Slack gets its ack

Ack = Callable[..., Awaitable[None]]


@dataclass
class SlackDeps:
    """What the listeners share: the wired application, the Slack renderer, who-is-who,
    the repeat guard, and how long a form's validation may hold its acknowledgement."""

    bot: App
    renderer: Renderer
    directory: SlackDirectory
    once: Once
    ack_budget: float = DEFAULT_ACK_BUDGET
    in_flight: InFlight = field(default_factory=InFlight)

    @asynccontextmanager
    async def after_ack(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold one of the work slots for the slow part of a listener (see
        ``handlers.slack.inflight``)."""
        async with self.in_flight.work(urgent=urgent):
            yield

    @property
    def ctx(self) -> ServiceContext:
        return self.bot.ctx

    async def person(self, body: Mapping[str, Any]) -> Person:
        user_id, team_id = user_of(body)
        return await self.directory.person(user_id, team_id)

    async def actor(self, body: Mapping[str, Any]) -> Actor:
        """The person behind a payload, with the roles settings and the roster give them
        right now (never trusted from the payload), and the locale they read."""
        person = await self.person(body)
        async with self.ctx.uow() as uow:
            # The language they chose may have changed on another replica since the
            # directory's copy was read: the stored row says (one indexed read, no Slack).
            stored = await uow.people.get_by_identity(person.identity) if (
                person.identity is not None) else None
            if stored is not None:
                person = replace(person, chosen_locale=stored.chosen_locale,
                                 locale=person.locale or stored.locale)
            return await reading(self.ctx, uow, await resolve_actor(self.ctx, uow, person))

    def renderer_for(self, actor: Actor, reply: Reply | None = None) -> Renderer:
        """The renderer in the actor's language, or in the one a reply says it is in (the
        language the person just chose)."""
        return self.renderer.for_locale(reply.locale if reply is not None and reply.locale
                                        else actor.locale)

    @asynccontextmanager
    async def reporting(self, ack: Any, body: Mapping[str, Any], client: AsyncWebClient,
                        respond: AsyncRespond | None = None) -> AsyncIterator[None]:
        """Around a listener's body: a failure is told to the person instead of raised
        (acknowledging first if the listener had not yet), and a ``Repeat`` is the quiet
        no-op it is meant to be. The server waits for it before it stops (``in_flight``)."""
        try:
            async with self.in_flight.hold():
                yield
        except Repeat as repeat:
            log.info("ignored a repeat of %s", repeat)
        except Exception as error:
            if getattr(ack, "response", True) is None:
                await ack()
            await tell_user(error, body, client, respond,
                            renderer=self.renderer.for_locale(self.ctx.program_locale))


def user_message(error: BaseException, renderer: Renderer) -> str:
    """What the person who caused ``error`` reads: the words for a rule that said no (its
    error template, in mrkdwn), else an apology."""
    if isinstance(error, DomainError):
        return renderer.problem_text(error, MARKUP)
    return sorry(renderer)


def sorry(renderer: Renderer) -> str:
    return renderer.render("text/replies/sorry.txt.j2", {}).strip()


async def tell_user(error: BaseException, body: Mapping[str, Any], client: AsyncWebClient,
                    respond: AsyncRespond | None, *, renderer: Renderer) -> None:
    """Log ``error`` and, if a person caused it, tell them what they can do about it:
    ephemeral through ``respond`` where the payload has a response URL (commands, message
    buttons), else in a DM (App Home buttons, modals)."""
    kind = str(body.get("type") or ("slash_command" if "command" in body else "unknown"))
    if isinstance(error, DomainError):
        log.info("refused a %s: %s", kind, error)
    else:
        log.error("failed to handle a %s", kind, exc_info=error)
    if kind == "event_callback":
        return  # nobody clicked anything; an App Home that did not draw is redrawn on open
    await tell_text(user_message(error, renderer), body, client, respond)


async def tell_text(text: str, body: Mapping[str, Any], client: AsyncWebClient,
                    respond: AsyncRespond | None) -> None:
    """Tell the person behind ``body``: ephemeral through ``respond`` where the payload
    has a response URL (commands, message buttons), else in a DM (App Home, modals)."""
    user_id, _ = user_of(body)
    if not user_id:
        return
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            await respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            await client.chat_postMessage(channel=user_id, text=text)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as failure:
        # The apology itself failed; there is nobody left to tell but the log.
        log.warning("could not tell %s about the error: %s", user_id, failure)


def user_of(body: Mapping[str, Any]) -> tuple[str, str]:
    """(user id, workspace id) of whoever sent a command, click, submission or event."""
    if "user_id" in body:  # slash command (form body)
        return str(body["user_id"]), str(body.get("team_id") or "")
    user = body.get("user")
    if isinstance(user, Mapping):  # block_actions, view_submission
        workspace = body.get("team")
        team = user.get("team_id") or (
            workspace.get("id") if isinstance(workspace, Mapping) else "") or ""
        return str(user.get("id") or ""), str(team)  # no id: a lookup that fails politely
    event = body.get("event") or {}
    return str(event.get("user") or ""), str(body.get("team_id") or "")


async def answer_form(ack: Ack, deps: SlackDeps, command: Any,
                      errors_for: Callable[[InvalidInput], dict[str, str]],
                      body: Mapping[str, Any], client: AsyncWebClient) -> Reply | None:
    """Dispatch a form's command before acknowledging it, so a refusal comes back inline
    (``response_action: errors``) on the field that is wrong.

    The command is a short database transaction; its messages go through the outbox
    after the ack like everything else. Should it take longer than ``deps.ack_budget``
    the modal is acknowledged (closed) anyway and the command finishes afterwards, a
    refusal then told to the person in their DM: Slack's 3 seconds always win. Returns
    the reply of a command that went through, None when the form was refused.
    """
    task = asyncio.ensure_future(dispatch(deps.ctx, command))
    done, _ = await asyncio.wait({task}, timeout=deps.ack_budget)
    if not done:
        log.warning("form validation took over %.1f s; acknowledging first", deps.ack_budget)
        await ack()
        reply = await task
        if reply.template in ("invalid", "refused"):
            await tell_text(reply_text(deps.renderer_for(command.actor, reply), reply), body,
                            client, None)
            return None
        return reply
    reply = task.result()
    if reply.template == "invalid":
        await ack(response_action="errors", errors=errors_for(
            InvalidInput(reply.context["errors"])))
        return None
    if reply.template == "refused":  # not about one field: show it on the form anyway
        await ack(response_action="errors", errors=errors_for(
            InvalidInput({"": reply.context["problem"]})))
        return None
    await ack()
    return reply


async def publish_home(deps: SlackDeps, client: AsyncWebClient, actor: Actor) -> None:
    """Render and publish the person's App Home (one section per role they hold)."""
    assert actor.person.identity is not None
    data = await home_of(deps.ctx, actor)
    context = home.home_context(data)  # the very context the template tests render
    view = home.home_view(deps.renderer_for(actor), context=context)
    await client.views_publish(user_id=actor.person.identity.user_id, view=view)


def register_all(app: AsyncApp, deps: SlackDeps) -> None:
    """Register every listener module on ``app``. Listeners are module-level functions;
    they find the shared ``deps`` in Bolt's context, where this middleware puts it."""
    from handlers.slack.listeners import actions, commands, events, nominations, views

    async def with_deps(context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        context["deps"] = deps
        return await next()

    app.use(with_deps)
    for module in (commands, actions, views, events, nominations):
        module.register(app)


__all__ = [
    "DEFAULT_ACK_BUDGET",
    "SlackDeps",
    "answer_form",
    "publish_home",
    "register_all",
    "sorry",
    "tell_text",
    "tell_user",
    "user_message",
    "user_of",
]

"""The sandbox's HTTP routes, mounted on the bot's aiohttp server when it is active.

``GET /`` is the page; every change is a ``POST`` of a plain form (works without
JavaScript), answered with a redirect back to the page. Safe by default for a tool with no
sign-in: the server only listens on loopback when the sandbox is on
(``Settings.sandbox_active``), a request naming another host is refused (a web page
elsewhere cannot reach the sandbox through DNS rebinding), and every form carries this
process's CSRF token, checked in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.clock import AheadClock
from bot.ports import DEFAULT_LEASE, OutboxStatus
from bot.rendering import templates_dir
from handlers.sandbox.page import page_context
from handlers.sandbox.pages import Pages
from handlers.sandbox.surface import Sandbox
from storage.tables import OutboxRow

log = logging.getLogger(__name__)

PERSON_COOKIE = "sandbox_person"
JUMPS = (1, 24, 24 * 7)  # hours the clock can jump ahead by
MAX_FORM_BYTES = 64 * 1024
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


@dataclass
class SandboxParts:
    """What ``bootstrap`` builds when the sandbox is on."""

    sandbox: Sandbox
    pages: Pages
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def messenger(self) -> Any:
        return self.sandbox.messenger

    @property
    def directory(self) -> Any:
        return self.sandbox.directory

    def add_routes(self, web_app: web.Application) -> None:
        web_app[PARTS_KEY] = self
        web_app.router.add_get("/", show_page)
        web_app.router.add_post("/as", choose_person)
        web_app.router.add_post("/say", say)
        web_app.router.add_post("/act", act)
        web_app.router.add_post("/form/close", close_form)
        web_app.router.add_post("/jump", jump)
        web_app.router.add_get("/messages/{ref}/invite.ics", invite)
        web_app.router.add_get("/messages/{ref}/chart.png", chart)
        web_app.router.add_get("/messages/{ref}/files/{index:[0-9]{1,3}}", message_file)
        web_app.router.add_get("/file", attachment)
        web_app.router.add_static("/static/", templates_dir() / "web" / "static")


PARTS_KEY = web.AppKey("sandbox", SandboxParts)


def build_sandbox(bot_app: App) -> SandboxParts:
    """The sandbox of ``bot_app``: jumping ahead only when its clock is the sandbox's own
    (no real chat platform shares it)."""
    clock = bot_app.clock if isinstance(bot_app.clock, AheadClock) else None

    async def settle() -> None:
        await delivered(bot_app)

    sandbox = Sandbox(bot_app.ctx, bot_app.renderer, clock, settle=settle)
    return SandboxParts(sandbox, Pages(bot_app.renderer))


async def delivered(bot_app: App) -> None:
    """Return once no message waits in the outbox that is due or being delivered (a
    claimed row is leased ahead by ``DEFAULT_LEASE``; later retries do not count)."""
    if not bot_app.messengers:
        return
    while True:
        horizon = bot_app.clock.now() + DEFAULT_LEASE + timedelta(seconds=1)
        stmt = select(func.count()).where(OutboxRow.status == OutboxStatus.PENDING.value,
                                          OutboxRow.next_attempt_at <= horizon)
        async with bot_app.engine.connect() as connection:
            waiting = (await connection.execute(stmt)).scalar_one()
        if not waiting:
            return
        bot_app.outbox_wakeup()
        await asyncio.sleep(0.05)


# --- guards ---------------------------------------------------------------------------


def refused(parts: SandboxParts, kind: type[web.HTTPException], reason: str
            ) -> web.HTTPException:
    """An error answer whose words are ``templates/web/refused.html.j2``'s."""
    page = parts.pages.render("refused.html.j2", {"reason": reason})
    return kind(text=page, content_type="text/html")


def _parts(request: web.Request) -> SandboxParts:
    host = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") \
        else (request.host or "").split("]")[0] + "]"
    if host.lower() not in LOCAL_HOSTS:
        raise refused(request.app[PARTS_KEY], web.HTTPForbidden, "host")
    return request.app[PARTS_KEY]


async def _form(request: web.Request) -> tuple[SandboxParts, dict[str, str]]:
    """The posted form, refused without this process's CSRF token."""
    parts = _parts(request)
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES,
                                            actual_size=request.content_length or 0)
    posted = await request.post()
    data: dict[str, str] = {}
    for key in set(posted.keys()):
        values = [str(v) for v in posted.getall(key) if isinstance(v, str)]
        data[key] = ",".join(v for v in values if v) if len(values) > 1 else \
            (values[0] if values else "")
    token = data.pop("csrf", "")
    if not hmac.compare_digest(token.encode(), parts.csrf.encode()):
        log.warning("sandbox: refused a form without this page's token")
        raise refused(parts, web.HTTPForbidden, "token")
    return parts, data


def _person(request: web.Request) -> str | None:
    email = request.cookies.get(PERSON_COOKIE, "").strip().lower()
    return email if "@" in email and len(email) <= 320 else None


def _back(anchor: str = "") -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/" + (f"#{anchor}" if anchor else ""))


def _who(request: web.Request) -> str:
    email = _person(request)
    if email is None:
        raise _back()
    return email


# --- routes ---------------------------------------------------------------------------


async def show_page(request: web.Request) -> web.Response:
    parts = _parts(request)
    email = _person(request)
    pages = parts.pages.for_locale(parts.sandbox.inbox.locale_of(email) if email else None)
    context = await page_context(parts, pages, email, jumps=JUMPS)
    body = pages.render("page.html.j2", context)
    return web.Response(text=body, content_type="text/html", headers={
        "Cache-Control": "no-store", "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "frame-ancestors 'none'; form-action 'self'",
        "Referrer-Policy": "no-referrer"})


async def choose_person(request: web.Request) -> web.Response:
    _, data = await _form(request)
    email = (data.get("email") or data.get("other") or "").strip().lower()
    response = _back("messages" if "@" in email else "people")
    if "@" in email and len(email) <= 320:
        response.set_cookie(PERSON_COOKIE, email, httponly=True, samesite="Strict")
    raise response


async def say(request: web.Request) -> web.Response:
    parts, data = await _form(request)
    email = _who(request)
    text = data.get("text", "").strip()
    if text:
        await parts.sandbox.say(email, text)
    raise _back("answer")


async def act(request: web.Request) -> web.Response:
    parts, data = await _form(request)
    email = _who(request)
    ref = data.pop("message", "")
    if data.get("verb") == "intake.reopen":
        await parts.sandbox.reopen_intake(email)
        raise _back("answer")
    await parts.sandbox.click(email, data, ref)
    raise _back(ref or "answer")


async def close_form(request: web.Request) -> web.Response:
    parts, _ = await _form(request)
    parts.sandbox.close_form(_who(request))
    raise _back()


async def jump(request: web.Request) -> web.Response:
    parts, data = await _form(request)
    hours = data.get("hours", "")
    if parts.sandbox.clock is None or not hours.isdigit() or int(hours) not in JUMPS:
        raise refused(parts, web.HTTPBadRequest, "jump")
    await parts.sandbox.jump(int(hours))
    raise _back("messages")


async def invite(request: web.Request) -> web.Response:
    parts = _parts(request)
    message = _own_message(request, parts)
    ics = parts.sandbox.renderer.for_locale(message.locale).invite_ics(message.context)
    if ics is None:
        raise refused(parts, web.HTTPNotFound, "no_invite")
    name = str(message.context.get("ics_filename") or "invite.ics")
    return web.Response(body=ics.encode(), content_type="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{_safe_name(name)}"'})


async def chart(request: web.Request) -> web.Response:
    parts = _parts(request)
    message = _own_message(request, parts)
    png = parts.sandbox.renderer.for_locale(message.locale).chart_png(message.context)
    if png is None:
        raise refused(parts, web.HTTPNotFound, "no_chart")
    return web.Response(body=png, content_type="image/png")


async def message_file(request: web.Request) -> web.Response:
    """One of the charts or files a message carries (the program report's)."""
    parts = _parts(request)
    files = await parts.sandbox.files(_own_message(request, parts))
    index = int(request.match_info["index"])
    if index >= len(files):
        raise refused(parts, web.HTTPNotFound, "no_file")
    file = files[index]
    disposition = "inline" if file.media_type.startswith("image/") else "attachment"
    return web.Response(body=file.content, content_type=file.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{_safe_name(file.filename)}"'})


async def attachment(request: web.Request) -> web.Response:
    parts = _parts(request)
    file = parts.sandbox.screen(_who(request)).attachment
    if file is None:
        raise refused(parts, web.HTTPNotFound, "no_file")
    return web.Response(body=file.content, content_type=file.media_type, headers={
        "Content-Disposition": f'attachment; filename="{_safe_name(file.filename)}"'})


def _own_message(request: web.Request, parts: SandboxParts) -> Any:
    """A message in the inbox of the person playing (another's is not found)."""
    email = _who(request)
    ref = request.match_info["ref"]
    for message in parts.sandbox.inbox.of(email):
        if message.ref == ref:
            return message
    raise refused(parts, web.HTTPNotFound, "no_message")


def _safe_name(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_.")[:100] or "file"

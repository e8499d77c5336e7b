"""A local fake of Slack's Web API: records every call, answers like Slack, fails on demand.

Point a real ``AsyncWebClient`` at ``FakeSlack.api_url`` (``SLACK_API_URL`` in the app) and
the real SDK code runs end to end over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    answer: dict[str, Any] | None = None  # what the fake answered (e.g. the message ts)


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None = None


@dataclass
class RateLimit:
    """A token bucket per workspace (per bot token, as Slack counts): ``per_second`` calls
    refill continuously up to ``burst``; a call finding the bucket empty is answered 429
    with a whole-second ``Retry-After``, as Slack does."""

    per_second: float
    burst: float
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at
    limited: int = 0  # how many calls were answered 429

    def take(self, workspace: str, now: float) -> int | None:
        """None if the call may go ahead, else the seconds to tell it to wait."""
        tokens, at = self.buckets.get(workspace, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second)
        if tokens >= 1:
            self.buckets[workspace] = (tokens - 1, now)
            return None
        self.buckets[workspace] = (tokens, now)
        self.limited += 1
        return max(1, math.ceil((1 - tokens) / self.per_second))


@dataclass
class Chaos:
    """Random failures: each call fails with probability ``rate_limited`` (429 with
    ``retry_after``) or ``server_error`` (a 5xx), drawn from a seeded generator."""

    rate_limited: float = 0.0
    server_error: float = 0.0
    retry_after: int = 1
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self) -> Failure | None:
        roll = self.rng.random()
        if roll < self.rate_limited:
            return Failure(429, "ratelimited", self.retry_after)
        if roll < self.rate_limited + self.server_error:
            return Failure(self.rng.choice((500, 502, 503)), "")
        return None


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    locales: dict[str, str] = field(default_factory=dict)  # user id -> Slack locale
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # id -> member user ids
    uploads: list[bytes] = field(default_factory=list)
    responses: list[Call] = field(default_factory=list)  # posts to a response_url
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds to stall
    # Socket Mode: envelopes to push to the app, and what it sent back over the socket.
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_replies: list[dict[str, Any]] = field(default_factory=list)
    # Optional: a rate limit and random failures per method (e.g. "chat.postMessage").
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    chaos: dict[str, Chaos] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    base_url: str = ""

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def fail_next(
        self, method: str, status: int, error: str = "", retry_after: int | None = None
    ) -> None:
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after))

    def rate_limit(self, method: str, per_second: float, burst: float | None = None
                   ) -> RateLimit:
        """Answer ``method`` 429 beyond ``per_second`` calls per workspace (bot token)."""
        limit = RateLimit(per_second, per_second if burst is None else burst)
        self.rate_limits[method] = limit
        return limit

    def fail_randomly(self, method: str, *, rate_limited: float = 0.0,
                      server_error: float = 0.0, retry_after: int = 1, seed: int = 0) -> Chaos:
        """Fail a share of the calls to ``method`` with 429s and 5xx (reproducibly)."""
        chaos = Chaos(rate_limited, server_error, retry_after, seed)
        self.chaos[method] = chaos
        return chaos

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def response_url(self, token: str) -> str:
        """A ``response_url`` for payloads; what the app posts there lands in ``responses``
        (``Call.method`` is the token)."""
        return f"{self.base_url}/respond/{token}"

    def add_user(self, user_id: str, email: str, name: str, tz: str = "UTC",
                 team_id: str = "T0001", locale: str = "en-US") -> dict[str, Any]:
        """A workspace member as ``users.info`` and ``users.lookupByEmail`` return them;
        ``locale`` (as Slack writes it, ``ja-JP``) only when asked with ``include_locale``."""
        user = {
            "id": user_id, "team_id": team_id, "name": email.split("@", 1)[0],
            "real_name": name, "tz": tz, "deleted": False, "is_bot": False,
            "profile": {"email": email, "real_name": name, "display_name": name},
        }
        self.users[user_id] = user
        self.locales[user_id] = locale
        return user

    def _user(self, user: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("include_locale", "")).lower() in ("true", "1"):
            return {**user, "locale": self.locales.get(user["id"], "en-US")}
        return user

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info and others use GET
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)  # some SDK calls send their args here
        if request.method == "GET":
            pass
        elif request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(await request.post())
        for key in ("blocks", "attachments", "files"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        call = Call(method, args)
        self.calls.append(call)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        pending = self.failures.get(method)
        failure = pending.pop(0) if pending else self._injected(method, request)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            body = {"ok": False, "error": failure.error or f"http_{failure.status}"}
            call.answer = body
            return web.json_response(body, status=failure.status, headers=headers)
        call.answer = self._answer(method, args)
        return web.json_response(call.answer)

    def _injected(self, method: str, request: web.Request) -> Failure | None:
        chaos = self.chaos.get(method)
        failure = chaos.draw() if chaos is not None else None
        limit = self.rate_limits.get(method)
        if failure is None and limit is not None:
            workspace = request.headers.get("Authorization", "")
            wait = limit.take(workspace, time.monotonic())
            if wait is not None:
                failure = Failure(429, "ratelimited", wait)
        return failure

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode end: says hello, pushes queued envelopes, records acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0ADVOCATE"}})

        async def push() -> None:
            while True:
                await ws.send_json(await self.socket_outbox.get())

        pusher = asyncio.create_task(push())
        try:
            async for message in ws:
                if message.type == web.WSMsgType.TEXT:
                    self.socket_replies.append(json.loads(message.data))
        finally:
            pusher.cancel()
        return ws

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(Call(request.match_info["token"], await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text="OK - 1")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            channel = str(args["channel"])
            if channel.startswith("U"):
                channel = "D" + channel[1:]  # Slack answers with the IM channel
            return {"ok": True, "channel": channel, "ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in files],
            }
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": self._user(user, args)} if user else {
                "ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            email = str(args.get("email", "")).lower()
            found = [u for u in self.users.values() if u["profile"]["email"].lower() == email]
            return {"ok": True, "user": self._user(found[0], args)} if found else {
                "ok": False, "error": "users_not_found"}
        if method in ("views.open", "views.publish", "views.update"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {**(view or {}), "id": f"V{next(self._ts):06d}"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http", "ws", 1) + "/socket"}
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(args.get("usergroup")))
            return {"ok": True, "users": members} if members is not None else {
                "ok": False, "error": "no_such_subteam"}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "team_id": "T0001", "bot_id": "BBOT"}
        return {"ok": True}

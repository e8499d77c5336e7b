"""A local fake of the Bot Framework connector (the Teams side of the conversation).

The bot's real ``CloudAdapter`` replies and sends proactive messages to ``serviceUrl``;
pointing that at this server records every call, answers the roster lookup Teams would
(``TeamsInfo.get_member``), takes the files a bot uploads after a file consent card is
accepted (OneDrive's upload URL), and can be told to fail the next sends (429 with
Retry-After, 403, …) to test how delivery backs off.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    method: str
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    size: int = 0  # bytes of the request body, as Teams would count them


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # Files uploaded to the URL a file consent answer names (OneDrive, faked): name -> bytes,
    # with the Content-Range each came with.
    uploads: dict[str, bytes] = field(default_factory=dict)
    upload_ranges: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                            self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_put("/upload/{name}", self._upload)
        return app

    def add_member(self, who: dict[str, str], **extra: str) -> None:
        """A tenant member as Teams' roster API returns them (``who``: id, name, email)."""
        self.members[who["id"]] = {"id": who["id"], "name": who["name"], "email": who["email"],
                                   "userPrincipalName": who["email"],
                                   "aadObjectId": f"aad-{who['id']}", **extra}

    async def start(self) -> FakeConnector:
        self.server = TestServer(self.app())
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _failure(self) -> web.Response | None:
        if not self.fail_next:
            return None
        status, headers = self.fail_next.pop(0)
        return web.json_response({"error": {"code": "Throttled", "message": "slow down"}},
                                 status=status, headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        raw = await request.read()
        self.calls.append(Call("POST", request.match_info["conversation"],
                               request.match_info.get("activity"), json.loads(raw), len(raw)))
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        raw = await request.read()
        activity_id = request.match_info["activity"]
        self.calls.append(Call("PUT", request.match_info["conversation"], activity_id,
                               json.loads(raw), len(raw)))
        return web.json_response({"id": activity_id})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}},
                                     status=404)
        return web.json_response(member)

    async def _upload(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.uploads[name] = await request.read()
        self.upload_ranges[name] = request.headers.get("Content-Range", "")
        return web.json_response({"id": f"file-{name}"}, status=201)

    def upload_url(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/upload/{name}"

    def cards_to(self, conversation: str) -> list[dict[str, Any]]:
        return [a["content"] for c in self.calls if c.conversation == conversation
                for a in c.body.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

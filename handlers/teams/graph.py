"""Is this Teams user in the reps' security group? Microsoft Graph, asked rarely.

``REP_TEAMS_GROUP`` names an Azure AD (Entra ID) group; when set, only its members, direct
or through nested groups, are reps on Teams. ``GraphGroups`` asks Graph's
``checkMemberGroups`` for a user's ``aadObjectId`` with the bot's own app credentials
(client credentials against ``MicrosoftAppTenantId``; the app registration needs the
``GroupMember.Read.All`` application permission, admin-consented), and remembers each
answer for ``GROUP_REFRESH_AFTER``. When Graph cannot answer, the last answer for that
user stands; with none, they are not a rep (closed, not open, on failure).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

GROUP_REFRESH_AFTER = 300.0  # seconds an answer about one user is trusted
_TIMEOUT = aiohttp.ClientTimeout(total=5)


class GraphError(Exception):
    """Graph, or the token endpoint, did not answer as documented."""


@dataclass
class GraphGroups:
    group_id: str
    tenant_id: str
    app_id: str
    app_password: str
    graph_url: str = "https://graph.microsoft.com/v1.0"
    login_url: str = "https://login.microsoftonline.com"
    monotonic: Callable[[], float] = time.monotonic
    _answers: dict[str, tuple[bool, float]] = field(default_factory=dict)
    _token: tuple[str, float] | None = None  # (access token, monotonic expiry)

    async def contains(self, aad_object_id: str | None) -> bool:
        """Is the user with this Azure AD object id in the group (transitively)?"""
        if not aad_object_id:
            return False
        now = self.monotonic()
        known = self._answers.get(aad_object_id)
        if known is not None and now - known[1] < GROUP_REFRESH_AFTER:
            return known[0]
        try:
            member = await self._check(aad_object_id)
        except (GraphError, aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("Graph checkMemberGroups failed for %.40s: %s; %s", aad_object_id,
                        error, "keeping the last answer" if known else "not a rep")
            member = known[0] if known is not None else False
        self._answers[aad_object_id] = (member, now)
        return member

    async def _check(self, aad_object_id: str) -> bool:
        url = (f"{self.graph_url.rstrip('/')}/users/{quote(aad_object_id, safe='')}"
               "/checkMemberGroups")
        body = await self._post(url, json={"groupIds": [self.group_id]},
                                headers={"Authorization": f"Bearer {await self._access()}"})
        found = body.get("value")
        if not isinstance(found, list):
            raise GraphError("checkMemberGroups answered without a value list")
        return self.group_id.lower() in {str(g).lower() for g in found}

    async def _access(self) -> str:
        """An app-only token for Graph, reused until a minute before it expires."""
        if self._token is not None and self.monotonic() < self._token[1]:
            return self._token[0]
        url = f"{self.login_url.rstrip('/')}/{quote(self.tenant_id, safe='')}/oauth2/v2.0/token"
        body = await self._post(url, data={
            "grant_type": "client_credentials", "client_id": self.app_id,
            "client_secret": self.app_password,
            "scope": "https://graph.microsoft.com/.default"})
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, int | str):
            raise GraphError("the token endpoint answered without a token")
        self._token = (token, self.monotonic() + max(int(lifetime) - 60, 0))
        return token

    @staticmethod
    async def _post(url: str, **kwargs: Any) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, session.post(
                url, **kwargs) as response:
            if response.status >= 400:
                raise GraphError(f"{url.split('?')[0]} answered {response.status}")
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise GraphError(f"{url} did not answer a JSON object")
        return body


__all__ = ["GROUP_REFRESH_AFTER", "GraphError", "GraphGroups"]

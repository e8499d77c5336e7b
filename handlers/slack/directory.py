"""Who is this Slack user? Email, name, time zone and locale, looked up rarely and remembered.

Every command and click arrives with a bare Slack user id, but the program knows people by
email (roles come from settings and the roster) and shows them times in their own zone. So
the first time a user shows up, ``users.info`` tells us who they are; the answer is kept in
the ``people`` table (which also lets the outbox dispatcher reach them by email) and in
memory, and is only asked again once ``refresh_after`` has passed. Messages therefore never
cost a ``users.info`` call each, and a burst of clicks by one new user costs exactly one.
Both lookups ask for the user's locale (``include_locale``: the language they use Slack
in, ``ja-JP``), kept with the rest; the language they chose for the bot is kept by the
people table and comes back with the stored row, never overwritten by a refresh.

Advocates imported from the CRM have an email and no Slack id until they first use the bot;
``find_by_email`` (``users.lookupByEmail``) finds them so their first ask can be delivered.
It is the ``Directory`` the outbox dispatcher consults.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.domain.model import Identity, Person, Platform
from bot.i18n import normalize
from bot.ports import DeliveryError, UnitOfWorkFactory

log = logging.getLogger(__name__)

DEFAULT_REFRESH_AFTER = 12 * 3600.0  # seconds a known user's profile is trusted
GROUP_REFRESH_AFTER = 300.0  # seconds the reps' user group is trusted
NOT_FOUND_ERRORS = frozenset({"users_not_found", "user_not_found"})


class SlackLookupFailed(DomainError):
    """Slack could not tell us who a user is, and we have never met them before.

    A refusal like any other (``slack_lookup_failed``): without knowing who they are we
    cannot check what they may do, so the action is refused rather than guessed.
    """

    def __init__(self) -> None:
        super().__init__("slack_lookup_failed")


@dataclass(frozen=True, slots=True)
class _Entry:
    person: Person
    checked_at: float  # monotonic seconds


def person_from_user(user: dict[str, Any], workspace_id: str,
                     home_teams: frozenset[str] | None = None) -> Person:
    """A ``Person`` from a ``users.info`` / ``users.lookupByEmail`` user object.

    ``home_teams`` are the workspace (and Enterprise Grid org) ids the program runs in. A
    guest (``is_restricted``, ``is_ultra_restricted``), a user Slack calls a stranger, or
    a user whose own team is not one of ``home_teams`` (Slack Connect) is not internal,
    so never a rep. Without ``home_teams`` a full member is "unknown" (None).
    """
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or ""
    )
    email = profile.get("email") or None
    team = str(user.get("team_id") or workspace_id)
    outsider = any(user.get(flag) is True for flag in (
        "is_restricted", "is_ultra_restricted", "is_stranger"))
    internal: bool | None = None
    if outsider:
        internal = False
    elif home_teams:
        grid = user.get("enterprise_user") or {}
        org = str(grid.get("enterprise_id") or "") if isinstance(grid, dict) else ""
        internal = team in home_teams or bool(org and org in home_teams)
    return Person(
        email=email.strip().lower() if email else None,
        display_name=str(name),
        identity=Identity(Platform.SLACK, team, str(user["id"])),
        timezone=user.get("tz") or None,
        internal=internal,
        locale=normalize(str(user.get("locale") or "")),
    )


class SlackDirectory:
    """Slack user id → ``Person``, cached in the database and in memory."""

    platform = Platform.SLACK

    def __init__(
        self,
        client: AsyncWebClient,
        uow: UnitOfWorkFactory,
        *,
        refresh_after: float = DEFAULT_REFRESH_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
        home_teams: Iterable[str] = (),
        rep_group: str = "",
    ) -> None:
        self._client = client
        self._home_teams = frozenset(home_teams)
        self._rep_group = rep_group
        self._group_members: frozenset[str] = frozenset()
        self._group_read_at: float | None = None  # monotonic seconds
        self._uow = uow
        self.refresh_after = refresh_after
        self._monotonic = monotonic
        self._cache: dict[Identity, _Entry] = {}
        self._pending: dict[Identity, asyncio.Future[Person]] = {}

    # --- who is acting -----------------------------------------------------------------

    async def person(self, user_id: str, workspace_id: str) -> Person:
        """The user behind a payload's ``user.id``.

        From memory when checked within ``refresh_after``; else from the people table the
        first time this process meets them (a restart does not re-ask Slack for everyone);
        else from ``users.info``. Concurrent calls for one user share a single lookup.
        """
        return await self._narrowed(await self._person(user_id, workspace_id))

    async def _person(self, user_id: str, workspace_id: str) -> Person:
        identity = Identity(Platform.SLACK, workspace_id, user_id)
        entry = self._cache.get(identity)
        now = self._monotonic()
        if entry is not None and now - entry.checked_at < self.refresh_after:
            return entry.person
        pending = self._pending.get(identity)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Person] = asyncio.get_running_loop().create_future()
        self._pending[identity] = future
        try:
            person = await self._load(identity, stale=entry)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so an unawaited future logs nothing
            raise
        else:
            # Also under the id asked for: a Slack Connect user's own team differs from it.
            self._cache[identity] = _Entry(person, self._monotonic())
            future.set_result(person)
            return person
        finally:
            del self._pending[identity]

    async def _load(self, identity: Identity, stale: _Entry | None) -> Person:
        if stale is None:
            async with self._uow() as uow:
                stored = await uow.people.get_by_identity(identity)
            if stored is not None and stored.email and stored.internal is not None:
                self._remember(stored)
                return stored
        try:
            home_teams = await self.home_teams()
            response = await self._client.users_info(user=identity.user_id,
                                                     include_locale=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            fallback = stale.person if stale is not None else None
            if fallback is None:
                async with self._uow() as uow:
                    fallback = await uow.people.get_by_identity(identity)
            if fallback is not None:
                if fallback.internal is None:  # not known to be internal: no rep rights
                    fallback = replace(fallback, internal=False)
                log.warning("users.info failed for %s; using what we knew: %r",
                            identity.user_id, error)
                return fallback
            raise SlackLookupFailed() from error
        person = person_from_user(response["user"], identity.workspace_id, home_teams)
        return await self._store(person)

    async def home_teams(self) -> frozenset[str]:
        """The workspace ids the program runs in (``SLACK_TEAM_ID``); when not configured,
        the bot token's own workspace and org from ``auth.test``, asked once. A user from
        any other team reached the bot through Slack Connect and is not internal."""
        if not self._home_teams:
            answer = await self._client.auth_test()
            self._home_teams = frozenset(
                str(answer[key]) for key in ("team_id", "enterprise_id") if answer.get(key))
        return self._home_teams

    # --- the reps' user group ----------------------------------------------------------

    async def _narrowed(self, person: Person) -> Person:
        """``person``, not internal (so never a rep) when ``REP_SLACK_USERGROUP`` is set
        and they are not in it. Only what the actor is judged by changes: the people table
        keeps what Slack says about them."""
        if not self._rep_group or person.internal is False or person.identity is None:
            return person
        if person.identity.user_id in await self.rep_group_members():
            return person
        return replace(person, internal=False)

    async def rep_group_members(self) -> frozenset[str]:
        """The user ids in the reps' group (``usergroups.users.list``), read again after
        ``GROUP_REFRESH_AFTER``. When Slack cannot answer, the last answer stands; with
        none, nobody is a rep (closed, not open, on failure)."""
        now = self._monotonic()
        if self._group_read_at is not None and now - self._group_read_at < GROUP_REFRESH_AFTER:
            return self._group_members
        try:
            response = await self._client.usergroups_users_list(usergroup=self._rep_group)
            users = response.get("users") or []
            self._group_members = frozenset(str(u) for u in users if isinstance(u, str))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("usergroups.users.list failed for %s: %s; %s", self._rep_group,
                        _error_code(error) if isinstance(error, SlackApiError) else error,
                        "keeping the last answer" if self._group_read_at else "nobody is a rep")
        self._group_read_at = now
        return self._group_members

    # --- who is this email (the outbox's Directory) ------------------------------------

    async def find_by_email(self, email: str) -> Person | None:
        """The Slack user with this email (``users.lookupByEmail``), remembered like any
        other; None when the workspace has nobody with it. Slack trouble is a retryable
        ``DeliveryError``, so the dispatcher tries the message again later."""
        try:
            response = await self._client.users_lookupByEmail(email=email,
                                                               include_locale=True)
        except SlackApiError as error:
            code = _error_code(error)
            if code in NOT_FOUND_ERRORS:
                return None
            status = getattr(error.response, "status_code", 0) or 0
            if status == 429 or code == "ratelimited":
                headers = getattr(error.response, "headers", {}) or {}
                retry_after = float(headers.get("Retry-After") or headers.get("retry-after") or 1)
                raise DeliveryError("Slack rate limit on users.lookupByEmail",
                                    retry_after=retry_after) from error
            permanent = status < 500 and code in {"missing_scope", "invalid_auth",
                                                  "not_authed", "token_revoked"}
            raise DeliveryError(f"users.lookupByEmail failed: {code or status}",
                                permanent=permanent) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"Slack unreachable: {error!r}") from error
        user = response["user"]
        person = person_from_user(user, str(user.get("team_id") or ""))
        if person.email is None:  # the lookup answered by email, so we know it
            person = replace(person, email=email.strip().lower())
        return await self._store(person)

    # --- the caches --------------------------------------------------------------------

    def _remember(self, person: Person) -> None:
        assert person.identity is not None
        self._cache[person.identity] = _Entry(person, self._monotonic())

    async def _store(self, person: Person) -> Person:
        """Keep what Slack said; the person as stored, with the language they chose."""
        assert person.identity is not None
        async with self._uow() as uow:
            await uow.people.upsert(person)
            stored = await uow.people.get_by_identity(person.identity)
            await uow.commit()
        person = replace(person, chosen_locale=stored.chosen_locale) if stored else person
        if person.internal is not None:  # else the first request asks users.info itself
            self._remember(person)
        return person

    def forget(self, user_id: str, workspace_id: str) -> None:
        """Drop a user from memory (e.g. after ``user_change``), so the next use re-reads."""
        self._cache.pop(Identity(Platform.SLACK, workspace_id, user_id), None)


def _error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


__all__ = ["SlackDirectory", "SlackLookupFailed", "person_from_user"]

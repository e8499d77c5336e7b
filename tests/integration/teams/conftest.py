"""Teams test kit: the real bot over botbuilder's ``TestAdapter`` (``channel_id="msteams"``),
on the in-memory fakes, with one adapter per person (a ``TestAdapter`` stamps its
template's sender on every activity, so a person is an adapter).

``TeamsPerson.say``/``click``/``submit`` drive the bot the way Teams does (a message, an
``adaptiveCard/action`` invoke, an Action.Submit message) and return what the bot sent in
that turn; ``invoke_body`` reads the invoke response the way Teams receives it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
)

from bot.rendering import Renderer
from bot.services.context import ServiceContext
from handlers.teams.cards import CARD_CONTENT_TYPE, TeamsCards
from handlers.teams.handler import AdvocateTeamsBot, Member
from handlers.teams.messenger import TeamsMessenger
from tests.fakes import FakeDatabase, FixedClock
from tests.unit.conftest import PM_EMAIL, START

TENANT = "tenant-1"
BOT = ChannelAccount(id="28:advocate-bot", name="Advocate Bot")


def without_host_config(card: Mapping[str, Any]) -> dict[str, Any]:
    """The card minus Teams' own ``msteams`` key, which the Adaptive Card schema lacks."""
    return {k: v for k, v in card.items() if k != "msteams"}


def card_schema() -> jsonschema.protocols.Validator:
    from pathlib import Path

    import adaptive_cards

    path = Path(adaptive_cards.__file__).parent / "schemas" / "schema-1.5.json"
    return jsonschema.Draft6Validator(json.loads(path.read_text()))


SCHEMA = card_schema()


def assert_valid_card(card: dict[str, Any]) -> None:
    errors = [f"{list(e.path)}: {e.message[:300]}" for e in SCHEMA.iter_errors(
        without_host_config(card))]
    assert not errors, errors
    assert card["version"] == "1.5"


def cards_in(activities: list[Activity]) -> list[dict[str, Any]]:
    return [a.content for act in activities for a in (act.attachments or [])
            if a.content_type == CARD_CONTENT_TYPE]


def texts(card: dict[str, Any]) -> list[str]:
    """Every TextBlock's text in a card, depth first."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute in a card (show cards included), as (verb, data)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def action(card: dict[str, Any], verb: str, **match: Any) -> dict[str, Any]:
    found = [a for a in actions(card) if a["verb"] == verb
             and all(a["data"].get(k) == v for k, v in match.items())]
    assert found, f"no {verb} {match} in {[a['verb'] for a in actions(card)]}"
    return found[0]


@dataclass
class TeamsPerson:
    bot: AdvocateTeamsBot
    adapter: TestAdapter
    user_id: str
    email: str
    timezone: str

    async def _turn(self, activity: Activity) -> list[Activity]:
        activity.local_timezone = activity.local_timezone or self.timezone
        self.adapter.activity_buffer.clear()
        await self.adapter.process_activity(activity, self.bot.on_turn)
        sent = list(self.adapter.activity_buffer)
        self.adapter.activity_buffer.clear()
        return sent

    async def say(self, text: str) -> list[Activity]:
        return await self._turn(Activity(type=ActivityTypes.message, text=text))

    async def install(self) -> list[Activity]:
        return await self._turn(Activity(type=ActivityTypes.installation_update, action="add"))

    async def click(self, button: dict[str, Any], **inputs: Any) -> dict[str, Any]:
        """An Action.Execute: the invoke response body as Teams receives it (JSON)."""
        value = {"action": {"type": "Action.Execute", "verb": button["verb"],
                            "data": {**button["data"], **inputs}}, "trigger": "manual"}
        sent = await self._turn(Activity(type=ActivityTypes.invoke, name="adaptiveCard/action",
                                         value=value))
        (response,) = [a for a in sent if a.type == ActivityTypes.invoke_response]
        assert response.value.status == 200
        return json.loads(json.dumps(serializer_helper(response.value.body)))

    async def submit(self, button: dict[str, Any], *, reply_to: str, **inputs: Any
                     ) -> list[Activity]:
        """The Action.Submit fallback: a message whose value is the button's data."""
        fallback = button["fallback"]
        assert fallback["type"] == "Action.Submit"
        return await self._turn(Activity(type=ActivityTypes.message, reply_to_id=reply_to,
                                         value={**fallback["data"], **inputs}))


@dataclass
class TeamsWorld:
    db: FakeDatabase = field(default_factory=FakeDatabase)
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    emails: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # Teams userRole: user, guest

    def __post_init__(self) -> None:
        self.ctx = ServiceContext(uow=self.db.uow, clock=self.clock,
                                  program_managers=(PM_EMAIL,),
                                  program_timezone="Europe/Berlin")
        self.cards = TeamsCards(Renderer())
        self.bot = AdvocateTeamsBot(self.ctx, self.cards, bot_name="Advocate Bot",
                                    member_email=self._email)
        # Proactive messages go out through their own adapter, as in production.
        self.outbound = TestAdapter(template_or_conversation=self._template("29:outbound"))
        self.messenger = TeamsMessenger(self.outbound, self.cards, self.db.uow)

    async def _email(self, turn_context: TurnContext) -> Member:
        """Teams' roster (``TeamsInfo.get_member``), faked: the emails people signed up
        with, and their ``userRole`` (a member unless said otherwise)."""
        user_id = turn_context.activity.from_property.id
        role = self.roles.get(user_id, "user")
        return Member(self.emails.get(user_id), {"user": True, "guest": False}.get(role))

    @staticmethod
    def _template(user_id: str, name: str = "") -> Activity:
        return Activity(
            channel_id="msteams",
            service_url="https://smba.trafficmanager.net/emea/",
            from_property=ChannelAccount(id=user_id, name=name, aad_object_id=f"aad-{user_id}"),
            recipient=BOT,
            conversation=ConversationAccount(id=f"a:{user_id}", conversation_type="personal",
                                             tenant_id=TENANT),
        )

    def person(self, name: str, email: str, *, timezone: str = "Europe/Berlin") -> TeamsPerson:
        user_id = "29:" + email.split("@", 1)[0]
        self.emails[user_id] = email
        adapter = TestAdapter(template_or_conversation=self._template(user_id, name))
        return TeamsPerson(self.bot, adapter, user_id, email, timezone)


@pytest.fixture
def world() -> TeamsWorld:
    return TeamsWorld()


_TURNS = itertools.count(1)


def personal_activity(who: Mapping[str, str], service_url: str, *, tenant: str,
                      **fields: Any) -> dict[str, Any]:
    """An activity ``who`` (id, name; ``zone``, else Berlin) sends in their personal chat
    with the bot over HTTP, as Teams posts it to ``/api/messages``; ``fields`` add to or
    override it (type, text, value, locale …)."""
    return {
        "channelId": "msteams", "serviceUrl": service_url, "id": f"in-{next(_TURNS)}",
        "from": {"id": who["id"], "name": who["name"], "aadObjectId": f"aad-{who['id']}"},
        "recipient": {"id": "28:bot", "name": "Advocate Bot"},
        "conversation": {"id": f"a:{who['id']}", "conversationType": "personal",
                         "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "localTimezone": who.get("zone", "Europe/Berlin"), **fields}


def invoke(button: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
    """Pressing a card's Action.Execute ``button`` (its verb and data, e.g. from
    ``action``) with ``inputs`` filled in: the invoke's fields."""
    return {"type": "invoke", "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": button["verb"],
                                 "data": {**button["data"], **inputs}}, "trigger": "manual"}}

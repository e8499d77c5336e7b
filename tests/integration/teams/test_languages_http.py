"""Two people in one request, each in their own language, end to end over HTTP: Teams.

A rep whose Teams speaks ``en-US`` (the activity's ``locale``) asks an advocate whose
Teams speaks ``ja-JP``: every card the rep sees is English, every card the advocate sees
(welcome, ask, the answer, the times, the booking) is Japanese, names as typed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.model import Platform
from bot.services.dispatch import OutboxDispatcher
from tests.integration.teams.conftest import action, invoke, texts
from tests.integration.teams.test_http import ADA as ADA_TEAMS
from tests.integration.teams.test_http import (  # noqa: F401 (the fixtures)
    RITA,
    activity,
    bot_app,
    connector,
    post,
    served,
)
from tests.unit.conftest import build_advocate

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def japanese(text: str) -> bool:
    return bool(JAPANESE.search(text))


async def test_on_teams_the_rep_reads_english_and_the_advocate_japanese(
        served: Any, connector: Any, bot_app: Any) -> None:  # noqa: F811
    client, front = served
    url = connector.url
    locales = {RITA["id"]: "en-US", ADA_TEAMS["id"]: "ja-JP"}

    def said(who: dict[str, str], **fields: Any) -> dict[str, Any]:
        return activity(who, url, locale=locales[who["id"]], **fields)

    for who in (RITA, ADA_TEAMS):
        await post(client, said(who, type="installationUpdate", action="add"))
    (welcome_ada,) = connector.cards_to(f"a:{ADA_TEAMS['id']}")
    assert japanese(str(texts(welcome_ada)))
    async with bot_app.uow() as uow:
        advocate = await uow.advocates.add(build_advocate(email=ADA_TEAMS["email"],
                                                          name="Ada Lovelace",
                                                          timezone="Asia/Tokyo"))
        await uow.commit()

    await post(client, said(RITA, type="message", text="reference"))
    form = connector.cards_to("a:29:rita")[-1]
    assert not japanese(str(texts(form)))
    submit = action(form, "intake.submit", choose="rep")
    today = datetime.now(UTC).date()
    inputs = {"prospect_company": "Globex", "reference_type": "call",
              "needed_by": (today + timedelta(days=20)).isoformat(),
              "proposed_time_1.date": (today + timedelta(days=10)).isoformat(),
              "proposed_time_1.time": "10:00", "timezone": "Asia/Tokyo",
              "call_length_minutes": "30", "parallel_asks": "1",
              "industry": "Fintech", "region": "EMEA", "products": "Payments API"}
    status, body = await post(client, said(RITA, **invoke(submit, **inputs)))
    assert status == 200 and not japanese(str(texts(body["value"])))

    dispatcher = OutboxDispatcher(bot_app.uow, {Platform.TEAMS: front.messenger},
                                  bot_app.clock)
    await dispatcher.run_once()
    matches = connector.cards_to("a:29:rita")[-1]
    assert not japanese(str(texts(matches)))
    ask = action(matches, "request.ask", advocate_id=advocate.id)
    await post(client, said(RITA, **invoke(ask)))
    await dispatcher.run_once()
    ask_card = connector.cards_to("a:29:ada")[-1]
    assert japanese(str(texts(ask_card))) and "Ada Lovelace" in str(texts(ask_card))

    accept = action(ask_card, "ask.accept")
    status, body = await post(client, said(ADA_TEAMS, **invoke(accept)))
    assert status == 200 and japanese(str(texts(body["value"])))
    await dispatcher.run_once()
    pick = connector.cards_to("a:29:ada")[-1]
    slot = action(pick, "schedule.pick", slot=0)
    assert japanese(str(texts(pick)))
    await post(client, said(ADA_TEAMS, **invoke(slot)))
    await dispatcher.run_once()
    assert japanese(str(texts(connector.cards_to("a:29:ada")[-1])))
    assert not any(japanese(str(texts(card))) for card in connector.cards_to("a:29:rita"))

"""``advocates report`` in Teams over ``/api/messages``: the program manager's card, the
charts after it, the CSV and XLSX as file consent cards that carry only the period; an
accept makes the file again for a program manager (a forged accept uploads nothing), a
decline is answered."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from aiohttp.test_utils import TestClient

from bot.bootstrap import App
from bot.domain.model import Platform
from bot.services.dispatch import OutboxDispatcher
from handlers.teams.app import TeamsFrontEnd
from tests import report_fixture as fx
from tests.integration.teams.connector import FakeConnector
from tests.integration.teams.test_http import (  # noqa: F401 (fixtures)
    PM,
    RITA,
    activity,
    bot_app,
    connector,
    post,
    served,
)

PAT = {"id": "29:pat", "name": "Pat Manager", "email": PM}
Q1 = "2026-01-01..2026-03-31"


async def test_a_manager_gets_the_report_card_charts_and_files_over_http(
        served: tuple[TestClient, TeamsFrontEnd], connector: FakeConnector,  # noqa: F811
        bot_app: App) -> None:  # noqa: F811
    client, front = served
    url = connector.url
    connector.members[PAT["id"]] = {**PAT, "userPrincipalName": PM, "aadObjectId": "aad-29:pat"}
    await fx.load(bot_app.uow)

    status, _ = await post(client, activity(PAT, url, type="message",
                                            text=f"advocates report {Q1}"))
    assert status in (200, 201)
    said = [c.body for c in connector.calls if c.conversation == "a:29:pat"]
    assert "is on its way to your direct messages" in str(said[-1])
    dispatcher = OutboxDispatcher(bot_app.uow, {Platform.TEAMS: front.messenger}, bot_app.clock)
    assert (await dispatcher.run_once()).sent == 1
    card, *images, csv_card, xlsx_card = [
        c.body for c in connector.calls if c.conversation == "a:29:pat"][len(said):]
    assert "Requests opened" in str(card)
    assert [i["attachments"][0]["contentType"] for i in images] == ["image/png"] * 3
    consent = xlsx_card["attachments"][0]
    assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert consent["name"] == "program-report-2026-01-01_2026-03-31.xlsx"
    context = consent["content"]["acceptContext"]
    assert context == {"report": "xlsx", "period": Q1, "from_day": "2026-01-01",
                       "to_day": "2026-03-31"}
    assert csv_card["attachments"][0]["content"]["acceptContext"]["report"] == "csv"

    def answered(action: str, name: str) -> dict[str, Any]:
        return {"type": "invoke", "name": "fileConsent/invoke", "value": {
            "type": "fileUpload", "action": action, "context": context,
            "uploadInfo": {"name": consent["name"], "uploadUrl": connector.upload_url(name),
                           "contentUrl": f"https://onedrive.example/{name}",
                           "uniqueId": "u-1", "fileType": "xlsx"}}}

    status, _ = await post(client, activity(RITA, url, **answered("accept", "forged.xlsx")))
    assert status == 200 and "forged.xlsx" not in connector.uploads
    refusal = [c.body for c in connector.calls if c.conversation == "a:29:rita"][-1]
    assert refusal["text"] == "Sorry, only a program manager can see the program report."

    status, _ = await post(client, activity(PAT, url, **answered("accept", "q1.xlsx")))
    assert status == 200
    book = openpyxl.load_workbook(io.BytesIO(connector.uploads["q1.xlsx"]))
    assert book.sheetnames[0] == "Summary" and book["Advocates"]["A2"].value == "Ada"
    shown = [c.body for c in connector.calls if c.conversation == "a:29:pat"][-1]
    assert shown["attachments"][0]["contentUrl"] == "https://onedrive.example/q1.xlsx"

    declined = answered("decline", "x")
    declined["value"]["context"] = {"filename": consent["name"]}
    await post(client, activity(PAT, url, **declined))
    last = [c.body for c in connector.calls if c.conversation == "a:29:pat"][-1]
    assert last["text"] == "OK, no report file. Ask for the report again whenever you need it."

"""``/advocates report`` in chat: a program manager gets the summary in a direct message
with the charts and the CSV and XLSX in its thread (Slack) or the charts after the card
(Teams); anyone else, and a period that is not one, get a worded refusal."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import report_files
from bot.conversation import words
from bot.conversation.dispatcher import dispatch
from bot.conversation.replies import text_reply
from bot.domain.model import Role
from bot.domain.policy import ProgramPolicy
from bot.rendering import PLAIN, Renderer
from bot.services.context import ServiceContext
from bot.services.report import parse_period, program_report, report_context
from handlers.slack.messenger import SlackMessenger
from handlers.teams.messenger import report_activities
from storage.db import create_engine
from storage.migrate import prepare_database
from storage.uow import SqlUnitOfWorkFactory
from tests import report_fixture as fx
from tests.fakes import FixedClock
from tests.i18n_check import data_strings, pseudo_renderer, stray_words
from tests.slack_fake import FakeSlack
from tests.unit.conftest import actor, person

PAT = person("pat@vendor.example", timezone="Europe/Berlin")
MANAGER, REP = actor(PAT, Role.PROGRAM_MANAGER), actor("riley@vendor.example")


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[ServiceContext]:
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    await prepare_database(engine, auto_migrate=True)
    uow = SqlUnitOfWorkFactory(engine)
    await fx.load(uow)
    yield ServiceContext(uow=uow, clock=FixedClock(datetime(2026, 4, 2, 8, tzinfo=UTC)),
                         policy=ProgramPolicy(), program_managers=(PAT.email,),
                         program_timezone=fx.ZONE)
    await engine.dispose()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


async def test_a_manager_gets_the_report_with_its_charts_and_files(
        ctx: ServiceContext, slack: FakeSlack) -> None:
    reply = await dispatch(ctx, words.read("advocates report last-quarter", MANAGER))
    assert (reply.template, reply.tone) == ("report_sent", "good")
    assert Renderer().reply_lines(reply, _Plain)[0].startswith(
        "The program report 2026-Q1 (2026-01-01 to 2026-03-31) is on its way")
    async with ctx.uow() as uow:
        [queued] = await uow.outbox.claim_due(datetime(2026, 4, 2, 9, tzinfo=UTC))
    assert queued.message.template == "report" and queued.message.recipient.email == PAT.email

    messenger = SlackMessenger(AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
                               Renderer())
    await messenger.deliver(queued)
    [post] = slack.calls_to("chat.postMessage")
    assert "Requests opened: *6* (+4)" in post.args["text"]
    assert "Conversion rate, nomination to advocate: *17%* (-17 points)" in post.args["text"]
    names = [c.args["filename"] for c in slack.calls_to("files.getUploadURLExternal")]
    assert names == [f"program-report-2026-Q1-{chart}.png"
                     for chart in ("weekly", "monthly", "per_advocate")] + [
        "program-report-2026-Q1.csv", "program-report-2026-Q1.xlsx"]
    *pngs, csv_bytes, xlsx_bytes = slack.uploads
    assert all(png.startswith(b"\x89PNG") for png in pngs)
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    assert {"Section": "Per rep", "Item": "riley.rep@vendor.example", "Measure": "Requests",
            "Value": "3"} in rows
    assert openpyxl.load_workbook(io.BytesIO(xlsx_bytes))["Regions"]["A2"].value == "EMEA"

    files = Renderer().report_files(queued.message.context)
    activities = report_activities(files, queued.message.context, "emulator")
    assert [a.attachments[0].content_type for a in activities] == ["image/png"] * 3 + [
        "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert activities[0].attachments[0].content_url.startswith("data:image/png;base64,")


@pytest.mark.parametrize(("who", "text", "code"), [
    (REP, "advocates report", "report_managers_only"),
    (MANAGER, "advocates report spring", "report_period"),
    (MANAGER, "advocates report 2026-03-31..2026-01-01", "report_period_backwards"),
])
async def test_refusals_are_worded(ctx: ServiceContext, who: object, text: str,
                                   code: str) -> None:
    reply = await dispatch(ctx, words.read(text, who))  # type: ignore[arg-type]
    assert reply.template == "refused" and reply.context["problem"].code == code
    assert Renderer().problem_text(reply.context["problem"])
    async with ctx.uow() as uow:
        assert await uow.outbox.claim_due(datetime(2026, 4, 2, 9, tzinfo=UTC)) == []


class _Plain:
    @staticmethod
    def b(text: object) -> str:
        return str(text)

    t = code = cmd = b


async def test_every_word_of_the_report_passes_through_the_catalog(ctx: ServiceContext) -> None:
    context = report_context(await program_report(ctx, parse_period("2026-Q1", fx.TODAY)))
    renderer, data = pseudo_renderer(), list(data_strings(context))
    shown = [renderer.text("report", context), report_files.markdown(renderer, context),
             report_files.csv_text(renderer, context),
             *(" ".join(map(str, (*t.headings, *(r[0] for r in t.rows))))
               for t in report_files.tables(renderer, context)),
             *(str(report_files.words(renderer).file_title(k))
               for k in (*report_files.CHARTS, "csv", "xlsx")),
             renderer.reply_lines(text_reply("report_sent", period="2026-Q1",
                                             from_day="2026-01-01", to_day="2026-03-31"),
                                  PLAIN)[0],
             *(renderer.reply_lines(text_reply(name), PLAIN)[0]
               for name in ("report_file_declined", "report_file_not_saved"))]
    stray = {text[:60]: stray_words(text, data) for text in shown if stray_words(text, data)}
    assert not stray


async def test_japanese_charts_are_drawn_with_the_glyphs_they_need(ctx: ServiceContext) -> None:
    """matplotlib warns of a glyph its font lacks, and the suite makes warnings errors."""
    context = report_context(await program_report(ctx, parse_period("2026-Q1", fx.TODAY)))
    charts = report_files.charts(Renderer().for_locale("ja"), context)
    assert all(png.startswith(b"\x89PNG") for png in charts.values())

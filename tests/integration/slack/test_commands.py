"""The slash commands as people type them: ``/reference``, ``/advocate``, ``/advocates``."""

from __future__ import annotations

from datetime import date

from bot.domain.model import AdvocateStatus, LimitOverrides, ReferenceType
from bot.services.intake import RequestDraft
from bot.services.requests import submit_request
from handlers.slack import ids
from tests.fakes import NOT_YOURS
from tests.integration.slack.conftest import ADA, PAT, RILEY, SAM, Slack, all_text


async def open_request(slack: Slack, who: tuple[str, ...] = RILEY) -> int:
    """A request opened by ``who`` through the service, as the intake form would, with an
    advocate who fits it (so it stays open)."""
    await slack.add_advocate(email=ADA[1], name=ADA[2],
                             reference_types=frozenset({ReferenceType.EMAIL}))
    result = await submit_request(slack.bot.ctx, await slack.actor(who), RequestDraft(
        prospect_company="Globex Bank", reference_type="email", needed_by=date(2026, 3, 20),
        industry="Fintech", timezone="America/New_York"))
    assert result.request.id is not None
    return result.request.id


# --- /reference ----------------------------------------------------------------------------


async def test_reference_list_shows_my_requests_only_to_me(slack: Slack) -> None:
    request_id = await open_request(slack)
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "list")
    await slack.command(SAM, ids.COMMAND_REFERENCE, "list")
    await slack.settle()
    riley, sam = slack.fake.responses
    assert riley.args["response_type"] == "ephemeral"
    assert f"#{request_id}" in riley.args["text"] and "Globex" in riley.args["text"]
    assert "no open reference requests" in sam.args["text"]


async def test_cancel_by_the_owner_works_and_by_someone_else_is_politely_refused(
        slack: Slack) -> None:
    request_id = await open_request(slack)
    await slack.command(SAM, ids.COMMAND_REFERENCE, f"cancel {request_id}")
    await slack.settle()
    refusal = slack.fake.responses[-1].args["text"]
    assert refusal == NOT_YOURS
    assert "Traceback" not in refusal

    await slack.command(RILEY, ids.COMMAND_REFERENCE, f"cancel #{request_id}")
    await slack.settle()
    assert "is cancelled" in slack.fake.responses[-1].args["text"]
    async with slack.bot.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request is not None and request.state.value == "cancelled"


async def test_cancel_of_a_request_that_does_not_exist_says_so(slack: Slack) -> None:
    await slack.command(RILEY, ids.COMMAND_REFERENCE, "cancel 999")
    await slack.settle()
    assert slack.fake.responses[-1].args["text"] == NOT_YOURS


# --- /advocate -------------------------------------------------------------------------


async def test_advocate_me_shows_an_advocate_their_profile_with_pause(slack: Slack) -> None:
    await slack.add_advocate(email=ADA[1], name=ADA[2], company="Harbor Bank")
    await slack.command(ADA, ids.COMMAND_ADVOCATE, "me")
    await slack.settle()
    [reply] = slack.fake.responses
    assert reply.args["response_type"] == "ephemeral"
    assert "0 of 3" in all_text(reply.args)
    assert ids.ACTION_HOME_PAUSE in str(reply.args["blocks"])


async def test_advocate_me_for_someone_not_on_the_roster_explains_kindly(slack: Slack) -> None:
    await slack.command(RILEY, ids.COMMAND_ADVOCATE, "me")
    await slack.settle()
    assert "not on the advocate roster" in slack.fake.responses[-1].args["text"]


async def test_an_advocate_pauses_and_resumes_themself(slack: Slack) -> None:
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.command(ADA, ids.COMMAND_ADVOCATE, "pause until 2026-04-01")
    await slack.settle()
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.unavailable_until == date(2026, 4, 1)
    await slack.command(ADA, ids.COMMAND_ADVOCATE, "resume")
    await slack.settle()
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.unavailable_until is None


async def test_advocate_limits_opens_the_limits_form(slack: Slack) -> None:
    ada = await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.command(ADA, ids.COMMAND_ADVOCATE, "limits")
    await slack.settle()
    [modal] = slack.modals()
    assert modal["callback_id"] == ids.VIEW_OWN_LIMITS
    assert modal["private_metadata"] == str(ada.id)


# --- /advocates (program managers) -------------------------------------------------------


async def test_a_rep_is_politely_refused_every_roster_command(slack: Slack) -> None:
    for text in ("find fintech", "export", "digest now", ""):
        await slack.command(RILEY, ids.COMMAND_ADVOCATES, text)
    await slack.settle()
    assert [r.args["text"] for r in slack.fake.responses] == [
        "Sorry, only a program manager can manage the advocate roster."] * 4
    assert slack.fake.calls_to("files.completeUploadExternal") == []


async def test_a_program_manager_finds_shows_pauses_resumes_and_overrides(slack: Slack) -> None:
    ada = await slack.add_advocate(email=ADA[1], name="Ada Lovelace", company="Harbor Bank")
    await slack.add_advocate(email="bo@retail.example", name="Bo Retail", industry="Retail")

    for text in ("find fintech harbor", "show lovelace", "pause Ada Lovelace because on leave"):
        await slack.command(PAT, ids.COMMAND_ADVOCATES, text)
        await slack.settle()  # one after the other: each answer in the order asked
    found, shown, paused = (r.args for r in slack.fake.responses)
    assert "Ada Lovelace" in found["text"] and "Bo Retail" not in found["text"]
    assert "Ada Lovelace" in all_text(shown)
    assert "is paused" in paused["text"]
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
    assert stored is not None and stored.status is AdvocateStatus.PAUSED

    await slack.command(PAT, ids.COMMAND_ADVOCATES, f"resume {ADA[1]}")
    await slack.settle()
    await slack.command(PAT, ids.COMMAND_ADVOCATES,
                        f"limits {ADA[1]} 90d=5 because champion for the launch")
    await slack.settle()
    assert "can be asked again" in slack.fake.responses[-2].args["text"]
    assert "5 in 90 days" in slack.fake.responses[-1].args["text"]
    async with slack.bot.uow() as uow:
        stored = await uow.advocates.get(ada.id or 0)
        audit = await uow.audit.list(subject=f"advocate:{ada.id}")
    assert stored is not None and stored.status is AdvocateStatus.ACTIVE
    assert stored.manager_limits == LimitOverrides(max_per_90_days=5)
    assert "limit.override" in [e.action for e in audit]


async def test_an_override_without_a_reason_is_refused_with_the_reason_to_give(
        slack: Slack) -> None:
    await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.command(PAT, ids.COMMAND_ADVOCATES, f"limits {ADA[1]} 90d=5")
    await slack.settle()
    assert "Say why you are overriding" in slack.fake.responses[-1].args["text"]


async def test_an_ambiguous_name_lists_the_candidates(slack: Slack) -> None:
    await slack.add_advocate(email="a1@x.example", name="Alex One")
    await slack.add_advocate(email="a2@x.example", name="Alex Two")
    await slack.command(PAT, ids.COMMAND_ADVOCATES, "show alex")
    await slack.settle()
    text = slack.fake.responses[-1].args["text"]
    assert "2 advocates fit" in text and "a1@x.example" in text and "a2@x.example" in text


async def test_export_sends_the_roster_csv_to_the_program_managers_dm(slack: Slack) -> None:
    await slack.add_advocate(email=ADA[1], name=ADA[2])
    await slack.command(PAT, ids.COMMAND_ADVOCATES, "export")
    await slack.settle()
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == PAT[0]
    [complete] = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D0PAT"
    assert ADA[1].encode() in slack.fake.uploads[0]
    assert slack.fake.calls_to("conversations.open") == []


async def test_digest_now_sends_the_digest_to_the_program_manager_who_asked(
        slack: Slack) -> None:
    await slack.command(PAT, ids.COMMAND_ADVOCATES, "digest now")
    await slack.deliver()
    assert "on its way" in slack.fake.responses[-1].args["text"]
    [digest] = slack.dms_to(PAT)  # to the manager who asked, in their DM
    assert digest.args["text"]

"""One handler per command: call the service, return the reply.

Typed words, buttons and forms alike: a click's reply is what the clicked message turns
into (Slack shows most of them by updating the message in place through the outbox, Teams
by answering the click with the reply's card).

``HANDLERS`` maps each command class to its handler (as in cosmicpython's message bus);
``dispatch`` runs it and turns a refusal (``DomainError``) into a reply instead of an
error, so every surface says no the same way. Anything else is a bug and propagates to the
surface, which apologises and logs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.conversation import commands as c
from bot.conversation import nominating
from bot.conversation.forms import forgive
from bot.conversation.once import Repeat, once
from bot.conversation.replies import Attachment, Reply, text_reply
from bot.conversation.views import (
    advocate_view,
    profile_reply,
    request_view,
    today_for,
    zone_of,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.hours import WorkingHours
from bot.domain.model import Actor, Advocate, AskState, Engagement, EngagementState, Role
from bot.services import asks, checkins, locales, outcomes, requests, scheduling
from bot.services.advocates import (
    advocate_profile,
    leave_program,
    pause_advocate,
    resume_advocate,
    set_manager_limits,
    set_own_limits,
)
from bot.services.call_hours import set_own_hours
from bot.services.context import ServiceContext
from bot.services.digest import send_digest_now
from bot.services.home import advocate_named, engagement_brief, find_advocates, my_profile
from bot.services.intake import known_values, parse_keywords, with_suggested_times
from bot.services.messages import person_hours
from bot.services.report import send_report
from bot.services.requests import cancel_request, list_requests
from bot.services.roles import may_request, require
from bot.services.roster import export_roster

C = TypeVar("C", bound=c.Command)
Handler = Callable[[ServiceContext, Any], Awaitable[Reply]]
MAX_LISTED = 30  # requests in ``reference list``, advocates in ``advocates find``


async def dispatch(ctx: ServiceContext, command: c.Command) -> Reply:
    """The reply to ``command``; a rule that says no is a reply too, and a repeat of a
    command that already happened is the ``repeat`` reply, which surfaces show as nothing."""
    handler = HANDLERS[type(command)]
    try:
        return await handler(once(ctx, command.key) if command.key else ctx, command)
    except Repeat:
        return Reply("repeat")
    except InvalidInput as error:
        return text_reply("invalid", "attention", errors=dict(error.errors))
    except DomainError as error:
        return text_reply("refused", "attention", problem=error.problem)


# --- help -------------------------------------------------------------------------------


async def show_help(ctx: ServiceContext, command: c.Help) -> Reply:
    if command.topic == "advocates":
        require(command.actor, Role.PROGRAM_MANAGER, action="manage_roster")
    manager = Role.PROGRAM_MANAGER in command.actor.roles
    return text_reply("help", topic=command.topic, unknown=command.unknown, manager=manager,
                      rep=may_request(command.actor),
                      nominator=manager or command.actor.has(Role.ACCOUNT_OWNER))


async def unreadable(ctx: ServiceContext, command: c.Unreadable) -> Reply:
    return text_reply("unreadable", "attention", errors=dict(command.errors))


# --- requests ---------------------------------------------------------------------------


async def start_request(ctx: ServiceContext, command: c.StartRequest) -> Reply:
    require(command.actor, Role.REP, Role.PROGRAM_MANAGER, action="request_reference")
    async with ctx.uow() as uow:
        known = await known_values(uow)
    draft = parse_keywords(command.keywords, known) if command.keywords.strip() else None
    zone = zone_of(ctx, command.actor)
    hours = person_hours(ctx, zone) or WorkingHours(zone=zone)  # else business hours
    context = {"known": known, "draft": with_suggested_times(draft, hours, ctx.now()),
               "timezone": zone, "today": today_for(ctx, command.actor)}
    return Reply("intake", context, form="intake")


async def show_requests(ctx: ServiceContext, command: c.ListRequests) -> Reply:
    found = await list_requests(ctx, command.actor, include_closed=command.include_closed)
    views = [request_view(r) for r in found[:MAX_LISTED]]
    return text_reply("request_list", requests=views, more=max(len(found) - MAX_LISTED, 0),
                      include_closed=command.include_closed)


async def cancel(ctx: ServiceContext, command: c.CancelRequest) -> Reply:
    if command.request_id is None:
        return text_reply("cancel_which", "attention")
    request = await cancel_request(ctx, command.actor, command.request_id, command.reason)
    return text_reply("request_cancelled", id=request.id,
                      prospect_company=request.prospect_company)


# --- anyone about themself -------------------------------------------------------------


async def choose_language(ctx: ServiceContext, command: c.ChooseLanguage) -> Reply:
    """Show the reader's language and the choices, or keep the one they chose (and say
    so in it)."""
    names = locales.language_names(locales.supported_languages())
    current = locales.language_code(command.actor.locale or ctx.program_locale) or "en"
    if not command.language.strip():
        other = next((code for code in names if code != current), current)
        return text_reply("language", current=current, name=names.get(current, current),
                          choices=list(names.items()), example=other)
    chosen = await locales.choose_language(ctx, command.actor, command.language)
    return Reply("language_chosen", {"language": chosen, "name": names[chosen]}, "good",
                 locale=chosen)


# --- an advocate about themself ---------------------------------------------------------


async def _own_id(ctx: ServiceContext, actor: Actor) -> int:
    profile = await my_profile(ctx, actor)  # "not on the roster" for everyone else
    assert profile.advocate.id is not None
    return profile.advocate.id


async def show_my_profile(ctx: ServiceContext, command: c.ShowMyProfile) -> Reply:
    return profile_reply(ctx, command.actor, await my_profile(ctx, command.actor))


async def pause_me(ctx: ServiceContext, command: c.PauseMe) -> Reply:
    advocate_id = await _own_id(ctx, command.actor)
    await pause_advocate(ctx, command.actor, advocate_id, until=command.until,
                         reason=command.reason)
    return profile_reply(ctx, command.actor, await my_profile(ctx, command.actor))


async def resume_me(ctx: ServiceContext, command: c.ResumeMe) -> Reply:
    await resume_advocate(ctx, command.actor, await _own_id(ctx, command.actor))
    return profile_reply(ctx, command.actor, await my_profile(ctx, command.actor))


async def set_my_limits(ctx: ServiceContext, command: c.SetMyLimits) -> Reply:
    profile = await my_profile(ctx, command.actor)
    assert profile.advocate.id is not None
    if command.limits is None:  # the form, beside the profile (Teams keeps it there)
        shown = profile_reply(ctx, command.actor, profile).context
        return Reply("own_limits", {**shown, "subject_id": profile.advocate.id,
                                    "current": profile.limits}, form="own_limits")
    await set_own_limits(ctx, command.actor, profile.advocate.id, command.limits)
    return profile_reply(ctx, command.actor, await my_profile(ctx, command.actor))


async def set_my_hours(ctx: ServiceContext, command: c.SetMyHours) -> Reply:
    profile = await my_profile(ctx, command.actor)
    assert profile.advocate.id is not None
    if command.hours:
        await set_own_hours(ctx, command.actor, profile.advocate.id, command.hours)
        profile = await my_profile(ctx, command.actor)
    return profile_reply(ctx, command.actor, profile)


async def leave(ctx: ServiceContext, command: c.LeaveProgram) -> Reply:
    result = await leave_program(ctx, command.actor, await _own_id(ctx, command.actor))
    return text_reply("left_program", "good", withdrawn=len(result.withdrawn),
                      kept=len(result.kept))


# --- the roster -------------------------------------------------------------------------


def _manager(actor: Actor) -> None:
    require(actor, Role.PROGRAM_MANAGER, action="manage_roster")


async def find(ctx: ServiceContext, command: c.FindAdvocates) -> Reply:
    _manager(command.actor)
    found = await find_advocates(ctx, command.actor, command.words)
    return text_reply("roster", query=command.words,
                      advocates=[advocate_view(a) for a in found[:MAX_LISTED]],
                      more=max(len(found) - MAX_LISTED, 0))


async def _named(ctx: ServiceContext, actor: Actor, who: str) -> Advocate:
    _manager(actor)
    chosen = await advocate_named(ctx, actor, who)
    assert chosen.id is not None
    return chosen


async def show_advocate(ctx: ServiceContext, command: c.ShowAdvocate) -> Reply:
    chosen = await _named(ctx, command.actor, command.who)
    assert chosen.id is not None
    return profile_reply(ctx, command.actor,
                         await advocate_profile(ctx, command.actor, chosen.id))


async def pause_other(ctx: ServiceContext, command: c.PauseAdvocate) -> Reply:
    chosen = await _named(ctx, command.actor, command.who)
    assert chosen.id is not None
    await pause_advocate(ctx, command.actor, chosen.id, until=command.until,
                         reason=command.reason)
    until = command.until.isoformat() if command.until else ""
    return text_reply("advocate_paused", "good", name=chosen.name, until=until)


async def resume_other(ctx: ServiceContext, command: c.ResumeAdvocate) -> Reply:
    chosen = await _named(ctx, command.actor, command.who)
    assert chosen.id is not None
    await resume_advocate(ctx, command.actor, chosen.id)
    return text_reply("advocate_resumed", "good", name=chosen.name)


async def override_limits(ctx: ServiceContext, command: c.SetAdvocateLimits) -> Reply:
    chosen = await _named(ctx, command.actor, command.who)
    assert chosen.id is not None
    if command.limits is not None:
        await set_manager_limits(ctx, command.actor, chosen.id, command.limits,
                                 reason=command.reason)
    profile = await advocate_profile(ctx, command.actor, chosen.id)
    return text_reply("advocate_limits", "good" if command.limits else "default",
                      name=chosen.name, updated=command.limits is not None,
                      limits=profile.limits, used_90=profile.last_90_days,
                      used_365=profile.last_365_days, open_asks=profile.open_asks)


async def export(ctx: ServiceContext, command: c.ExportRoster) -> Reply:
    """The roster as CSV: it holds every advocate's contact details, so surfaces hand it
    over only in the program manager's own direct messages."""
    _manager(command.actor)
    csv_text = await export_roster(ctx.uow)
    rows = max(csv_text.count("\n") - 1, 0)
    day = ctx.now().date().isoformat()
    attachment = Attachment(f"advocates-{day}.csv", csv_text.encode(), "text/csv",
                            "Advocate roster")
    return Reply("roster_export", {"rows": rows}, attachment=attachment)


async def digest_now(ctx: ServiceContext, command: c.SendDigestNow) -> Reply:
    _manager(command.actor)
    await send_digest_now(ctx, command.actor)
    return text_reply("digest_sent", "good")


async def report(ctx: ServiceContext, command: c.SendReport) -> Reply:
    """The program report goes to the manager's direct messages with its charts and files
    (the outbox); the answer says which period it covers."""
    sent = await send_report(ctx, command.actor, command.period)
    return text_reply("report_sent", "good", period=sent.period.label,
                      from_day=sent.period.first_day.isoformat(),
                      to_day=sent.period.last_day.isoformat())


async def import_elsewhere(ctx: ServiceContext, command: c.ImportRoster) -> Reply:
    _manager(command.actor)
    return text_reply("import_elsewhere")


# --- buttons and forms ---------------------------------------------------------------


async def submit_intake(ctx: ServiceContext, command: c.SubmitIntake) -> Reply:
    """File the request, reading typed values the way people mean them first (``en`` is
    the roster's "English"), whatever surface the form came from."""
    async with ctx.uow() as uow:
        draft = forgive(command.draft, await known_values(uow))
    result = await requests.submit_request(ctx, command.actor, draft, choose=command.choose)
    request = result.request
    if not result.matches:
        return text_reply("nobody_fits", "attention", id=request.id)
    return text_reply("request_filed", "good", id=request.id,
                      prospect_company=request.prospect_company,
                      matches=len(result.matches), choose=command.choose)


async def ask(ctx: ServiceContext, command: c.AskAdvocate) -> Reply:
    asked = await asks.ask_advocate(ctx, command.actor, command.request_id,
                                    command.advocate_id)
    if asked is None:
        return text_reply("nobody_left", "attention")
    return text_reply("asked", "good",
                      awaiting_approval=asked.state is AskState.AWAITING_APPROVAL)


async def answer(ctx: ServiceContext, command: c.AnswerAsk) -> Reply:
    answered = await asks.answer_ask(ctx, command.actor, command.ask_id, command.answer,
                                     command.reason)
    tone = "good" if answered.state in (AskState.ACCEPTED, AskState.PENDING) else "default"
    return text_reply("ask_answered", tone, state=answered.state.value)


async def decide(ctx: ServiceContext, command: c.DecideApproval) -> Reply:
    decided = await asks.decide_approval(ctx, command.actor, command.ask_id, command.approve,
                                         command.reason)
    tone = "good" if decided.state in (AskState.ACCEPTED, AskState.PENDING) else "default"
    return text_reply("approval_decided", tone, state=decided.state.value)


def schedule_reply(ctx: ServiceContext, command: c.Command, engagement: Engagement) -> Reply:
    """Where the call stands, in the clicking person's own time zone."""
    moment = engagement.scheduled_at if engagement.state is EngagementState.SCHEDULED \
        else engagement.proposed_at
    booked = engagement.state in (EngagementState.SCHEDULED, EngagementState.PROPOSED)
    return text_reply("schedule_status", "good" if booked else "default",
                      state=engagement.state.value, at=moment if booked else None,
                      timezone=zone_of(ctx, command.actor),
                      awaiting_pick=scheduling.awaiting_pick(engagement))


async def pick(ctx: ServiceContext, command: c.PickTime) -> Reply:
    engagement = await scheduling.pick_time(ctx, command.actor, command.engagement_id,
                                            slot=command.slot, proposed=command.proposed)
    return schedule_reply(ctx, command, engagement)


async def confirm(ctx: ServiceContext, command: c.ConfirmTime) -> Reply:
    engagement = await scheduling.confirm_time(ctx, command.actor, command.engagement_id,
                                               command.accept, proposed=command.shown)
    return schedule_reply(ctx, command, engagement)


async def move(ctx: ServiceContext, command: c.Reschedule) -> Reply:
    engagement = await scheduling.reschedule(ctx, command.actor, command.engagement_id)
    return schedule_reply(ctx, command, engagement)


async def outcome(ctx: ServiceContext, command: c.RecordOutcome) -> Reply:
    engagement = await outcomes.record_outcome(
        ctx, command.actor, command.engagement_id, command.outcome,
        helpfulness=command.helpfulness, influenced_amount=command.influenced_amount)
    return text_reply("outcome_recorded", "good", state=engagement.state.value)


async def comment(ctx: ServiceContext, command: c.AddComment) -> Reply:
    await outcomes.add_comment(ctx, command.actor, command.engagement_id, command.text)
    return text_reply("comment_thanks", "good", comment=" ".join(command.text.split()))


async def check_in(ctx: ServiceContext, command: c.AnswerCheckIn) -> Reply:
    advocate = await checkins.answer_check_in(
        ctx, command.actor, command.advocate_id, command.choice, months=command.months,
        limits=command.limits, feedback=command.feedback)
    until = advocate.unavailable_until.isoformat() \
        if command.choice == "pause" and advocate.unavailable_until else ""
    return text_reply("check_in_answered", "good", choice=str(command.choice), until=until)


async def check_in_feedback(ctx: ServiceContext, command: c.SendCheckInFeedback) -> Reply:
    await checkins.record_check_in_feedback(ctx, command.actor, command.advocate_id,
                                            command.text)
    return text_reply("feedback_thanks", "good")


async def _profile(ctx: ServiceContext, command: c.Command, advocate_id: int) -> Reply:
    return profile_reply(ctx, command.actor,
                         await advocate_profile(ctx, command.actor, advocate_id))


async def show_profile(ctx: ServiceContext, command: c.ShowProfile) -> Reply:
    return await _profile(ctx, command, command.advocate_id)


async def pause_profile(ctx: ServiceContext, command: c.PauseProfile) -> Reply:
    await pause_advocate(ctx, command.actor, command.advocate_id, until=command.until,
                         reason=command.reason)
    return await _profile(ctx, command, command.advocate_id)


async def resume_profile(ctx: ServiceContext, command: c.ResumeProfile) -> Reply:
    await resume_advocate(ctx, command.actor, command.advocate_id)
    return await _profile(ctx, command, command.advocate_id)


async def limits_profile(ctx: ServiceContext, command: c.SetProfileLimits) -> Reply:
    if command.override:
        await set_manager_limits(ctx, command.actor, command.advocate_id, command.limits,
                                 reason=command.reason)
    else:
        await set_own_limits(ctx, command.actor, command.advocate_id, command.limits)
    return await _profile(ctx, command, command.advocate_id)


async def leave_profile(ctx: ServiceContext, command: c.LeaveFromProfile) -> Reply:
    result = await leave_program(ctx, command.actor, command.advocate_id)
    return text_reply("left_program", "good", withdrawn=len(result.withdrawn),
                      kept=len(result.kept))


async def open_form(ctx: ServiceContext, command: c.OpenForm) -> Reply:
    """What a form needs to be shown, checked against the person opening it."""
    if command.form in nominating.FORMS:
        return await nominating.open_form(ctx, command)
    context: dict[str, Any] = {"subject_id": command.subject_id}
    if command.form in ("propose_time", "outcome"):
        brief = await engagement_brief(
            ctx, command.actor, command.subject_id,
            as_="advocate" if command.form == "propose_time" else "rep")
        context.update(timezone=brief.advocate_timezone, latest=brief.latest_day,
                       advocate_name=brief.advocate_name, currency=ctx.policy.currency)
    elif command.form in ("own_limits", "check_in_limits"):
        profile = await advocate_profile(ctx, command.actor, command.subject_id)
        context.update(current=profile.limits, program_limits=ctx.policy.limits)
    elif command.form == "pause":
        await advocate_profile(ctx, command.actor, command.subject_id)  # theirs, or a PM's
        context.update(today=today_for(ctx, command.actor))
    elif command.form == "call_hours":
        profile = await advocate_profile(ctx, command.actor, command.subject_id)
        context.update(hours=profile.advocate.call_hours)
    return Reply(command.form, context, form=command.form)



HANDLERS: dict[type[c.Command], Handler] = {
    c.SubmitIntake: submit_intake,
    c.AskAdvocate: ask,
    c.AnswerAsk: answer,
    c.DecideApproval: decide,
    c.PickTime: pick,
    c.ConfirmTime: confirm,
    c.Reschedule: move,
    c.RecordOutcome: outcome,
    c.AddComment: comment,
    c.AnswerCheckIn: check_in,
    c.SendCheckInFeedback: check_in_feedback,
    c.ShowProfile: show_profile,
    c.PauseProfile: pause_profile,
    c.ResumeProfile: resume_profile,
    c.SetProfileLimits: limits_profile,
    c.LeaveFromProfile: leave_profile,
    c.OpenForm: open_form,
    # typed words
    c.Help: show_help,
    c.Unreadable: unreadable,
    c.StartRequest: start_request,
    c.ListRequests: show_requests,
    c.CancelRequest: cancel,
    c.ShowMyProfile: show_my_profile,
    c.ChooseLanguage: choose_language,
    c.PauseMe: pause_me,
    c.ResumeMe: resume_me,
    c.SetMyLimits: set_my_limits,
    c.SetMyHours: set_my_hours,
    c.LeaveProgram: leave,
    c.FindAdvocates: find,
    c.ShowAdvocate: show_advocate,
    c.PauseAdvocate: pause_other,
    c.ResumeAdvocate: resume_other,
    c.SetAdvocateLimits: override_limits,
    c.ExportRoster: export,
    c.SendDigestNow: digest_now,
    c.ImportRoster: import_elsewhere,
    c.SendReport: report,
    **nominating.HANDLERS,
}

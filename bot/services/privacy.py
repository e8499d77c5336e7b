"""Forgetting an advocate: erase the person, keep the program's numbers true.

``advocate-bot advocates forget EMAIL`` runs ``forget_advocate``. In one unit of work it

1. retires the advocate and withdraws every open ask, as leaving the program does: the
   rep (and, for an ask waiting for approval, the approvers) are told the advocate is no
   longer available, and the request moves on to the next-ranked advocate;
2. replaces the roster entry's personal fields with anonymous values: the email becomes
   ``forgotten-<id>@invalid`` (unique, and ``.invalid`` can never be delivered to), the
   name "Forgotten advocate #<id>"; company, title, CRM account, country, notes, the
   account owner, CRM scores, consent record and "do not use with" are cleared, the time
   zone becomes UTC. What the counts need stays: industry, region, company size,
   products, use cases, languages, reference types, points and every engagement;
3. blanks the advocate's free-text comments on their engagements;
4. deletes their chat identities (``people`` rows, with the Teams conversation references);
5. drops queued messages to them, strips the recipient and content from those already
   sent or failed (the rows stay so the digest's delivery counts stay true) and replaces
   their email and name wherever another message quotes them;
6. replaces their email and name in the audit log and appends ``advocate.forgotten``,
   which names the advocate by id only.

Engagements the advocate had agreed to and that have not happened yet are **cancelled**:
a call with a person the program has erased cannot be run by the bot (every reminder and
outcome prompt would be addressed to nobody). The rep is told (``advocate_forgotten_rep``,
with a calendar CANCEL for a booked call, same UID as the invite), the request goes back
to matching and the next-ranked advocate is asked, as when an ask is withdrawn. Nothing
stays queued addressed to the erased person: their queued messages are dropped, and the
consent records and nominations of their email are deleted.

Forgetting is final. A second run finds no advocate with that email and raises
``NotFound``, like an unknown email; re-importing a CRM row with the email creates a new
advocate, so remove the person from the CRM export too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import NotFound
from bot.domain.lifecycle import transition_ask, transition_engagement
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    Ask,
    AskState,
    Engagement,
    EngagementState,
    LimitOverrides,
    Person,
    ReferenceRequest,
    RequestState,
)
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.services.advocates import _open_asks_of
from bot.services.bookings import Booking, cancellation_invites
from bot.services.cascade import ask_next
from bot.services.context import ServiceContext, audit, send
from bot.services.messages import (
    advocate_card,
    approval_key,
    rep_person,
    rep_zone,
    request_context,
)
from bot.services.request_progress import move_request
from bot.services.roles import manager_people

FORGOTTEN_DOMAIN = "invalid"  # RFC 2606: reserved, never routable
_LIVE = (EngagementState.ACCEPTED, EngagementState.PROPOSED, EngagementState.SCHEDULED)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What ``forget_advocate`` erased, in numbers (it keeps nothing else to show)."""

    advocate_id: int
    placeholder_email: str
    withdrawn_asks: int
    cancelled_engagements: int  # agreed engagements not yet held, cancelled (module doc)
    engagements: int  # every engagement, still counted
    points: int
    comments_blanked: int
    chat_identities_deleted: int
    messages_dropped: int  # queued messages to them, deleted
    messages_scrubbed: int  # sent/failed messages to them, or quoting them, redacted
    audit_entries_scrubbed: int


def forgotten_email(advocate_id: int) -> str:
    return f"forgotten-{advocate_id}@{FORGOTTEN_DOMAIN}"


def forgotten_name(advocate_id: int) -> str:
    return f"Forgotten advocate #{advocate_id}"


def is_forgotten(advocate: Advocate) -> bool:
    return advocate.id is not None and advocate.email == forgotten_email(advocate.id)


class _FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def _anonymise(advocate: Advocate, advocate_id: int) -> None:
    advocate.email = forgotten_email(advocate_id)
    advocate.name = forgotten_name(advocate_id)
    advocate.company = ""
    advocate.title = ""
    advocate.account_id = ""
    advocate.country = ""
    advocate.timezone = "UTC"
    advocate.public_recognition = False
    advocate.account_owner_email = None
    advocate.health_score = None
    advocate.nps = None
    advocate.renewal_date = None
    advocate.customer_since = None
    advocate.status = AdvocateStatus.RETIRED
    advocate.unavailable_until = None
    advocate.snoozed_until = None
    advocate.do_not_use_with = ()
    advocate.own_limits = LimitOverrides()
    advocate.manager_limits = LimitOverrides()
    advocate.consent_source = "forgotten"
    advocate.consented_at = None
    advocate.notes = ""


async def _withdraw(ctx: ServiceContext, uow: UnitOfWork, ask: Ask, request: ReferenceRequest,
                    advocate: Advocate, now: datetime, by: str) -> None:
    """Withdraw one ask; tell the rep (and approvers) with the anonymous card. The
    advocate is not messaged: their chat identity is being erased."""
    was = ask.state
    transition_ask(ask, AskState.WITHDRAWN, now)
    await uow.asks.update(ask)
    await audit(uow, now, by, "ask.withdrawn", f"ask:{ask.id}", request_id=request.id,
                advocate_id=advocate.id, why="advocate_forgotten")
    card = advocate_card(advocate)
    if was == AskState.AWAITING_APPROVAL:
        approvers = ([Person(email=ask.approver_email, timezone=ctx.program_timezone)]
                     if ask.approver_email else manager_people(ctx))
        for approver in approvers:
            key = approval_key(ask.id, approver.email or "")
            await send(uow, now, approver, "approval_closed", {
                "ask_id": ask.id, "outcome": "withdrawn", "decided_by": "",
                "advocate": card, "request": request_context(request),
                "timezone": approver.timezone or ctx.program_timezone,
            }, key=f"{key}:withdrawn", replaces=key)
    await send(uow, now, rep_person(request), "left_program_rep", {
        "request": request_context(request), "advocate": card, "timezone": rep_zone(request),
    }, key=f"left_program_rep:{ask.id}")


async def _cancel(ctx: ServiceContext, uow: UnitOfWork, engagement: Engagement,
                  advocate: Advocate, now: datetime, by: str) -> None:
    """Cancel an engagement the forgotten advocate had agreed to: the rep is told (with a
    CANCEL for a booked call still ahead, naming the advocate anonymously), and the request
    goes back to matching for the next-ranked advocate."""
    request = await uow.requests.get_for_update(engagement.request_id)
    assert request is not None
    cancels = await cancellation_invites(ctx, uow, Booking(engagement, request, advocate), now)
    was = engagement.state
    transition_engagement(engagement, EngagementState.CANCELLED, now)
    await uow.engagements.update(engagement)
    await audit(uow, now, by, "engagement.cancelled", f"engagement:{engagement.id}",
                request_id=request.id, was=was.value, why="advocate_forgotten")
    await send(uow, now, rep_person(request), "advocate_forgotten_rep", {
        "request": request_context(request), "timezone": rep_zone(request),
        "scheduled_at": engagement.scheduled_at.isoformat() if cancels else None,
        "invite": cancels.get("rep", {}).get("invite"),
        "ics_filename": cancels.get("rep", {}).get("ics_filename", ""),
    }, key=f"advocate_forgotten_rep:{engagement.id}")
    if not request.state.is_terminal:
        await move_request(uow, request, RequestState.MATCHING, now, by=by,
                           reason="advocate_forgotten")
        await uow.requests.update(request)
        await ask_next(ctx, uow, request, exclude={advocate.id or 0}, by=by)


async def forget_advocate(uow_factory: UnitOfWorkFactory, email: str, *, now: datetime,
                          actor: str = "cli", ctx: ServiceContext | None = None
                          ) -> ForgetReport:
    """Erase the advocate with ``email`` (any case) and keep their anonymous counts.

    ``ctx`` (the application's, from the CLI) supplies the program's settings for asking
    the next advocate on the requests this one held; without it the defaults are used.
    Raises ``NotFound`` for an unknown or already forgotten email.
    """
    ctx = ctx or ServiceContext(uow=uow_factory, clock=_FixedClock(now))
    async with uow_factory() as uow:
        advocate = await _to_forget(uow, email.strip())
        report = await _erase(ctx, uow, advocate, now=now, actor=actor)
        await audit(uow, now, actor, "advocate.forgotten", f"advocate:{report.advocate_id}",
                    withdrawn_asks=report.withdrawn_asks,
                    comments_blanked=report.comments_blanked,
                    chat_identities_deleted=report.chat_identities_deleted,
                    messages_dropped=report.messages_dropped,
                    messages_scrubbed=report.messages_scrubbed,
                    audit_entries_scrubbed=report.audit_entries_scrubbed)
        await uow.commit()
    return report


async def _to_forget(uow: UnitOfWork, wanted: str) -> Advocate:
    """The advocate with this email, locked; ``NotFound`` when there is none to forget."""
    found = await uow.advocates.get_by_email(wanted)
    if found is not None and is_forgotten(found):
        raise NotFound("advocate_already_forgotten", advocate_id=found.id)
    advocate = await uow.advocates.get_for_update(found.id) if found and found.id else None
    if advocate is None or advocate.id is None:
        raise NotFound("no_advocate_to_forget", email=wanted)
    return advocate


async def _erase(ctx: ServiceContext, uow: UnitOfWork, advocate: Advocate, *,
                 now: datetime, actor: str) -> ForgetReport:
    """Anonymise the advocate, withdraw their open asks (asking the next advocate), blank
    their comments and scrub them from identities, the outbox and the audit log."""
    assert advocate.id is not None
    advocate_id = advocate.id
    original_email, original_name = advocate.email, advocate.name
    replacements = {original_email: forgotten_email(advocate_id)}
    if original_name.strip():
        replacements[original_name.strip()] = forgotten_name(advocate_id)

    _anonymise(advocate, advocate_id)
    await uow.advocates.update(advocate)

    withdrawn = 0
    for ask, request in await _open_asks_of(uow, advocate_id):
        await _withdraw(ctx, uow, ask, request, advocate, now, actor)
        withdrawn += 1
        await ask_next(ctx, uow, request, exclude={advocate_id}, by=actor)

    engagements = await uow.engagements.list_for_advocate(advocate_id)
    live = [e for e in engagements if e.state in _LIVE]
    for engagement in live:
        await _cancel(ctx, uow, engagement, advocate, now, actor)
    blanked = 0
    for engagement in engagements:
        if engagement.advocate_comment:
            engagement.advocate_comment = ""
            await uow.engagements.update(engagement)
            blanked += 1

    await uow.consents.forget(original_email)
    await uow.nominations.forget(original_email)
    identities = await uow.people.delete_by_email(original_email)
    dropped, scrubbed = await uow.outbox.scrub_recipient(
        original_email, identities=identities, placeholder=forgotten_email(advocate_id),
        replacements=replacements)
    return ForgetReport(
        advocate_id=advocate_id,
        placeholder_email=forgotten_email(advocate_id),
        withdrawn_asks=withdrawn,
        cancelled_engagements=len(live),
        engagements=len(engagements),
        points=advocate.points,
        comments_blanked=blanked,
        chat_identities_deleted=len(identities),
        messages_dropped=dropped,
        messages_scrubbed=scrubbed,
        audit_entries_scrubbed=await uow.audit.scrub(replacements),
    )


__all__ = ["ForgetReport", "forget_advocate", "forgotten_email", "forgotten_name",
           "is_forgotten"]

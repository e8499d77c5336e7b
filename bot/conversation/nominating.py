"""The handlers of nominations, invites and onboarding (``bot.conversation.dispatcher``
merges them into ``HANDLERS``): call the service, return the reply."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.conversation import commands as c
from bot.conversation.formspec import Sources
from bot.conversation.replies import Reply, text_reply
from bot.conversation.views import zone_of
from bot.domain.errors import Problem
from bot.services import consent, nominations, onboarding
from bot.services.consent import CURRENT_VERSION
from bot.services.context import ServiceContext
from bot.services.intake import known_values
from bot.services.onboarding import OnboardingAnswers

FORMS = ("nomination_decline", "onboarding")


def _listed(raw: object) -> tuple[str, ...]:
    parts = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list | tuple) \
        else ()
    return tuple(dict.fromkeys(str(p).strip() for p in parts if str(p).strip()))


def onboarding_answers(values: Mapping[str, Any]) -> OnboardingAnswers:
    """The onboarding form's values (checked against its spec first) as the service takes
    them, whichever surface sent them: lists or comma-separated text, numbers as text."""
    quarter = str(values.get("per_quarter") or "").strip()
    return OnboardingAnswers(
        reference_types=_listed(values.get("reference_types")),
        languages=_listed(values.get("languages")),
        timezone=str(values.get("timezone") or "").strip(),
        per_quarter=int(Decimal(quarter)) if quarter else None,
        products=_listed(values.get("products")), use_cases=_listed(values.get("use_cases")),
        public_thanks=values.get("public_thanks") == "yes",
        consent=values.get("consent") == "agree")


def onboarding_sources(ctx: ServiceContext, timezone: str = "UTC") -> Sources:
    """What the onboarding form is checked against: the program's limits, and the zone
    submitted (the form offers the person's own zone beside the common ones)."""
    return Sources(timezone=timezone or "UTC", program=ctx.policy.limits)


async def nominate(ctx: ServiceContext, command: c.Nominate) -> Reply:
    if not command.email.strip():
        return text_reply("nominate_which", "attention")
    filed = await nominations.nominate(ctx, command.actor, command.email, command.reason,
                                       name=command.name, override=command.override)
    return text_reply("nomination_filed", "attention" if filed.findings else "good",
                      nomination=nominations.nomination_view(filed.nomination),
                      findings=list(filed.findings))


async def decide(ctx: ServiceContext, command: c.DecideNomination) -> Reply:
    decided = await nominations.decide_nomination(ctx, command.actor, command.nomination_id,
                                                  command.approve, command.reason)
    return text_reply("nomination_decision", "good" if command.approve else "default",
                      nomination=nominations.nomination_view(decided))


async def show_invitation(ctx: ServiceContext, command: c.ShowInvitation) -> Reply:
    """The invitation as its message (Join / Not now / No thanks) where the person asked."""
    return Reply(nominations.INVITE, await nominations.open_invitation(ctx, command.actor))


async def answer_invite(ctx: ServiceContext, command: c.AnswerInvite) -> Reply:
    answered = await nominations.answer_invite(ctx, command.actor, command.nomination_id,
                                               command.answer)
    return text_reply("invite_answered", state=answered.state.value)


async def submit_onboarding(ctx: ServiceContext, command: c.SubmitOnboarding) -> Reply:
    advocate = await onboarding.join(ctx, command.actor, command.nomination_id,
                                     command.answers)
    return text_reply("onboarded", "good", name=advocate.name)


async def open_form(ctx: ServiceContext, command: c.OpenForm) -> Reply:
    """The decline reason (program managers), or the onboarding form (the invited contact,
    with the consent wording it asks them to agree to)."""
    context: dict[str, Any] = {"subject_id": command.subject_id}
    if command.form == "onboarding":
        async with ctx.uow() as uow:  # read only: is this their invite, still open?
            await nominations.contact_nomination(uow, command.actor, command.subject_id)
            known = await known_values(uow)
        context.update(known=known, timezone=zone_of(ctx, command.actor),
                       program_limits=ctx.policy.limits, consent_version=CURRENT_VERSION)
    elif not command.actor.is_program_manager:
        return text_reply("refused", "attention",
                          problem=Problem("only_managers_decide"))
    return Reply(command.form, context, form=command.form)


async def confirm_consent(ctx: ServiceContext, command: c.ConfirmConsent) -> Reply:
    record = await consent.reconfirm(ctx, command.actor, command.advocate_id)
    return text_reply("consent_confirmed", "good", version=record.version)


HANDLERS: dict[type[c.Command], Any] = {
    c.ConfirmConsent: confirm_consent,
    c.Nominate: nominate,
    c.ShowInvitation: show_invitation,
    c.DecideNomination: decide,
    c.AnswerInvite: answer_invite,
    c.SubmitOnboarding: submit_onboarding,
}

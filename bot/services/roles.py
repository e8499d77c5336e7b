"""Who is acting, and may they? Roles come from settings and the roster, never the client.

docs/product.md, "People": program managers are named in settings, advocates and account
owners come from the roster, and reps are the organisation's own people: never an advocate
(a customer), never a guest or someone from another workspace or tenant, and, when
``REP_EMAIL_DOMAINS`` is set, only people with an email in those domains. A person can hold
several roles (an account owner also opens requests for their own deals), so an ``Actor``
carries a set.
Services call ``require`` (or an ownership check) before touching anything, so a forged
button value cannot make a rep approve an ask or answer for an advocate.

A refusal about a particular thing (an ask, a request, an advocate, a reference) is always
``not_yours``, whether the thing belongs to someone else or does not exist: anything more
specific would let a person try ids one by one and learn whose they are.
"""

from __future__ import annotations

from bot.domain.errors import NotAllowed
from bot.domain.model import Actor, Advocate, Person, ReferenceRequest, Role
from bot.ports import UnitOfWork
from bot.services.context import ServiceContext


def _same_email(a: str | None, b: str | None) -> bool:
    """Emails link chat users to roster rows; they are compared without case."""
    if not a or not b:
        return False
    return a.strip().lower() == b.strip().lower()


async def resolve_actor(ctx: ServiceContext, uow: UnitOfWork, person: Person) -> Actor:
    """The roles ``person`` holds right now, read from settings and the roster.

    Resolved on every call rather than cached, so a program manager removed from settings
    or an advocate who left the roster loses their powers at once. Two indexed lookups by
    email, never a roster scan: this runs on every click, at any roster size.
    """
    roles: set[Role] = set()
    email = (person.email or "").strip().lower()
    advocate = False
    if email:
        if email in {pm.strip().lower() for pm in ctx.program_managers}:
            roles.add(Role.PROGRAM_MANAGER)
        advocate = await uow.advocates.get_by_email(email) is not None
        if advocate:
            roles.add(Role.ADVOCATE)
        if await uow.advocates.owns_accounts(email):
            roles.add(Role.ACCOUNT_OWNER)
    if not advocate and may_be_rep(person, ctx.rep_email_domains):
        roles.add(Role.REP)
    return Actor(person=person, roles=frozenset(roles))


def may_be_rep(person: Person, domains: tuple[str, ...] = ()) -> bool:
    """Could this person be a sales rep, whatever the roster says?

    Someone without an email cannot be told apart from a customer, and a guest or a user
    of another organisation is not one of the organisation's sellers, so neither is a rep.
    ``internal`` None (the platform did not say: the Bot Framework Emulator, an older
    stored row) is not a refusal on its own. ``domains`` (lower-case, from
    ``REP_EMAIL_DOMAINS``) narrows reps to those email domains, matched exactly.
    """
    email = (person.email or "").strip().lower()
    if "@" not in email or person.internal is False:
        return False
    return not domains or email.rsplit("@", 1)[1] in domains


def may_request(actor: Actor) -> bool:
    """May the actor ask for references (and so see the rep's part of a page)?"""
    return actor.has(Role.REP) or actor.is_program_manager


def require(actor: Actor, *roles: Role, action: str) -> None:
    """Let the actor through if they hold any of ``roles``; otherwise say, politely, who can.

    ``action`` names what they tried (a code the ``only_role`` template words: "Sorry,
    only … can <action>."), so the refusal says whom to ask instead.
    """
    if any(actor.has(role) for role in roles):
        return
    raise NotAllowed("only_role", roles=[str(role) for role in roles], action=action)


def is_request_owner(actor: Actor, request: ReferenceRequest) -> bool:
    """The rep who opened the request: same chat identity, or failing that the same email
    (a rep on both Slack and Teams is one person)."""
    if actor.person.identity is not None and actor.person.identity == request.rep.identity:
        return True
    return _same_email(actor.person.email, request.rep.email)


def require_owner_or_manager(actor: Actor, request: ReferenceRequest) -> None:
    """Requests are private to the rep who opened them and the program managers.

    The refusal is the neutral ``not_yours``: it says nothing about the request (not even
    that it exists)."""
    if actor.is_program_manager or is_request_owner(actor, request):
        return
    raise NotAllowed("not_yours")


def is_advocate(actor: Actor, advocate: Advocate) -> bool:
    """Is the actor this very advocate? Matched on email, the roster's key."""
    return _same_email(actor.person.email, advocate.email)


def is_account_owner(actor: Actor, advocate: Advocate, approver_email: str | None = None) -> bool:
    """The advocate's account owner (today's, or the one the approval was sent to)."""
    return _same_email(actor.person.email, advocate.account_owner_email) or _same_email(
        actor.person.email, approver_email
    )


def advocate_person(advocate: Advocate) -> Person:
    """How an advocate is addressed in the outbox: by email (the dispatcher finds their
    chat identity), with their own time zone so messages show their local times."""
    return Person(email=advocate.email, display_name=advocate.name,
                  timezone=advocate.timezone or "UTC")


def manager_people(ctx: ServiceContext) -> list[Person]:
    """The program managers as recipients, in the program's time zone."""
    return [Person(email=email, timezone=ctx.program_timezone)
            for email in ctx.program_managers]

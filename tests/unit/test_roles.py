"""Who may do what: roles come from settings and the roster, and refusals are polite."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.model import Actor, Person, Role
from bot.services.context import ServiceContext
from bot.services.roles import is_account_owner, is_advocate, require, resolve_actor
from tests.fakes import FakeDatabase, said
from tests.unit.conftest import PM_EMAIL, AddAdvocate, actor, person


async def roles_of(ctx: ServiceContext, db: FakeDatabase, who: Person) -> frozenset[Role]:
    async with db.uow() as uow:
        return (await resolve_actor(ctx, uow, who)).roles


async def test_someone_unknown_to_the_program_is_a_rep(ctx: ServiceContext,
                                                       db: FakeDatabase) -> None:
    assert await roles_of(ctx, db, person("new.hire@vendor.example")) == {Role.REP}


async def test_a_program_manager_is_recognised_by_email_in_any_case(
        ctx: ServiceContext, db: FakeDatabase) -> None:
    roles = await roles_of(ctx, db, person(PM_EMAIL.upper()))
    assert roles == {Role.REP, Role.PROGRAM_MANAGER}


async def test_an_advocate_on_the_roster_is_an_advocate(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    advocate = await add_advocate(email="Ada@Customer.example")
    roles = await roles_of(ctx, db, person("ada@customer.example"))
    assert roles == {Role.ADVOCATE}  # a customer, so never a rep
    assert is_advocate(actor(person("ADA@customer.example")), advocate)


async def test_an_account_owner_of_any_advocate_is_an_account_owner(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    await add_advocate()
    advocate = await add_advocate(account_owner_email="Olive.Owner@vendor.example")
    roles = await roles_of(ctx, db, person("olive.owner@vendor.example"))
    assert roles == {Role.REP, Role.ACCOUNT_OWNER}
    assert is_account_owner(actor("olive.owner@vendor.example"), advocate)
    assert not is_account_owner(actor("someone.else@vendor.example"), advocate)


async def test_one_person_can_hold_every_role_at_once(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    await add_advocate(email="olive.owner@vendor.example", account_owner_email=PM_EMAIL)
    assert await roles_of(ctx, db, person(PM_EMAIL)) == set(Role) - {Role.ADVOCATE}
    await add_advocate(email=PM_EMAIL)
    assert await roles_of(ctx, db, person(PM_EMAIL)) == set(Role) - {Role.REP}


async def test_a_chat_user_without_an_email_has_no_role(
        ctx: ServiceContext, db: FakeDatabase, add_advocate: AddAdvocate) -> None:
    """Without an email nobody can tell them from a customer, so they are not a rep."""
    await add_advocate(account_owner_email="")
    assert await roles_of(ctx, db, Person(email=None, display_name="Guest")) == set()


def test_require_lets_through_anyone_holding_one_of_the_roles() -> None:
    manager = actor(PM_EMAIL, Role.PROGRAM_MANAGER)
    require(manager, Role.ACCOUNT_OWNER, Role.PROGRAM_MANAGER, action="see_program")


def test_require_refuses_politely_and_says_who_can() -> None:
    rep = Actor(person=person("riley.rep@vendor.example"))
    with pytest.raises(NotAllowed) as refused:
        require(rep, Role.ACCOUNT_OWNER, Role.PROGRAM_MANAGER, action="see_program")
    assert said(refused.value) == ("Sorry, only an account owner or a program manager can "
                                   "see the program at a glance.")


@pytest.mark.parametrize(("who", "domains", "is_rep"), [
    (person("riley.rep@vendor.example"), (), True),
    (person("riley.rep@vendor.example"), ("vendor.example",), True),
    (person("riley.rep@VENDOR.example"), ("vendor.example",), True),
    (person("carl@contractor.example"), ("vendor.example",), False),
    (person("riley.rep@sales.vendor.example"), ("vendor.example",), False),  # exact domains
    (replace(person("gus@vendor.example"), internal=False), (), False),
    (replace(person("ina@vendor.example"), internal=True), ("vendor.example",), True),
], ids=["anyone internal", "in the domain", "any case", "another domain", "a subdomain",
        "a guest", "internal and in the domain"])
async def test_reps_are_internal_people_in_the_rep_email_domains(
        ctx: ServiceContext, db: FakeDatabase, who: Person, domains: tuple[str, ...],
        is_rep: bool) -> None:
    roles = await roles_of(replace(ctx, rep_email_domains=domains), db, who)
    assert (Role.REP in roles) is is_rep


async def test_a_program_manager_keeps_every_right_even_outside_the_domains(
        ctx: ServiceContext, db: FakeDatabase) -> None:
    narrowed = replace(ctx, rep_email_domains=("sales.vendor.example",))
    assert await roles_of(narrowed, db, person(PM_EMAIL)) == {Role.PROGRAM_MANAGER}
    manager = Actor(person=person(PM_EMAIL), roles=frozenset({Role.PROGRAM_MANAGER}))
    require(manager, Role.REP, Role.PROGRAM_MANAGER, action="request_reference")

"""The roster import on real storage (SQLite and PostgreSQL): bulk upsert by email, all or
nothing, and an export that reads back unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.model import AdvocateStatus
from bot.services.roster import export_roster, import_roster, list_advocates
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
HEADER = "Email,First Name,Last Name,Account Name,NPS,Account Owner Email,Notes\n"


def roster(rows: int, *, note: str = "") -> str:
    return HEADER + "".join(
        f"Person{n}@Customer{n % 7}.example,First{n},Last{n},Customer {n % 7},{n % 11},"
        f"csm{n % 3}@vendor.example,\"{note}\"\n" for n in range(rows))


async def test_a_first_import_and_a_changed_reimport_upsert_by_email(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    first = await import_roster(uow_factory, roster(600), now=NOW)
    assert (first.created, first.updated, first.unchanged, first.written) == (600, 0, 0, True)
    again = await import_roster(uow_factory, roster(600), now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 600)
    changed = await import_roster(uow_factory, roster(650, note="Prefers\nmornings"), now=NOW)
    assert (changed.created, changed.updated, changed.unchanged) == (50, 600, 0)
    advocates = await list_advocates(uow_factory)
    assert len(advocates) == 650 and len({a.id for a in advocates}) == 650
    assert {a.notes for a in advocates} == {"Prefers\nmornings"}
    async with uow_factory() as uow:
        assert await uow.advocates.owns_accounts("CSM2@vendor.example")
        person = await uow.advocates.get_by_email("person7@customer0.example")
    assert person is not None and person.name == "First7 Last7" and person.nps == 7
    text = await export_roster(uow_factory)
    assert (await import_roster(uow_factory, text, now=NOW)).unchanged == 650


async def test_an_import_that_fails_while_writing_leaves_nothing_behind(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    def fail_on_the_second_batch(phase: str, done: int, total: int) -> None:
        if done > 250:  # reported after the second chunk was written
            raise RuntimeError("the disk filled up")

    with pytest.raises(RuntimeError, match="disk filled up"):
        await import_roster(uow_factory, roster(600), now=NOW,
                            progress=fail_on_the_second_batch)
    assert await list_advocates(uow_factory) == []


async def test_one_bad_row_writes_nothing_unless_bad_rows_are_skipped(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    text = roster(3) + "bad@x.example,Bad,Row,X,1e1000000,,\n"
    refused = await import_roster(uow_factory, text, now=NOW)
    assert not refused.written and [str(p) for p in refused.problems] == [
        "line 5: NPS '1e1000000' is not a number"]
    assert await list_advocates(uow_factory) == []
    skipped = await import_roster(uow_factory, text, now=NOW, skip_invalid=True)
    assert skipped.written and skipped.created == 3 and skipped.skipped == 1


async def test_a_reimport_trusts_a_rows_fingerprint_only_until_someone_else_writes_it(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    text = "Email,Name,Company,Status\na@x.example,A,X,active\nb@x.example,B,X,active\n"
    await import_roster(uow_factory, text, now=NOW)
    async with uow_factory() as uow:
        assert all((await uow.advocates.import_fingerprints()).values())
        a = await uow.advocates.get_by_email("a@x.example")
        assert a is not None
        a.status = AdvocateStatus.PAUSED  # the bot's write, not an import's
        await uow.advocates.update(a)
        await uow.commit()
    again = await import_roster(uow_factory, text, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert {a.status for a in await list_advocates(uow_factory)} == {AdvocateStatus.ACTIVE}
    doubled = await import_roster(uow_factory, text + "a@x.example,A,X,active\n", now=NOW)
    assert [str(p) for p in doubled.problems] == [
        "line 4: email 'a@x.example' already appears on line 2"]
    assert (doubled.unchanged, doubled.written) == (2, False)


async def test_customer_since_is_stored_exported_and_a_changed_one_is_seen(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    without = "Email,Name,Company\na@x.example,A,X\nb@x.example,B,X\n"
    await import_roster(uow_factory, without, now=NOW)
    # The CRM starts exporting the column: every row is read again, not trusted as before.
    text = ("Email,Name,Company,Customer_Since__c\na@x.example,A,X,2021-03-01\n"
            "b@x.example,B,X,\n")
    gained = await import_roster(uow_factory, text, now=NOW)
    assert (gained.created, gained.updated, gained.unchanged) == (0, 1, 1)
    assert (await import_roster(uow_factory, text, now=NOW)).unchanged == 2
    moved = await import_roster(uow_factory, text.replace("2021-03-01", "2020-12-31"),
                                now=NOW)
    assert (moved.updated, moved.unchanged) == (1, 1)
    found = {a.email: a.customer_since for a in await list_advocates(uow_factory)}
    assert found == {"a@x.example": date(2020, 12, 31), "b@x.example": None}
    exported = await export_roster(uow_factory)
    assert "Customer Since" in exported.splitlines()[0] and ",2020-12-31," in exported
    assert (await import_roster(uow_factory, exported, now=NOW)).unchanged == 2

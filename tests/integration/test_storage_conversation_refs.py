"""Teams conversation references are stored per chat identity and survive upserts.

Proactive Teams messages (asks, confirmations, reminders) are impossible without the
reference the bot received when the person first talked to it or installed it, so losing
it on a profile refresh would silently cut an advocate off. Runs on SQLite and PostgreSQL
(the ``uow_factory`` fixture) and on the in-memory fake the service tests use.
"""

from __future__ import annotations

from bot.domain.model import Identity, Person, Platform
from bot.ports import UnitOfWorkFactory
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeDatabase

ALEX = Identity(Platform.TEAMS, "tenant-1", "29:alex")
REFERENCE = {
    "activityId": "1690000000000",
    "user": {"id": "29:alex", "name": "Alex", "aadObjectId": "aad-alex"},
    "bot": {"id": "28:bot", "name": "Advocate Bot"},
    "conversation": {"id": "a:1xyz", "conversationType": "personal", "tenantId": "tenant-1"},
    "channelId": "msteams",
    "serviceUrl": "https://smba.trafficmanager.net/emea/",
    "locale": "de-DE",
}


async def _plays_the_contract(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.people.conversation_reference(ALEX) is None
        await uow.people.upsert(Person("alex@customer.example", "Alex", ALEX, "Europe/Berlin"))
        await uow.people.save_conversation_reference(ALEX, REFERENCE)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.people.conversation_reference(ALEX) == REFERENCE
        # A profile refresh (new time zone from the activity) keeps the reference.
        await uow.people.upsert(Person("alex@customer.example", "Alex", ALEX, "Asia/Tokyo"))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.people.conversation_reference(ALEX) == REFERENCE
        person = await uow.people.get_by_identity(ALEX)
        assert person is not None and person.timezone == "Asia/Tokyo"
        moved = {**REFERENCE, "serviceUrl": "https://smba.trafficmanager.net/amer/"}
        await uow.people.save_conversation_reference(ALEX, moved)
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.people.conversation_reference(ALEX)
        assert stored is not None
        assert stored["serviceUrl"] == "https://smba.trafficmanager.net/amer/"
        # The same user id in another tenant is another person.
        assert await uow.people.conversation_reference(
            Identity(Platform.TEAMS, "tenant-2", "29:alex")) is None


async def test_sql_storage_keeps_the_reference_across_upserts(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    await _plays_the_contract(uow_factory)


async def test_the_fake_keeps_the_reference_across_upserts() -> None:
    await _plays_the_contract(FakeDatabase().uow)


async def test_a_reference_can_arrive_before_the_profile(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    """An install event may carry no email; the row it creates is completed later."""
    async with uow_factory() as uow:
        await uow.people.save_conversation_reference(ALEX, REFERENCE)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.people.upsert(Person("alex@customer.example", "Alex", ALEX, "UTC"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.people.conversation_reference(ALEX) == REFERENCE
        assert [p.identity for p in await uow.people.find_by_email("alex@customer.example")] == [
            ALEX]


async def test_an_uncommitted_reference_is_not_kept(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.people.save_conversation_reference(ALEX, REFERENCE)
    async with uow_factory() as uow:
        assert await uow.people.conversation_reference(ALEX) is None

"""The dispatcher asks the platforms' directories for recipients known only by email
(advocates from the CRM who never used the bot) instead of giving their messages up."""

from __future__ import annotations

from bot.domain.model import Identity, Person, Platform
from bot.ports import DeliveryError, OutboxStatus, OutgoingMessage
from bot.services.dispatch import DispatchStats, OutboxDispatcher
from tests.fakes import FakeDatabase, FakeMessenger, FixedClock

AVERY = Person(email="avery@customer.example", display_name="Avery", timezone="Asia/Tokyo")
AVERY_ON_SLACK = Identity(Platform.SLACK, "T1", "UAVERY")


class StubDirectory:
    """A directory that knows the people it is given, or fails as told."""

    platform = Platform.SLACK

    def __init__(self, known: dict[str, Person], error: DeliveryError | None = None) -> None:
        self.known = known
        self.error = error
        self.asked: list[str] = []

    async def find_by_email(self, email: str) -> Person | None:
        self.asked.append(email)
        if self.error is not None:
            raise self.error
        return self.known.get(email)


async def queue(db: FakeDatabase, clock: FixedClock, to: Person) -> None:
    async with db.uow() as uow:
        await uow.outbox.add(OutgoingMessage(recipient=to, template="hello", context={},
                                             key="k1"), now=clock.now())
        await uow.commit()


def only_row(db: FakeDatabase):
    [row] = db.state.outbox.values()
    return row


async def test_an_email_only_recipient_is_found_through_the_directory(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = FakeMessenger(Platform.SLACK)
    directory = StubDirectory({AVERY.email or "": Person(
        email=AVERY.email, display_name="Avery A.", identity=AVERY_ON_SLACK, timezone="UTC")})
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock,
                                  directories=[directory])
    await queue(db, clock, AVERY)
    assert await dispatcher.run_once() == DispatchStats(sent=1)
    [delivery] = slack.transcript
    assert delivery.to.identity == AVERY_ON_SLACK
    assert delivery.to.timezone == "Asia/Tokyo"  # the roster's zone wins over Slack's
    assert directory.asked == [AVERY.email]


async def test_nobody_found_is_a_dead_letter_and_a_directory_outage_is_retried(
        db: FakeDatabase, clock: FixedClock) -> None:
    slack = FakeMessenger(Platform.SLACK)
    down = StubDirectory({}, DeliveryError("Slack unreachable", retry_after=20))
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: slack}, clock, directories=[down])
    await queue(db, clock, AVERY)
    assert await dispatcher.run_once() == DispatchStats(retried=1)
    assert only_row(db).status is OutboxStatus.PENDING and "directory" in only_row(db).last_error

    down.error = None  # back, but nobody has that email
    clock.advance(seconds=20)
    assert await dispatcher.run_once() == DispatchStats(dead=1)
    assert "have not used the bot" in only_row(db).last_error
    assert slack.transcript == []


async def test_without_directories_the_dispatcher_behaves_as_before(
        db: FakeDatabase, clock: FixedClock) -> None:
    dispatcher = OutboxDispatcher(db.uow, {Platform.SLACK: FakeMessenger(Platform.SLACK)}, clock)
    await queue(db, clock, AVERY)
    assert await dispatcher.run_once() == DispatchStats(dead=1)

"""A command happens once: its idempotency key is claimed inside the service's own
transaction.

``once(ctx, key)`` gives the service a context whose units of work claim ``key`` in the
ledger just before their first commit, in the same transaction as the change. The first
attempt to commit wins; a repeat (a retried Slack delivery, a double click, the same click
arriving at two replicas) finds the key taken, rolls its own work back and raises
``Repeat``, which the dispatcher answers with silence. A failed attempt commits nothing,
so the key stays free and the person can simply try again. Read-only commands never
commit and so never claim anything: reading twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory
from bot.services.context import ServiceContext


class Repeat(Exception):
    """This command's key was claimed before: the command already happened."""


@dataclass
class _Claim:
    key: str
    done: bool = False


class _ClaimingUnitOfWork:
    """A unit of work that claims the command's key before its first commit."""

    def __init__(self, inner: UnitOfWork, claim: _Claim, clock: Clock) -> None:
        self._inner = inner
        self._claim = claim
        self._clock = clock

    def __getattr__(self, name: str) -> Any:  # the repositories, unchanged
        return getattr(self._inner, name)

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if not self._claim.done:
            if not await self._inner.idempotency.claim(self._claim.key, now=self._clock.now()):
                await self._inner.rollback()
                raise Repeat(self._claim.key)
            self._claim.done = True
        await self._inner.commit()

    async def rollback(self) -> None:
        await self._inner.rollback()


def once(ctx: ServiceContext, key: str) -> ServiceContext:
    """``ctx`` for one command keyed ``key`` (see the module docstring)."""
    claim = _Claim(key)
    inner: UnitOfWorkFactory = ctx.uow

    def factory() -> UnitOfWork:
        return _ClaimingUnitOfWork(inner(), claim, ctx.clock)  # type: ignore[return-value]

    return replace(ctx, uow=factory)


__all__ = ["Repeat", "once"]

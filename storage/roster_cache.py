"""Each process's copy of the roster, for matching: read once, then only what changed.

Ranking a request looks at every active advocate. Reading 100,000 of them from the
database for each intake (and decoding their JSON columns) took seconds, so each process
keeps them in memory, per engine, and brings the copy up to date at the start of every
ranking with one indexed query: the advocates whose ``row_version`` is newer than the
copy's. A transaction that wrote advocates increments the roster's version counter just
before it commits and stamps its rows with it (``SqlAdvocateRepository.stamp_writes``);
the counter's row lock orders the writers, so a version never becomes visible before an
older one. Replicas need no
message to invalidate: each one asks the database for what is newer than its copy.

Only committed rows are kept: a unit of work that has written advocates itself (and might
still roll back) sees its own writes laid over the copy for that one ranking, without
storing them. A counter that went backwards (a restored or emptied database) drops the
copy. Advocates are never deleted (leaving the program is a status).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from sqlalchemy.engine import Connection, Engine

from bot.domain.model import Advocate, AdvocateStatus


class RosterCache:
    """The roster as of ``version`` (-1: nothing read yet), by advocate id."""

    def __init__(self) -> None:
        self.version = -1
        self.advocates: dict[int, Advocate] = {}
        self._active: list[Advocate] | None = None
        self._values: dict[object, object] = {}

    def _shared(self, advocate: Advocate) -> Advocate:
        """The advocate with its repeated values (industries, product lists, zones, empty
        limits...) replaced by one shared instance each: a 100k roster repeats them
        100k times, and the copy is the process's largest object."""
        canon = self._values.setdefault
        for name in _REPEATED:
            value = getattr(advocate, name)
            if value is not None:
                setattr(advocate, name, canon(value, value))
        return advocate

    def reset(self) -> None:
        self.version, self._active = -1, None
        self.advocates.clear()

    def update(self, version: int, changed: Iterable[Advocate]) -> None:
        self.advocates.update((a.id, self._shared(a)) for a in changed if a.id is not None)
        self.version = version
        self._active = None

    def active(self, overlay: Iterable[Advocate] = ()) -> list[Advocate]:
        """The active advocates by email (as ``list(status=ACTIVE)`` orders them), with
        ``overlay`` (rows newer than the copy) in place of their cached versions."""
        newer = {a.id: a for a in overlay}
        if not newer and self._active is not None:
            return self._active
        merged = {**self.advocates, **newer} if newer else self.advocates
        active = sorted((a for a in merged.values() if a.status is AdvocateStatus.ACTIVE),
                        key=lambda a: (a.email.lower(), a.id))
        if not newer:
            self._active = active
        return active


#: Fields whose values repeat across a roster (all immutable: strings, tuples, frozensets,
#: frozen limits), so advocates can share them.
_REPEATED = ("company", "title", "industry", "region", "country", "company_size",
             "products", "use_cases", "languages", "timezone", "call_hours", "locale",
             "reference_types",
             "account_owner_email", "do_not_use_with", "own_limits", "manager_limits",
             "consent_source", "joined_on", "renewal_date", "customer_since",
             "account_id")

_caches: weakref.WeakKeyDictionary[Engine | Connection, RosterCache] = weakref.WeakKeyDictionary()


def roster_cache(engine: Engine | Connection) -> RosterCache:
    """The copy of the roster kept for this engine's database in this process."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = RosterCache()
    return cache

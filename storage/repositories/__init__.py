"""SQL implementations of the repository Protocols in ``bot.ports``.

Each repository works inside one ``AsyncSession`` owned by the unit of work
(``storage.uow``) and maps rows to domain dataclasses and back; callers only ever see
domain objects, so a service cannot lazy-load, mutate a row behind the repository's back
or keep a row alive past its transaction. The behaviour is the one ``tests/fakes.py``
describes; ``tests/integration/test_storage_contract.py`` checks that both agree.

Dialect differences are kept to a few spots: row locks (``FOR UPDATE`` and ``SKIP LOCKED``
exist on PostgreSQL only; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
``INSERT … ON CONFLICT DO NOTHING`` (same SQL, different constructs) and passing a long
list of ids as one parameter (an array on PostgreSQL, a JSON array on SQLite).
"""

from __future__ import annotations

from storage.repositories.advocates import SqlAdvocateRepository
from storage.repositories.outbox import SqlIdempotency, SqlOutbox
from storage.repositories.people import SqlAuditLog, SqlPersonRepository
from storage.repositories.reports import SqlReportRepository
from storage.repositories.requests import (
    SqlAskRepository,
    SqlEngagementRepository,
    SqlRequestRepository,
)

__all__ = [
    "SqlAdvocateRepository",
    "SqlAskRepository",
    "SqlAuditLog",
    "SqlEngagementRepository",
    "SqlIdempotency",
    "SqlOutbox",
    "SqlPersonRepository",
    "SqlReportRepository",
    "SqlRequestRepository",
]

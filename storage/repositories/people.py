"""Chat identities (people, conversation references) and the audit log, in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import cast as sql_cast

from bot.domain.model import (
    AuditEntry,
    Identity,
    Person,
    Platform,
    ensure_utc,
)
from bot.domain.redaction import redact_json, search_forms
from storage.repositories._base import (
    _email_key,
    _Repository,
)
from storage.tables import (
    AuditRow,
    PersonRow,
)


def _person(row: PersonRow) -> Person:
    return Person(
        email=row.email,
        display_name=row.display_name,
        identity=Identity(Platform(row.platform), row.workspace_id, row.user_id),
        timezone=row.timezone,
        internal=row.internal,
        locale=row.locale,
        chosen_locale=row.chosen_locale,
    )


class SqlPersonRepository(_Repository):
    async def upsert(self, person: Person) -> None:
        """Insert or refresh by identity. The stored Teams conversation reference, which
        ``Person`` does not carry, is kept; so are the locale the person chose (only
        ``choose_locale`` sets it) and the platform's locale when this one says none."""
        if person.identity is None:
            raise ValueError("only chat users with an identity are stored")
        now = datetime.now(UTC)
        values = {
            "email": person.email,
            "email_key": _email_key(person.email),
            "display_name": person.display_name,
            "timezone": person.timezone,
            "internal": person.internal,
            "updated_at": now,
        }
        if person.locale:
            values["locale"] = person.locale
        stmt = self._insert(PersonRow).values(
            platform=person.identity.platform.value,
            workspace_id=person.identity.workspace_id,
            user_id=person.identity.user_id,
            **values,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"], set_=values
        )
        # Reads below use populate_existing: a row already in the identity map would
        # otherwise hide what this statement wrote.
        await self._session.execute(stmt)

    async def choose_locale(self, identity: Identity, locale: str | None) -> bool:
        """The language this person chose to read the bot in (None: no choice, the
        platform's or the roster's then count). False when the person is not stored."""
        stmt = update(PersonRow).where(
            PersonRow.platform == identity.platform.value,
            PersonRow.workspace_id == identity.workspace_id,
            PersonRow.user_id == identity.user_id,
        ).values(chosen_locale=locale).execution_options(synchronize_session=False)
        return bool((await self._session.execute(stmt)).rowcount)

    async def get_by_identity(self, identity: Identity) -> Person | None:
        stmt = select(PersonRow).where(
            PersonRow.platform == identity.platform.value,
            PersonRow.workspace_id == identity.workspace_id,
            PersonRow.user_id == identity.user_id,
        )
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return _person(row) if row else None

    async def get_many(self, identities: Sequence[Identity]) -> dict[Identity, Person]:
        wanted = set(identities)
        if not wanted:
            return {}
        keys = sorted((i.platform.value, i.workspace_id, i.user_id) for i in wanted)
        stmt = select(PersonRow).where(
            tuple_(PersonRow.platform, PersonRow.workspace_id, PersonRow.user_id).in_(keys)
        ).execution_options(populate_existing=True)
        found = (_person(row) for row in await self._session.scalars(stmt))
        return {p.identity: p for p in found if p.identity in wanted}

    async def find_by_email(self, email: str) -> list[Person]:
        stmt = (
            select(PersonRow)
            .where(PersonRow.email_key == email.lower())
            .order_by(PersonRow.updated_at.desc(), PersonRow.id.desc())
            .execution_options(populate_existing=True)
        )
        return [_person(row) for row in await self._session.scalars(stmt)]

    async def save_conversation_reference(self, identity: Identity, reference: dict) -> None:
        """Store (or replace) the reference; a person not stored yet gets a bare row, which a
        later ``upsert`` fills in without losing the reference."""
        now = datetime.now(UTC)
        stmt = self._insert(PersonRow).values(
            platform=identity.platform.value,
            workspace_id=identity.workspace_id,
            user_id=identity.user_id,
            display_name="",
            conversation_reference=dict(reference),
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace_id", "user_id"],
            set_={"conversation_reference": dict(reference)},
        )
        await self._session.execute(stmt)

    async def conversation_reference(self, identity: Identity) -> dict | None:
        stmt = select(PersonRow.conversation_reference).where(
            PersonRow.platform == identity.platform.value,
            PersonRow.workspace_id == identity.workspace_id,
            PersonRow.user_id == identity.user_id,
        )
        found = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return dict(found) if found else None

    async def delete_by_email(self, email: str) -> builtins.list[Identity]:
        rows = await self._session.execute(
            delete(PersonRow).where(PersonRow.email_key == email.lower())
            .returning(PersonRow.platform, PersonRow.workspace_id, PersonRow.user_id)
            .execution_options(synchronize_session=False))
        return [Identity(Platform(p), w, u) for p, w, u in sorted(rows)]


class SqlAuditLog(_Repository):
    async def append(self, entry: AuditEntry) -> None:
        self._session.add(AuditRow(
            at=ensure_utc(entry.at),
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=dict(entry.detail),
        ))

    async def list(
        self, *, subject: str | None = None, limit: int = 100
    ) -> builtins.list[AuditEntry]:
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if subject is not None:
            stmt = stmt.where(AuditRow.subject == subject)
        return [
            AuditEntry(at=row.at, actor=row.actor, action=row.action, subject=row.subject,
                       detail=dict(row.detail), id=row.id)
            for row in await self._session.scalars(stmt)
        ]

    async def scrub(self, replacements: Mapping[str, str]) -> int:
        keys = [k for k in replacements if k]
        if not keys:
            return 0
        actors = {k.lower(): v for k, v in replacements.items() if k}
        stmt = select(AuditRow).where(or_(
            func.lower(AuditRow.actor).in_(sorted(actors)),
            _mentions(AuditRow.detail, keys),
        )).execution_options(populate_existing=True)
        changed = 0
        for row in await self._session.scalars(stmt):
            actor = actors.get(row.actor.lower(), row.actor)
            detail = redact_json(dict(row.detail), replacements)
            if actor != row.actor or detail != row.detail:
                row.actor, row.detail = actor, detail
                changed += 1
        await self._session.flush()
        return changed


def _mentions(column: Any, words: Iterable[str]) -> ColumnElement[bool]:
    """A cheap SQL prefilter: the column's text contains one of ``words`` in any of the
    forms it may be stored in; ``redact_*`` then decides exactly in Python."""
    text = sql_cast(column, Text)
    return or_(*(text.contains(form, autoescape=True)
                 for word in words for form in search_forms(word)),
               *(func.lower(text).contains(word.lower(), autoescape=True) for word in words))

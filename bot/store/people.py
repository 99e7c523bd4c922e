"""People as the store finds them: by phone or chat account, the sender of a report, language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from models import FIELD_ROLES, Person, PersonPhone, utcnow


def person_by_phone(*, session: Session, phone: str) -> Person | None:
    """The person any of whose numbers this is."""
    row = session.get(PersonPhone, phone)
    return session.get(Person, row.person_id) if row else None


def person_by_telegram(*, session: Session, telegram_user_id: int) -> Person | None:
    return session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()


@dataclass(frozen=True)
class Sender:
    """What storing a report needs of the roster person who sent it, read without the ORM."""

    id: int
    role: str
    language: str
    active: bool
    district_id: int | None
    block_id: int | None
    sector_id: int | None
    village_id: int | None

    @property
    def is_field_worker(self) -> bool:
        return self.role in FIELD_ROLES


def _senders(session: Session, key: Any, where: Any) -> dict[Any, Sender]:
    people = Person.__table__  # type: ignore[attr-defined]
    query = sa_select(
        key,
        people.c.id,
        people.c.role,
        people.c.language,
        people.c.active,
        people.c.district_id,
        people.c.block_id,
        people.c.sector_id,
        people.c.village_id,
    ).where(where)
    return {row[0]: Sender(*row[1:]) for row in session.execute(query).all()}


def senders_by_telegram(*, session: Session, user_ids: Iterable[int]) -> dict[int, Sender]:
    """The roster people behind these Telegram accounts, by account."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    people = Person.__table__  # type: ignore[attr-defined]
    return _senders(session, people.c.telegram_user_id, people.c.telegram_user_id.in_(ids))


def senders_by_phone(*, session: Session, phones: Iterable[str]) -> dict[str, Sender]:
    """The people any of whose numbers these are, by number."""
    numbers = sorted(set(phones))
    if not numbers:
        return {}
    people = Person.__table__  # type: ignore[attr-defined]
    phone_table = PersonPhone.__table__  # type: ignore[attr-defined]
    query = sa_select(phone_table.c.phone, phone_table.c.person_id).where(
        phone_table.c.phone.in_(numbers)
    )
    owners = dict(session.execute(query).all())
    found = _senders(session, people.c.id, people.c.id.in_(sorted(set(owners.values()))))
    return {phone: found[pid] for phone, pid in owners.items() if pid in found}


def link_telegram(*, session: Session, person: Person, user_id: int, chat_id: int) -> None:
    """Tie a Telegram account to a roster person; an account moves if it was tied to another."""
    session.execute(
        update(Person)
        .where(col(Person.telegram_user_id) == user_id, col(Person.id) != person.id)
        .values(telegram_user_id=None, telegram_chat_id=None)
    )
    person.telegram_user_id = user_id
    person.telegram_chat_id = chat_id
    person.updated_at = utcnow()
    session.add(person)


def set_language(*, session: Session, person: Person, language: str) -> None:
    person.language = language
    person.updated_at = utcnow()
    session.add(person)

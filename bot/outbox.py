"""The outbox: messages decided by the scheduler, stored first, then sent within channel limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models import Outbox, Person


@dataclass(frozen=True)
class Message:
    """One message a job decided to send to one person."""

    person: Person
    text: str
    attachment: bytes | None = None
    attachment_name: str | None = None
    key: str | None = None  # what makes it once-only; default: the job, the day and the person


def channel_of(
    person: Person, *, session: Session | None = None, whatsapp: bool = False
) -> tuple[str, str]:
    """Where a person is reached: their Telegram chat, else the simulator inbox (by phone).

    With WhatsApp on, someone without a Telegram chat, or whose last message came by WhatsApp,
    is reached there: at the number she wrote from, else her roster phone.
    """
    if whatsapp and session is not None:
        from bot.whatsapp import contact, wrote_last_on_whatsapp

        if person.telegram_chat_id is None:
            found = contact(session=session, person_id=person.id or 0)
            return "whatsapp", found.address if found else person.phone
        if wrote_last_on_whatsapp(session=session, person=person):
            found = contact(session=session, person_id=person.id or 0)
            assert found is not None
            return "whatsapp", found.address
    if person.telegram_chat_id is not None:
        return "telegram", str(person.telegram_chat_id)
    return "simulator", person.phone


def enqueue(
    *,
    session: Session,
    job: str,
    day: dt.date,
    messages: Sequence[Message],
    now: dt.datetime,
    whatsapp: bool | None = None,
) -> int:
    """Write messages with the key (job, day, person); a key already there is left alone.

    `whatsapp` says whether WhatsApp is on; by default, whether its TWILIO_* variables are set.
    """
    from bot.whatsapp import enabled

    table = Outbox.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    use_whatsapp = enabled() if whatsapp is None else whatsapp
    written = 0
    for message in messages:
        channel, address = channel_of(message.person, session=session, whatsapp=use_whatsapp)
        insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
        result = session.execute(
            insert.values(
                idempotency_key=message.key or f"{job}:{day.isoformat()}:{message.person.id}",
                person_id=message.person.id,
                job=job,
                day=day,
                channel=channel,
                address=address,
                text=message.text,
                attachment=message.attachment,
                attachment_name=message.attachment_name,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(table.c.id)
        ).first()
        written += result is not None
    return written


def claim_due(
    *, session: Session, now: dt.datetime, holder: str | None = None, limit: int = 100
) -> list[Outbox]:
    """Mark due messages as being sent by `holder` and return them, oldest first."""
    query = (
        select(Outbox)
        .where(Outbox.status == "pending", col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    for row in rows:
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
        row.claimed_by = holder
        session.add(row)
    return rows


def release_claims(*, session: Session, now: dt.datetime, keep: str | None = None) -> int:
    """Messages claimed by senders that are gone go back to the queue, due now.

    `keep` is a sender still alive (the live lease holder, when it is another process): its claims
    stay, for it is sending them. The one in flight when a sender died may have gone out already:
    at-least-once, never lost.
    """
    query = update(Outbox).where(col(Outbox.status) == "sending")
    if keep is not None:
        query = query.where(col(Outbox.claimed_by).is_(None) | (col(Outbox.claimed_by) != keep))
    result = session.execute(query.values(status="pending", next_attempt_at=now, claimed_by=None))
    return int(result.rowcount)  # type: ignore[attr-defined]


def backlog(*, session: Session) -> int:
    """Messages waiting to go out (pending or being sent)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Outbox)
            .where(col(Outbox.status).in_(("pending", "sending")))
        ).one()
    )


def inbox(*, session: Session, phone: str, after: int = 0) -> list[Outbox]:
    """Messages delivered to the simulator for one phone, for the chat page."""
    return list(
        session.exec(
            select(Outbox)
            .where(
                Outbox.channel == "simulator",
                Outbox.address == phone,
                col(Outbox.id) > after,
                Outbox.status == "sent",
            )
            .order_by(col(Outbox.id))
        ).all()
    )

"""The outbox: messages decided by the scheduler, stored first, then sent within channel limits."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import bots
from bot.channels.base import WHATSAPP, whatsapp_enabled, whatsapp_lane, whatsapp_senders
from bot.config import Settings
from bot.store import inbound
from bot.store.contacts import contact, wrote_last_on_whatsapp
from bot.store.insert import dialect_insert
from models import ChannelContact, Outbox, Person


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


# Order within a lane: what is urgent never waits behind a broadcast.
PRIORITY_URGENT, PRIORITY_DIGEST, PRIORITY_BROADCAST = 0, 1, 2
JOB_PRIORITY = {
    "start_message": PRIORITY_BROADCAST,
    "supervisor_digest": PRIORITY_DIGEST,
    "bmo_digest": PRIORITY_DIGEST,
    "district_digest": PRIORITY_DIGEST,
}
CHUNK = 2000  # rows written per statement when queuing in bulk
SMALL = 200  # PostgreSQL: more rows than this go in by COPY


def priority_of(job: str) -> int:
    """Replies and reminders first, then digests, then the morning's start message."""
    return JOB_PRIORITY.get(job, PRIORITY_URGENT)


class Router:
    """Where each of many people is reached, read for all of them at once (a state's start message).

    The same answer as `channel_of`, plus the lane: with several Telegram bots, the bot that may
    write to her (bot/bots.py); with several WhatsApp sender numbers (`senders`, by default those
    TWILIO_WHATSAPP_FROM lists), the number she last wrote to when it is one of them (its 24-hour
    window is the open one), else a stable choice among them by her address.
    """

    def __init__(
        self,
        session: Session,
        people: Sequence[Person],
        *,
        whatsapp: bool,
        settings: Settings | None = None,
        senders: Sequence[str] | None = None,
    ):
        self.whatsapp = whatsapp
        chosen = (whatsapp_senders() if whatsapp else ()) if senders is None else senders
        self.senders = tuple(f"whatsapp:{s.removeprefix('whatsapp:')}" for s in chosen)
        ids = [p.id for p in people if p.id is not None]
        self.contacts: dict[int, tuple[str, dt.datetime]] = {}
        self.wrote_to: dict[int, str] = {}
        self.telegram_last: dict[int, dt.datetime] = {}
        if whatsapp:
            for start in range(0, len(ids), 5000):
                part = ids[start : start + 5000]
                for row in session.exec(
                    select(ChannelContact).where(
                        ChannelContact.channel == "whatsapp", col(ChannelContact.person_id).in_(part)
                    )
                ).all():
                    self.contacts[row.person_id] = (row.address, _aware(row.last_inbound_at))
                    if row.business_number:
                        self.wrote_to[row.person_id] = f"whatsapp:{row.business_number}"
                telegram = inbound.last_received(session=session, person_ids=part, channel="telegram")
                for person_id, last in telegram.items():
                    self.telegram_last[person_id] = _aware(last)
        multi = settings is not None and bots.multi(settings)
        self.routing = bots.Routing(settings) if settings is not None and multi else None
        self.started: dict[int, dict[str, dt.datetime]] = {}
        self.districts: dict[int, str | None] = {}
        if self.routing is not None:
            linked = [p for p in people if p.id is not None and p.telegram_chat_id is not None]
            self.started = bots.started_bots(session, [p.id for p in linked if p.id is not None])
            self.districts = bots.home_districts(session, linked)

    def route(self, person: Person) -> tuple[str, str, str]:
        """(channel, address, lane) for one person."""
        pid = person.id or 0
        if self.whatsapp:
            found = self.contacts.get(pid)
            if person.telegram_chat_id is None:
                address = found[0] if found else person.phone
                return WHATSAPP, address, self.whatsapp_lane(pid, address)
            if found is not None:
                telegram = self.telegram_last.get(pid)
                if telegram is None or found[1] >= telegram:
                    return WHATSAPP, found[0], self.whatsapp_lane(pid, found[0])
        if person.telegram_chat_id is not None:
            lane = "telegram"
            if self.routing is not None:
                district = self.districts.get(pid)
                lane = bots.lane_of(
                    self.routing.choose(district, self.started.get(pid, {}), linked=True)
                )
            return "telegram", str(person.telegram_chat_id), lane
        return "simulator", person.phone, "simulator"

    def whatsapp_lane(self, person_id: int, address: str) -> str:
        """`whatsapp` with one sender number; else the lane of the number she last wrote to when
        it is one of ours, or of a number chosen by her address (the same every time)."""
        if len(self.senders) < 2:
            return WHATSAPP
        sender = self.wrote_to.get(person_id)
        if sender not in self.senders:
            sender = self.senders[zlib.crc32(address.encode()) % len(self.senders)]
        return whatsapp_lane(sender, self.senders)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def enqueue(
    *,
    session: Session,
    job: str,
    day: dt.date,
    messages: Sequence[Message],
    now: dt.datetime,
    whatsapp: bool | None = None,
    settings: Settings | None = None,
) -> int:
    """Write messages with the key (job, day, person); a key already there is left alone.

    Written in bulk (a few statements for a state's 1.6 lakh rows), in the caller's transaction,
    so a job's "ran today" mark commits with its messages. `whatsapp` says whether WhatsApp is on;
    by default, whether its TWILIO_* variables are set. `settings` route Telegram messages to the
    bot of each person's district when several bots are configured.
    """
    table = Outbox.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    use_whatsapp = whatsapp_enabled() if whatsapp is None else whatsapp
    router = Router(session, [m.person for m in messages], whatsapp=use_whatsapp, settings=settings)
    priority = priority_of(job)
    rows: list[dict[str, Any]] = []
    for message in messages:
        channel, address, lane = router.route(message.person)
        rows.append(
            {
                "idempotency_key": message.key or f"{job}:{day.isoformat()}:{message.person.id}",
                "person_id": message.person.id,
                "job": job,
                "day": day,
                "channel": channel,
                "address": address,
                "text": message.text,
                "attachment": message.attachment,
                "attachment_name": message.attachment_name,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "lane": lane,
                "priority": priority,
                "parts_sent": 0,
                "opened_conversation": False,
            }
        )
    if not rows:
        return 0
    if dialect == "postgresql":
        if len(rows) > SMALL:
            return _copy_in(session, rows)
        returning = dialect_insert(session, table).on_conflict_do_nothing().returning(table.c.id)
        return len(session.execute(returning, rows).all())
    # SQLite: one statement run for many rows (executemany), counted by the rows each run wrote:
    # a key already queued writes none.
    written = 0
    statement = dialect_insert(session, table).on_conflict_do_nothing()
    for start in range(0, len(rows), CHUNK):
        result = session.execute(statement, rows[start : start + CHUNK])
        written += max(int(result.rowcount), 0)  # type: ignore[attr-defined]
    return written


COPY_COLUMNS = (
    "idempotency_key",
    "person_id",
    "job",
    "day",
    "channel",
    "address",
    "text",
    "attachment",
    "attachment_name",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "lane",
    "priority",
    "parts_sent",
    "opened_conversation",
)


def _copy_in(session: Session, rows: list[dict[str, Any]]) -> int:
    """Many rows on PostgreSQL: COPY into a scratch table, then one INSERT ... ON CONFLICT DO NOTHING.

    In the session's transaction, like the rest of the job.
    """
    connection = session.connection()
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS outbox_incoming "
        "(LIKE outbox INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    connection.exec_driver_sql("ALTER TABLE outbox_incoming ALTER COLUMN id DROP NOT NULL")
    names = ", ".join(COPY_COLUMNS)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY outbox_incoming ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in COPY_COLUMNS])
    result = connection.exec_driver_sql(
        f"INSERT INTO outbox ({names}) SELECT {names} FROM outbox_incoming "
        "ORDER BY priority ON CONFLICT DO NOTHING"
    )
    written = int(result.rowcount)
    connection.exec_driver_sql("DELETE FROM outbox_incoming")
    return written


def claim_due(
    *,
    session: Session,
    now: dt.datetime,
    holder: str | None = None,
    limit: int = 100,
    lane: str | None = None,
) -> list[Outbox]:
    """Mark due messages as being sent by `holder` and return them: by priority, then oldest first.

    `lane` claims one lane's only; claimed in one statement per batch.
    """
    query = select(Outbox).where(Outbox.status == "pending", col(Outbox.next_attempt_at) <= now)
    if lane is not None:
        query = query.where(Outbox.lane == lane)
    query = query.order_by(col(Outbox.priority), col(Outbox.next_attempt_at), col(Outbox.id)).limit(
        limit
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    if rows:
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_([row.id for row in rows]))
            .values(status="sending", claimed_at=now, claimed_by=holder, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        for row in rows:
            session.expunge(row)  # what was written above, told to the detached copies
            row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
            row.claimed_by = holder
    return rows


def due_lanes(*, session: Session, now: dt.datetime) -> list[str]:
    """The lanes with a message due now."""
    return sorted(
        session.exec(
            select(Outbox.lane)
            .where(Outbox.status == "pending", col(Outbox.next_attempt_at) <= now)
            .distinct()
        ).all()
    )


def backlog_by_lane(*, session: Session) -> dict[str, int]:
    """Messages waiting per lane (each bot, WhatsApp, the simulator), for /healthz and the CLI."""
    return {
        lane or "?": int(count)
        for lane, count in session.exec(
            select(Outbox.lane, func.count())
            .where(col(Outbox.status).in_(("pending", "sending")))
            .group_by(col(Outbox.lane))
            .order_by(col(Outbox.lane))
        ).all()
    }


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

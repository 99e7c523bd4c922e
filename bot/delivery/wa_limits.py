"""WhatsApp's messaging limit and opt-in, counted in the database so every process agrees.

Meta caps how many people a business may start conversations with (a template outside the
24-hour window) in a rolling 24 hours, across all its numbers: `whatsapp.messaging_limit`.
The sender counts the people it opened conversations with in the last 24 hours (outbox rows
marked `opened_conversation`, sent or being sent) and never goes past the limit: a template that
does not fit waits until the window frees up, and at the end of its day is marked failed with the
reason. The admins and district officers are told once per job and day.

Business-initiated templates go only to people who opted in: who wrote to the business number,
or whom the roster marks `whatsapp_opt_in: true`. `STOP` or `बंद` opts out, `START` back in.
"""

from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, or_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.base import SendFailed
from bot.config import Settings
from bot.delivery import outbox
from bot.i18n import t
from bot.numbers import indian
from bot.store.db import session_scope
from bot.store.insert import dialect_insert
from models import ChannelContact, Outbox, Person, WhatsAppOptIn

WINDOW = dt.timedelta(hours=24)
STOP_WORDS = frozenset({"stop", "बंद", "band", "unsubscribe", "रोकें"})
START_WORDS = frozenset({"start", "शुरू", "shuru"})
NOTICE_ROLES = ("admin", "district_officer")
JOB_LABELS = ("start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest")
# Opened conversations are counted one at a time: in this process (each sender number's lane
# sends at once), and on PostgreSQL across processes, by a lock held until the count commits.
_COUNTING = threading.Lock()
COUNTING_LOCK_KEY = 0x57A11A17


@contextmanager
def counting(engine: Engine) -> Iterator[Session]:
    """A transaction in which to count and mark one opened conversation (`opens_conversation`),
    one after another across every sender number and process, so none takes a place twice."""
    with _COUNTING, session_scope(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COUNTING_LOCK_KEY})
        yield session


# How long a sender trusts what it last saw of a full limit before counting again: a place that a
# failed send gives back is seen within this.
RECHECK = dt.timedelta(seconds=30)


class Seen:
    """What one sender last saw of the messaging limit: full until when, and whom it has told.

    A hint that spares the count for every message that waits while the limit is full (a state's
    start message past the limit is thousands of them); the database's count still decides when
    the hint is older than RECHECK or absent, and the admins' notice is kept once in the database.
    """

    def __init__(self) -> None:
        self.full_until: dt.datetime | None = None  # full at least until then (re-counted after)
        self.frees_at: dt.datetime | None = None  # when the first counted place frees
        self.told: set[tuple[str, dt.date]] = set()  # (job, day) the admins heard about here


def keyword(text: str | None) -> str | None:
    """`stop` or `start` when a whole message is one of those words; else None."""
    if not text:
        return None
    word = unicodedata.normalize("NFC", text).strip().strip(".!।").casefold()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


def _upsert(
    session: Session,
    person_id: int,
    opted_in: bool,
    source: str,
    now: dt.datetime,
    *,
    keep: bool,
    unless_hers: bool = False,
) -> None:
    table = WhatsAppOptIn.__table__  # type: ignore[attr-defined]
    insert = dialect_insert(session, table)
    values = insert.values(person_id=person_id, opted_in=opted_in, source=source, updated_at=now)
    if keep:
        session.execute(values.on_conflict_do_nothing())
        return
    session.execute(
        values.on_conflict_do_update(
            index_elements=["person_id"],
            set_={"opted_in": opted_in, "source": source, "updated_at": now},
            # The roster does not overrule what she said herself (STOP, START).
            where=table.c.source.not_in(("stop", "start")) if unless_hers else None,
        )
    )


def record_wrote(*, session: Session, person_id: int, now: dt.datetime) -> None:
    """She wrote to the business number: opted in, unless she said STOP before."""
    _upsert(session, person_id, True, "wrote", now, keep=True)


def set_opt_in(
    *, session: Session, person_id: int, opted_in: bool, source: str, now: dt.datetime
) -> None:
    """Her STOP or START, or the roster's mark (which does not overrule her own word)."""
    _upsert(session, person_id, opted_in, source, now, keep=False, unless_hers=source == "roster")


def opted_in(*, session: Session, person_id: int) -> bool:
    """Her own choice (STOP, START, the roster) where recorded; else whether she ever wrote."""
    found = session.get(WhatsAppOptIn, person_id)
    if found is not None:
        return found.opted_in
    return session.get(ChannelContact, (person_id, "whatsapp")) is not None


def _counted(since: dt.datetime) -> list[object]:
    return [
        col(Outbox.opened_conversation).is_(True),
        or_(
            (col(Outbox.status) == "sent") & (col(Outbox.sent_at) >= since),
            col(Outbox.status) == "sending",
        ),
    ]


def opened(*, session: Session, now: dt.datetime) -> int:
    """People the business started conversations with in the last 24 hours."""
    return int(
        session.exec(
            select(func.count(func.distinct(Outbox.person_id))).where(*_counted(now - WINDOW))  # type: ignore[arg-type]
        ).one()
    )


def is_open(*, session: Session, person_id: int, now: dt.datetime) -> bool:
    """She is counted already (a conversation opened with her in the last 24 hours)."""
    found = session.exec(
        select(Outbox.id).where(Outbox.person_id == person_id, *_counted(now - WINDOW)).limit(1)  # type: ignore[arg-type]
    ).first()
    return found is not None


def frees_at(*, session: Session, now: dt.datetime) -> dt.datetime:
    """When the first of those counted leaves the rolling 24 hours."""
    first = session.exec(
        select(func.min(Outbox.sent_at)).where(
            col(Outbox.opened_conversation).is_(True),
            col(Outbox.status) == "sent",
            col(Outbox.sent_at) >= now - WINDOW,
        )
    ).one()
    if first is None:
        return now + dt.timedelta(minutes=1)
    first = first if first.tzinfo else first.replace(tzinfo=dt.UTC)
    return max(first + WINDOW, now + dt.timedelta(seconds=1))


def end_of_day(settings: Settings, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=settings.tz).astimezone(
        dt.UTC
    )


def limit_reason(limit: int) -> str:
    return f"WhatsApp's messaging limit reached: {limit} people in 24 hours"


def job_label(language: str, job: str) -> str:
    return t(language, f"wa_job_{job}") if job in JOB_LABELS else job


def tell_admins(*, session: Session, settings: Settings, row: Outbox, now: dt.datetime) -> None:
    """Once per job and day: the admins and district officers hear that it could not reach everyone."""
    limit = settings.whatsapp.messaging_limit or 0
    people = session.exec(
        select(Person).where(col(Person.active).is_(True), col(Person.role).in_(NOTICE_ROLES))
    ).all()
    messages = [
        outbox.Message(
            person,
            t(
                person.language,
                "whatsapp_limit_reached",
                limit=indian(limit),
                job=job_label(person.language, row.job),
            ),
            key=f"whatsapp_limit:{row.job}:{row.day.isoformat()}:{person.id}",
        )
        for person in people
        if person.id != row.person_id
    ]
    outbox.enqueue(
        session=session, job="whatsapp_limit", day=row.day, messages=messages, now=now, settings=settings
    )


def _full(*, session: Session, limit: int, now: dt.datetime, seen: Seen | None) -> dt.datetime | None:
    """When a place frees if the limit is full now, else None; counted unless `seen` knows."""
    if seen is not None and seen.full_until is not None and now < seen.full_until:
        return seen.frees_at
    if opened(session=session, now=now) < limit:
        if seen is not None:
            seen.full_until = None
        return None
    frees = frees_at(session=session, now=now)
    if seen is not None:
        seen.frees_at = frees
        seen.full_until = min(frees, now + RECHECK)
    return frees


def opens_conversation(
    *,
    session: Session,
    settings: Settings,
    row: Outbox,
    person: Person,
    now: dt.datetime,
    seen: Seen | None = None,
) -> SendFailed | None:
    """Before a template goes out: she must have opted in, and the messaging limit must allow her.

    Returns the refusal (for the caller to raise once the session has committed): permanent if
    she has not opted in, or (over the limit) at the end of the message's day; else the message
    waits until the 24 hours free a place (or the day ends).
    Counts her, by marking the row, before it is sent, so two sends cannot both take the last place.
    `seen` (the sender's own) spares the count while the limit is known to be full.
    """
    person_id = person.id or 0
    if not opted_in(session=session, person_id=person_id):
        return SendFailed("not opted in to WhatsApp messages from the business", permanent=True)
    limit = settings.whatsapp.messaging_limit
    if limit is not None and not is_open(session=session, person_id=person_id, now=now):
        frees = _full(session=session, limit=limit, now=now, seen=seen)
        if frees is not None:
            told = (row.job, row.day)
            if seen is None or told not in seen.told:
                tell_admins(session=session, settings=settings, row=row, now=now)
                if seen is not None:
                    seen.told.add(told)
            end = end_of_day(settings, row.day)
            if now >= end:
                return SendFailed(limit_reason(limit), permanent=True)
            return SendFailed(limit_reason(limit), defer_until=min(frees, end))
    stored = session.get(Outbox, row.id) if row.id is not None else None
    if stored is not None:
        stored.opened_conversation = True
        session.add(stored)
    return None

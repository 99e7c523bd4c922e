"""The outbox: messages queued once each, claimed by priority then age, released when a sender dies."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.delivery.outbox import (
    PRIORITY_BROADCAST,
    PRIORITY_DIGEST,
    PRIORITY_URGENT,
    Message,
    backlog,
    backlog_by_lane,
    channel_of,
    claim_due,
    due_lanes,
    enqueue,
    inbox,
    priority_of,
    release_claims,
)
from bot.store.db import session_scope
from models import Outbox, Person

NOW = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)  # 07:00 IST
DAY = dt.date(2026, 11, 24)


def people(session: Session, count: int, *, telegram: bool = False) -> list[Person]:
    made = [
        Person(
            name=f"Worker {n}",
            phone=f"+9170000{n:05d}",
            role="asha",
            telegram_user_id=6_000_000_000 + n if telegram else None,
            telegram_chat_id=6_000_000_000 + n if telegram else None,
        )
        for n in range(count)
    ]
    session.add_all(made)
    session.flush()
    return made


def queue(
    session: Session, job: str, persons: list[Person], now: dt.datetime = NOW, **kw: object
) -> int:
    messages = [Message(person=p, text=f"{job} for {p.name}") for p in persons]
    return enqueue(session=session, job=job, day=DAY, messages=messages, now=now, whatsapp=False, **kw)  # type: ignore[arg-type]


def rows(engine: Engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)).all())  # type: ignore[arg-type]


def test_replies_go_before_digests_and_digests_before_the_start_message() -> None:
    assert priority_of("reminder") == PRIORITY_URGENT
    assert priority_of("bmo_digest") == PRIORITY_DIGEST
    assert priority_of("start_message") == PRIORITY_BROADCAST
    assert PRIORITY_URGENT < PRIORITY_DIGEST < PRIORITY_BROADCAST


def test_each_message_is_queued_once_for_its_job_day_and_person(db: Engine) -> None:
    with session_scope(db) as session:
        persons = people(session, 3)
        assert queue(session, "reminder", persons) == 3
    with session_scope(db) as session:
        assert queue(session, "reminder", persons) == 0  # the job ran again: nothing new
        assert queue(session, "supervisor_digest", persons[:1]) == 1
    found = rows(db)
    assert [r.idempotency_key for r in found[:3]] == [f"reminder:2026-11-24:{p.id}" for p in persons]
    assert all(r.status == "pending" and r.attempts == 0 for r in found)


def test_a_state_sized_batch_is_queued_once(db: Engine) -> None:
    with session_scope(db) as session:
        persons = people(session, 250)  # past the bulk threshold on PostgreSQL
        assert queue(session, "start_message", persons) == 250
    with session_scope(db) as session:
        assert queue(session, "start_message", persons) == 0
    assert {r.priority for r in rows(db)} == {PRIORITY_BROADCAST}


def test_a_message_key_of_its_own_makes_it_once_only(db: Engine) -> None:
    with session_scope(db) as session:
        (person,) = people(session, 1)
        once = [
            Message(person=person, text="a", key="problem:7"),
            Message(person=person, text="b", key="problem:7"),
        ]
        assert (
            enqueue(session=session, job="problem", day=DAY, messages=once, now=NOW, whatsapp=False) == 1
        )
    assert [r.text for r in rows(db)] == ["a"]


def test_telegram_users_get_telegram_and_others_the_simulator_inbox(db: Engine) -> None:
    with session_scope(db) as session:
        (linked,) = people(session, 1, telegram=True)
        unlinked = Person(name="Usha", phone="+917285872429", role="supervisor")
        session.add(unlinked)
        session.flush()
        assert channel_of(linked) == ("telegram", str(linked.telegram_chat_id))
        assert channel_of(unlinked) == ("simulator", "+917285872429")
        queue(session, "reminder", [linked, unlinked])
    assert [(r.channel, r.lane) for r in rows(db)] == [
        ("telegram", "telegram"),
        ("simulator", "simulator"),
    ]


def test_claims_take_urgent_first_then_the_oldest(db: Engine) -> None:
    with session_scope(db) as session:
        persons = people(session, 2)
        queue(session, "start_message", persons[:1], now=NOW - dt.timedelta(hours=1))
        queue(session, "district_digest", persons[:1], now=NOW - dt.timedelta(minutes=30))
        queue(session, "reminder", persons[1:], now=NOW - dt.timedelta(minutes=1))
        queue(session, "reply", persons[:1], now=NOW - dt.timedelta(minutes=2))
        queue(session, "later", persons[:1], now=NOW + dt.timedelta(minutes=5))  # not due yet
    with session_scope(db) as session:
        claimed = claim_due(session=session, now=NOW, holder="sender-1")
    assert [r.job for r in claimed] == ["reply", "reminder", "district_digest", "start_message"]
    assert all(r.status == "sending" and r.attempts == 1 and r.claimed_by == "sender-1" for r in claimed)
    by_job = {r.job: r for r in rows(db)}
    assert by_job["reply"].status == "sending" and by_job["reply"].claimed_at == NOW
    assert by_job["later"].status == "pending"


def test_a_claimed_message_is_not_claimed_twice(db: Engine) -> None:
    with session_scope(db) as session:
        queue(session, "reminder", people(session, 3))
    with session_scope(db) as session:
        first = claim_due(session=session, now=NOW, holder="a", limit=2)
    with session_scope(db) as session:
        second = claim_due(session=session, now=NOW, holder="b", limit=10)
        assert claim_due(session=session, now=NOW, holder="c") == []
    assert len(first) == 2 and len(second) == 1
    assert {r.id for r in first}.isdisjoint({r.id for r in second})


def test_lanes_are_claimed_apart(db: Engine) -> None:
    with session_scope(db) as session:
        queue(session, "reminder", people(session, 1, telegram=True))
        session.add(Person(name="Usha", phone="+917285872429", role="supervisor"))
        session.flush()
        usha = session.exec(select(Person).where(Person.name == "Usha")).one()
        queue(session, "reminder", [usha])
    with session_scope(db) as session:
        assert due_lanes(session=session, now=NOW) == ["simulator", "telegram"]
        assert due_lanes(session=session, now=NOW - dt.timedelta(seconds=1)) == []
        claimed = claim_due(session=session, now=NOW, lane="simulator")
    assert [r.channel for r in claimed] == ["simulator"]
    with session_scope(db) as session:
        assert due_lanes(session=session, now=NOW) == ["telegram"]
        assert backlog(session=session) == 2  # being sent still counts as waiting
        assert backlog_by_lane(session=session) == {"simulator": 1, "telegram": 1}


def test_a_dead_senders_claims_go_back_to_the_queue_and_a_live_ones_stay(db: Engine) -> None:
    with session_scope(db) as session:
        queue(session, "reminder", people(session, 2))
    with session_scope(db) as session:
        claim_due(session=session, now=NOW, holder="dead", limit=1)
        claim_due(session=session, now=NOW, holder="alive", limit=1)
    later = NOW + dt.timedelta(minutes=3)
    with session_scope(db) as session:
        assert release_claims(session=session, now=later, keep="alive") == 1
    status = {(r.status, r.claimed_by) for r in rows(db)}
    assert status == {("pending", None), ("sending", "alive")}
    released = next(r for r in rows(db) if r.status == "pending")
    assert released.next_attempt_at == later and released.attempts == 1
    with session_scope(db) as session:
        assert release_claims(session=session, now=later) == 1  # no one alive: every claim


@pytest.mark.parametrize("status", ["pending", "sending", "failed"])
def test_the_simulator_inbox_shows_only_sent_messages(db: Engine, status: str) -> None:
    with session_scope(db) as session:
        (person,) = people(session, 1)
        queue(session, "reminder", [person])
        queue(session, "bmo_digest", [person])
    with session_scope(db) as session:
        first, second = session.exec(select(Outbox).order_by(Outbox.id)).all()  # type: ignore[arg-type]
        first.status, second.status = "sent", status
    with session_scope(db) as session:
        shown = inbox(session=session, phone=person.phone)
        assert [r.job for r in shown] == ["reminder"]
        assert inbox(session=session, phone=person.phone, after=shown[0].id or 0) == []
        assert inbox(session=session, phone="+919999999999") == []

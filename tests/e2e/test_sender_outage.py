"""The database away for a moment mid fan-out: the scheduler keeps its lease, each message goes once.

The outage is made at the engine: while it lasts, every statement fails with the driver's own
error ("database is locked" on SQLite, a dropped connection on PostgreSQL), as a locked file
during a backup or a short PostgreSQL restart does. No process is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

import scheduler
from bot.channels.telegram.sending import TelegramChannel
from bot.config import Settings
from bot.delivery import outbox
from bot.delivery.sender import Limits, OutboxSender
from bot.store.db import session_scope
from models import Outbox, Person
from tests.conftest import at
from tests.fakes.telegram_api import FakeTelegramAPI

LEASE_TTL = dt.timedelta(seconds=6)  # longer than the outage: the lease is never really lost
CHECK_EVERY = 0.3  # lease checks this often, so several of them fail during the outage


@contextlib.contextmanager
def database_away(engine: Engine) -> Iterator[None]:
    """Every statement on `engine` fails while the block runs."""
    dbapi = engine.dialect.loaded_dbapi
    reason = "database is locked" if engine.dialect.name == "sqlite" else "server closed the connection"

    def refuse(*_: Any) -> None:
        raise dbapi.OperationalError(reason)

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def night_clock() -> Callable[[], dt.datetime]:
    """Real time, moved to 03:00 on 23 Nov: no scheduled job is due, backoffs still pass."""
    offset = at(23, 3) - dt.datetime.now(dt.UTC)
    return lambda: dt.datetime.now(dt.UTC) + offset


def queue_fan_out(engine: Engine, count: int, clock: Callable[[], dt.datetime]) -> None:
    """`count` messages over everyone on the roster, each with a text of its own."""
    with session_scope(engine) as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))).all())
        for person in people:
            person.telegram_chat_id = person.telegram_user_id = 7000 + (person.id or 0)
            session.add(person)
        session.flush()
        messages = [
            outbox.Message(people[i % len(people)], f"fan-out {i}", key=f"fan-out:{i}")
            for i in range(count)
        ]
        now = clock()
        assert (
            outbox.enqueue(session=session, job="fan_out", day=now.date(), messages=messages, now=now)
            == count
        )


def deliveries(api: FakeTelegramAPI) -> Counter[str]:
    return Counter(str(c.params["text"]) for c in api.calls_for("sendMessage") if c.ok)


def unfinished(engine: Engine) -> int:
    with Session(engine) as session:
        return len(
            session.exec(select(Outbox.id).where(col(Outbox.status).in_(("pending", "sending")))).all()
        )


async def run_fan_out(
    engine: Engine,
    settings: Settings,
    api: FakeTelegramAPI,
    count: int,
    per_second: float,
    disturb: Callable[[scheduler.Scheduler], Any],
) -> list[bool]:
    """Send `count` messages with one scheduler; `disturb` runs once the first 10% went out.

    Returns whether the scheduler was the leader at each lease check.
    """
    clock = night_clock()
    queue_fan_out(engine, count, clock)
    leading: list[bool] = []
    bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
    async with bot:
        sender = OutboxSender(engine, settings, {"telegram": TelegramChannel(bot)}, clock=clock)
        # The fake Bot API has no rate limit of its own: go faster than Telegram allows.
        sender.channel_limits["telegram"] = Limits(per_second, 0, 20)
        one = scheduler.Scheduler(
            engine, settings, sender, clock=clock, holder="one", lease_ttl=LEASE_TTL
        )
        checking = True

        async def keep() -> None:
            while checking:
                await one.keep_lease()
                leading.append(one.leader)
                await asyncio.sleep(CHECK_EVERY)

        lease = asyncio.create_task(keep())
        try:
            await api.wait_for_async("sendMessage", count // 10, timeout=30)
            await disturb(one)
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(unfinished, engine):
                assert time.monotonic() < deadline, "the fan-out did not finish"
                await asyncio.sleep(0.1)
        finally:
            checking = False
            await lease
            await one.stop_sender()
    return leading


def test_database_away_mid_fan_out_delivers_each_message_once(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    count = 300

    during: list[int] = []

    async def outage(_: scheduler.Scheduler) -> None:
        with database_away(district):
            await asyncio.sleep(3.0)
            during.append(sum(deliveries(api).values()))

    leading = asyncio.run(run_fan_out(district, settings, api, count, 400, outage))
    assert during[0] < count // 2  # the outage came in the middle: sending waited for the database
    sent = deliveries(api)
    assert sorted(sent) == sorted(f"fan-out {i}" for i in range(count))
    assert [text for text, times in sent.items() if times > 1] == []
    assert all(leading), "the scheduler stepped down though its lease never lapsed"
    with Session(district) as session:
        statuses = Counter(session.exec(select(Outbox.status)).all())
    assert statuses == {"sent": count}


def test_one_failed_lease_check_starts_no_second_sender(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    count = 60
    senders: list[int] = []

    async def one_failed_check(one: scheduler.Scheduler) -> None:
        with database_away(district):
            await one.keep_lease()
        senders.append(sum(1 for task in asyncio.all_tasks() if "OutboxSender.run" in repr(task)))
        await asyncio.sleep(1.0)  # a few more lease checks, all good
        senders.append(sum(1 for task in asyncio.all_tasks() if "OutboxSender.run" in repr(task)))

    leading = asyncio.run(run_fan_out(district, settings, api, count, 30, one_failed_check))
    assert senders == [1, 1]
    assert all(leading)
    sent = deliveries(api)
    assert sorted(sent) == sorted(f"fan-out {i}" for i in range(count))
    assert [text for text, times in sent.items() if times > 1] == []

"""Fan-out: 1,000 digests through the outbox to a fake Bot API that allows 30 messages a second.

    python benchmarks/bench_fanout.py [--messages 1000]

The real OutboxSender with the real TelegramChannel (python-telegram-bot's Bot pointed at the fake
by `base_url`) drains 1,000 outbox rows, each to its own chat, from a PostgreSQL database of its
own (FIELDBOT_BENCH_FANOUT_URL, default fieldbot_bench_fanout on the local server, rebuilt each
run). The fake answers 429 with retry_after when more than 30 messages arrive within a second.
Prints one JSON object of flat numeric results on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, func, select
from telegram import Bot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fake_botapi import TOKEN, FakeBotAPI  # noqa: E402
from bot.channels.base import Channel  # noqa: E402
from bot.channels.telegram.sending import TelegramChannel  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.delivery.outbox import Message, enqueue  # noqa: E402
from bot.delivery.sender import OutboxSender  # noqa: E402
from bot.store.db import make_engine, session_scope, upgrade  # noqa: E402
from models import Outbox, Person, utcnow  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench_fanout"
PER_SECOND = 30
CHAT_BASE = 7_000_000_000
DIGEST = (
    "📋 सेक्टर Sandila-{n} — 23/11 की रिपोर्ट\n"
    "रिपोर्ट: 18 / 20 ASHA\nआवेदन: 412  कार्ड: 367\n"
    "सबसे आगे: Sunita Devi (32)  सबसे पीछे: Rekha (4)\n"
    "बाकी: Meena Kumari 98765 43210, Kamla 98765 43211\n"
    "और जानकारी के लिए /status भेजें।"
)


def log(message: str) -> None:
    print(f"[fanout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_database(url: str) -> None:
    from benchmarks.bench_rollups import ensure_database

    ensure_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    engine.dispose()


def seed(url: str, settings: Settings, messages: int) -> None:
    """`messages` supervisors, each with a Telegram chat, and one digest queued for each."""
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Person),
            [
                {
                    "name": f"Supervisor {i}",
                    "phone": f"+9180{i:08d}",
                    "role": "supervisor",
                    "language": "hi",
                    "active": True,
                    "telegram_user_id": CHAT_BASE + i,
                    "telegram_chat_id": CHAT_BASE + i,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(messages)
            ],
        )
    with session_scope(engine) as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))).all())
        queued = enqueue(
            session=session,
            job="supervisor_digest",
            day=now.date(),
            messages=[Message(p, DIGEST.format(n=i)) for i, p in enumerate(people)],
            now=now,
            whatsapp=False,
        )
    assert queued == messages, queued
    engine.dispose()


async def fan_out(url: str, settings: Settings, messages: int) -> dict[str, float]:
    api = FakeBotAPI(per_second=PER_SECOND)
    await api.start()
    bot = Bot(TOKEN, base_url=api.base_url)
    await bot.initialize()
    engine = make_engine(url)
    channels: dict[str, Channel] = {"telegram": TelegramChannel(bot)}
    sender = OutboxSender(engine, settings, channels)
    started = time.perf_counter()
    deadline = started + 3 * messages / PER_SECOND + 30
    while time.perf_counter() < deadline:
        await sender.drain_once()
        with Session(engine) as session:
            left = session.exec(
                select(func.count())
                .select_from(Outbox)
                .where(col(Outbox.status).in_(("pending", "sending")))
            ).one()
        if not left:
            break
        await asyncio.sleep(0.05)  # waiting out a retry_after
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        sent_rows = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.status == "sent")
        ).one()
    await bot.shutdown()
    await api.stop()
    engine.dispose()
    expected = {CHAT_BASE + i for i in range(messages)}
    delivered = set(api.sent)
    log(f"{api.sent_total} delivered in {seconds:.2f} s, {api.refused} refused, {sent_rows} rows sent")
    return {
        "fanout_seconds": round(seconds, 2),
        "fanout_limit_seconds": round(messages / PER_SECOND, 2),
        "fanout_429s": api.refused,
        "fanout_duplicates": sum(n - 1 for n in api.sent.values() if n > 1),
        "fanout_lost": len(expected - delivered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    url = os.environ.get("FIELDBOT_BENCH_FANOUT_URL", DEFAULT_URL)
    settings = load_settings(ROOT / "config.yaml")
    fresh_database(url)
    seed(url, settings, args.messages)
    log(f"{args.messages} digests queued at {dt.datetime.now():%H:%M:%S}")
    results = asyncio.run(fan_out(url, settings, args.messages))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

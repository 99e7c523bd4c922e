"""Fan-out at state scale: the 09:00 start message to 1,60,000 workers over 75 district bots.

    python benchmarks/bench_state.py [--workers 160000] [--bots 75] [--small-workers 18000]

A PostgreSQL database of its own (FIELDBOT_BENCH_STATE_URL, default fieldbot_bench_state on the
local server, rebuilt each run) gets 75 districts of workers, each of whom has started her
district's bot. The scheduler's own job (`run_job("start_message")`) queues the messages, timed;
then the real OutboxSender, with one TelegramChannel per bot, drains every lane against a fake Bot
API in a process of its own that refuses (429) any bot's 31st message within a second. Recorded:
the time, what the per-bot limits allow, 429s, duplicates, lost, the time to queue, the sender's
CPU per message (its process only: the fake and PostgreSQL are other processes) and its peak RSS.
Then the same with 20 bots (600 a second in all), against the time the limits allow.
Prints one JSON object of flat numeric results on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlmodel import Session, col, func, select
from telegram import Bot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fake_botapi import serve_forever  # noqa: E402
from bot.channels.base import Channel  # noqa: E402
from bot.channels.telegram.sending import TelegramChannel  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.config_sections import Telegram, TelegramBot  # noqa: E402
from bot.delivery.sender import OutboxSender  # noqa: E402
from bot.store.db import make_engine  # noqa: E402
from models import District, Outbox, Person, TelegramBotChat, utcnow  # noqa: E402
from scheduler import run_job  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench_state"
PER_SECOND = 30
CHAT_BASE = 6_000_000_000


def log(message: str) -> None:
    print(f"[state {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_database(url: str) -> None:
    from benchmarks.bench_fanout import fresh_database as fresh

    fresh(url)


def state_settings(base: Settings, bots: int, in_flight: int = 1) -> Settings:
    listed = [
        TelegramBot(
            name=f"d{i:02d}",
            token_env=f"TELEGRAM_BOT_TOKEN_D{i:02d}",
            username=f"District{i:02d}AyushmanBot",
            districts=[f"District {i:02d}"],
        )
        for i in range(bots)
    ]
    schedule = base.schedule.model_copy(update={"start_message": dt.time(9, 0)})
    sending = base.sending.model_copy(update={"in_flight_per_lane": in_flight})
    return base.model_copy(
        update={"telegram": Telegram(bots=listed), "schedule": schedule, "sending": sending}
    )


def seed(url: str, bots: int, workers: int) -> None:
    """`bots` districts, `workers` ASHAs spread over them, each on her district's bot."""
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(District), [{"name": f"District {i:02d}"} for i in range(bots)])
    with Session(engine) as session:
        ids = {d.name: d.id for d in session.exec(select(District)).all()}
    district_ids = [ids[f"District {i:02d}"] for i in range(bots)]
    chunk = 20_000
    with engine.begin() as conn:
        for start in range(0, workers, chunk):
            conn.execute(
                insert(Person),
                [
                    {
                        "name": f"ASHA {i}",
                        "phone": f"+917{i:09d}",
                        "role": "asha",
                        "language": "hi",
                        "active": True,
                        "district_id": district_ids[i % bots],
                        "telegram_user_id": CHAT_BASE + i,
                        "telegram_chat_id": CHAT_BASE + i,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(workers, start + chunk))
                ],
            )
    with Session(engine) as session:
        people = session.exec(select(Person.id, Person.district_id)).all()
    bot_of = {district_ids[i]: f"d{i:02d}" for i in range(bots)}
    with engine.begin() as conn:
        for start in range(0, len(people), chunk):
            conn.execute(
                insert(TelegramBotChat),
                [
                    {"person_id": pid, "bot": bot_of[did], "started_at": now, "last_seen_at": now}
                    for pid, did in people[start : start + chunk]
                ],
            )
    engine.dispose()


def fake_api() -> tuple[multiprocessing.Process, int]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve_forever, args=(PER_SECOND, child), daemon=True)
    process.start()
    port = parent.recv()
    return process, int(port)


async def drain(url: str, settings: Settings, port: int, bots: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}/bot"
    engine = make_engine(url)
    channels: dict[str, Channel] = {}
    telegram = []
    for i in range(bots):
        bot = Bot(f"{100 + i}:BENCH-{i}", base_url=base)
        telegram.append(TelegramChannel(bot))
        channels[f"telegram:d{i:02d}"] = telegram[-1]
    sender = OutboxSender(engine, settings, channels)
    cpu, wall = time.process_time(), time.perf_counter()
    sent = await sender.drain_once()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for channel in telegram:
        await channel.close()
    with Session(engine) as session:
        left = session.exec(
            select(func.count()).select_from(Outbox).where(col(Outbox.status) != "sent")
        ).one()
    engine.dispose()
    log(f"{sent} sent in {wall:.1f} s, {cpu:.1f} s CPU, {left} rows not sent")
    return {"sent": sent, "seconds": wall, "cpu": cpu, "left": left}


def stats(port: int) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/stats", timeout=10).json()
    return result


def one_run(url: str, base: Settings, bots: int, workers: int, in_flight: int) -> dict[str, float]:
    settings = state_settings(base, bots, in_flight)
    fresh_database(url)
    seed(url, bots, workers)
    log(f"{workers} workers over {bots} bots seeded")
    engine = make_engine(url)
    at = dt.datetime.combine(dt.date.today(), dt.time(9, 1), tzinfo=settings.tz).astimezone(dt.UTC)
    queued_at = time.perf_counter()
    written = run_job(engine, settings, "start_message", at)
    queue_seconds = time.perf_counter() - queued_at
    engine.dispose()
    assert written == workers, written
    log(f"queued {written} in {queue_seconds:.1f} s")
    process, port = fake_api()
    try:
        result = asyncio.run(drain(url, settings, port, bots))
        seen = stats(port)
    finally:
        process.terminate()
        process.join(5)
    span = (seen["last_send"] or 0) - (seen["first_send"] or 0)
    log(f"fake Bot API: {seen['sent_total']} accepted over {span:.1f} s, {seen['refused']} refused")
    return {
        "messages": workers,
        "bots": bots,
        "seconds": round(result["seconds"], 2),
        "limit_seconds": round(workers / (bots * PER_SECOND), 2),
        "429s": seen["refused"],
        "duplicates": seen["duplicates"],
        "lost": workers - seen["chats"],
        "queue_seconds": round(queue_seconds, 2),
        "cpu_ms_per_message": round(1000 * result["cpu"] / max(1, result["sent"]), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=160_000)
    parser.add_argument("--bots", type=int, default=75)
    parser.add_argument("--small-workers", type=int, default=18_000)
    parser.add_argument("--small-bots", type=int, default=20)
    parser.add_argument(
        "--in-flight", type=int, default=1, help="sending.in_flight_per_lane (default 1)"
    )
    args = parser.parse_args()
    url = os.environ.get("FIELDBOT_BENCH_STATE_URL", DEFAULT_URL)
    base = load_settings(ROOT / "config.yaml")
    base = base.model_copy(
        update={"campaign": base.campaign.model_copy(update={"start": None, "end": None})}
    )
    state = one_run(url, base, args.bots, args.workers, args.in_flight)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    small = one_run(url, base, args.small_bots, args.small_workers, args.in_flight)
    results = {f"fanout_state_{key}": value for key, value in state.items()}
    results["fanout_state_peak_rss_mb"] = round(peak, 1)
    results["fanout_state_sender_cpu_ms_per_message"] = results.pop("fanout_state_cpu_ms_per_message")
    results["fanout_20bots_seconds"] = small["seconds"]
    results["fanout_20bots_limit_seconds"] = small["limit_seconds"]
    results["fanout_20bots_429s"] = small["429s"]
    results["fanout_20bots_lost"] = small["lost"]
    results["fanout_20bots_duplicates"] = small["duplicates"]
    results["fanout_in_flight_per_lane"] = args.in_flight
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

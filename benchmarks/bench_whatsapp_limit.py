"""WhatsApp's messaging limit: the start message to 5,000 people outside their window, limit 2,000.

    python benchmarks/bench_whatsapp_limit.py [--people 5000] [--limit 2000]

5,000 ASHAs who wrote to the business number two days ago (opted in, outside the 24-hour window)
get the 09:00 start message, which can only go as a template, with `whatsapp.messaging_limit`
2,000. The real OutboxSender and WhatsAppChannel send through the twilio client to the test suite's
fake Twilio API, on a PostgreSQL database of its own (FIELDBOT_BENCH_WA_URL, default
fieldbot_bench_wa on the local server, rebuilt each run). Recorded: templates sent (exactly the
limit), messages left waiting, and the notices queued for the admin and the district officer.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_fanout import fresh_database  # noqa: E402
from bot.channels.whatsapp.sending import WhatsAppChannel  # noqa: E402
from bot.channels.whatsapp.settings import TwilioSettings  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.delivery.sender import OutboxSender  # noqa: E402
from bot.store.db import make_engine  # noqa: E402
from models import ChannelContact, District, Outbox, Person, utcnow  # noqa: E402
from scheduler import run_job  # noqa: E402
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench_wa"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def log(message: str) -> None:
    print(f"[whatsapp {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_settings(limit: int) -> Settings:
    base = load_settings(ROOT / "config.yaml")
    data = base.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["start_message"]["content_sid"] = "HX" + "1" * 32
    data["whatsapp"]["messaging_limit"] = limit
    data["sending"]["whatsapp_per_second"] = 80
    data["campaign"].update(start=None, end=None)
    return Settings.model_validate({**data, "base_dir": base.base_dir})


def seed(url: str, people: int, wrote: dt.datetime) -> None:
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(District), [{"name": "Hardoi"}])
    with Session(engine) as session:
        district = session.exec(select(District)).one()
    rows = [
        {
            "name": f"ASHA {i}",
            "phone": f"+917{i:09d}",
            "role": "asha",
            "language": "hi",
            "active": True,
            "district_id": district.id,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(people)
    ]
    rows += [
        {**rows[0], "name": "State Admin", "phone": "+919999999901", "role": "admin"},
        {**rows[0], "name": "District Officer", "phone": "+919999999902", "role": "district_officer"},
    ]
    with engine.begin() as conn:
        conn.execute(insert(Person), rows)
    with Session(engine) as session:
        ids = session.exec(select(Person.id, Person.phone).where(Person.role == "asha")).all()
    with engine.begin() as conn:
        conn.execute(
            insert(ChannelContact),
            [
                {"person_id": pid, "channel": "whatsapp", "address": phone, "last_inbound_at": wrote}
                for pid, phone in ids
            ],
        )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    url = os.environ.get("FIELDBOT_BENCH_WA_URL", DEFAULT_URL)
    settings = bench_settings(args.limit)
    morning = dt.datetime.combine(dt.date.today(), dt.time(9, 0), tzinfo=IST)
    fresh_database(url)
    seed(url, args.people, morning - dt.timedelta(days=2))
    with FakeTwilioAPI() as api:
        os.environ.update(
            TWILIO_ACCOUNT_SID=api.account_sid,
            TWILIO_AUTH_TOKEN=api.auth_token,
            TWILIO_WHATSAPP_FROM=WHATSAPP_FROM,
            TWILIO_API_BASE_URL=api.base_url,
            FIELDBOT_PUBLIC_URL="https://fieldbot.example.org",
        )
        twilio = TwilioSettings.from_env()
        assert twilio is not None
        engine = make_engine(url)
        queued = run_job(engine, settings, "start_message", morning)
        log(f"{queued} start messages queued")
        at = morning + dt.timedelta(minutes=1)
        channel = WhatsAppChannel(engine, settings, twilio, clock=lambda: at)
        sender = OutboxSender(engine, settings, {"whatsapp": channel}, clock=lambda: at)
        started = time.perf_counter()
        asyncio.run(sender.drain_once())
        seconds = time.perf_counter() - started
        templates = sum(1 for m in api.messages if m.content_sid)
    with Session(engine) as session:
        waiting = session.exec(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.job == "start_message", col(Outbox.status) == "pending")
        ).one()
        notices = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.job == "whatsapp_limit")
        ).one()
    engine.dispose()
    log(f"{templates} templates in {seconds:.1f} s, {waiting} waiting, {notices} notices queued")
    print(
        json.dumps(
            {
                "whatsapp_limit_offered": args.people,
                "whatsapp_limit": args.limit,
                "whatsapp_limit_sent": templates,
                "whatsapp_limit_waiting": waiting,
                "whatsapp_limit_notices": notices,
                "whatsapp_limit_seconds": round(seconds, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

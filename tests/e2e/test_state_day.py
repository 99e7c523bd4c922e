"""A state's whole day: 75 district bots and WhatsApp, start message to evening digests."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from benchmarks.fake_botapi import FakeBotAPI
from bot import bots
from bot.app import build_core
from bot.channels.base import Channel
from bot.channels.telegram.sending import TelegramChannel
from bot.channels.whatsapp.sending import WhatsAppChannel
from bot.channels.whatsapp.settings import TwilioSettings
from bot.config import Settings
from bot.config_sections import Telegram, TelegramBot
from bot.core.messages import Inbound
from bot.core.service import Fieldbot
from bot.delivery.sender import OutboxSender
from bot.store.contacts import record_contact
from bot.store.db import session_scope
from models import Outbox, Person, TelegramBotChat
from scheduler import run_job
from tests.conftest import import_csv
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI

DISTRICTS = 75
DAY = dt.date(2026, 11, 24)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
JOBS = ("start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest")


def when(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=IST)


def roster(path: Path) -> Path:
    lines = ["name,phone,role,district,block,sector,village"]
    for d in range(DISTRICTS):
        district = f"District {d:02d}"
        base = 9_100_000_000 + d * 100
        lines.append(f"Supervisor {d},{base},supervisor,{district},Block {d},Sector {d},")
        lines.append(f"BMO {d},{base + 1},bmo,{district},Block {d},,")
        lines.append(f"Officer {d},{base + 2},district_officer,{district},,,")
        for w in range(3):
            lines.append(
                f"ASHA {d}-{w},{base + 10 + w},asha,{district},Block {d},Sector {d},Village {d}"
            )
    lines.append("State Admin,9199999999,admin,,,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def state_settings(settings: Settings) -> Settings:
    data = settings.model_dump(exclude={"base_dir"})
    for index, job in enumerate(JOBS, 1):
        data["whatsapp"]["templates"][job].update(content_sid=f"HX{index:032x}")
    data["campaign"].update(start=None, end=None)
    data["telegram"] = Telegram(
        bots=[
            TelegramBot(
                name=f"d{d:02d}",
                token_env=f"TELEGRAM_BOT_TOKEN_D{d:02d}",
                username=f"District{d:02d}Bot",
                districts=[f"District {d:02d}"],
            )
            for d in range(DISTRICTS)
        ]
    ).model_dump()
    return Settings.model_validate({**data, "base_dir": settings.base_dir})


def token(d: int) -> str:
    return f"{700 + d}:district-{d}"


def test_a_whole_day_over_75_district_bots_and_whatsapp(
    db: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = state_settings(settings)
    import_csv(db, roster(tmp_path / "state.csv"))
    # Everyone on Telegram has started her district's bot; the third ASHA of each district uses
    # only WhatsApp and wrote to the business number two days ago (outside her 24-hour window).
    whatsapp_only: set[str] = set()
    with session_scope(db) as session:
        people = session.exec(select(Person)).all()
        homes = bots.home_districts(session, people)
        for person in people:
            assert person.id is not None
            if person.name.startswith("ASHA") and person.name.endswith("-2"):
                record_contact(
                    session=session,
                    person_id=person.id,
                    address=person.phone,
                    at=when(9) - dt.timedelta(days=2),
                )
                whatsapp_only.add(person.phone)
                continue
            person.telegram_user_id = person.telegram_chat_id = 8_000_000 + person.id
            session.add(person)
            district = homes.get(person.id)
            home = f"d{int(district.split()[1]):02d}" if district else "d00"
            session.add(
                TelegramBotChat(person_id=person.id, bot=home, started_at=when(8), last_seen_at=when(8))
            )

    with FakeTwilioAPI() as twilio_api:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", twilio_api.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", twilio_api.auth_token)
        monkeypatch.setenv("TWILIO_WHATSAPP_FROM", WHATSAPP_FROM)
        monkeypatch.setenv("TWILIO_API_BASE_URL", twilio_api.base_url)
        monkeypatch.setenv("FIELDBOT_PUBLIC_URL", "https://fieldbot.example.org")
        twilio = TwilioSettings.from_env()
        assert twilio is not None
        core = build_core(state, db, clock=lambda: when(12))
        api = asyncio.run(_day(core, state, twilio))
        whatsapp_to = Counter(m.to for m in twilio_api.messages)

    # Every bot kept to its 30 a second: Telegram refused nothing; nothing went twice.
    assert api.refused == 0
    with Session(db) as session:
        telegram_rows = session.exec(select(Outbox).where(Outbox.channel == "telegram")).all()
    calls = sum(1 + (r.attachment is not None and len(r.text) > 1024) for r in telegram_rows)
    assert api.sent_total + api.files == calls
    with Session(db) as session:
        statuses = Counter(session.exec(select(Outbox.status)).all())
        lanes = Counter(session.exec(select(Outbox.lane).where(Outbox.job == "start_message")).all())
    assert statuses == {"sent": sum(statuses.values())}
    # The start message went out through each district's own bot, and by WhatsApp templates.
    assert len(lanes) == DISTRICTS + 1 and lanes["whatsapp"] == DISTRICTS
    assert set(api.sent_by_bot) == {f"bot{token(d)}" for d in range(DISTRICTS)}
    assert set(whatsapp_to) == {f"whatsapp:{phone}" for phone in whatsapp_only}
    # Start message and reminder (the WhatsApp ASHAs did not report): two templates each.
    assert set(whatsapp_to.values()) == {2}


async def _day(core: Fieldbot, state: Settings, twilio: TwilioSettings) -> FakeBotAPI:
    api = FakeBotAPI(per_second=30, per_bot=True)
    await api.start()
    telegram = {
        f"telegram:d{d:02d}": TelegramChannel(Bot(token(d), base_url=api.base_url))
        for d in range(DISTRICTS)
    }
    try:
        for job, hour, minute in (
            ("start_message", 9, 0),
            ("reminder", 17, 0),
            ("supervisor_digest", 18, 30),
            ("bmo_digest", 19, 0),
            ("district_digest", 20, 0),
        ):
            if job == "reminder":
                _reports(core, state)
            at = when(hour, minute)
            assert run_job(core.engine, state, job, at) is not None
            channels: dict[str, Channel] = {
                **telegram,
                "whatsapp": WhatsAppChannel(core.engine, state, twilio, clock=lambda at=at: at),
            }
            sender = OutboxSender(
                core.engine, state, channels, clock=lambda at=at: at + dt.timedelta(minutes=1)
            )
            await sender.drain_once()
            if job == "start_message":
                # Each field worker on Telegram heard from her district's bot.
                assert api.sent_total == DISTRICTS * 2
            if job == "reminder":
                # Only the Telegram ASHA who did not report (one per district) is reminded there.
                assert api.sent_total == DISTRICTS * 3
    finally:
        for channel in telegram.values():
            await channel.close()
        await api.stop()
    # Digests: each supervisor, BMO and district officer got hers, from her district's bot.
    with Session(core.engine) as session:
        rows = session.exec(
            select(Person, Outbox.job, Outbox.lane)
            .join(Outbox, col(Outbox.person_id) == col(Person.id))
            .where(col(Person.role).in_(("supervisor", "bmo", "district_officer")))
        ).all()
        homes = bots.home_districts(session, [person for person, _, _ in rows])
    expected = {
        "supervisor": "supervisor_digest",
        "bmo": "bmo_digest",
        "district_officer": "district_digest",
    }
    assert len(rows) == 3 * DISTRICTS
    for person, job, lane in rows:
        assert job == expected[person.role]
        assert lane == f"telegram:d{int(str(homes[person.id or 0]).split()[1]):02d}"
    assert api.files == DISTRICTS  # the district digests' charts
    return api


def _reports(core: Fieldbot, state: Settings) -> None:
    """The first ASHA of each district reports through her district's bot in the afternoon."""
    with Session(core.engine) as session:
        first = session.exec(select(Person).where(col(Person.name).like("ASHA %-0"))).all()
        districts = bots.district_names(session)
    for person in first:
        district = districts[person.district_id or 0]
        replies = core.handle(
            Inbound(
                channel="telegram",
                dedup_key=f"tg:{person.telegram_chat_id}:1:0",
                sent_at=when(15),
                chat_id=str(person.telegram_chat_id),
                text="आवेदन 6 कार्ड 4",
                account=person.telegram_user_id,
                via=f"d{int(district.split()[1]):02d}",
            )
        )
        assert "कार्ड" in replies[0].text and "@" not in replies[0].text

"""Several Telegram bots in one deployment: a bot per district, the move from the old bot, lanes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from bot import bots, digests
from bot.app import build_core
from bot.channels.telegram.application import build_application
from bot.channels.telegram.sending import TelegramChannel
from bot.channels.telegram.settings import TelegramSettings
from bot.config import Settings
from bot.config_sections import Telegram, TelegramBot
from bot.core.messages import Inbound
from bot.core.service import Fieldbot
from bot.delivery import outbox
from bot.delivery.sender import OutboxSender
from bot.store.db import session_scope
from bot.web import create_app
from models import InboundMessage, Outbox, Person, ReportValue
from tests.conftest import ROOT, SECRET, SUNITA_PHONE, SUNITA_TG, child_url
from tests.e2e.test_cli import _env
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
USHA_PHONE = "+917285872429"
USHA_TG = 5002
ADMIN_PHONE = "+919901030882"
ADMIN_TG = 5009


def bots_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "telegram": Telegram(
                bots=[
                    TelegramBot(
                        name="hardoi",
                        token_env="TELEGRAM_BOT_TOKEN_HARDOI",
                        username="HardoiAyushmanBot",
                        districts=["Hardoi"],
                    ),
                    TelegramBot(
                        name="up",
                        token_env="TELEGRAM_BOT_TOKEN_UP",
                        username="UPAyushmanBot",
                        districts=["*"],
                    ),
                ]
            )
        }
    )


@pytest.fixture()
def two_bots(
    district: Engine, settings: Settings
) -> Iterator[tuple[Fieldbot, str, FakeTelegramAPI, FakeTelegramAPI]]:
    core = build_core(bots_settings(settings), district)
    with (
        FakeTelegramAPI(token="111:hardoi-bot") as hardoi,
        FakeTelegramAPI(token="222:up-bot") as up,
    ):
        pairs = []
        for name, api in (("hardoi", hardoi), ("up", up)):
            tg = TelegramSettings(
                token=api.token,
                base_url=api.base_url,
                base_file_url=api.base_file_url,
                webhook_url=f"https://fieldbot.example.org/telegram/webhook/{name}",
                webhook_secret=SECRET,
                bot=name,
            )
            pairs.append((build_application(core, tg, webhook=True), tg))
        with serving(create_app(core, telegram_bots=pairs)) as url:
            yield core, url, hardoi, up


def post(url: str, bot: str, update: dict[str, object]) -> None:
    response = httpx.post(f"{url}/telegram/webhook/{bot}", json=update, headers=HEADERS)
    assert response.status_code == 200


def texts(api: FakeTelegramAPI, chat_id: int) -> list[str]:
    return [
        str(c.params["text"]) for c in api.calls_for("sendMessage") if c.params["chat_id"] == chat_id
    ]


def test_each_bot_has_its_webhook_and_a_worker_is_sent_to_her_districts_bot(
    two_bots: tuple[Fieldbot, str, FakeTelegramAPI, FakeTelegramAPI], district: Engine
) -> None:
    _, url, hardoi, up = two_bots
    assert [c.params["url"] for c in hardoi.calls_for("setWebhook")] == [
        "https://fieldbot.example.org/telegram/webhook/hardoi"
    ]
    # Sunita (Hardoi) shares her number with the state's bot: pointed to Hardoi's, nothing stored.
    post(url, "up", {"update_id": 1, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)})
    [answer] = texts(up, SUNITA_TG)
    assert "@HardoiAyushmanBot" in answer and "दर्ज नहीं" in answer
    with Session(district) as session:
        sunita = session.exec(select(Person).where(Person.phone == SUNITA_PHONE)).one()
        assert sunita.telegram_user_id is None
        assert session.exec(select(InboundMessage)).all() == []
    # On her district's bot she is linked and reports; the answer comes from that bot.
    post(url, "hardoi", {"update_id": 2, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)})
    post(url, "hardoi", {"update_id": 3, **text_update("कार्ड 12", user_id=SUNITA_TG)})
    assert any("कार्ड: 12" in text for text in texts(hardoi, SUNITA_TG))
    # A report she sends to the other bot now is refused there and changes nothing.
    post(url, "up", {"update_id": 4, **text_update("कार्ड 30", user_id=SUNITA_TG)})
    assert "@HardoiAyushmanBot" in texts(up, SUNITA_TG)[-1]
    with Session(district) as session:
        assert session.exec(select(ReportValue.value).where(ReportValue.metric == "cards")).all() == [12]
    # The state admin may use any bot.
    post(url, "up", {"update_id": 5, **contact_update(ADMIN_PHONE, user_id=ADMIN_TG, first_name="A")})
    post(url, "up", {"update_id": 6, **text_update("/status", user_id=ADMIN_TG, first_name="A")})
    assert len(texts(up, ADMIN_TG)) >= 2
    assert all("@HardoiAyushmanBot" not in text for text in texts(up, ADMIN_TG))
    # An unknown bot name is not a webhook.
    assert httpx.post(f"{url}/telegram/webhook/nobot", json={}, headers=HEADERS).status_code == 404


def test_until_she_starts_her_districts_bot_the_old_one_serves_her_and_the_digest_says_so(
    district: Engine, settings: Settings
) -> None:
    many = bots_settings(settings)
    core = build_core(many, district)
    day = dt.date(2026, 11, 23)
    with session_scope(district) as session:
        # Linked before the bots were listed: she started the one bot, now the state's.
        sunita = session.exec(select(Person).where(Person.phone == SUNITA_PHONE)).one()
        sunita.telegram_user_id = sunita.telegram_chat_id = SUNITA_TG
        usha = session.exec(select(Person).where(Person.phone == USHA_PHONE)).one()
        usha.telegram_user_id = usha.telegram_chat_id = USHA_TG
        session.add_all([sunita, usha])
    with session_scope(district) as session:
        messages = digests.start_messages(session, many, day)
        now = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.UTC)
        outbox.enqueue(
            session=session, job="start_message", day=day, messages=messages, now=now, settings=many
        )
        lanes = dict(
            session.exec(
                select(Outbox.address, Outbox.lane).where(Outbox.address == str(SUNITA_TG))
            ).all()
        )
        assert lanes == {str(SUNITA_TG): "telegram:up"}
        text = "\n".join(m.text for m in digests.supervisor_digests(session, many, day))
        assert "@HardoiAyushmanBot" in text and "https://t.me/HardoiAyushmanBot" in text
        assert "Sunita" in text.split("@HardoiAyushmanBot")[1].split("\n")[0]

    # Meanwhile the old bot still takes her report.
    core.handle(core_inbound("up", "कार्ड 5"))
    with Session(district) as session:
        assert session.exec(select(ReportValue.value)).all() == [5]
    # She starts Hardoi's bot: from now on that bot writes to her, and the digest drops her.
    core.handle(core_inbound("hardoi", "/start"))
    with session_scope(district) as session:
        sunita = session.exec(select(Person).where(Person.phone == SUNITA_PHONE)).one()
        outbox.enqueue(
            session=session,
            job="reminder",
            day=dt.date(2026, 11, 24),
            messages=[outbox.Message(sunita, "याद दिलाना")],
            now=dt.datetime(2026, 11, 24, 11, 30, tzinfo=dt.UTC),
            settings=many,
        )
        assert session.exec(select(Outbox.lane).where(Outbox.job == "reminder")).all() == [
            "telegram:hardoi"
        ]
        text = "\n".join(m.text for m in digests.supervisor_digests(session, many, day))
        assert "HardoiAyushmanBot" not in text

    with FakeTelegramAPI(token="111:hardoi-bot") as hardoi, FakeTelegramAPI(token="222:up-bot") as up:

        async def send() -> int:
            bots = [Bot(api.token, base_url=api.base_url) for api in (hardoi, up)]
            channels = {
                "telegram:hardoi": TelegramChannel(bots[0]),
                "telegram:up": TelegramChannel(bots[1]),
            }
            sender = OutboxSender(
                district, many, channels, clock=lambda: dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
            )
            try:
                return await sender.drain_once()
            finally:
                for channel in channels.values():
                    await channel.close()

        assert asyncio.run(send()) == 2
    with Session(district) as session:
        left = session.exec(select(Outbox).where(col(Outbox.status).in_(("pending", "sending")))).all()
        assert left == []
    # Each lane went out through its own bot.
    assert texts(hardoi, SUNITA_TG) == ["याद दिलाना"]
    [start] = texts(up, SUNITA_TG)
    assert "Sunita" in start


def core_inbound(bot: str | None, text: str) -> Inbound:
    return Inbound(
        channel="telegram",
        dedup_key=f"tg:{SUNITA_TG}:{bot}:{text}",
        sent_at=dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC),
        chat_id=str(SUNITA_TG),
        text=text,
        account=SUNITA_TG,
        via=bot,
    )


def test_within_a_lane_replies_and_reminders_go_before_digests_before_the_start_message(
    district: Engine, settings: Settings
) -> None:
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    with session_scope(district) as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))).all())[:12]
        for person in people:
            person.telegram_user_id = person.telegram_chat_id = 6000 + (person.id or 0)
            session.add(person)
        session.flush()
        for job, text in (("start_message", "सुप्रभात"), ("supervisor_digest", "सारांश")):
            outbox.enqueue(
                session=session,
                job=job,
                day=now.date(),
                messages=[outbox.Message(p, f"{text} {p.id}") for p in people],
                now=now,
                settings=settings,
            )
        # Queued last, due at the same moment: the urgent one still goes first.
        outbox.enqueue(
            session=session,
            job="reminder",
            day=now.date(),
            messages=[outbox.Message(people[0], "याद दिलाना")],
            now=now,
            settings=settings,
        )
    # Before sending: `fieldbot status` and /healthz show each lane's backlog.
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(ROOT / "config.yaml"), "status", "--json"],
        cwd=ROOT,
        env={**_env(child_url(district)), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"outbox_backlog": 25, "outbox_backlog_by_lane": {"telegram": 25}}
    with serving(create_app(build_core(settings, district))) as url:
        health = httpx.get(f"{url}/healthz").json()
    assert health["outbox_backlog_by_lane"] == {"telegram": 25}
    with FakeTelegramAPI(token="333:one-bot") as api:

        async def send() -> int:
            channel = TelegramChannel(Bot(api.token, base_url=api.base_url))
            sender = OutboxSender(district, settings, {"telegram": channel}, clock=lambda: now)
            try:
                return await sender.drain_once()
            finally:
                await channel.close()

        assert asyncio.run(send()) == 25
    sent = [str(c.params["text"]).split()[0] for c in api.calls_for("sendMessage")]
    assert sent == ["याद"] + ["सारांश"] * 12 + ["सुप्रभात"] * 12


@pytest.mark.parametrize("paid", [False, True], ids=["free", "paid"])
def test_paid_broadcasts_are_asked_for_only_when_chosen_and_only_for_broadcasts(
    district: Engine, settings: Settings, paid: bool
) -> None:
    """`telegram.allow_paid_broadcast`: the start message and digests go with Telegram's paid flag
    and the bot's higher rate; a message to one person (a problem notice) never pays."""
    chosen = settings.model_copy(
        update={"telegram": settings.telegram.model_copy(update={"allow_paid_broadcast": paid})}
    )
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    with session_scope(district) as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))).all())[:5]
        for person in people:
            person.telegram_user_id = person.telegram_chat_id = 7000 + (person.id or 0)
            session.add(person)
        session.flush()
        outbox.enqueue(
            session=session,
            job="start_message",
            day=now.date(),
            messages=[outbox.Message(p, f"सुप्रभात {p.id}") for p in people],
            now=now,
            settings=chosen,
        )
        outbox.enqueue(
            session=session,
            job="problem_notice",
            day=now.date(),
            messages=[outbox.Message(people[0], "समस्या की सूचना")],
            now=now,
            settings=chosen,
        )
    (spec,) = bots.specs(chosen, environ={"TELEGRAM_BOT_TOKEN": "444:paid"})
    assert spec.paid_broadcast is paid
    with FakeTelegramAPI(token="444:paid") as api:

        async def send() -> tuple[int, float]:
            channel = TelegramChannel(Bot(api.token, base_url=api.base_url), paid=spec.paid_broadcast)
            sender = OutboxSender(district, chosen, {"telegram": channel}, clock=lambda: now)
            try:
                limits = sender.limits_for("telegram", "telegram")
                assert limits is not None
                return await sender.drain_once(), limits.per_second
            finally:
                await channel.close()

        sent, rate = asyncio.run(send())
    assert sent == 6
    assert rate == (chosen.telegram.paid_per_second if paid else chosen.sending.telegram_per_second)
    flags = {
        str(c.params["text"]): c.params.get("allow_paid_broadcast") for c in api.calls_for("sendMessage")
    }
    assert flags.pop("समस्या की सूचना") is None
    assert len(flags) == 5 and set(flags.values()) == ({True} if paid else {None})


def test_one_bot_told_to_slow_down_never_holds_up_another(district: Engine, settings: Settings) -> None:
    """A 429 from one district's bot pauses that bot's lane alone: the other bot sends all of its."""
    many = bots_settings(settings)
    now = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
    with session_scope(district) as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))).all())[:6]
        for n, person in enumerate(people):
            session.add(
                Outbox(
                    idempotency_key=f"slow-{n}",
                    person_id=person.id,
                    job="start_message",
                    day=now.date(),
                    channel="telegram",
                    address=str(8000 + n),
                    text=f"सुप्रभात {n}",
                    lane="telegram:hardoi" if n % 2 == 0 else "telegram:up",
                    next_attempt_at=now,
                )
            )
    with FakeTelegramAPI(token="111:hardoi-bot") as hardoi, FakeTelegramAPI(token="222:up-bot") as up:
        hardoi.fail_next("sendMessage", status=429, retry_after=30)

        async def send() -> int:
            channels = {
                "telegram:hardoi": TelegramChannel(Bot(hardoi.token, base_url=hardoi.base_url)),
                "telegram:up": TelegramChannel(Bot(up.token, base_url=up.base_url)),
            }
            sender = OutboxSender(district, many, channels, clock=lambda: now)
            try:
                return await sender.drain_once()
            finally:
                for channel in channels.values():
                    await channel.close()

        assert asyncio.run(send()) == 3
    assert sorted(str(c.params["text"]) for c in up.calls_for("sendMessage")) == [
        "सुप्रभात 1",
        "सुप्रभात 3",
        "सुप्रभात 5",
    ]
    with Session(district) as session:
        waiting = session.exec(select(Outbox).where(Outbox.lane == "telegram:hardoi")).all()
    assert {r.status for r in waiting} == {"pending"}
    assert all(r.next_attempt_at >= now + dt.timedelta(seconds=30) for r in waiting if r.last_error)

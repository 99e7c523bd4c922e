"""Telegram end to end: the real python-telegram-bot client, over HTTP, against a fake Bot API."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.channels.base import split_text
from bot.channels.telegram.application import build_application
from bot.channels.telegram.settings import file_url_for
from bot.config import Settings
from bot.core.service import Fieldbot
from bot.web import create_app
from models import InboundMessage, Outbox, Person, ReportValue
from scheduler import run_job
from tests.conftest import (
    SECRET,
    SUNITA_PHONE,
    SUNITA_TG,
    USHA,
    at,
    last_text,
    link_sunita,
    telegram_settings,
)
from tests.fakes.live import serving
from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    callback_query_update,
    contact_update,
    edited_text_update,
    text_update,
    voice_update,
)


def test_start_asks_for_the_number_with_a_button(polling: FakeTelegramAPI) -> None:
    polling.push_update(text_update("/start", user_id=SUNITA_TG))
    call = polling.wait_for("sendMessage")[0]
    assert "नंबर" in call.params["text"]
    button = call.params["reply_markup"]["keyboard"][0][0]
    assert button["request_contact"] is True


def test_shared_contact_links_and_then_reports_work(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    assert "Sunita Devi" in last_text(polling, SUNITA_TG, 2)
    polling.push_update(text_update("आवेदन 25 कार्ड 20", user_id=SUNITA_TG))
    reply = last_text(polling, SUNITA_TG, 3)
    assert "आवेदन: 25" in reply and "कार्ड: 20" in reply
    with Session(district) as session:
        person = session.exec(select(Person).where(Person.telegram_user_id == SUNITA_TG)).one()
        assert person.phone == SUNITA_PHONE
        assert session.exec(select(func.sum(ReportValue.value))).one() == 45


def test_someone_elses_contact_is_not_accepted(polling: FakeTelegramAPI, district: Engine) -> None:
    polling.push_update(contact_update(SUNITA_PHONE, user_id=777, contact_user_id=SUNITA_TG))
    assert "अपना ही नंबर" in last_text(polling, 777, 1)
    with Session(district) as session:
        assert session.exec(select(Person).where(Person.telegram_user_id == 777)).first() is None


def test_unknown_number_is_refused_on_every_message(polling: FakeTelegramAPI) -> None:
    polling.push_update(contact_update("+919000000001", user_id=42))
    assert "सुपरवाइजर" in last_text(polling, 42, 1)
    polling.push_update(text_update("कार्ड 20", user_id=42))
    assert "नंबर" in last_text(polling, 42, 2)  # still not let in: asked for the number again


def test_edited_message_replaces_its_report(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    date = int(time.time()) - 60
    polling.push_update(text_update("आवेदन 25 कार्ड 20", user_id=SUNITA_TG, message_id=900, date=date))
    polling.wait_for("sendMessage", 3)
    polling.push_update(
        edited_text_update("आवेदन 25 कार्ड 22", user_id=SUNITA_TG, message_id=900, date=date)
    )
    reply = last_text(polling, SUNITA_TG, 4)
    assert "कार्ड: 20 → 22" in reply
    with Session(district) as session:
        assert session.exec(select(func.sum(ReportValue.value))).one() == 47


def test_redelivered_update_is_answered_but_not_counted_twice(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    update = text_update("कार्ड +5", user_id=SUNITA_TG, message_id=901)
    polling.push_update(update)
    polling.wait_for("sendMessage", 3)
    polling.push_update(update)  # same message again, as after a crash before the offset moved
    polling.wait_for("sendMessage", 4)
    with Session(district) as session:
        assert session.exec(select(func.sum(ReportValue.value))).one() == 5


def test_voice_note_is_answered_with_how_to_type(polling: FakeTelegramAPI) -> None:
    link_sunita(polling)
    polling.push_update(voice_update(user_id=SUNITA_TG))
    assert "लिखकर" in last_text(polling, SUNITA_TG, 3)


@pytest.fixture()
def webhook(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[tuple[FakeTelegramAPI, str]]:
    """`fieldbot run` with TELEGRAM_WEBHOOK_URL set: no polling, updates arrive by POST."""
    settings = telegram_settings(api, webhook=True)
    application = build_application(core, settings, webhook=True)
    with serving(create_app(core, telegram_app=application, telegram_settings=settings)) as url:
        yield api, url


def test_webhook_is_registered_with_its_secret(webhook: tuple[FakeTelegramAPI, str]) -> None:
    api, _ = webhook
    call = api.wait_for("setWebhook")[0]
    assert call.params["url"] == "https://fieldbot.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert not api.calls_for("getUpdates")


def test_webhook_update_is_processed_and_answered(
    webhook: tuple[FakeTelegramAPI, str], district: Engine
) -> None:
    api, url = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    start = {"update_id": 1, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)}
    assert httpx.post(f"{url}/telegram/webhook", json=start, headers=headers).status_code == 200
    report = {"update_id": 2, **text_update("कार्ड 12", user_id=SUNITA_TG)}
    assert httpx.post(f"{url}/telegram/webhook", json=report, headers=headers).status_code == 200
    assert "कार्ड: 12" in last_text(api, SUNITA_TG, 2)


def test_webhook_question_is_answered_by_its_button(
    webhook: tuple[FakeTelegramAPI, str], district: Engine
) -> None:
    api, url = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    start = {"update_id": 1, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)}
    assert httpx.post(f"{url}/telegram/webhook", json=start, headers=headers).status_code == 200
    unsure = {"update_id": 2, **text_update("cadrs 15", user_id=SUNITA_TG)}
    assert httpx.post(f"{url}/telegram/webhook", json=unsure, headers=headers).status_code == 200
    asked = api.wait_for("sendMessage", 2)[-1].params
    yes = asked["reply_markup"]["inline_keyboard"][0][0]
    assert yes["text"] == "✅ हाँ, सही है"
    press = callback_query_update(
        yes["callback_data"],
        user_id=SUNITA_TG,
        message_id=api.message_id_of(SUNITA_TG, asked["text"]),
    )
    assert httpx.post(f"{url}/telegram/webhook", json={"update_id": 3, **press}, headers=headers)
    assert "कार्ड: 15" in last_text(api, SUNITA_TG, 3)
    assert api.calls_for("answerCallbackQuery")[0].params["callback_query_id"]
    with Session(district) as session:
        assert session.exec(select(func.sum(ReportValue.value))).one() == 15


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x"])
def test_forged_webhook_is_refused_and_nothing_stored(
    webhook: tuple[FakeTelegramAPI, str], district: Engine, secret: str | None
) -> None:
    api, url = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    update = {"update_id": 3, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)}
    response = httpx.post(f"{url}/telegram/webhook", json=update, headers=headers)
    assert response.status_code == 403
    with Session(district) as session:
        assert session.exec(select(Person).where(Person.telegram_user_id == SUNITA_TG)).first() is None
        assert session.exec(select(func.count()).select_from(InboundMessage)).one() == 0
    assert not api.calls_for("sendMessage")


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"update_id": "x", "message": {"chat": "nope"}}, {"update_id": 4, "message": 7}],
    ids=["a-list", "garbled-message", "message-not-an-object"],
)
def test_a_garbled_update_with_the_right_secret_is_a_bad_request(
    webhook: tuple[FakeTelegramAPI, str], district: Engine, body: object
) -> None:
    api, url = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = httpx.post(f"{url}/telegram/webhook", json=body, headers=headers)
    assert response.status_code == 400
    with Session(district) as session:
        assert session.exec(select(func.count()).select_from(InboundMessage)).one() == 0
    assert not api.calls_for("sendMessage")


def test_file_url_follows_the_api_base() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


def test_long_replies_are_split_at_line_breaks() -> None:
    text = "\n".join(f"• worker {i} — 98765 4321{i % 10}" for i in range(400))
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) > 1
    assert "\n".join(pieces) == text


def test_message_date_decides_the_day(polling: FakeTelegramAPI, district: Engine) -> None:
    """A message written at 23:50 IST and delivered after midnight counts for the day written."""
    link_sunita(polling)
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    written = dt.datetime(2026, 11, 22, 23, 50, tzinfo=ist)
    polling.push_update(text_update("कार्ड 4", user_id=SUNITA_TG, date=int(written.timestamp())))
    reply = last_text(polling, SUNITA_TG, 3)
    assert "22/11" in reply


def test_a_contact_shared_in_a_group_leaves_her_private_chat_for_digests(
    polling: FakeTelegramAPI, district: Engine, settings: Settings
) -> None:
    usha_tg, group = 6101, -100_600
    polling.push_update(contact_update(f"+91{USHA}", user_id=usha_tg, first_name="Usha"))
    assert "Usha" in last_text(polling, usha_tg, 1)
    polling.push_update(contact_update(f"+91{USHA}", user_id=usha_tg, chat_id=group, first_name="Usha"))
    polling.push_update(text_update("/help", user_id=usha_tg))  # handled after the contact
    last_text(polling, usha_tg, 2)
    assert polling.sent_texts(group) == []
    with Session(district) as session:
        usha = session.exec(select(Person).where(Person.telegram_user_id == usha_tg)).one()
        assert usha.telegram_chat_id == usha_tg
    run_job(district, settings, "supervisor_digest", at(23, 18, 30))
    with Session(district) as session:
        sent = session.exec(select(Outbox).where(Outbox.person_id == usha.id)).all()
    assert sent and {(o.channel, o.address) for o in sent} == {("telegram", str(usha_tg))}


def test_an_edit_arriving_past_the_window_cannot_change_an_old_day(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    sent = int(at(10, 18).timestamp())  # 10 Nov; the bot's clock stands at 23 Nov
    polling.push_update(text_update("कार्ड 20", user_id=SUNITA_TG, message_id=902, date=sent))
    assert "कार्ड: 20" in last_text(polling, SUNITA_TG, 3)
    polling.push_update(
        edited_text_update(
            "कार्ड 90",
            user_id=SUNITA_TG,
            message_id=902,
            date=sent,
            edit_date=int(at(23, 11).timestamp()),
        )
    )
    reply = last_text(polling, SUNITA_TG, 4)
    assert "अब नहीं ली जा सकती" in reply and "2 दिन" in reply
    with Session(district) as session:
        assert session.exec(select(func.sum(ReportValue.value))).one() == 20


def test_an_edit_within_the_window_of_its_arrival_still_counts(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    link_sunita(polling)
    sent = int(at(22, 18).timestamp())
    polling.push_update(text_update("कार्ड 20", user_id=SUNITA_TG, message_id=903, date=sent))
    last_text(polling, SUNITA_TG, 3)
    polling.push_update(
        edited_text_update(
            "कार्ड 21", user_id=SUNITA_TG, message_id=903, date=sent, edit_date=int(at(23, 9).timestamp())
        )
    )
    assert "कार्ड: 20 → 21" in last_text(polling, SUNITA_TG, 4)

"""Problems on every channel: the menu as Telegram buttons, WhatsApp numbered lines and simulator
buttons; a resolution told to the worker over WhatsApp, as a template outside the 24-hour window
(or marked failed with the reason while none is set); a listed number not on the roster."""

# ruff: noqa: F811 - the WhatsApp fixtures are imported from tests/test_whatsapp.py

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.whatsapp.sending import WhatsAppChannel
from bot.channels.whatsapp.settings import TwilioSettings
from bot.config import Settings
from bot.core.service import Fieldbot
from bot.delivery.sender import OutboxSender
from bot.web import create_app
from models import Outbox, Problem
from scheduler import run_job
from tests.conftest import SUNITA, SUNITA_TG, at, link_sunita
from tests.e2e.test_whatsapp import (  # noqa: F401 - fixtures
    CONTENT,
    Clock,
    SpyCore,
    app,
    clock,
    parse,
    say,
    send,
    twilio,
    twilio_api,
    wa_core,
    whatsapp_app,
    with_templates,
)
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, callback_query_update, text_update
from tests.fakes.twilio_api import FakeTwilioAPI

WA_SUNITA = "+917973321377"
WA_RAJESH = "+918124645116"
RESOLVED_SID = "HX" + "ab" * 16
NOTICE_SID = "HX" + "cd" * 16


def problems(engine: Engine) -> list[Problem]:
    with Session(engine) as session:
        return list(session.exec(select(Problem).order_by(col(Problem.id))).all())


def outbox_rows(engine: Engine, job: str) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.job == job)).all())


def drain(engine: Engine, settings: Settings, twilio: TwilioSettings, when: dt.datetime) -> int:
    channel = WhatsAppChannel(engine, settings, twilio, clock=lambda: when)
    sender = OutboxSender(engine, settings, {"whatsapp": channel}, clock=lambda: when)
    return asyncio.run(sender.drain_once())


# ---------------------------------------------------------------- Telegram


def test_telegram_menu_buttons_report_a_problem(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update("/samasya", user_id=SUNITA_TG))
    sent = polling.wait_for("sendMessage", 3)[-1]
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard][:2] == ["ऑपरेटर आईडी बंद", "सर्वर डाउन"]
    message_id = polling.last_message_id(sent.params["text"])
    press = keyboard[1][0]["callback_data"]
    polling.push_update(callback_query_update(press, user_id=SUNITA_TG, message_id=message_id))
    saved = polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert "समस्या दर्ज हुई" in saved and "सर्वर डाउन" in saved
    assert polling.wait_for("answerCallbackQuery", 1)
    # A report and a problem in one Telegram message.
    polling.push_update(text_update("आवेदन 10 कार्ड 8\nसमस्या नेटवर्क नहीं", user_id=SUNITA_TG))
    report, problem = [c.params["text"] for c in polling.wait_for("sendMessage", 6)[-2:]]
    assert "कार्ड: 8" in report and "नेटवर्क नहीं" in problem
    assert [p.code for p in problems(district)] == ["server_down", "no_network"]


# ---------------------------------------------------------------- simulator


@pytest.fixture()
def web(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def sim(url: str, phone: str, text: str) -> list[dict[str, object]]:
    response = httpx.post(f"{url}/simulator/messages", json={"phone": phone, "text": text}, timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


def test_simulator_menu_and_resolve_buttons(web: str, district: Engine) -> None:
    menu = sim(web, SUNITA, "समस्या")
    assert menu[0]["buttons"][0] == "ऑपरेटर आईडी बंद"  # type: ignore[index]
    saved = sim(web, SUNITA, "ऑपरेटर आईडी बंद")
    assert "समस्या दर्ज हुई" in str(saved[0]["text"])
    (problem,) = problems(district)
    listed = sim(web, "8124645116", "/samasya")
    assert listed[0]["buttons"] == [f"✅ हल: #{problem.id} Sunita Devi"]
    done = sim(web, "8124645116", f"✅ हल: #{problem.id} Sunita Devi")
    assert "हल दर्ज (1)" in str(done[0]["text"])
    assert problems(district)[0].status == "resolved"
    (notice,) = outbox_rows(district, "problem_resolved")
    assert notice.channel == "simulator" and "हल हो गई" in notice.text


# ---------------------------------------------------------------- WhatsApp


def test_whatsapp_menu_is_numbered_and_a_number_answers(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    clock.now = at(23, 10)
    ((text, _),) = parse(send(twilio_api, WA_SUNITA, "/samasya"))
    assert "\n1. ऑपरेटर आईडी बंद\n2. सर्वर डाउन\n" in text and "7. अन्य" in text
    assert "सर्वर डाउन" in say(twilio_api, WA_SUNITA, "2")
    assert [p.code for p in problems(wa_core.engine)] == ["server_down"]


def test_whatsapp_resolved_notice_outside_the_window(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    engine, settings = wa_core.engine, wa_core.settings
    with whatsapp_app(wa_core, twilio, twilio_api):
        clock.now = at(21, 10)
        say(twilio_api, WA_SUNITA, "समस्या ऑपरेटर आईडी बंद")
        clock.now = at(23, 11)
        number = problems(engine)[0].id
        assert "हल दर्ज (1)" in say(twilio_api, WA_RAJESH, f"/hal {number} नई आईडी")
    # Two days later her window is closed, and no template is set: failed, with the reason.
    drain(engine, settings, twilio, at(23, 11, 1))
    (row,) = [r for r in outbox_rows(engine, "problem_resolved")]
    assert row.status == "failed" and "no template for problem_resolved" in (row.last_error or "")
    assert twilio_api.messages_to(WA_SUNITA) == []

    # With the template set, the next one goes as the template, her words on one line.
    data = settings.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["problem_resolved"] = {
        "content_sid": RESOLVED_SID,
        "variables": {"1": "name", "2": "text"},
    }
    templated = Settings.model_validate({**data, "base_dir": settings.base_dir})
    core = SpyCore(templated, engine, clock)
    with whatsapp_app(core, twilio, twilio_api):
        clock.now = at(21, 12)
        say(twilio_api, WA_SUNITA, "समस्या सर्वर डाउन")
        clock.now = at(23, 12)
        number = problems(engine)[1].id
        say(twilio_api, WA_RAJESH, f"/hal {number}")
    drain(engine, templated, twilio, at(23, 12, 1))
    (sent,) = twilio_api.messages_to(WA_SUNITA)
    assert sent.content_sid == RESOLVED_SID and sent.body is None
    assert sent.content_variables["1"] == "Sunita Devi"
    assert "सर्वर डाउन" in sent.content_variables["2"]


def test_whatsapp_listed_number_off_the_roster_gets_the_notice_template(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    engine = wa_core.engine
    it_manager = "+919811122233"
    data = wa_core.settings.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["problem_notice"] = {
        "content_sid": NOTICE_SID,
        "variables": {"1": "date", "2": "text"},
    }
    for code in data["problems"]["codes"]:
        code["notify"] = {"roles": [], "phones": [], "district_phones": {}}
        if code["key"] == "operator_id_inactive":
            code["notify"]["district_phones"] = {"Hardoi": [it_manager]}
    cfg = Settings.model_validate({**data, "base_dir": wa_core.settings.base_dir})
    core = SpyCore(cfg, engine, clock)
    with whatsapp_app(core, twilio, twilio_api):
        clock.now = at(23, 10)
        say(twilio_api, WA_SUNITA, "समस्या ऑपरेटर आईडी बंद है")
    assert run_job(engine, cfg, "problem_notice", at(23, 17, 30)) == 1
    drain(engine, cfg, twilio, at(23, 17, 31))
    (sent,) = twilio_api.messages_to(it_manager)
    assert sent.content_sid == NOTICE_SID
    assert sent.content_variables["1"] == "23/11" and "Sunita Devi" in sent.content_variables["2"]
    (row,) = outbox_rows(engine, "problem_notice")
    assert row.person_id is None and row.status == "sent"

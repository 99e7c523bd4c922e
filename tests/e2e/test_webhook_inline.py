"""Webhook answers carried in the HTTP response (TELEGRAM_WEBHOOK_ANSWER_INLINE=1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram.application import build_application
from bot.channels.telegram.settings import TelegramSettings
from bot.core.service import Fieldbot
from bot.web import create_app
from models import ReportValue
from tests.conftest import SECRET, SUNITA_PHONE, SUNITA_TG, telegram_settings
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.fixture()
def inline(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[tuple[FakeTelegramAPI, str]]:
    settings = dataclasses.replace(telegram_settings(api, webhook=True), answer_inline=True)
    application = build_application(core, settings, webhook=True)
    with serving(create_app(core, telegram_app=application, telegram_settings=settings)) as url:
        yield api, url


def test_one_text_reply_comes_back_in_the_response(
    inline: tuple[FakeTelegramAPI, str], district: Engine
) -> None:
    api, url = inline
    start = {"update_id": 1, **contact_update(SUNITA_PHONE, user_id=SUNITA_TG)}
    assert httpx.post(f"{url}/telegram/webhook", json=start, headers=HEADERS).status_code == 200
    through_api = len(api.calls_for("sendMessage"))
    report = {"update_id": 2, **text_update("कार्ड 12", user_id=SUNITA_TG)}
    response = httpx.post(f"{url}/telegram/webhook", json=report, headers=HEADERS)
    assert response.status_code == 200
    call = response.json()
    assert call["method"] == "sendMessage" and call["chat_id"] == SUNITA_TG
    assert "कार्ड: 12" in call["text"]
    assert len(api.calls_for("sendMessage")) == through_api  # nothing more went through the API
    with Session(district) as session:  # stored before it was answered
        assert session.exec(select(ReportValue.value).where(ReportValue.metric == "cards")).all() == [12]


def test_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_ANSWER_INLINE", raising=False)
    settings = TelegramSettings.from_env()
    assert settings is not None and not settings.answer_inline
    monkeypatch.setenv("TELEGRAM_WEBHOOK_ANSWER_INLINE", "1")
    settings = TelegramSettings.from_env()
    assert settings is not None and settings.answer_inline

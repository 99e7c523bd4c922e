"""Long polling runs in one process only: Telegram answers a second poller with 409 Conflict."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import Session

from bot.channels.telegram.application import build_application
from bot.channels.telegram.polling import POLLING_LEASE, PollingLeader
from bot.core.service import Fieldbot
from bot.delivery import leases
from tests.conftest import telegram_settings
from tests.fakes.telegram_api import FakeTelegramAPI, text_update


async def test_one_process_polls_and_another_takes_over(core: Fieldbot, api: FakeTelegramAPI) -> None:
    settings = telegram_settings(api, webhook=False)
    apps = [build_application(core, settings, webhook=False) for _ in range(3)]
    for app in apps:
        await app.initialize()
        await app.start()
    ttl = dt.timedelta(seconds=1)
    first, second, third = (PollingLeader(app, core.engine, ttl) for app in apps)
    try:
        for leader in (first, second, third):
            await leader.step()
        assert [first.polling, second.polling, third.polling] == [True, False, False]
        with Session(core.engine) as session:
            lease = leases.current(session=session, name=POLLING_LEASE)
            assert lease is not None and lease.holder == first.holder

        # The poller answers.
        api.push_update(text_update("/help", user_id=4242))
        await api.wait_for_async("sendMessage")

        # The poller dies without a word: its lease lapses and the next check takes it over.
        await apps[0].updater.stop()  # type: ignore[union-attr]
        await asyncio.sleep(ttl.total_seconds() + 0.2)
        await second.step()
        await third.step()
        assert [second.polling, third.polling] == [True, False]

        # A clean stop hands over at once.
        await second.stop()
        await third.step()
        assert third.polling
    finally:
        for leader in (second, third):
            await leader.stop()
        for app in apps:
            if app.running:
                await app.stop()
            await app.shutdown()

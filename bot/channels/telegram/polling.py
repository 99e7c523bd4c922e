"""Starting and stopping a bot: its webhook registered, or long polling in the one process that may."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy.engine import Engine
from telegram import Update

from bot.bots import remember_username
from bot.channels.telegram.settings import TelegramApp, TelegramSettings
from bot.core.service import Fieldbot
from bot.delivery import leases
from bot.store.db import session_scope

log = logging.getLogger("fieldbot.telegram")
# Webhook requests Telegram may have open at once (its default is 40, its most 100): the more
# arrive together, the more reports share a transaction.
WEBHOOK_CONNECTIONS = 100


POLLING_LEASE = "telegram_polling"
POLLING_TTL = dt.timedelta(seconds=15)


class PollingLeader:
    """Long polling in the one process that holds the polling lease; the others stand by.

    Telegram answers a second poller of the same bot with 409 Conflict, so with several `run`
    processes on one database exactly one polls; when it dies, another takes over within the TTL.
    """

    def __init__(
        self,
        application: TelegramApp,
        engine: Engine,
        ttl: dt.timedelta = POLLING_TTL,
        lease: str = POLLING_LEASE,
    ):
        self.application, self.engine, self.ttl = application, engine, ttl
        self.lease = lease  # each of several bots polls under its own lease
        self.holder = leases.process_id()
        self.polling = False
        self._task: asyncio.Task[None] | None = None

    def _hold(self) -> bool:
        with session_scope(self.engine) as session:
            return leases.try_acquire(session=session, name=self.lease, holder=self.holder, ttl=self.ttl)

    def _release(self) -> None:
        with session_scope(self.engine) as session:
            leases.release(session=session, name=self.lease, holder=self.holder)

    async def step(self) -> None:
        """Take or renew the lease; start polling on winning it, stop on losing it."""
        updater = self.application.updater
        assert updater is not None
        try:
            held = await asyncio.to_thread(self._hold)
        except Exception:
            log.exception("telegram polling lease check failed")
            held = False
        if held and not self.polling:
            await self.application.bot.delete_webhook()
            await updater.start_polling(allowed_updates=Update.ALL_TYPES)
            self.polling = True
            log.info("telegram: long polling in this process (%s)", self.holder)
        elif not held and self.polling:
            await updater.stop()
            self.polling = False
            log.warning("telegram: polling lease lost by %s; standing by", self.holder)

    async def _loop(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.ttl.total_seconds() / 3)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.polling and self.application.updater is not None:
            await self.application.updater.stop()
            self.polling = False
        await asyncio.to_thread(self._release)


async def start_telegram(
    application: TelegramApp,
    settings: TelegramSettings | None,
) -> None:
    """Start the application: register the webhook, or poll if this process wins the polling lease."""
    await application.initialize()
    await application.start()
    core: Fieldbot = application.bot_data["core"]
    if settings is not None and settings.bot is not None and application.bot.username:
        with session_scope(core.engine) as session:  # named to those who write to another bot
            remember_username(session, settings.bot, application.bot.username, dt.datetime.now(dt.UTC))
    if settings is not None and settings.webhook_url:
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=WEBHOOK_CONNECTIONS,
        )
        log.info("telegram: webhook mode")
    elif application.updater is not None:
        lease = (
            POLLING_LEASE
            if settings is None or settings.bot is None
            else f"{POLLING_LEASE}:{settings.bot}"
        )
        leader = PollingLeader(application, core.engine, lease=lease)
        application.bot_data["polling_leader"] = leader
        await leader.step()  # the first process up polls at once
        leader.start()


async def stop_telegram(application: TelegramApp) -> None:
    leader: PollingLeader | None = application.bot_data.get("polling_leader")
    if leader is not None:
        await leader.stop()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()

"""The python-telegram-bot application of one bot: every update translated, decided, answered."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram.answers import answer, send_replies
from bot.channels.telegram.settings import TelegramApp, TelegramSettings
from bot.channels.telegram.updates import carries_image, to_inbound, with_document, with_photo
from bot.core.batch import Batcher
from bot.core.messages import Inbound
from bot.core.service import Fieldbot

log = logging.getLogger("fieldbot.telegram")
# Updates handled at once: a whole getUpdates batch (up to 100) fits, so its reports are stored
# together (bot/batch.py).
CONCURRENT_UPDATES = 128
# Replies being sent at once. Sending a whole batch's replies together would queue them all in
# the HTTP client's connection pool, which scans its queue for every request it hands out.
SENDS_IN_FLIGHT = 16


def build_application(core: Fieldbot, settings: TelegramSettings, *, webhook: bool) -> TelegramApp:
    """The python-telegram-bot application; without an updater in webhook mode."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["core"] = core
    application.bot_data["batcher"] = Batcher(core.handle_many)
    application.bot_data["sends"] = asyncio.Semaphore(SENDS_IN_FLIGHT)
    max_photo_bytes = int(core.settings.presence.max_photo_mb * 1024 * 1024)
    max_document_bytes = int(core.settings.official.max_file_mb * 1024 * 1024)

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Translate the update, let the core decide, send what it says."""
        inbound = to_inbound(update)
        if update.callback_query is not None:
            await on_press(update.callback_query, inbound)
            return
        if inbound is None:
            return
        if settings.bot is not None:
            inbound = dataclasses.replace(inbound, via=settings.bot)
        message = update.message or update.edited_message
        fetch = message is not None and carries_image(message) and not inbound.is_edit
        # Nothing is fetched for someone the roster does not know: identify first.
        if fetch and message is not None and await asyncio.to_thread(core.knows, inbound):
            inbound = await with_photo(inbound, message, max_photo_bytes)
        if message is not None:
            # A table file is fetched only from an officer who may upload one (checked inside).
            inbound = await with_document(inbound, message, max_document_bytes, core)
        await answer(application, inbound)

    async def on_press(query: CallbackQuery, inbound: Inbound | None) -> None:
        """A button pressed: acknowledged at once, its keyboard taken away, then answered."""
        try:
            await query.answer()
        except TelegramError as exc:  # too late to acknowledge: the answer still counts
            log.warning("callback query %s not acknowledged: %s", query.id, exc)
        if inbound is None:
            return
        replies = await asyncio.to_thread(core.handle, inbound)
        if query.message is not None and replies:
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except TelegramError as exc:  # an old message may no longer be editable
                log.info("keyboard of %s not removed: %s", inbound.dedup_key, exc)
        if replies:
            await send_replies(application, inbound.chat_id, replies)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", context.error, exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application

"""Telegram adapter: Update -> Inbound, Reply -> Bot API calls. No business rules live here."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Any

from telegram import (
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.messages import Inbound, Location, Reply
from bot.service import Fieldbot

log = logging.getLogger("fieldbot.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
MAX_TEXT = 4096
MAX_CAPTION = 1024
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    base_url: str
    base_file_url: str
    webhook_url: str | None
    webhook_secret: str | None

    @classmethod
    def from_env(cls) -> TelegramSettings | None:
        token = os.environ.get("TELEGRAM_BOT_TOKEN")
        if not token:
            return None
        base = os.environ.get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL
        file_base = os.environ.get("TELEGRAM_BASE_FILE_URL") or file_url_for(base)
        return cls(
            token=token,
            base_url=base,
            base_file_url=file_base,
            webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
        )


def file_url_for(base_url: str) -> str:
    """`.../bot` -> `.../file/bot`: the download base that goes with a Bot API base."""
    head, sep, tail = base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url.rstrip("/") + "/file/bot"


UNSUPPORTED_KINDS = (
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "animation",
    "document",
    "poll",
    "dice",
    "game",
)


def to_inbound(update: Update) -> Inbound | None:
    """The neutral message for a Telegram update, or None for updates the bot ignores."""
    message: Message | None = update.message or update.edited_message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    chat = message.chat
    edit = message.edit_date
    source_key = f"tg:{chat.id}:{message.message_id}"
    dedup = f"{source_key}:{int(edit.timestamp()) if edit else 0}"
    location = None
    if message.location is not None:
        loc = message.location
        location = Location(
            loc.latitude, loc.longitude, loc.horizontal_accuracy, live=bool(loc.live_period)
        )
    unsupported = None
    if message.photo:
        unsupported = "photo"
    for kind in UNSUPPORTED_KINDS:
        if getattr(message, kind, None):
            unsupported = kind
            break
    contact = message.contact
    sent_at = message.date if message.date.tzinfo else message.date.replace(tzinfo=dt.UTC)
    return Inbound(
        channel="telegram",
        dedup_key=dedup,
        source_key=source_key,
        sent_at=sent_at,
        chat_id=str(chat.id),
        text=message.text or message.caption,
        telegram_user_id=message.from_user.id,
        is_edit=update.edited_message is not None,
        is_group=chat.type in ("group", "supergroup"),
        contact_phone=contact.phone_number if contact else None,
        contact_user_id=contact.user_id if contact else None,
        location=location,
        unsupported=unsupported,
        display_name=message.from_user.full_name,
    )


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long reply at line breaks into pieces Telegram accepts."""
    if len(text) <= limit:
        return [text]
    pieces, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


async def send_replies(
    application: TelegramApp,
    chat_id: int | str,
    replies: list[Reply],
) -> None:
    bot = application.bot
    for reply in replies:
        markup: ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
        if reply.request_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(reply.request_contact, request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
        if reply.document is not None:
            await bot.send_document(
                chat_id,
                document=reply.document.content,
                filename=reply.document.filename,
                caption=reply.text[:MAX_CAPTION] or None,
            )
            continue
        for piece in split_text(reply.text):
            await bot.send_message(chat_id, piece, reply_markup=markup)
            markup = None


def build_application(core: Fieldbot, settings: TelegramSettings, *, webhook: bool) -> TelegramApp:
    """The python-telegram-bot application; without an updater in webhook mode."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .concurrent_updates(True)
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Translate the update, let the core decide, send what it says."""
        inbound = to_inbound(update)
        if inbound is None:
            return
        replies = await asyncio.to_thread(core.handle, inbound)
        if replies:
            await send_replies(application, inbound.chat_id, replies)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", context.error, exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


async def start_telegram(
    application: TelegramApp,
    settings: TelegramSettings | None,
) -> None:
    """Start the application: register the webhook, or start long polling."""
    await application.initialize()
    await application.start()
    if settings is not None and settings.webhook_url:
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("telegram: webhook mode")
    elif application.updater is not None:
        await application.bot.delete_webhook()
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        log.info("telegram: long polling")


async def stop_telegram(application: TelegramApp) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()

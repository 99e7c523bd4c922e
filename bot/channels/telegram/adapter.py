"""Telegram adapter: Update -> Inbound, Reply -> Bot API calls. No business rules live here."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from telegram import (
    CallbackQuery,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.base import MAX_TEXT, split_text
from bot.config import Settings
from bot.core.batch import Batcher, batchable
from bot.core.messages import Inbound, Location, Reply
from bot.core.questions import button_data, read_button_data
from bot.core.service import Fieldbot
from bot.delivery import leases
from bot.store.db import session_scope

log = logging.getLogger("fieldbot.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
MAX_CAPTION = 1024
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Updates handled at once: a whole getUpdates batch (up to 100) fits, so its reports are stored
# together (bot/batch.py).
CONCURRENT_UPDATES = 128
# Replies being sent at once. Sending a whole batch's replies together would queue them all in
# the HTTP client's connection pool, which scans its queue for every request it hands out.
SENDS_IN_FLIGHT = 16
# Webhook requests Telegram may have open at once (its default is 40, its most 100): the more
# arrive together, the more reports share a transaction.
WEBHOOK_CONNECTIONS = 100


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    base_url: str
    base_file_url: str
    webhook_url: str | None
    webhook_secret: str | None
    # Answer a webhook update whose reply is one plain text message in the HTTP response itself
    # (one Bot API call Telegram makes for us), saving a request per reply. Telegram does not tell
    # the bot whether such a call succeeded, so it is off unless TELEGRAM_WEBHOOK_ANSWER_INLINE=1.
    answer_inline: bool = False
    # One of several bots (config `telegram.bots`): its name, which its messages carry; None for
    # the one bot of TELEGRAM_BOT_TOKEN.
    bot: str | None = None

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
            answer_inline=os.environ.get("TELEGRAM_WEBHOOK_ANSWER_INLINE", "") in ("1", "true", "yes"),
        )

    @classmethod
    def for_bots(cls, settings: Settings) -> list[TelegramSettings]:
        """Every Telegram bot this deployment runs: the listed bots whose token is set, else the one.

        With `telegram.bots`, each bot's webhook is TELEGRAM_WEBHOOK_URL with `/<name>` appended
        (its path `/telegram/webhook/<name>`), checked with its own secret.
        """
        from bot import bots

        if not bots.multi(settings):
            one = cls.from_env()
            return [] if one is None else [one]
        base = os.environ.get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL
        file_base = os.environ.get("TELEGRAM_BASE_FILE_URL") or file_url_for(base)
        webhook = os.environ.get("TELEGRAM_WEBHOOK_URL") or None
        inline = os.environ.get("TELEGRAM_WEBHOOK_ANSWER_INLINE", "") in ("1", "true", "yes")
        out = []
        for spec in bots.specs(settings):
            if spec.token is None:
                log.warning("telegram bot %s: its token variable is not set; not started", spec.name)
                continue
            out.append(
                cls(
                    token=spec.token,
                    base_url=base,
                    base_file_url=file_base,
                    webhook_url=f"{webhook.rstrip('/')}/{spec.name}" if webhook else None,
                    webhook_secret=spec.webhook_secret,
                    answer_inline=inline,
                    bot=spec.name,
                )
            )
        return out


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


def pressed_inbound(query: CallbackQuery) -> Inbound | None:
    """A press of one of the bot's buttons as the neutral message: who pressed which answer."""
    pressed = read_button_data(query.data)
    message = query.message
    if pressed is None or message is None or query.from_user.is_bot:
        return None
    chat = message.chat
    return Inbound(
        channel="telegram",
        dedup_key=f"tg:press:{query.id}",
        # A press carries no time of its own: it counts as made now (its question keeps its day).
        sent_at=dt.datetime.now(dt.UTC),
        chat_id=str(chat.id),
        telegram_user_id=query.from_user.id,
        is_group=chat.type in ("group", "supergroup"),
        display_name=query.from_user.full_name,
        pressed=pressed,
    )


def to_inbound(update: Update) -> Inbound | None:
    """The neutral message for a Telegram update, or None for updates the bot ignores."""
    if update.callback_query is not None:
        return pressed_inbound(update.callback_query)
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
            loc.latitude,
            loc.longitude,
            loc.horizontal_accuracy,
            live=bool(loc.live_period),
            live_period_s=_seconds(loc.live_period),
        )
    unsupported = None
    for kind in UNSUPPORTED_KINDS:
        if getattr(message, kind, None):
            unsupported = kind
            break
    if _image_document(message) or table_document(message):
        unsupported = None
    contact = message.contact
    sent_at = _aware(message.date)
    return Inbound(
        channel="telegram",
        dedup_key=dedup,
        source_key=source_key,
        sent_at=sent_at,
        chat_id=str(chat.id),
        text=message.text or message.caption,
        telegram_user_id=message.from_user.id,
        is_edit=update.message is None,  # an update carries one of the two
        edited_at=_aware(edit) if edit else None,
        is_group=chat.type in ("group", "supergroup"),
        contact_phone=contact.phone_number if contact else None,
        contact_user_id=contact.user_id if contact else None,
        location=location,
        unsupported=unsupported,
        display_name=message.from_user.full_name,
        forwarded=message.forward_origin is not None,
    )


# Keys a message may have besides its text and still be a plain text message: nothing in them
# changes what the bot does with it.
PLAIN_MESSAGE_KEYS = frozenset(
    {"message_id", "date", "chat", "from", "text", "entities", "link_preview_options"}
)


def plain_text_inbound(data: object) -> Inbound | None:
    """The Inbound of an update that is a new plain text message, read from its JSON directly.

    What `to_inbound` makes of the same update, without building python-telegram-bot's objects
    (the largest cost of a webhook request). Any other update, or anything unexpected, gives None
    and is read by python-telegram-bot as usual.
    """
    if not isinstance(data, dict) or data.keys() != {"update_id", "message"}:
        return None
    message = data["message"]
    if not isinstance(message, dict) or not message.keys() <= PLAIN_MESSAGE_KEYS:
        return None
    chat, user = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not isinstance(user, dict):
        return None
    text, date, message_id = message.get("text"), message.get("date"), message.get("message_id")
    chat_id, user_id = chat.get("id"), user.get("id")
    first, last = user.get("first_name"), user.get("last_name")
    if (
        not isinstance(text, str)
        or not text
        or not all(type(v) is int for v in (data["update_id"], date, message_id, chat_id, user_id))
        or not isinstance(chat.get("type"), str)
        or user.get("is_bot") is not False
        or not isinstance(first, str)
        or not isinstance(last, str | None)
    ):
        return None
    assert isinstance(date, int)
    source_key = f"tg:{chat_id}:{message_id}"
    return Inbound(
        channel="telegram",
        dedup_key=f"{source_key}:0",
        source_key=source_key,
        sent_at=dt.datetime.fromtimestamp(date, dt.UTC),
        chat_id=str(chat_id),
        text=text,
        telegram_user_id=user_id,
        is_group=chat["type"] in ("group", "supergroup"),
        display_name=f"{first} {last}" if last else first,
    )


def _seconds(value: int | dt.timedelta | None) -> int | None:
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return value


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _image_document(message: Message) -> bool:
    document = message.document
    return document is not None and (document.mime_type or "").startswith("image/")


def carries_image(message: Message) -> bool:
    """A photo, or an image sent as a file."""
    return bool(message.photo) or _image_document(message)


# A file of figures (the official portal's counts) by its name, or else by its declared type.
TABLE_SUFFIXES = (".xlsx", ".csv")
TABLE_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/comma-separated-values": ".csv",
}


def table_document(message: Message) -> str | None:
    """The file name to read a document by, when it is an .xlsx or .csv file; else None."""
    document = message.document
    if document is None:
        return None
    name = (document.file_name or "").strip()
    if name.casefold().endswith(TABLE_SUFFIXES):
        return name
    suffix = TABLE_TYPES.get(document.mime_type or "")
    return f"{name or 'file'}{suffix}" if suffix else None


def _may_upload(core: Fieldbot, telegram_user_id: int | None) -> bool:
    if telegram_user_id is None:
        return False
    from bot.official import may_upload

    with session_scope(core.engine) as session:
        return may_upload(session=session, telegram_user_id=telegram_user_id)


async def with_document(inbound: Inbound, message: Message, max_bytes: int, core: Fieldbot) -> Inbound:
    """Fetch a table file a district officer or admin sent in a private chat into the Inbound.
    Nothing is downloaded from anyone else, from a group, on an edit, or that is declared larger
    than the limit: the core answers those from the file's name alone."""
    name = table_document(message)
    if name is None or inbound.is_edit:
        return inbound
    inbound = dataclasses.replace(inbound, document_name=name)
    if inbound.is_group or not await asyncio.to_thread(_may_upload, core, inbound.telegram_user_id):
        return inbound
    assert message.document is not None
    size = message.document.file_size
    if size is not None and size > max_bytes:
        return dataclasses.replace(inbound, document_refused="too_large")
    try:
        file = await message.document.get_file()
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("document %s could not be fetched: %s", inbound.dedup_key, exc)
        return dataclasses.replace(inbound, document_refused="unavailable")
    if len(data) > max_bytes:
        return dataclasses.replace(inbound, document_refused="too_large")
    return dataclasses.replace(inbound, document=data)


async def with_photo(inbound: Inbound, message: Message, max_bytes: int) -> Inbound:
    """Fetch the photo of a message (the largest size, or an image sent as a file) into the Inbound.

    Nothing is downloaded that is declared larger than the limit; an edit's photo is not fetched
    again (only its caption can change).
    """
    if inbound.is_edit:
        return inbound
    if message.photo:
        source: PhotoSize | Document = message.photo[-1]
        as_file = False
    elif _image_document(message):
        assert message.document is not None
        source, as_file = message.document, True
    else:
        return inbound
    if source.file_size is not None and source.file_size > max_bytes:
        return dataclasses.replace(inbound, photo_refused="too_large", photo_file=as_file)
    try:
        file = await source.get_file()
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("photo %s could not be fetched: %s", inbound.dedup_key, exc)
        return dataclasses.replace(inbound, photo_refused="unavailable", photo_file=as_file)
    return dataclasses.replace(inbound, photo=data, photo_file=as_file)


# Set by the webhook route for the update it is processing: the handler may leave its one reply
# here, as a Bot API call for the HTTP response, instead of sending it.
INLINE_ANSWER: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "telegram_inline_answer", default=None
)


def inline_answer(chat_id: int | str, replies: list[Reply]) -> dict[str, Any] | None:
    """The sendMessage call for a webhook response, when the replies are one plain text message."""
    if len(replies) != 1:
        return None
    reply = replies[0]
    if reply.document is not None or not reply.text or len(reply.text) > MAX_TEXT:
        return None
    call: dict[str, Any] = {"method": "sendMessage", "chat_id": chat_id, "text": reply.text}
    if not reply.preview:
        call["link_preview_options"] = {"is_disabled": True}
    markup = reply_markup(reply)
    if markup is not None:
        call["reply_markup"] = markup.to_dict()
    return call


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """A question's answers as inline buttons, one a row, each naming its question and place;
    or the share-my-number button."""
    if reply.buttons and reply.question is not None:
        question = reply.question
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=button_data(question, index))]
                for index, label in enumerate(reply.buttons)
            ]
        )
    if reply.request_contact:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.request_contact, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return None


async def send_replies(
    application: TelegramApp,
    chat_id: int | str,
    replies: list[Reply],
) -> None:
    sends: asyncio.Semaphore | None = application.bot_data.get("sends")
    if sends is None:
        await _send_replies(application, chat_id, replies)
        return
    async with sends:
        await _send_replies(application, chat_id, replies)


async def _send_replies(application: TelegramApp, chat_id: int | str, replies: list[Reply]) -> None:
    bot = application.bot
    for reply in replies:
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
        markup = reply_markup(reply)
        if reply.document is not None:
            await bot.send_document(
                chat_id,
                document=reply.document.content,
                filename=reply.document.filename,
                caption=reply.text[:MAX_CAPTION] or None,
            )
            continue
        previews = None if reply.preview else LinkPreviewOptions(is_disabled=True)
        pieces = split_text(reply.text)
        for number, piece in enumerate(pieces, 1):
            # A question's buttons go under its last piece, a contact button under its first.
            last = number == len(pieces)
            keyboard = markup if (last or not reply.buttons) else None
            await bot.send_message(chat_id, piece, reply_markup=keyboard, link_preview_options=previews)
            if keyboard is not None:
                markup = None


async def answer(application: TelegramApp, inbound: Inbound) -> None:
    """Let the core decide on one message, then send its replies (or leave them to the webhook)."""
    core: Fieldbot = application.bot_data["core"]
    batcher: Batcher = application.bot_data["batcher"]
    if batchable(core, inbound):
        replies = await batcher.submit(inbound)
    else:
        replies = await asyncio.to_thread(core.handle, inbound)
    if not replies:
        return
    holder = INLINE_ANSWER.get()
    if holder is not None and not holder:
        call = inline_answer(int(inbound.chat_id), replies)
        if call is not None:
            holder.append(call)  # stored already: the web route answers with it
            return
    await send_replies(application, inbound.chat_id, replies)


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
            inbound = dataclasses.replace(inbound, bot=settings.bot)
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
        from bot.bots import remember_username

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

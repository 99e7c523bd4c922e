"""Telegram update -> Inbound: the message, a button pressed, the photo or table file it carries.

No business rules live here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging

from telegram import CallbackQuery, Document, Message, PhotoSize, Update
from telegram.error import TelegramError

from bot.core.messages import Inbound, Location
from bot.core.questions import read_button_data
from bot.core.service import Fieldbot
from bot.official.read import may_upload
from bot.store.db import session_scope

log = logging.getLogger("fieldbot.telegram")


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
        account=query.from_user.id,
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
        account=message.from_user.id,
        is_edit=update.message is None,  # an update carries one of the two
        edited_at=_aware(edit) if edit else None,
        is_group=chat.type in ("group", "supergroup"),
        contact_phone=contact.phone_number if contact else None,
        contact_account=contact.user_id if contact else None,
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
        account=user_id,
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
    if inbound.is_group or not await asyncio.to_thread(_may_upload, core, inbound.account):
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

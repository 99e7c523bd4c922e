"""Reply -> Bot API calls: a message's answers sent, or left for the webhook's HTTP response."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.base import MAX_TEXT, split_text
from bot.channels.telegram.settings import TelegramApp
from bot.core.batch import Batcher, batchable
from bot.core.messages import Inbound, Reply
from bot.core.questions import button_data
from bot.core.service import Fieldbot

log = logging.getLogger("fieldbot.telegram")
MAX_CAPTION = 1024


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

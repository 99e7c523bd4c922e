"""Replies as TwiML, the answer to the webhook request: split, with numbered answers, files as links."""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import split_text
from bot.channels.whatsapp.settings import MAX_TEXT
from bot.core.messages import Document, Reply


def twiml(replies: list[Reply], link: Callable[[Document], str]) -> str:
    """The replies as TwiML <Message>s, split at 1,500 characters; a file goes as a link to it."""
    response = MessagingResponse()
    for reply in replies:
        text = with_numbered_answers(reply)
        pieces = split_text(text, MAX_TEXT) if text else []
        if reply.document is not None:
            message = response.message()
            if pieces:
                message.body(pieces.pop(0))
            message.media(link(reply.document))
        for piece in pieces:
            response.message(piece)
    return str(response)


def with_numbered_answers(reply: Reply) -> str:
    """A question's answers as numbered lines under its text (`1. ✅ हाँ, सही है`): WhatsApp has
    no buttons for a free-form reply, so she answers with the number or the words."""
    if not reply.buttons:
        return reply.text
    lines = "\n".join(f"{number}. {label}" for number, label in enumerate(reply.buttons, 1))
    return f"{reply.text}\n\n{lines}"

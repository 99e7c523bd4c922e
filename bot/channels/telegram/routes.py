"""Telegram's webhooks: `POST /telegram/webhook` for the one bot, `/telegram/webhook/<name>` for each
of several; the bots start and stop with the web app."""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
from collections.abc import Collection
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.channels.telegram.answers import INLINE_ANSWER, answer
from bot.channels.telegram.polling import start_telegram, stop_telegram
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.updates import plain_text_inbound
from bot.core.messages import Inbound

log = logging.getLogger("fieldbot.web")


class TelegramWebhooks:
    """The web app's Telegram part: the one bot of TELEGRAM_BOT_TOKEN (`telegram_app`, webhook or
    polling) and several bots (config `telegram.bots`), each at `/telegram/webhook/<name>`."""

    def __init__(
        self,
        telegram_app: Any = None,
        telegram_settings: TelegramSettings | None = None,
        telegram_bots: Collection[tuple[Any, TelegramSettings]] = (),
    ):
        self.telegram_app = telegram_app
        self.telegram_settings = telegram_settings
        self.by_name = {tg.bot: (bot_app, tg) for bot_app, tg in telegram_bots if tg.bot is not None}

    def routes(self) -> list[Route]:
        return [
            Route("/telegram/webhook", self.telegram_webhook, methods=["POST"]),
            Route("/telegram/webhook/{bot}", self.bot_webhook, methods=["POST"]),
        ]

    async def start(self) -> None:
        if self.telegram_app is not None:
            await start_telegram(self.telegram_app, self.telegram_settings)
        for bot_app, tg in self.by_name.values():
            await start_telegram(bot_app, tg)

    async def stop(self) -> None:
        if self.telegram_app is not None:
            await stop_telegram(self.telegram_app)
        for bot_app, _ in self.by_name.values():
            await stop_telegram(bot_app)

    async def telegram_webhook(self, request: Request) -> Response:
        return await webhook(request, self.telegram_app, self.telegram_settings)

    async def bot_webhook(self, request: Request) -> Response:
        found = self.by_name.get(request.path_params["bot"])
        if found is None:
            return PlainTextResponse("no such telegram bot", status_code=404)
        return await webhook(request, *found)


async def webhook(
    request: Request, telegram_app: Any, telegram_settings: TelegramSettings | None
) -> Response:
    """One update Telegram posts: checked by its secret, read, answered (maybe in the response)."""
    if telegram_app is None or telegram_settings is None:
        return PlainTextResponse("telegram webhook is not enabled", status_code=404)
    webhook_secret = telegram_settings.webhook_secret
    answer_inline = telegram_settings.answer_inline
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not webhook_secret or not hmac.compare_digest(given.encode(), webhook_secret.encode()):
        log.warning(
            "telegram webhook: wrong or missing secret from %s",
            request.client.host if request.client else "?",
        )
        return PlainTextResponse("forbidden", status_code=403)
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return PlainTextResponse("bad request", status_code=400)
    # A plain text message (most of a campaign evening's traffic) is read from its JSON;
    # python-telegram-bot reads everything else.
    inbound = plain_text_inbound(data)
    if inbound is not None:
        if telegram_settings.bot is not None:
            inbound = dataclasses.replace(inbound, via=telegram_settings.bot)
        work = _answer_plain(telegram_app, inbound)
    else:
        try:
            update = Update.de_json(data, telegram_app.bot)
        except (TypeError, KeyError, ValueError, AttributeError, RecursionError):  # not an Update
            return PlainTextResponse("bad request", status_code=400)
        if update is None:
            return PlainTextResponse("bad request", status_code=400)
        work = telegram_app.process_update(update)
    if not answer_inline:
        await work
        return Response(status_code=200)
    holder: list[dict[str, Any]] = []
    token = INLINE_ANSWER.set(holder)
    try:
        await work
    finally:
        INLINE_ANSWER.reset(token)
    if holder:
        # Sent only now, after the message is stored: Telegram makes this call for us.
        return JSONResponse(holder[0])
    return Response(status_code=200)


async def _answer_plain(telegram_app: Any, inbound: Inbound) -> None:
    try:
        await answer(telegram_app, inbound)
    except Exception:
        log.exception("telegram update %s failed", inbound.dedup_key)

"""Telegram's settings from the environment: each bot's token, Bot API addresses and webhook."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from bot import bots
from bot.config import Settings

log = logging.getLogger("fieldbot.telegram")
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


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

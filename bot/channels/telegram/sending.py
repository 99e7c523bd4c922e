"""Scheduled messages through the Bot API: TelegramChannel, the outbox sender's Telegram lanes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.base import SendFailed, split_text
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.wire import Pool, WireError
from models import Outbox


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def sending_bot(settings: TelegramSettings) -> Bot:
    """The Bot API client of a process that sends but does not receive (scheduler, digest)."""
    return Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url)


async def started_channel(settings: TelegramSettings, *, paid: bool = False) -> TelegramChannel:
    """A send-only channel with its Bot API client started; `shutdown()` when done."""
    bot = sending_bot(settings)
    await bot.initialize()
    return TelegramChannel(bot, paid=paid)


class TelegramChannel:
    """Sends through the Bot API; Telegram's refusals become SendFailed.

    A plain text message goes as one direct Bot API request on the bot's own HTTP client, read
    with the few fields that matter (python-telegram-bot's objects for every reply cost more CPU
    than the rest of sending); photos and anything else go through python-telegram-bot.
    `paid` sends broadcasts with Telegram's paid higher rate (allow_paid_broadcast).
    """

    def __init__(self, bot: Bot, *, paid: bool = False):
        self.bot = bot
        self.paid = paid
        self._pool: Pool | None = None
        self._prefix = ""

    def _wire(self) -> Pool:
        if self._pool is None:
            parts = urlsplit(self.bot.base_url)
            self._pool = Pool(f"{parts.scheme}://{parts.netloc}", size=8)
            self._prefix = parts.path.rstrip("/")
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def shutdown(self) -> None:
        """Stop the Bot API client of a channel made by `started_channel`."""
        await self.bot.shutdown()

    async def _post(self, method: str, data: dict[str, object]) -> None:
        pool = self._wire()
        try:
            status, body = await pool.post_json(f"{self._prefix}/{method}", data)
        except WireError as exc:
            raise SendFailed(f"network: {exc}") from None
        if isinstance(body, dict) and body.get("ok") is True:
            return
        described = str(body.get("description", "")) if isinstance(body, dict) else ""
        parameters = body.get("parameters") if isinstance(body, dict) else None
        if status == 429 or (isinstance(parameters, dict) and "retry_after" in parameters):
            after = parameters.get("retry_after", 1) if isinstance(parameters, dict) else 1
            raise SendFailed("telegram asked to slow down", retry_after=float(after))
        if status == 403:
            raise SendFailed(f"blocked or left: {described}", permanent=True)
        if status == 400:
            raise SendFailed(f"refused: {described}", permanent=True)
        raise SendFailed(f"network: HTTP {status} {described}".rstrip())

    async def send(self, row: Outbox) -> None:
        chat_id = int(row.address or 0)
        broadcast = self.paid and row.job in BROADCAST_JOBS
        try:
            if row.attachment is not None:
                await self.bot.send_photo(
                    chat_id,
                    photo=row.attachment,
                    caption=row.text[:1024],
                    allow_paid_broadcast=broadcast or None,
                )
                if len(row.text) > 1024:
                    await self.bot.send_message(
                        chat_id, row.text, allow_paid_broadcast=broadcast or None
                    )
                return
        except RetryAfter as exc:
            raise SendFailed(
                "telegram asked to slow down", retry_after=_seconds(exc.retry_after)
            ) from None
        except Forbidden as exc:
            raise SendFailed(f"blocked or left: {exc.message}", permanent=True) from None
        except BadRequest as exc:
            raise SendFailed(f"refused: {exc.message}", permanent=True) from None
        except (NetworkError, TelegramError) as exc:
            raise SendFailed(f"network: {exc}") from None
        for piece in split_text(row.text):
            data: dict[str, object] = {"chat_id": chat_id, "text": piece}
            if broadcast:
                data["allow_paid_broadcast"] = True
            await self._post("sendMessage", data)


BROADCAST_JOBS = frozenset(
    {"start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest"}
)

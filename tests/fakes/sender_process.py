"""A sender process for crash tests: drains the outbox to a (fake) Bot API until killed.

python -m tests.fakes.sender_process CONFIG DATABASE_URL BASE_URL TOKEN
"""

from __future__ import annotations

import asyncio
import sys

from telegram import Bot

from bot.channels.telegram.sending import TelegramChannel
from bot.config import load_settings
from bot.delivery.sender import OutboxSender
from bot.store.db import make_engine


async def main(config: str, url: str, base_url: str, token: str) -> None:
    settings = load_settings(config)
    engine = make_engine(url)
    bot = Bot(token, base_url=base_url)
    async with bot:
        sender = OutboxSender(engine, settings, {"telegram": TelegramChannel(bot)})
        await sender.run(asyncio.Event(), idle=0.2)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))

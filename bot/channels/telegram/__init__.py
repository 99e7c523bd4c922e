"""Telegram through python-telegram-bot: updates in, replies and scheduled messages out."""

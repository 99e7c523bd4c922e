"""Logging that never writes a full phone number: every record is masked on its way out."""

from __future__ import annotations

import logging
import re
from typing import IO

# An Indian mobile however it is written: +91 98765 43210, 919876543210, 09876543210, 9876543210.
PHONE = re.compile(r"(?<!\d)(?:\+?91[\s-]?|0)?([6-9]\d{4})[\s-]?(\d{5})(?!\d)")
QUIET = ("httpx", "httpcore", "apscheduler", "alembic", "twilio")


def mask_numbers(text: str) -> str:
    """Keep the last four digits of every mobile number in a text, as mask_phone does."""
    return PHONE.sub(lambda m: "******" + m.group(2)[-4:], text)


class PhoneMask(logging.Filter):
    """Rewrites each record's final message, arguments and traceback included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = mask_numbers(message), None
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        return True


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger, masking numbers; chatty libraries only warn."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMask())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in QUIET:  # httpx logs request URLs, which carry the bot token
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler

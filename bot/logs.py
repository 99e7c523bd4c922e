"""Logging that never writes a full phone number, and whose every record is one line.

Every record is masked on its way out; control characters (a newline in a value from a request
could forge a record) are written as escapes, and every line of a traceback is indented, so no
line of it passes for a record of its own.
"""

from __future__ import annotations

import logging
import re
from typing import IO

# An Indian mobile however it is written: +91 98765 43210, 919876543210, 09876543210, 9876543210.
PHONE = re.compile(r"(?<!\d)(?:\+?91[\s-]?|0)?([6-9]\d{4})[\s-]?(\d{5})(?!\d)")
QUIET = ("httpx", "httpcore", "apscheduler", "alembic", "twilio")
# C0 and C1 controls, DEL, and Unicode's line and paragraph separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_INDENT = "    "
MARK = "_fieldbot_masked"


def mask_numbers(text: str) -> str:
    """Keep the last four digits of every mobile number in a text, as mask_phone does."""
    return PHONE.sub(lambda m: "******" + m.group(2)[-4:], text)


def escape_controls(text: str) -> str:
    """The text with each control character written as its escape: it cannot break a log line."""
    return CONTROL.sub(lambda m: NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def _indented(text: str) -> str:
    """A traceback whose every line starts with spaces, its control characters escaped."""
    return "\n".join(TRACEBACK_INDENT + escape_controls(line) for line in text.splitlines())


class PhoneMask(logging.Filter):
    """Rewrites each record's final message, arguments and traceback included: numbers masked,
    control characters escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, MARK, False):
            return True  # a record passes every handler; it is rewritten once
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = escape_controls(mask_numbers(message)), None
        if record.exc_text:
            record.exc_text = _indented(mask_numbers(record.exc_text))
        if record.stack_info:
            record.stack_info = _indented(mask_numbers(record.stack_info))
        setattr(record, MARK, True)
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

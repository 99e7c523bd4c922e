"""Indian mobile numbers as people write them, stored as E.164 (+919876543210)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


class PhoneError(ValueError):
    """Not a number we can store; the message says why."""


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of an Indian mobile written any common way, or raise PhoneError."""
    text = _SEPARATORS.sub("", raw.strip())
    text = text.removeprefix("whatsapp:")
    if text.startswith("+"):
        if not text[1:].isdigit():
            raise PhoneError(f"{raw.strip()!r} has characters that are not digits")
        if not text.startswith("+91"):
            raise PhoneError(f"{raw.strip()!r} is not an Indian (+91) number")
        digits = text[3:]
    else:
        if not text.isdigit():
            raise PhoneError(f"{raw.strip()!r} has characters that are not digits")
        digits = text
        if len(digits) == 13 and digits.startswith("091"):
            digits = digits[3:]
        elif len(digits) == 12 and digits.startswith("91"):
            digits = digits[2:]
        elif len(digits) == 11 and digits.startswith("0"):
            digits = digits[1:]
    if len(digits) != 10:
        raise PhoneError(f"{raw.strip()!r} does not have 10 digits after the country code")
    if digits[0] not in "6789":
        raise PhoneError(f"{raw.strip()!r} is not a mobile number (must start with 6, 7, 8 or 9)")
    return "+91" + digits


def mask_phone(e164: str) -> str:
    """+919876543210 -> +91******3210, for logs."""
    if len(e164) < 7:
        return "***"
    return e164[:3] + "*" * (len(e164) - 7) + e164[-4:]


def local_phone(e164: str) -> str:
    """+919876543210 -> 98765 43210, the way a supervisor dials it."""
    digits = e164.removeprefix("+91")
    return f"{digits[:5]} {digits[5:]}" if len(digits) == 10 else e164

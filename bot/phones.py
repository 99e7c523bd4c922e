"""Indian mobile numbers as people write them, stored as E.164 (+919876543210)."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_SEPARATORS = re.compile(r"[\s\-().\u200b-\u200d\u2060\ufeff]")


class PhoneError(ValueError):
    """Not a number we can store; the message says why."""


def _ascii_digits(text: str) -> str:
    """Every decimal digit of any script (९, ৯, ９...) as its ASCII digit; other characters kept."""
    return "".join(
        str(unicodedata.decimal(ch))
        if not ch.isascii() and unicodedata.decimal(ch, None) is not None
        else ch
        for ch in text
    )


def normalize_phone(raw: str) -> str:
    """The ASCII E.164 form (+919876543210) of an Indian mobile written any common way.

    The one function every way in uses: roster cells, the command line, WhatsApp's `From`, a
    shared Telegram contact. Digits of any script count; the number is parsed by the phonenumbers
    library (region IN). Raises PhoneError saying why a number is refused."""
    shown = raw.strip()
    text = _SEPARATORS.sub("", _ascii_digits(unicodedata.normalize("NFKC", shown)))
    text = text.removeprefix("whatsapp:")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits:
        raise PhoneError("is empty")
    if not digits.isascii() or not digits.isdigit():
        raise PhoneError(f"{shown!r} has characters that are not digits")
    if not plus and digits.startswith("00"):  # 0091 98765 43210: the international prefix
        plus, digits = True, digits[2:]
    elif not plus and len(digits) == 13 and digits.startswith("091"):
        plus, digits = True, digits[1:]
    if plus and not digits.startswith("91"):
        raise PhoneError(f"{shown!r} is not an Indian (+91) number")
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "IN")
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{shown!r} does not have 10 digits after the country code") from None
    national = str(number.national_number)
    if number.country_code != 91:
        raise PhoneError(f"{shown!r} is not an Indian (+91) number")
    if len(national) != 10:
        raise PhoneError(f"{shown!r} does not have 10 digits after the country code")
    # Every Indian mobile starts with 6-9. The library's finer ranges are not required: its
    # metadata lags the series the regulator opens, and a real worker must not be refused for that.
    if national[0] not in "6789" or not phonenumbers.is_possible_number(number):
        raise PhoneError(f"{shown!r} is not a mobile number (must start with 6, 7, 8 or 9)")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert e164.isascii() and e164 == "+91" + national
    return e164


def mask_phone(e164: str) -> str:
    """+919876543210 -> +91******3210, for logs."""
    if len(e164) < 7:
        return "***"
    return e164[:3] + "*" * (len(e164) - 7) + e164[-4:]


def local_phone(e164: str) -> str:
    """+919876543210 -> 98765 43210, the way a supervisor dials it."""
    digits = e164.removeprefix("+91")
    return f"{digits[:5]} {digits[5:]}" if len(digits) == 10 else e164

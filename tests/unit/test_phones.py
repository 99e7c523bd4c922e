"""Indian mobile numbers as people write them, stored as E.164."""

from __future__ import annotations

import pytest

from bot.phones import PhoneError, local_phone, mask_phone, normalize_phone

SUNITA = "+917973321377"


@pytest.mark.parametrize(
    "written",
    [
        "7973321377",
        "07973321377",
        "+917973321377",
        "917973321377",
        "+91 79733 21377",
        "+91-797-332-1377",
        "(0) 79733 21377",
        "0091 79733 21377",
        "0917973321377",
        "whatsapp:+917973321377",
        "७९७३३२१३७७",  # Devanagari digits
        "７９７３３２１３７７",  # full-width digits
        "79733\u200b21377",  # a zero-width space pasted from a chat
        " 7973321377 ",
    ],
)
def test_a_mobile_written_any_common_way_is_stored_the_same(written: str) -> None:
    assert normalize_phone(written) == SUNITA


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("79733abc77", "not digits"),
        ("+447911123456", "not an Indian"),
        ("0044 7911 123456", "not an Indian"),
        ("797332137", "10 digits"),
        ("79733213770", "10 digits"),
        ("5973321377", "not a mobile"),
        ("0120 4567890", "not a mobile"),  # a landline in Noida
    ],
)
def test_a_number_that_cannot_be_stored_is_refused_with_a_reason(written: str, reason: str) -> None:
    with pytest.raises(PhoneError, match=reason):
        normalize_phone(written)


def test_stored_form_is_plain_ascii() -> None:
    stored = normalize_phone("९८७६५ ४३२१०")
    assert stored == "+919876543210" and stored.isascii()


def test_logs_see_only_the_last_four_digits() -> None:
    assert mask_phone(SUNITA) == "+91******1377"
    assert mask_phone("+91") == "***"


def test_a_supervisor_dials_the_local_form() -> None:
    assert local_phone(SUNITA) == "79733 21377"
    assert local_phone("+14155238886") == "+14155238886"

"""Numbers as Indian users read and write them."""

from __future__ import annotations

import pytest

from bot.numbers import DEVANAGARI_DIGITS, NUMBER_WORDS, indian, match_key, percent


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1000, "1,000"),
        (12345, "12,345"),
        (100000, "1,00,000"),
        (1234567, "12,34,567"),
        (160000, "1,60,000"),
        (123456789, "12,34,56,789"),
        (-100000, "-1,00,000"),
        (-999, "-999"),
    ],
)
def test_indian_grouping(n: int, shown: str) -> None:
    assert indian(n) == shown


def test_a_fraction_keeps_its_decimals_and_the_grouping() -> None:
    assert indian(1234567.5) == "12,34,567.5"
    assert indian(0.25) == "0.25"


def test_percent_has_one_decimal_and_a_dash_when_unknown() -> None:
    assert percent(45.678) == "45.7%"
    assert percent(0) == "0.0%"
    assert percent(None) == "—"


def test_devanagari_digits_read_as_ascii() -> None:
    assert "२५ २० ४०".translate(DEVANAGARI_DIGITS) == "25 20 40"


def test_loose_matching_ignores_case_nukta_and_chandrabindu() -> None:
    assert match_key("PAANCH") == match_key("paanch")
    assert match_key("पाँच") == match_key("पांच")
    assert match_key("अड़तीस") == match_key("अडतीस")  # nukta dropped
    assert match_key("दस") != match_key("दो")


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("पाँच", 5),
        ("पांच", 5),
        ("paanch", 5),
        ("Five", 5),
        ("बीस", 20),
        ("पच्चीस", 25),
        ("सौ", 100),
        ("do", 2),
    ],
)
def test_number_words(word: str, value: int) -> None:
    assert NUMBER_WORDS[match_key(word)] == value


def test_every_number_up_to_a_hundred_has_a_hindi_word() -> None:
    assert set(NUMBER_WORDS.values()) == set(range(101))

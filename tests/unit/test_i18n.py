"""`t` and its fallbacks; dates and examples as each language shows them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import i18n
from bot.i18n import day_label, order_example, short_date, t, texts

CATALOG = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "greeting"
msgstr "Hello {name}"

msgid "empty"
msgstr ""

#, fuzzy
msgid "unsure"
msgstr "Maybe"
"""


def test_a_text_in_each_language_with_its_fields_filled() -> None:
    hindi, english = t("hi", "today"), t("en", "today")
    assert hindi == "आज" and english == "today"


def test_fields_are_filled_only_when_values_are_given() -> None:
    filled = t("en", "unknown_phone", phone="+91******1377")
    assert "(+91******1377)" in filled and "{phone}" not in filled
    assert "{phone}" in t("en", "unknown_phone")  # without values the text is as written


def test_an_unknown_language_falls_back_to_hindi() -> None:
    assert t("ta", "yesterday") == t("hi", "yesterday") == "कल"


def test_a_text_missing_in_a_language_falls_back_to_hindi(monkeypatch: pytest.MonkeyPatch) -> None:
    english = {k: v for k, v in texts("en").items() if k != "yesterday"}
    monkeypatch.setattr(i18n, "texts", lambda language: english if language == "en" else texts(language))
    assert t("en", "yesterday") == "कल"
    assert t("en", "today") == "today"


def test_an_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        t("en", "no_such_text_anywhere")


def test_empty_and_fuzzy_entries_count_as_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = tmp_path / "en" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    po.parent.mkdir(parents=True)
    po.write_text(CATALOG, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    read = i18n.texts.__wrapped__("en")  # the catalog itself, not the cached one
    assert read == {"greeting": "Hello {name}"}


@pytest.mark.parametrize(("language", "shown"), [("hi", "03/11"), ("en", "3 Nov"), ("ta", "03/11")])
def test_short_dates(language: str, shown: str) -> None:
    assert short_date(dt.date(2026, 11, 3), language) == shown


def test_day_labels_name_today_and_yesterday() -> None:
    today = dt.date(2026, 11, 23)
    assert day_label(today, today, "hi") == "आज (23/11)"
    assert day_label(today - dt.timedelta(days=1), today, "en") == "yesterday (22 Nov)"
    assert day_label(dt.date(2026, 11, 21), today, "hi") == "21/11"
    assert day_label(dt.date(2026, 11, 24), today, "en") == "24 Nov"


@pytest.mark.parametrize(
    ("metrics", "example"), [(0, "25"), (1, "25"), (2, "25 20"), (3, "25 20 40"), (7, "25 20 40")]
)
def test_order_example_shows_at_most_three_numbers(metrics: int, example: str) -> None:
    assert order_example(metrics) == example

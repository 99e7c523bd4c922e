"""What the bot says, in Hindi (the default) and English.

The texts live in gettext catalogs, one per language: bot/locale/<language>/LC_MESSAGES/fieldbot.po,
where msgid is the text's key and msgstr the text, whose `{name}` fields `t` fills in. The catalogs
are read as they are (no compile step) the first time a text is asked for. A later language is a
translator's catalog plus its code in LANGUAGES. Dates and example numbers stay in code, below.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

LANGUAGES = ("hi", "en")

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "fieldbot"


def catalog_path(language: str) -> Path:
    """Where the catalog of `language` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def texts(language: str) -> dict[str, str]:
    """Every text of `language` by key, read from its catalog; an empty or fuzzy entry is missing."""
    from babel.messages.pofile import read_po  # the parser is needed once, for the first text

    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    return {
        message.id: message.string
        for message in catalog
        if isinstance(message.id, str)
        and isinstance(message.string, str)
        and message.id
        and message.string
        and not message.fuzzy
    }


_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def t(language: str, key: str, **values: object) -> str:
    """The text `key` in `language` (Hindi when unknown), with `values` filled in."""
    known = texts(language) if language in LANGUAGES else {}
    template = known.get(key) or texts("hi")[key]
    return template.format(**values) if values else template


def short_date(day: dt.date, language: str) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]}" if language == "en" else day.strftime("%d/%m")


def day_label(day: dt.date, today: dt.date, language: str) -> str:
    """आज (23/11), कल (22/11) or 21/11."""
    if day == today:
        return f"{t(language, 'today')} ({short_date(day, language)})"
    if day == today - dt.timedelta(days=1):
        return f"{t(language, 'yesterday')} ({short_date(day, language)})"
    return short_date(day, language)


def order_example(count: int) -> str:
    """Bare numbers in metric order, as an example: `25 20 40`."""
    return " ".join(["25", "20", "40", "5", "2", "10", "8"][: max(1, min(count, 3))])

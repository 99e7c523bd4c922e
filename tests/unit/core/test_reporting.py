"""The report rules: which day a report counts for, the ceilings, and what the confirmation says."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import Settings
from bot.core.contracts import Refused
from bot.core.messages import Reply
from bot.core.reporting import (
    change_lines,
    check_ceilings,
    check_window,
    confirmation_reply,
    resolve_day,
)
from bot.i18n import short_date, t
from bot.parser import DayRef
from bot.store.reports import Change

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("ref", "today", "day"),
    [
        (DayRef(), TODAY, TODAY),
        (DayRef(days_back=1), TODAY, dt.date(2026, 11, 22)),
        (DayRef(days_back=2), TODAY, dt.date(2026, 11, 21)),  # the window's last day
        (DayRef(day=21, month=11), TODAY, dt.date(2026, 11, 21)),
        (DayRef(day=31, month=12), dt.date(2027, 1, 1), dt.date(2026, 12, 31)),  # "31/12" on 1 Jan
        (DayRef(day=1, month=3, year=2028), dt.date(2028, 3, 2), dt.date(2028, 3, 1)),
    ],
)
def test_the_day_a_report_is_for(settings: Settings, ref: DayRef, today: dt.date, day: dt.date) -> None:
    assert settings.reporting.backdate_days == 2
    assert resolve_day(ref, today, settings, "hi") == day


@pytest.mark.parametrize(
    ("ref", "key", "fields"),
    [
        (DayRef(days_back=3), "too_old", {"date": dt.date(2026, 11, 20), "days": 2}),
        (DayRef(day=24, month=11), "future_day", {"date": dt.date(2026, 11, 24)}),
        (DayRef(day=20, month=11), "too_old", {"date": dt.date(2026, 11, 20), "days": 2}),
        (DayRef(day=31, month=11), "why_bad_date", {}),
        (DayRef(day=29, month=2), "why_bad_date", {}),  # 2026 is no leap year
    ],
)
@pytest.mark.parametrize("lang", ["hi", "en"])
def test_a_day_that_cannot_be_reported_is_refused_in_her_language(
    settings: Settings, ref: DayRef, key: str, fields: dict[str, object], lang: str
) -> None:
    with pytest.raises(Refused) as refused:
        resolve_day(ref, TODAY, settings, lang)
    values = {k: short_date(v, lang) if isinstance(v, dt.date) else v for k, v in fields.items()}
    assert refused.value.replies == [Reply(t(lang, key, **values))]


def test_an_edit_arriving_late_counts_the_window_from_its_arrival(settings: Settings) -> None:
    written = dt.date(2026, 11, 20)
    assert resolve_day(DayRef(), written, settings, "hi", arrived=dt.date(2026, 11, 22)) == written
    with pytest.raises(Refused):
        resolve_day(DayRef(), written, settings, "hi", arrived=TODAY)
    check_window(dt.date(2026, 11, 21), TODAY, settings, "hi")  # within: nothing raised


@pytest.mark.parametrize(
    ("new", "refused"),
    [(150, False), (151, True), (None, False), (0, False)],
)
def test_a_value_over_its_days_ceiling_is_refused(
    settings: Settings, new: int | None, refused: bool
) -> None:
    metric = settings.metric("cards")
    assert metric.max_per_day == 150
    changes = [Change(TODAY, "households", None, 5), Change(TODAY, "cards", None, new)]
    if not refused:
        check_ceilings(changes, settings, "en")
        return
    with pytest.raises(Refused) as raised:
        check_ceilings(changes, settings, "en")
    assert raised.value.replies == [
        Reply(t("en", "over_ceiling", metric=metric.label("en"), value="151", max="150"))
    ]


def test_each_changed_value_is_written_as_it_changed(settings: Settings) -> None:
    label = settings.metric("cards").label("en")
    lines = change_lines(
        [
            Change(TODAY, "cards", None, 5),
            Change(TODAY, "cards", 5, 7),
            Change(TODAY, "cards", 7, 7),
            Change(TODAY, "cards", 7, 12, added=5),
            Change(TODAY, "cards", 1500, None),
        ],
        settings,
        "en",
    ).split("\n")
    assert lines == [
        f"{label}: 5",
        f"{label}: 5 → 7",
        f"{label}: 7 {t('en', 'unchanged')}",
        f"{label}: 7 + 5 = 12",
        f"{label}: 1,500 → —",
    ]


def test_the_confirmation_names_each_day_changed_in_order(settings: Settings) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    changes = [Change(TODAY, "cards", None, 5), Change(yesterday, "cards", None, 3)]
    values = {TODAY: {"cards": 5}, yesterday: {"cards": 3}}
    text = confirmation_reply(settings, "en", TODAY, changes, values, {"cards": 8}).text
    first = t("en", "saved", day="x", lines="y").split("x")[0]
    assert text.count(first) == 2
    assert text.index(change_lines(changes[1:], settings, "en")) < text.index(
        change_lines(changes[:1], settings, "en")
    )
    without_campaign = confirmation_reply(settings, "en", TODAY, changes, values, None).text
    assert len(without_campaign) < len(text)

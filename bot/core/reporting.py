"""The report rules every path applies: which day a report is for, the ceilings, the confirmation.

Handlers (a report, an edit, a report entered for someone else, the ask-back) and the batch path
(bot/core/batch.py) both use these, so a report gets the same answer whichever way it is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot import checks
from bot.config import Settings
from bot.core.contracts import Refused
from bot.core.messages import Reply
from bot.format import totals_line
from bot.i18n import day_label, short_date, t
from bot.numbers import indian
from bot.parser import DayRef
from bot.store import reports


def resolve_day(
    ref: DayRef, today: dt.date, settings: Settings, lang: str, *, arrived: dt.date | None = None
) -> dt.date:
    """The day a report is for, or Refused: future days, and days past the back-dating window.

    `today` is the message's own day, which `कल` counts back from; the window counts back from
    `arrived` when that is later (an edit arriving long after the message it changes).
    """
    if ref.day is not None and ref.month is not None:
        year = ref.year or today.year
        try:
            day = dt.date(year, ref.month, ref.day)
        except ValueError:
            raise Refused([Reply(t(lang, "why_bad_date"))]) from None
        if ref.year is None and day > today and (day - today).days > 180:
            day = day.replace(year=year - 1)  # "28/12" written on 2 January
    else:
        day = today - dt.timedelta(days=ref.days_back)
    if day > today:
        raise Refused([Reply(t(lang, "future_day", date=short_date(day, lang)))])
    check_window(day, arrived or today, settings, lang)
    return day


def check_window(day: dt.date, arrived: dt.date, settings: Settings, lang: str) -> None:
    """Refused when `day` lies further back than the back-dating window from `arrived`."""
    window = settings.reporting.backdate_days
    if (arrived - day).days > window:
        raise Refused([Reply(t(lang, "too_old", date=short_date(day, lang), days=window))])


def change_lines(changes: Sequence[reports.Change], settings: Settings, lang: str) -> str:
    lines = []
    for change in changes:
        label = settings.metric(change.metric).label(lang)
        new = indian(change.new) if change.new is not None else "—"
        if change.added is not None and change.old is not None:
            lines.append(f"{label}: {indian(change.old)} + {indian(change.added)} = {new}")
        elif change.old is None:
            lines.append(f"{label}: {new}")
        elif change.old == change.new:
            lines.append(f"{label}: {new} {t(lang, 'unchanged')}")
        else:
            lines.append(f"{label}: {indian(change.old)} → {new}")
    return "\n".join(lines)


def check_ceilings(changes: Sequence[reports.Change], settings: Settings, lang: str) -> None:
    for change in changes:
        metric = settings.metric(change.metric)
        if change.new is not None and change.new > metric.max_per_day:
            raise Refused(
                [
                    Reply(
                        t(
                            lang,
                            "over_ceiling",
                            metric=metric.label(lang),
                            value=indian(change.new),
                            max=indian(metric.max_per_day),
                        )
                    )
                ]
            )


def confirmation_reply(
    settings: Settings,
    lang: str,
    today: dt.date,
    changes: Sequence[reports.Change],
    values: Mapping[dt.date, Mapping[str, int]],
    campaign: Mapping[str, int] | None,
    found: Sequence[checks.Flag] = (),
) -> Reply:
    """The confirmation from figures already read: each changed day's values, the campaign's sums,
    and what in it to check."""
    parts = []
    for day in sorted({c.day for c in changes}):
        label = day_label(day, today, lang)
        parts.append(
            t(
                lang,
                "saved",
                day=label,
                lines=change_lines([c for c in changes if c.day == day], settings, lang),
            )
        )
        parts.append(
            t(
                lang,
                "day_totals",
                day=label,
                totals=totals_line(settings, values[day], lang, reported_only=True),
            )
        )
    if campaign:
        parts.append(
            t(lang, "campaign_totals", totals=totals_line(settings, campaign, lang, reported_only=True))
        )
    parts += checks.confirmation_lines(settings, found, lang)
    return Reply("\n".join(parts))

"""Numbers to double-check: a report far above the worker's own usual, or figures that cannot be
true together (config `checks`). Such a report is stored as sent; her confirmation asks her to
check it, and her supervisor's digest lists it under "check".
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.config import Settings
from bot.i18n import t
from bot.numbers import indian
from models import DailyReport, ReportValue

LOOKBACK_DAYS = 60  # her "last reported days" are looked for this far back


@dataclass(frozen=True)
class Flag:
    """One value to check: far above her `usual` (her median), or above `other`'s value."""

    metric: str
    value: int
    usual: int | None = None
    other: str | None = None
    other_value: int | None = None


class History:
    """Workers' earlier reports, read once for many checks (a batch of reports, a digest)."""

    def __init__(self, session: Session, person_ids: Iterable[int], before: dt.date):
        ids = sorted(set(person_ids))
        self._days: dict[int, dict[dt.date, dict[str, int]]] = defaultdict(dict)
        if not ids:
            return
        rows = session.execute(
            sa_select(
                col(DailyReport.person_id),
                col(DailyReport.day),
                col(ReportValue.metric),
                col(ReportValue.value),
            )
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(
                col(DailyReport.person_id).in_(ids),
                col(DailyReport.day) >= before - dt.timedelta(days=LOOKBACK_DAYS),
                col(DailyReport.day) < before,
            )
        ).all()
        for person_id, day, metric, value in rows:
            self._days[int(person_id)].setdefault(day, {})[metric] = int(value)

    def usual(self, settings: Settings, person_id: int, day: dt.date) -> dict[str, int]:
        """Per metric, her median over her last `checks.usual_days` reported days before `day`,
        where she has at least `checks.usual_min_days` of them."""
        rules = settings.checks
        days = sorted((d for d in self._days.get(person_id, {}) if d < day), reverse=True)
        recent = days[: rules.usual_days]
        if len(recent) < rules.usual_min_days:
            return {}
        per_metric: dict[str, list[int]] = defaultdict(list)
        for d in recent:
            for metric, value in self._days[person_id][d].items():
                per_metric[metric].append(value)
        return {
            metric: int(statistics.median(values))
            for metric, values in per_metric.items()
            if len(values) >= rules.usual_min_days
        }


def flags(settings: Settings, values: Mapping[str, int], usual: Mapping[str, int]) -> list[Flag]:
    """What in a day's values needs a second look, in the metrics' order."""
    rules = settings.checks
    found = []
    for key in settings.metric_keys:
        value = values.get(key)
        if value is None:
            continue
        normal = usual.get(key)
        if normal is not None and value > rules.usual_min_value and value > rules.usual_factor * normal:
            found.append(Flag(key, value, usual=normal))
            continue
        other = rules.not_above.get(key)
        if other is not None and other in values and value > values[other]:
            found.append(Flag(key, value, other=other, other_value=values[other]))
    return found


def flag_text(settings: Settings, flag: Flag, lang: str) -> str:
    """`कार्ड 95 (सामान्य 8)` or `कार्ड 30 > आवेदन 20`."""
    label = settings.metric(flag.metric).label(lang)
    if flag.usual is not None:
        return t(lang, "check_usual", metric=label, value=indian(flag.value), usual=indian(flag.usual))
    assert flag.other is not None and flag.other_value is not None
    return t(
        lang,
        "check_above",
        metric=label,
        value=indian(flag.value),
        other=settings.metric(flag.other).label(lang),
        other_value=indian(flag.other_value),
    )


def confirmation_lines(settings: Settings, found: Iterable[Flag], lang: str) -> list[str]:
    """The lines a confirmation ends with when something in it needs her second look."""
    texts = [flag_text(settings, flag, lang) for flag in found]
    if not texts:
        return []
    return [t(lang, "check_confirm", items=", ".join(texts))]


def day_flags(
    session: Session, settings: Settings, person_ids: Iterable[int], day: dt.date
) -> dict[int, list[Flag]]:
    """Per worker with a report on the day, what in it needs a second look (for the digest)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa_select(col(DailyReport.person_id), col(ReportValue.metric), col(ReportValue.value))
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day) == day, col(DailyReport.person_id).in_(ids))
    ).all()
    values: dict[int, dict[str, int]] = defaultdict(dict)
    for person_id, metric, value in rows:
        values[int(person_id)][metric] = int(value)
    history = History(session, values, day)
    out = {}
    for person_id, day_values in values.items():
        found = flags(settings, day_values, history.usual(settings, person_id, day))
        if found:
            out[person_id] = found
    return out

"""The units below a unit (in a sector, its workers) ranked by a metric, with their targets and
achievement; the portal's ranking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import leave
from bot.config import Settings
from bot.rollups.portal import official_gaps
from bot.rollups.scope import (
    AGGREGATES,
    Source,
    campaign_days,
    children,
    current_field_workers,
    pct,
    report_scope,
    workers_by,
)
from bot.rollups.sums import reported_by_unit, sum_by_unit
from bot.store.units import CHILD_LEVEL, Unit
from bot.targets import Goal, goals_at
from models import DailyReport, ReportValue

# ---------------------------------------------------------------- rankings


@dataclass(frozen=True)
class Given:
    """What a caller of `breakdown` has already read about the units below."""

    kids: Sequence[Unit] | None = None
    workers: Mapping[int, int] | None = None
    reported: Mapping[int, int] | None = None
    goals: Mapping[int, Goal] | None = None


@dataclass
class RankRow:
    key: int
    name: str
    value: int
    workers: int = 0
    reported: int = 0
    rank: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    target: int | None = None  # of the ranked metric, over the range's campaign days
    achievement_pct: float | None = None
    pct_rank: int | None = None  # place by achievement; None without a target


def assign_ranks(rows: list[RankRow]) -> list[RankRow]:
    """Highest first; equal values share a rank (1, 2, 2, 4); ties listed by name."""
    rows.sort(key=lambda r: (-r.value, r.name.casefold()))
    for index, row in enumerate(rows):
        if index and row.value == rows[index - 1].value:
            row.rank = rows[index - 1].rank
        else:
            row.rank = index + 1
    return rows


def _assign_pct_ranks(rows: Iterable[RankRow]) -> None:
    """Places by achievement as shown (one decimal): equal percentages share a place."""
    ranked = sorted(
        (r for r in rows if r.achievement_pct is not None),
        key=lambda r: (-(r.achievement_pct or 0), r.name.casefold()),
    )
    for index, row in enumerate(ranked):
        previous = ranked[index - 1] if index else None
        if previous is not None and previous.achievement_pct == row.achievement_pct:
            row.pct_rank = previous.pct_rank
        else:
            row.pct_rank = index + 1


def by_achievement(rows: Sequence[RankRow]) -> list[RankRow]:
    """The same rows ordered by achievement %, those without a target last."""
    return sorted(
        rows,
        key=lambda r: (
            r.pct_rank is None,
            r.pct_rank or 0,
            -r.value,
            r.name.casefold(),
        ),
    )


def breakdown(
    *,
    session: Session,
    unit: Unit,
    start: dt.date,
    end: dt.date,
    metric: str,
    settings: Settings | None = None,
    counts: bool = True,
    source: Source = AGGREGATES,
    given: Given | None = None,
) -> list[RankRow]:
    """The unit's children (in a sector, its workers) ranked by `metric` over the range.

    With `settings`, each row carries its target and achievement and its place by achievement;
    without `counts`, workers and reported are left at 0 (a ranking needs neither)."""
    given = given or Given()
    child_level = CHILD_LEVEL[unit.level]
    if child_level == "worker":
        rows = _worker_breakdown(session=session, unit=unit, start=start, end=end, metric=metric)
    else:
        kids = given.kids if given.kids is not None else children(session=session, unit=unit)
        ids = [k.id for k in kids if k.id is not None]
        rows = [RankRow(k.id, k.name, 0) for k in kids if k.id is not None]
        sums = sum_by_unit(session, child_level, ids, start, end, source=source)
        workers: Mapping[int, int] = {}
        reported: Mapping[int, int] = {}
        if counts:
            if given.workers is not None:
                workers = given.workers
            else:
                workers = workers_by(session, child_level, unit)
            if given.reported is not None:
                reported = given.reported
            else:
                reported = reported_by_unit(session, child_level, ids, start, end, source=source)
        for row in rows:
            row.totals = dict(sums.get(row.key, {}))
            row.workers = workers.get(row.key, 0)
            row.reported = reported.get(row.key, 0)
            row.value = row.totals.get(metric, 0)
    if settings is not None and counts:
        _leave_out_away(session, settings, child_level, unit, rows, start, end)
    if settings is not None:
        off = _holidays_of(session, settings, child_level, unit, rows, start, end)
        goals = given.goals
        if goals is None:
            goals = goals_at(
                session=session,
                settings=settings,
                level=child_level,
                ids=[r.key for r in rows],
                metric=metric,
            )
        for row in rows:
            daily = goals[row.key].daily
            days = campaign_days(settings, start, end, off.get(row.key, ()))
            row.target = daily * days if daily is not None and days else None
            row.achievement_pct = pct(row.value, row.target)
        _assign_pct_ranks(rows)
    return assign_ranks(rows)


def _holidays_of(
    session: Session,
    settings: Settings,
    child_level: str,
    unit: Unit,
    rows: Sequence[RankRow],
    start: dt.date,
    end: dt.date,
) -> dict[int, set[dt.date]]:
    """Per unit ranked, the days of the range that are a holiday for all of it."""
    if child_level == "worker":
        return {}
    found = leave.holidays_between(session, settings, start, end)
    if not found:
        return {}
    out: dict[int, set[dt.date]] = {}
    for row in rows:
        place: tuple[int | None, int | None] = (unit.district_id, row.key)
        if child_level == "district":
            place = (row.key, None)
        elif child_level == "sector":
            place = (unit.district_id, unit.block_id)
        out[row.key] = {
            h.day
            for h in found
            if h.covers(*place) and (child_level != "district" or h.block_id is None)
        }
    return out


def _leave_out_away(
    session: Session,
    settings: Settings,
    child_level: str,
    unit: Unit,
    rows: Sequence[RankRow],
    start: dt.date,
    end: dt.date,
) -> None:
    """Workers off on every day of the range who reported nothing leave their unit's denominator."""
    if child_level == "worker":
        off = leave.off_people_in(session, settings, unit, start) if start == end else {}
        for row in rows:
            if row.key in off and not row.reported:
                row.workers = 0
        return
    away = leave.away_by(session, settings, child_level, [r.key for r in rows], start, end)
    for row in rows:
        found = away.get(row.key)
        if found is not None:
            row.workers -= found.not_reported


def _worker_breakdown(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> list[RankRow]:
    rows = {
        p.id: RankRow(p.id, p.name, 0, workers=1)
        for p, _ in current_field_workers(session, unit)
        if p.id is not None
    }
    sums = session.exec(
        select(DailyReport.person_id, ReportValue.metric, func.sum(ReportValue.value))
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .group_by(col(DailyReport.person_id), col(ReportValue.metric))
    ).all()
    for person_id, m, total in sums:
        if person_id in rows:
            rows[person_id].totals[m] = int(total or 0)
            rows[person_id].reported = 1
    for row in rows.values():
        row.value = row.totals.get(metric, 0)
    return list(rows.values())


def portal_ranking(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> tuple[list[RankRow], list[Unit]]:
    """The units below `unit` ranked by the portal's count of `metric` over the range, and those
    the portal has no figure for; nothing below a block (the portal does not count sectors)."""
    child_level = CHILD_LEVEL[unit.level]
    if child_level not in ("district", "block"):
        return [], []
    kids = children(session=session, unit=unit)
    ids = [k.id for k in kids if k.id is not None]
    gaps = official_gaps(session, child_level, ids, start, end, metric)
    rows = [
        RankRow(k.id, k.name, gaps[k.id].official, totals={metric: gaps[k.id].reported})
        for k in kids
        if k.id in gaps
    ]
    return assign_ranks(rows), [k for k in kids if k.id not in gaps]

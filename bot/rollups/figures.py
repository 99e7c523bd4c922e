"""A unit's figures over a range: totals, target and achievement, pace, coverage, rank and the
portal's count (what `fieldbot status` and /status show)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot import leave
from bot.config import Settings
from bot.rollups.portal import OfficialGap, official_gap, official_json
from bot.rollups.ranking import Given, RankRow, breakdown
from bot.rollups.scope import (
    AGGREGATES,
    RAW,
    Source,
    campaign_days,
    children_and_workers,
    count_workers,
    pct,
    run_select,
    unit_key,
)
from bot.rollups.sums import range_reporters, reported_by_unit, sum_by_day, sum_by_unit
from bot.store import totals
from bot.store.units import CHILD_LEVEL, Unit
from bot.targets import Goal, goal_for, goals_for_view
from models import Block, District, Sector, UnitDayTotal

# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    """What a BMO or officer asks about a unit over a range of days (see `fieldbot status`).

    `target` and `achievement_pct` are over the range; the campaign_* fields run from the
    campaign's first day through the range's end (the pace and coverage rest on them)."""

    unit: Unit
    start: dt.date
    end: dt.date
    primary_metric: str
    workers: int
    reported: int
    totals: dict[str, int]
    target: int | None
    achievement_pct: float | None
    coverage_pct: float | None
    required_daily: int | None
    projected_finish: dt.date | None
    rank: int | None
    of: int | None
    goal: Goal = field(default_factory=Goal)
    target_days: int = 0  # campaign days in the range, the daily target's multiplier
    campaign_done: int | None = None
    campaign_days: int = 0  # from the campaign's first day through the range's end (or its last)
    campaign_target: int | None = None  # the daily target times the campaign's days so far
    campaign_achievement_pct: float | None = None
    week_done: int = 0  # over the last 7 days through the range's end (fewer in the first week)
    rate_days: int = 0
    days_left: int | None = None  # after the range's end, through the campaign's last day
    reached_on: dt.date | None = None  # the day the campaign total was reached, if it was
    covered: int | None = None  # baseline + done since the campaign began
    official: OfficialGap | None = None  # the portal's count; None at sector level or without data
    on_leave: int = 0  # field workers off (leave or holiday) on every day of the range
    holidays: dict[dt.date, str] = field(default_factory=dict)  # the unit's own, in the campaign

    @property
    def rate(self) -> float | None:
        """The average a day over the last 7 days (the campaign's days so far in its first week)."""
        return self.week_done / self.rate_days if self.rate_days else None

    @property
    def campaign_total(self) -> int | None:
        return self.goal.campaign_total

    @property
    def daily_target(self) -> int | None:
        return self.goal.daily

    @property
    def eligible(self) -> int | None:
        return self.goal.eligible

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit.path,
            "level": self.unit.level,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "primary_metric": self.primary_metric,
            "workers": self.workers,
            "reported": self.reported,
            "totals": self.totals,
            "target": self.target,
            "achievement_pct": self.achievement_pct,
            "coverage_pct": self.coverage_pct,
            "required_daily": self.required_daily,
            "projected_finish": self.projected_finish.isoformat() if self.projected_finish else None,
            "rank": self.rank,
            "of": self.of,
            **official_json(self.official),
            "on_leave": self.on_leave,
        }


def _sibling_values(
    session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str, source: Source
) -> dict[int, int]:
    """Every unit with the same parent as this one (itself too), and its sum of `metric`."""
    table: Any = {"district": District, "block": Block, "sector": Sector}[unit.level]
    parent: Any = {"district": None, "block": Block.district_id, "sector": Sector.block_id}[unit.level]
    parent_id = {"block": unit.district_id, "sector": unit.block_id}.get(unit.level)
    if source is RAW:
        query = sa_select(col(table.id))
        if parent is not None:
            query = query.where(col(parent) == parent_id)
        ids = [int(i) for (i,) in run_select(session, query).all()]
        sums = sum_by_unit(session, unit.level, ids, start, end, metric=metric, source=RAW)
        return {i: sums.get(i, {}).get(metric, 0) for i in ids}
    totals.apply_pending_totals(session=session)
    t: Any = UnitDayTotal.__table__.c  # type: ignore[attr-defined]
    joined = and_(
        t.level == unit.level,
        t.unit_id == col(table.id),
        t.metric == metric,
        t.day.between(start, end),
    )
    query = (
        sa_select(col(table.id), func.coalesce(func.sum(t.value), 0))
        .select_from(table)
        .outerjoin(UnitDayTotal.__table__, joined)  # type: ignore[attr-defined]
        .group_by(col(table.id))
    )
    if parent is not None:
        query = query.where(col(parent) == parent_id)
    return {int(i): int(v) for i, v in run_select(session, query).all()}


@dataclass(frozen=True)
class Known:
    """What the units below already tell about a unit (their sums are the unit's)."""

    totals: dict[str, int]
    workers: int
    reported: int | None  # only for a single day: over a range a worker may count in two units
    goal: Goal | None = None


def figures(
    *,
    session: Session,
    settings: Settings,
    unit: Unit,
    start: dt.date,
    end: dt.date,
    source: Source = AGGREGATES,
    known: Known | None = None,
) -> Figures:
    """Totals, reported, target and achievement over the range; pace and coverage through its end."""
    metric = settings.primary_metric
    level, key = unit_key(unit)
    if known is not None:
        totals = dict(known.totals)
        workers = known.workers
    else:
        totals = dict(sum_by_unit(session, level, [key], start, end, source=source).get(key, {}))
        workers = count_workers(session=session, unit=unit)
    for name in settings.metric_keys:
        totals.setdefault(name, 0)
    if known is not None and known.reported is not None:
        reported = known.reported
    else:
        reported = reported_by_unit(session, level, [key], start, end, source=source).get(key, 0)
    away = leave.away_in(session, settings, unit, start, end)
    if known is None:
        # Off on every day and silent: not in "reported x of y" (the units below left them out).
        workers -= away.not_reported
    if known is not None and known.goal is not None:
        goal = known.goal
    else:
        goal = goal_for(session=session, settings=settings, unit=unit, metric=metric)
    first, last = settings.campaign.start or start, settings.campaign.end or end
    holidays = leave.unit_holidays(session, settings, unit, min(first, start), max(last, end, start))
    days = campaign_days(settings, start, end, holidays)
    target = goal.daily * days if goal.daily is not None and days else None
    fig = Figures(
        unit=unit,
        start=start,
        end=end,
        primary_metric=metric,
        workers=workers,
        reported=reported,
        totals=totals,
        target=target,
        achievement_pct=pct(totals[metric], target),
        coverage_pct=None,
        required_daily=None,
        projected_finish=None,
        rank=None,
        of=None,
        goal=goal,
        target_days=days,
        on_leave=away.off,
        holidays=holidays,
    )
    _pace(session, settings, fig, source)
    fig.official = official_gap(session=session, unit=unit, start=start, end=end, metric=metric)
    if unit.level != "state":
        values = _sibling_values(session, unit, start, end, metric, source)
        mine = values.get(key, 0)
        fig.of = len(values)
        fig.rank = 1 + sum(1 for v in values.values() if v > mine)  # ties share a place
    return fig


def status_view(
    *,
    session: Session,
    settings: Settings,
    unit: Unit,
    start: dt.date,
    end: dt.date,
    source: Source = AGGREGATES,
) -> tuple[Figures, list[RankRow]]:
    """A unit's figures and the units below it ranked (what /status shows), sharing the reads
    both need: the units below add up to the unit's totals and workers, and over a range the
    workers who reported in them are read once for them and for the unit."""
    reported_by = None
    reporters = None
    child_level = CHILD_LEVEL[unit.level]
    kids, workers = None, None
    if child_level != "worker":
        kids, workers = children_and_workers(session, unit)
    child_ids = [c.id for c in kids if c.id is not None] if kids is not None else []
    if source is AGGREGATES and kids is not None and start != end:
        found = range_reporters(session, child_level, child_ids, start, end)
        reported_by = {key: len(people) for key, people in found.items()}
        reporters = len(set().union(*found.values())) if found else 0
    goal, goals = None, None
    if kids is not None:
        goal, goals = goals_for_view(
            session=session,
            settings=settings,
            unit=unit,
            child_level=child_level,
            child_ids=child_ids,
            metric=settings.primary_metric,
        )
    rows = breakdown(
        session=session,
        unit=unit,
        start=start,
        end=end,
        metric=settings.primary_metric,
        settings=settings,
        source=source,
        given=Given(kids, workers, reported_by, goals),
    )
    known = None
    if unit.level != "sector":
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            for name, value in row.totals.items():
                totals[name] += value
        known = Known(
            dict(totals),
            sum(r.workers for r in rows),
            sum(r.reported for r in rows) if start == end else reporters,
            goal,
        )
    fig = figures(
        session=session, settings=settings, unit=unit, start=start, end=end, source=source, known=known
    )
    return fig, rows


def _pace(session: Session, settings: Settings, fig: Figures, source: Source) -> None:
    """Campaign so far, the daily rate still needed, the projected finish and coverage."""
    first, last = settings.campaign.start, settings.campaign.end
    if first is None:
        return
    end, goal, metric = fig.end, fig.goal, fig.primary_metric
    level, key = unit_key(fig.unit)
    series: dict[dt.date, int] = {}
    if end >= first:
        daily = sum_by_day(session, level, [key], first, end, metric=metric, source=source)
        series = {day: sums.get(metric, 0) for (day, _), sums in daily.items()}
    done = sum(series.values())
    fig.campaign_done = done
    off = fig.holidays
    fig.campaign_days = campaign_days(settings, first, end, off) if end >= first else 0
    if goal.daily is not None and fig.campaign_days:
        fig.campaign_target = goal.daily * fig.campaign_days
        fig.campaign_achievement_pct = pct(done, fig.campaign_target)
    if end >= first:
        window = max(end - dt.timedelta(days=6), first)
        fig.rate_days = (end - window).days + 1
        fig.week_done = sum(v for day, v in series.items() if day >= window)
    if goal.eligible:
        fig.covered = (goal.baseline or 0) + done
        fig.coverage_pct = pct(fig.covered, goal.eligible)
    total = goal.campaign_total
    if total is None:
        return
    remaining = total - done
    if last is not None:
        fig.days_left = campaign_days(settings, max(end + dt.timedelta(days=1), first), last, off)
        if fig.days_left > 0:
            fig.required_daily = math.ceil(max(remaining, 0) / fig.days_left)
    if end < first:
        return
    if remaining <= 0:
        running = 0
        for day in sorted(series):
            running += series[day]
            if running >= total:
                fig.reached_on = day
                break
        fig.projected_finish = fig.reached_on or first
        return
    if fig.week_done > 0:
        # remaining / (week_done / rate_days) days after the range's end, rounded up
        days = -(-remaining * fig.rate_days // fig.week_done)
        fig.projected_finish = end + dt.timedelta(days=days)

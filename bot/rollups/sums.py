"""Sums and who reported, per unit and per day, for any unit and range of days.

Unit figures come from the aggregates bot/store/totals.py keeps in step with every report change
(`unit_day_total`, `unit_day_reported`, `reporting_days`), so no query adds up reports over a
range. `RAW` reads the same figures from the reports themselves: the check on the aggregates.
Worker rows (a sector's workers, who is missing) read reports: they are the daily rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import leave
from bot.config import Settings
from bot.rollups.scope import (
    AGGREGATES,
    RAW,
    REPORT_COLUMN,
    STATE_KEY,
    Source,
    children,
    current_field_workers,
    days_between,
    report_scope,
    run_select,
    unit_key,
)
from bot.store import totals
from bot.store.units import CHILD_LEVEL, Unit
from models import Block, DailyReport, ReportingDays, ReportValue, Sector, UnitDayReported, UnitDayTotal

# ---------------------------------------------------------------- reading sums, two ways


def sum_by_unit(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    *,
    metric: str | None = None,
    source: Source = AGGREGATES,
) -> dict[int, dict[str, int]]:
    """Per unit of `level` (the state: key 0; ids None: every unit), the sums per metric."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if ids is not None and not ids:
        return out
    if source is AGGREGATES:
        totals.apply_pending_totals(session=session)
        t: Any = UnitDayTotal.__table__.c  # type: ignore[attr-defined]
        unit_col: Any = col(t.unit_id) if level != "state" else None
        clauses: list[Any] = [
            t.level == ("district" if level == "state" else level),
            col(t.day).between(start, end),
        ]
        if metric is not None:
            clauses.append(t.metric == metric)
        if ids is not None and level != "state":
            clauses.append(col(t.unit_id).in_(ids))
        group = [unit_col, col(t.metric)] if unit_col is not None else [col(t.metric)]
        rows = run_select(
            session, sa_select(*group, func.sum(t.value)).where(*clauses).group_by(*group)
        ).all()
    else:
        unit_col = REPORT_COLUMN[level] if level != "state" else None
        clauses = [col(DailyReport.day).between(start, end)]
        if metric is not None:
            clauses.append(ReportValue.metric == metric)
        if ids is not None and level != "state":
            clauses.append(col(unit_col).in_(ids))
        group = (
            [unit_col, col(ReportValue.metric)] if unit_col is not None else [col(ReportValue.metric)]
        )
        rows = run_select(
            session,
            sa_select(*group, func.sum(ReportValue.value))
            .select_from(DailyReport)
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(*clauses)
            .group_by(*group),
        ).all()
    for row in rows:
        key, name, total = (STATE_KEY, *row) if len(row) == 2 else row
        if total:  # a metric reported only as 0, or undone to 0, is left out either way
            out[int(key)][name] = int(total)
    return out


def reported_by_unit(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    *,
    source: Source = AGGREGATES,
) -> dict[int, int]:
    """Per unit, how many workers reported (a value on at least one day of the range) in it."""
    if ids is not None and not ids:
        return {}
    if source is RAW:
        unit_col = REPORT_COLUMN[level] if level != "state" else None
        clauses: list[Any] = [col(DailyReport.day).between(start, end)]
        if ids is not None and unit_col is not None:
            clauses.append(col(unit_col).in_(ids))
        people = func.count(func.distinct(DailyReport.person_id))
        query: Any = sa_select(unit_col, people) if unit_col is not None else sa_select(people)
        query = (
            query.select_from(DailyReport)
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(*clauses)
        )
        if unit_col is not None:
            query = query.group_by(unit_col)
        rows = run_select(session, query).all()
        if unit_col is None:
            return {STATE_KEY: int(rows[0][0])}
        return {int(k): int(n) for k, n in rows}
    totals.apply_pending_totals(session=session)
    if start == end:
        r: Any = UnitDayReported.__table__.c  # type: ignore[attr-defined]
        clauses = [r.level == ("district" if level == "state" else level), r.day == start]
        if ids is not None and level != "state":
            clauses.append(col(r.unit_id).in_(ids))
        if level == "state":
            total = run_select(session, sa_select(func.sum(r.reported)).where(*clauses)).scalar()
            return {STATE_KEY: int(total or 0)}
        rows = run_select(session, sa_select(r.unit_id, r.reported).where(*clauses)).all()
        return {int(k): int(n) for k, n in rows}
    found = range_reporters(session, level, ids, start, end)
    if level == "state":
        return {STATE_KEY: len(found.get(STATE_KEY, ()))}
    return {key: len(people) for key, people in found.items()}


def range_reporters(
    session: Session, level: str, ids: Sequence[int] | None, start: dt.date, end: dt.date
) -> dict[int, set[str]]:
    """Per unit, the workers (ids as text) with a report on any day of the range.

    Each worker's days are bits, so "any day in the range" is one bitwise and; a sector's
    workers share a row, so a district's are a few hundred rows.

    A row lists only workers with a day set, so on a bucket the range covers whole everyone on
    it counts and only the ids are read. Those buckets go first, then the others by how many of
    their days the range takes: a row whose workers all count in the unit already needs no look
    at their days, which over a long range spares nearly all the reading of days."""
    totals.apply_pending_totals(session=session)
    d: Any = ReportingDays.__table__.c  # type: ignore[attr-defined]
    masks = totals.bucket_masks(start, end)
    unit_col = {"district": d.district_id, "block": d.block_id, "sector": d.sector_id}.get(level)
    clauses = [d.bucket.in_(list(masks))]
    if ids is not None and unit_col is not None:
        clauses.append(unit_col.in_(ids))
    key_col = unit_col if unit_col is not None else d.sector_id  # any column, for the state
    query = sa_select(key_col, d.bucket, d.workers).where(*clauses)
    by_bucket: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for key, bucket, workers in run_select(session, query).all():
        by_bucket[int(bucket)].append((STATE_KEY if unit_col is None else int(key), workers))
    whole = (1 << totals.BUCKET_DAYS) - 1
    seen: dict[int, set[str]] = defaultdict(set)
    for bucket in sorted(by_bucket, key=lambda b: -masks[b].bit_count()):
        mask = masks[bucket]
        for key, workers in by_bucket[bucket]:
            tokens = workers.replace(":", " ").split()  # person, bits, person, bits, ...
            people, found = tokens[0::2], seen[key]
            if mask == whole:
                found.update(people)
            elif not found.issuperset(people):
                found.update(compress(people, map(mask.__and__, map(int, tokens[1::2]))))
    return seen


def sum_by_day(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    *,
    metric: str | None = None,
    source: Source = AGGREGATES,
) -> dict[tuple[dt.date, int], dict[str, int]]:
    """Per day and unit of `level`, the sums per metric (the state: unit 0)."""
    out: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(dict)
    if ids is not None and not ids:
        return out
    if source is AGGREGATES:
        totals.apply_pending_totals(session=session)
        t: Any = UnitDayTotal.__table__.c  # type: ignore[attr-defined]
        unit_col: Any = col(t.unit_id) if level != "state" else None
        day_col, metric_col, value = col(t.day), col(t.metric), func.sum(t.value)
        clauses: list[Any] = [
            t.level == ("district" if level == "state" else level),
            day_col.between(start, end),
        ]
        if ids is not None and unit_col is not None:
            clauses.append(unit_col.in_(ids))
    else:
        unit_col = REPORT_COLUMN[level] if level != "state" else None
        day_col, metric_col = col(DailyReport.day), col(ReportValue.metric)
        value = func.sum(ReportValue.value)
        clauses = [day_col.between(start, end)]
        if ids is not None and unit_col is not None:
            clauses.append(col(unit_col).in_(ids))
    if metric is not None:
        clauses.append(metric_col == metric)
    group = [day_col, unit_col, metric_col] if unit_col is not None else [day_col, metric_col]
    query = sa_select(*group, value)
    if source is RAW:
        query = query.select_from(DailyReport).join(
            ReportValue, col(ReportValue.report_id) == col(DailyReport.id)
        )
    query = query.where(*clauses).group_by(*group)
    for row in run_select(session, query).all():
        if unit_col is None:
            day, name, total = row
            key = STATE_KEY
        else:
            day, key, name, total = row
        if total:
            out[(day, int(key))][name] = int(total)
    return out


def reported_by_day(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    *,
    source: Source = AGGREGATES,
) -> dict[tuple[dt.date, int], int]:
    """Per day and unit, how many workers reported that day."""
    if ids is not None and not ids:
        return {}
    if source is AGGREGATES:
        totals.apply_pending_totals(session=session)
        r: Any = UnitDayReported.__table__.c  # type: ignore[attr-defined]
        unit_col: Any = col(r.unit_id) if level != "state" else None
        day_col = col(r.day)
        count: Any = func.sum(r.reported)
        clauses: list[Any] = [
            r.level == ("district" if level == "state" else level),
            day_col.between(start, end),
        ]
        if ids is not None and unit_col is not None:
            clauses.append(unit_col.in_(ids))
        group = [day_col, unit_col] if unit_col is not None else [day_col]
        query = sa_select(*group, count).where(*clauses).group_by(*group)
    else:
        unit_col = REPORT_COLUMN[level] if level != "state" else None
        day_col = col(DailyReport.day)
        count = func.count(func.distinct(DailyReport.person_id))
        clauses = [day_col.between(start, end)]
        if ids is not None and unit_col is not None:
            clauses.append(col(unit_col).in_(ids))
        group = [day_col, unit_col] if unit_col is not None else [day_col]
        query = (
            sa_select(*group, count)
            .select_from(DailyReport)
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(*clauses)
            .group_by(*group)
        )
    out = {}
    for row in run_select(session, query).all():
        if unit_col is None:
            out[(row[0], STATE_KEY)] = int(row[1] or 0)
        else:
            out[(row[0], int(row[1]))] = int(row[2] or 0)
    return out


def daily(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> list[tuple[dt.date, int, int]]:
    """(day, sum of `metric`, workers who reported) for each day of the range, from the aggregates."""
    level, key = unit_key(unit)
    sums = sum_by_day(session, level, [key], start, end, metric=metric)
    reported = reported_by_day(session, level, [key], start, end)
    return [
        (day, sums.get((day, key), {}).get(metric, 0), reported.get((day, key), 0))
        for day in days_between(start, end)
    ]


def unit_totals(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, source: Source = AGGREGATES
) -> dict[str, int]:
    """The unit's sums per metric over the range (metrics that add up to 0 are left out)."""
    level, key = unit_key(unit)
    return dict(sum_by_unit(session, level, [key], start, end, source=source).get(key, {}))


def reported_below(*, session: Session, unit: Unit, day: dt.date) -> dict[int, int]:
    """Per unit one level below (blocks of a district, ...), the workers who reported on the day."""
    child_level = CHILD_LEVEL[unit.level]
    if child_level == "worker":
        return {}
    ids = [c.id for c in children(session=session, unit=unit) if c.id is not None]
    return reported_by_unit(session, child_level, ids, day, day)


def reported_count(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, source: Source = AGGREGATES
) -> int:
    """How many workers reported in the unit on at least one day of the range."""
    level, key = unit_key(unit)
    return reported_by_unit(session, level, [key], start, end, source=source).get(key, 0)


def reported_people(*, session: Session, unit: Unit, start: dt.date, end: dt.date) -> set[int]:
    """Workers with at least one value reported in the range, in this unit."""
    rows = session.exec(
        select(DailyReport.person_id)
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .distinct()
    ).all()
    return set(rows)


@dataclass(frozen=True)
class MissingWorker:
    name: str
    phone: str
    village: str
    sector: str


def missing_workers(
    *, session: Session, unit: Unit, day: dt.date, settings: Settings | None = None
) -> list[MissingWorker]:
    """Active field workers of the unit with nothing reported for the day, by sector and name;
    those on leave or on a holiday are not missing."""
    done = reported_people(session=session, unit=unit, start=day, end=day)
    done |= set(leave.off_people_in(session, settings, unit, day))
    sectors_q = select(Sector.id, Sector.name).join(Block, col(Block.id) == col(Sector.block_id))
    if unit.level != "state":
        sectors_q = sectors_q.where(Block.district_id == unit.district_id)
    sectors = dict(session.exec(sectors_q).all())
    out = [
        MissingWorker(p.name, p.phone, v.name if v else "", sectors.get(p.sector_id or -1, ""))
        for p, v in current_field_workers(session, unit)
        if p.id not in done
    ]
    return sorted(out, key=lambda m: (m.sector, m.name))

"""Sums, who reported, targets, pace, rankings and the export table, for any unit and range of days.

Unit figures come from the aggregates bot/store/totals.py keeps in step with every report change
(`unit_day_total`, `unit_day_reported`, `reporting_days`), so no query adds up reports over a
range. `RAW` reads the same figures from the reports themselves: the check on the aggregates.
Worker rows (a sector's workers, the worker export) read reports: they are the daily rows.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import compress
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import leave, official
from bot.config import Settings
from bot.store import totals
from bot.store.units import CHILD_LEVEL, Unit, block_unit, district_unit, state_unit
from bot.targets import Goal, goal_for, goals_at, goals_for_view
from models import (
    FIELD_ROLES,
    Block,
    DailyReport,
    District,
    Person,
    ReportingDays,
    ReportValue,
    Sector,
    UnitDayReported,
    UnitDayTotal,
    Village,
)


class Source(enum.Enum):
    AGGREGATES = "aggregates"
    RAW = "raw"


AGGREGATES, RAW = Source.AGGREGATES, Source.RAW
STATE_KEY = 0  # the state's id where figures are keyed by unit id

_REPORT_COLUMN: dict[str, Any] = {
    "district": DailyReport.district_id,
    "block": DailyReport.block_id,
    "sector": DailyReport.sector_id,
}
_PERSON_COLUMN: dict[str, Any] = {
    "district": Person.district_id,
    "block": Person.block_id,
    "sector": Person.sector_id,
}


def _run(session: Session, statement: Any) -> Any:
    """A Core select on the session's connection: no ORM machinery for rows that are just numbers."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement)


def report_scope(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    return [col(_REPORT_COLUMN[unit.level]) == unit.id]


def _person_in(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    return [col(_PERSON_COLUMN[unit.level]) == unit.id]


def worker_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """Active ASHAs and ANMs now in the unit."""
    return [col(Person.active).is_(True), col(Person.role).in_(FIELD_ROLES), *_person_in(unit)]


def pct(done: int, base: int | None) -> float | None:
    """done / base as a percentage with one decimal, halves rounded up; None without a base."""
    if not base:
        return None
    value = (Decimal(done) * 100 / Decimal(base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def campaign_days(settings: Settings, start: dt.date, end: dt.date, off: Iterable[dt.date] = ()) -> int:
    """How many days of the range fall inside the campaign (all of them without campaign dates),
    less the unit's holidays `off`."""
    return leave.working_days(settings, start, end, set(off))


def _key(unit: Unit) -> tuple[str, int]:
    if unit.level == "state":
        return "state", STATE_KEY
    assert unit.id is not None
    return unit.level, unit.id


# ---------------------------------------------------------------- reading sums, two ways


def _sums(
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
        rows = _run(session, sa_select(*group, func.sum(t.value)).where(*clauses).group_by(*group)).all()
    else:
        unit_col = _REPORT_COLUMN[level] if level != "state" else None
        clauses = [col(DailyReport.day).between(start, end)]
        if metric is not None:
            clauses.append(ReportValue.metric == metric)
        if ids is not None and level != "state":
            clauses.append(col(unit_col).in_(ids))
        group = (
            [unit_col, col(ReportValue.metric)] if unit_col is not None else [col(ReportValue.metric)]
        )
        rows = _run(
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


def _reported(
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
        unit_col = _REPORT_COLUMN[level] if level != "state" else None
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
        rows = _run(session, query).all()
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
            total = _run(session, sa_select(func.sum(r.reported)).where(*clauses)).scalar()
            return {STATE_KEY: int(total or 0)}
        rows = _run(session, sa_select(r.unit_id, r.reported).where(*clauses)).all()
        return {int(k): int(n) for k, n in rows}
    found = _range_reporters(session, level, ids, start, end)
    if level == "state":
        return {STATE_KEY: len(found.get(STATE_KEY, ()))}
    return {key: len(people) for key, people in found.items()}


def _range_reporters(
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
    for key, bucket, workers in _run(session, query).all():
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


def _series(
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
        unit_col = _REPORT_COLUMN[level] if level != "state" else None
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
    for row in _run(session, query).all():
        if unit_col is None:
            day, name, total = row
            key = STATE_KEY
        else:
            day, key, name, total = row
        if total:
            out[(day, int(key))][name] = int(total)
    return out


def _day_reported(
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
        unit_col = _REPORT_COLUMN[level] if level != "state" else None
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
    for row in _run(session, query).all():
        if unit_col is None:
            out[(row[0], STATE_KEY)] = int(row[1] or 0)
        else:
            out[(row[0], int(row[1]))] = int(row[2] or 0)
    return out


def daily(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> list[tuple[dt.date, int, int]]:
    """(day, sum of `metric`, workers who reported) for each day of the range, from the aggregates."""
    level, key = _key(unit)
    sums = _series(session, level, [key], start, end, metric=metric)
    reported = _day_reported(session, level, [key], start, end)
    return [
        (day, sums.get((day, key), {}).get(metric, 0), reported.get((day, key), 0))
        for day in _days(start, end)
    ]


# ---------------------------------------------------------------- units, workers, who is missing


def count_workers(*, session: Session, unit: Unit) -> int:
    """Active ASHAs and ANMs now in the unit."""
    return int(session.exec(select(func.count()).select_from(Person).where(*worker_scope(unit))).one())


def _workers_by(session: Session, level: str, within: Unit | None) -> dict[int, int]:
    """Active field workers now in each unit of `level` (inside `within`)."""
    scope = worker_scope(within) if within else worker_scope(state_unit(""))
    if level == "state":
        total = session.exec(select(func.count()).select_from(Person).where(*scope)).one()
        return {STATE_KEY: int(total)}
    column = _PERSON_COLUMN[level]
    rows = _run(session, sa_select(column, func.count()).where(*scope).group_by(column)).all()
    return {int(k): int(n) for k, n in rows if k is not None}


def unit_totals(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, source: Source = AGGREGATES
) -> dict[str, int]:
    """The unit's sums per metric over the range (metrics that add up to 0 are left out)."""
    level, key = _key(unit)
    return dict(_sums(session, level, [key], start, end, source=source).get(key, {}))


def reported_below(*, session: Session, unit: Unit, day: dt.date) -> dict[int, int]:
    """Per unit one level below (blocks of a district, ...), the workers who reported on the day."""
    child_level = CHILD_LEVEL[unit.level]
    if child_level == "worker":
        return {}
    ids = [c.id for c in children(session=session, unit=unit) if c.id is not None]
    return _reported(session, child_level, ids, day, day)


def reported_count(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, source: Source = AGGREGATES
) -> int:
    """How many workers reported in the unit on at least one day of the range."""
    level, key = _key(unit)
    return _reported(session, level, [key], start, end, source=source).get(key, 0)


def reported_people(*, session: Session, unit: Unit, start: dt.date, end: dt.date) -> set[int]:
    """Workers with at least one value reported in the range, in this unit."""
    rows = session.exec(
        select(DailyReport.person_id)
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .distinct()
    ).all()
    return set(rows)


def _current_field_workers(session: Session, unit: Unit) -> list[tuple[Person, Village | None]]:
    return list(
        session.exec(
            select(Person, Village)
            .join(Village, col(Village.id) == col(Person.village_id), isouter=True)
            .where(*worker_scope(unit))
            .order_by(col(Person.name))
        ).all()
    )


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
        for p, v in _current_field_workers(session, unit)
        if p.id not in done
    ]
    return sorted(out, key=lambda m: (m.sector, m.name))


def children(*, session: Session, unit: Unit) -> list[Unit]:
    """The units one level below (blocks of a district, ...) in name order; none for a sector."""
    if unit.level == "state":
        rows = _run(
            session, sa_select(col(District.id), col(District.name)).order_by(col(District.name))
        ).all()
        return [Unit("district", name, name, district_id=i) for i, name in rows]
    if unit.level == "district":
        found = _run(
            session,
            sa_select(col(Block.id), col(Block.name), col(District.name))
            .join(District, col(District.id) == col(Block.district_id))
            .where(col(Block.district_id) == unit.district_id)
            .order_by(col(Block.name)),
        ).all()
        return [
            Unit("block", name, f"{parent}/{name}", district_id=unit.district_id, block_id=i)
            for i, name, parent in found
        ]
    if unit.level == "block":
        found = _run(
            session,
            sa_select(col(Sector.id), col(Sector.name), col(Block.name), col(District.name))
            .join(Block, col(Block.id) == col(Sector.block_id))
            .join(District, col(District.id) == col(Block.district_id))
            .where(col(Sector.block_id) == unit.block_id)
            .order_by(col(Sector.name)),
        ).all()
        return [
            Unit(
                "sector",
                name,
                f"{district}/{block}/{name}",
                district_id=unit.district_id,
                block_id=unit.block_id,
                sector_id=i,
            )
            for i, name, block, district in found
        ]
    return []


def _children_and_workers(session: Session, unit: Unit) -> tuple[list[Unit], dict[int, int]]:
    """children(), each with its active field workers now, in one read; the state's districts in
    two, as the whole roster counted by district is read much quicker than joined to them."""
    if unit.level == "state":
        return children(session=session, unit=unit), _workers_by(session, "district", None)
    child_level = CHILD_LEVEL[unit.level]
    table: Any = {"district": District, "block": Block, "sector": Sector}[child_level]
    workers_in = and_(
        col(_PERSON_COLUMN[child_level]) == col(table.id),
        col(Person.active).is_(True),
        col(Person.role).in_(FIELD_ROLES),
    )
    names: list[Any] = [col(table.name)]
    query = sa_select(col(table.id), func.count(col(Person.id)))
    if child_level == "block":
        query = query.join(District, col(District.id) == col(Block.district_id)).where(
            col(Block.district_id) == unit.district_id
        )
        names.append(col(District.name))
    elif child_level == "sector":
        query = (
            query.join(Block, col(Block.id) == col(Sector.block_id))
            .join(District, col(District.id) == col(Block.district_id))
            .where(col(Sector.block_id) == unit.block_id)
        )
        names += [col(Block.name), col(District.name)]
    query = (
        query.add_columns(*names)
        .select_from(table)
        .outerjoin(Person, workers_in)
        .group_by(col(table.id), *names)
        .order_by(col(table.name))
    )
    kids, workers = [], {}
    for row in _run(session, query).all():
        key, count, name, *above = row
        if child_level == "district":
            kids.append(Unit("district", name, name, district_id=key))
        elif child_level == "block":
            path = f"{above[0]}/{name}"
            kids.append(Unit("block", name, path, district_id=unit.district_id, block_id=key))
        else:
            path = f"{above[1]}/{above[0]}/{name}"
            kids.append(
                Unit(
                    "sector",
                    name,
                    path,
                    district_id=unit.district_id,
                    block_id=unit.block_id,
                    sector_id=key,
                )
            )
        workers[int(key)] = int(count)
    return kids, workers


def parent_unit(session: Session, unit: Unit, state_name: str) -> Unit | None:
    if unit.level == "sector":
        block = session.get_one(Block, unit.block_id)
        return block_unit(block, session.get_one(District, block.district_id))
    if unit.level == "block":
        return district_unit(session.get_one(District, unit.district_id))
    if unit.level == "district":
        return state_unit(state_name)
    return None


# ---------------------------------------------------------------- rankings


@dataclass(frozen=True)
class _Given:
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


def _assign_ranks(rows: list[RankRow]) -> list[RankRow]:
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
    given: _Given | None = None,
) -> list[RankRow]:
    """The unit's children (in a sector, its workers) ranked by `metric` over the range.

    With `settings`, each row carries its target and achievement and its place by achievement;
    without `counts`, workers and reported are left at 0 (a ranking needs neither)."""
    given = given or _Given()
    child_level = CHILD_LEVEL[unit.level]
    if child_level == "worker":
        rows = _worker_breakdown(session=session, unit=unit, start=start, end=end, metric=metric)
    else:
        kids = given.kids if given.kids is not None else children(session=session, unit=unit)
        ids = [k.id for k in kids if k.id is not None]
        rows = [RankRow(k.id, k.name, 0) for k in kids if k.id is not None]
        sums = _sums(session, child_level, ids, start, end, source=source)
        workers: Mapping[int, int] = {}
        reported: Mapping[int, int] = {}
        if counts:
            if given.workers is not None:
                workers = given.workers
            else:
                workers = _workers_by(session, child_level, unit)
            if given.reported is not None:
                reported = given.reported
            else:
                reported = _reported(session, child_level, ids, start, end, source=source)
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
    return _assign_ranks(rows)


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
        for p, _ in _current_field_workers(session, unit)
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


# ---------------------------------------------------------------- the official portal's counts


@dataclass(frozen=True)
class OfficialGap:
    """The portal's count of the primary metric against the self-reported one, both counted over
    the days of the range the portal has a figure for (`through`: the last of them)."""

    official: int
    reported: int  # self-reported by the workers, over the same days and units
    through: dt.date

    @property
    def gap(self) -> int:
        return self.reported - self.official

    @property
    def gap_pct(self) -> float | None:
        return pct(self.gap, self.official)


def official_json(found: OfficialGap | None) -> dict[str, Any]:
    """`official`, `official_gap`, `official_gap_pct` (null without portal figures)."""
    if found is None:
        return {"official": None, "official_gap": None, "official_gap_pct": None}
    return {"official": found.official, "official_gap": found.gap, "official_gap_pct": found.gap_pct}


def official_by_day(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    metric: str,
) -> dict[tuple[int, dt.date], tuple[int, int]]:
    """Per unit of `level` (the state: key 0) and day with a portal figure, (portal's count,
    self-reported count) of `metric`; self-reported over the same units the portal counted that
    day (a district's blocks when the district has no row of its own), read from the aggregates.
    Sectors have none."""
    rows = official.official_rows(session, level, ids, start, end, metric)
    counted = official.counted_units(rows, level)
    if not counted:
        return {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for _, units in counted.values():
        for unit_level, unit_id in units:
            wanted[unit_level].add(unit_id)
    totals.apply_pending_totals(session=session)
    t: Any = UnitDayTotal.__table__.c  # type: ignore[attr-defined]
    self_reported: dict[tuple[str, int, dt.date], int] = {}
    for unit_level, unit_ids in wanted.items():
        query = sa_select(t.unit_id, t.day, t.value).where(
            t.level == unit_level,
            t.metric == metric,
            col(t.day).between(start, end),
            col(t.unit_id).in_(sorted(unit_ids)),
        )
        for unit_id, day, value in _run(session, query).all():
            self_reported[(unit_level, int(unit_id), day)] = int(value)
    return {
        key: (value, sum(self_reported.get((lvl, uid, key[1]), 0) for lvl, uid in units))
        for key, (value, units) in counted.items()
    }


def official_gaps(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    metric: str,
) -> dict[int, OfficialGap]:
    """Per unit of `level` with portal figures in the range, its OfficialGap."""
    out: dict[int, OfficialGap] = {}
    for (key, day), (value, reported) in official_by_day(
        session, level, ids, start, end, metric
    ).items():
        found = out.get(key)
        if found is None:
            out[key] = OfficialGap(value, reported, day)
        else:
            out[key] = OfficialGap(
                found.official + value, found.reported + reported, max(found.through, day)
            )
    return out


def official_gap(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> OfficialGap | None:
    """The unit's OfficialGap over the range; None for a sector or where the portal has nothing."""
    if unit.level not in ("district", "block", "state"):
        return None
    level, key = _key(unit)
    ids = None if level == "state" else [key]
    return official_gaps(session, level, ids, start, end, metric).get(key)


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
    return _assign_ranks(rows), [k for k in kids if k.id not in gaps]


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
        ids = [int(i) for (i,) in _run(session, query).all()]
        sums = _sums(session, unit.level, ids, start, end, metric=metric, source=RAW)
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
    return {int(i): int(v) for i, v in _run(session, query).all()}


@dataclass(frozen=True)
class _Known:
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
    known: _Known | None = None,
) -> Figures:
    """Totals, reported, target and achievement over the range; pace and coverage through its end."""
    metric = settings.primary_metric
    level, key = _key(unit)
    if known is not None:
        totals = dict(known.totals)
        workers = known.workers
    else:
        totals = dict(_sums(session, level, [key], start, end, source=source).get(key, {}))
        workers = count_workers(session=session, unit=unit)
    for name in settings.metric_keys:
        totals.setdefault(name, 0)
    if known is not None and known.reported is not None:
        reported = known.reported
    else:
        reported = _reported(session, level, [key], start, end, source=source).get(key, 0)
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
        kids, workers = _children_and_workers(session, unit)
    child_ids = [c.id for c in kids if c.id is not None] if kids is not None else []
    if source is AGGREGATES and kids is not None and start != end:
        found = _range_reporters(session, child_level, child_ids, start, end)
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
        given=_Given(kids, workers, reported_by, goals),
    )
    known = None
    if unit.level != "sector":
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            for name, value in row.totals.items():
                totals[name] += value
        known = _Known(
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
    level, key = _key(fig.unit)
    series: dict[dt.date, int] = {}
    if end >= first:
        daily = _series(session, level, [key], first, end, metric=metric, source=source)
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


# ---------------------------------------------------------------- export


EXPORT_HEAD = ["date", "district", "block", "sector", "worker", "phone", "workers", "reported"]
# After the rest where the portal's counts were imported for a day of the range.
EXPORT_OFFICIAL = ["official", "official_gap"]


def _official_cells(portal: tuple[int, int] | None) -> list[object]:
    """The portal's count of the primary metric that day and self-reported minus it; empty
    where the portal has no figure (every sector and worker row)."""
    if portal is None:
        return ["", ""]
    value, reported = portal
    return [value, reported - value]


@dataclass(frozen=True)
class _Place:
    ids: tuple[int | None, int | None, int | None]  # district, block, sector
    names: tuple[str, str, str]


def _places(session: Session, level: str, within: Unit | None) -> list[_Place]:
    """Every unit at `level` (inside `within`), in name order."""
    if level == "state":
        return [_Place((None, None, None), ("", "", ""))]
    query: Any
    if level == "district":
        query = sa_select(col(District.id), col(District.name)).order_by(col(District.name))
        if within and within.level != "state":
            query = query.where(District.id == within.district_id)
        return [_Place((i, None, None), (n, "", "")) for i, n in _run(session, query).all()]
    if level == "block":
        query = (
            sa_select(col(District.id), col(Block.id), col(District.name), col(Block.name))
            .join(Block, col(Block.district_id) == col(District.id))
            .order_by(col(District.name), col(Block.name))
        )
    else:
        query = (
            sa_select(
                col(District.id),
                col(Block.id),
                col(Sector.id),
                col(District.name),
                col(Block.name),
                col(Sector.name),
            )
            .join(Block, col(Block.district_id) == col(District.id))
            .join(Sector, col(Sector.block_id) == col(Block.id))
            .order_by(col(District.name), col(Block.name), col(Sector.name))
        )
    if within and within.district_id:
        query = query.where(District.id == within.district_id)
    if within and within.block_id:
        query = query.where(Block.id == within.block_id)
    if within and within.sector_id and level == "sector":
        query = query.where(Sector.id == within.sector_id)
    out = []
    for row in _run(session, query).all():
        if level == "block":
            out.append(_Place((row[0], row[1], None), (row[2], row[3], "")))
        else:
            out.append(_Place((row[0], row[1], row[2]), (row[3], row[4], row[5])))
    return out


def _unit_id(place: _Place, level: str) -> int:
    index = {"district": 0, "block": 1, "sector": 2}.get(level)
    if index is None:
        return STATE_KEY
    value = place.ids[index]
    assert value is not None
    return value


def export_rows(
    *,
    session: Session,
    settings: Settings,
    level: str,
    start: dt.date,
    end: dt.date,
    within: Unit | None = None,
    source: Source = AGGREGATES,
) -> tuple[list[str], list[list[object]]]:
    """The export table: one row per date and unit at `level`, as interface.md describes."""
    metrics = settings.metric_keys
    header = [*EXPORT_HEAD, *metrics, "target", "achievement_pct"]
    primary = settings.primary_metric
    with_portal = official.any_official(session, start, end)
    if with_portal:
        header += EXPORT_OFFICIAL
    in_campaign = {day: campaign_days(settings, day, day) > 0 for day in _days(start, end)}

    def finish(
        day: dt.date,
        place: _Place,
        worker: str,
        phone: str,
        workers: int,
        reported: int,
        totals: dict[str, int],
        daily: int | None,
        portal: tuple[int, int] | None = None,
    ) -> list[object]:
        target = daily if in_campaign[day] else None
        achieved = pct(totals.get(primary, 0), target)
        row: list[object] = [
            day.isoformat(),
            *place.names,
            worker,
            phone,
            workers,
            reported,
            *[totals.get(m, 0) for m in metrics],
            target if target is not None else "",
            achieved if achieved is not None else "",
        ]
        if with_portal:
            row += _official_cells(portal)
        return row

    if level == "worker":
        return header, _worker_export(session, settings, start, end, within, finish)
    places = _places(session, level, within)
    if within is not None and within.level != "state" and level != "state":
        ids: list[int] | None = [_unit_id(p, level) for p in places]
    else:
        ids = None
    sums = _series(session, level, ids, start, end, source=source)
    reported = _day_reported(session, level, ids, start, end, source=source)
    workers = _workers_by(session, level, within)
    goals = goals_at(
        session=session,
        settings=settings,
        level=level,
        ids=[_unit_id(p, level) for p in places],
        metric=primary,
    )
    portal = official_by_day(session, level, ids, start, end, primary) if with_portal else {}
    rows: list[list[object]] = []
    for day in _days(start, end):
        for place in places:
            unit_id = _unit_id(place, level)
            rows.append(
                finish(
                    day,
                    place,
                    "",
                    "",
                    workers.get(unit_id, 0),
                    reported.get((day, unit_id), 0),
                    sums.get((day, unit_id), {}),
                    goals[unit_id].daily,
                    portal.get((unit_id, day)),
                )
            )
    return header, rows


def _worker_export(
    session: Session,
    settings: Settings,
    start: dt.date,
    end: dt.date,
    within: Unit | None,
    finish: Any,
) -> list[list[object]]:
    """Worker rows: every active worker now in scope each day, and whoever reported in it."""
    scope = within or state_unit(settings.state)
    person_cols = [
        col(c)
        for c in (
            Person.id,
            Person.name,
            Person.phone,
            Person.active,
            Person.district_id,
            Person.block_id,
            Person.sector_id,
        )
    ]
    people = {
        row[0]: row
        for row in _run(
            session, sa_select(*person_cols).where(col(Person.role).in_(FIELD_ROLES), *_person_in(scope))
        ).all()
    }
    values = _run(
        session,
        sa_select(
            col(DailyReport.day),
            col(DailyReport.person_id),
            col(DailyReport.district_id),
            col(DailyReport.block_id),
            col(DailyReport.sector_id),
            col(ReportValue.metric),
            col(ReportValue.value),
        )
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(scope)),
    ).all()
    per: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(dict)
    where: dict[tuple[dt.date, int], tuple[int, int, int]] = {}
    for day, person_id, district_id, block_id, sector_id, metric, value in values:
        per[(day, person_id)][metric] = value
        where[(day, person_id)] = (district_id, block_id, sector_id)
    moved = {p for _, p in per if p not in people}
    if moved:
        # Reported here, now elsewhere: their rows stay in the unit where they reported.
        for row in _run(session, sa_select(*person_cols).where(col(Person.id).in_(moved))).all():
            people[row[0]] = row
    names: dict[tuple[int | None, int | None, int | None], tuple[str, str, str]] = {
        p.ids: p.names for p in _places(session, "sector", within)
    }
    unknown = {ids for ids in where.values() if ids not in names}
    for place in _places(session, "sector", None) if unknown else []:
        names.setdefault(place.ids, place.names)
    worker_target = goals_at(
        session=session, settings=settings, level="worker", ids=[0], metric=settings.primary_metric
    )[0].daily
    # Her own target is zero on a day she is off.
    off = leave.off_days(session, settings, [(p[0], p[4], p[5]) for p in people.values()], start, end)
    rows: list[tuple[tuple[str, ...], list[object]]] = []
    for day in _days(start, end):
        for person_id, person in people.items():
            _, name, phone, active, district_id, block_id, sector_id = person
            key = (day, person_id)
            current = (district_id, block_id, sector_id)
            in_scope_now = scope.holds(*current)
            if key not in per and not (active and in_scope_now):
                continue
            ids = where.get(key, current)
            place = _Place(ids, names.get(ids, ("", "", "")))
            row = finish(
                day,
                place,
                name,
                phone,
                1 if active and ids == current else 0,
                1 if key in per else 0,
                per.get(key, {}),
                0 if day in off.get(person_id, ()) else worker_target,
            )
            rows.append(((day.isoformat(), *place.names, name.casefold()), row))
    rows.sort(key=lambda r: r[0])
    return [row for _, row in rows]

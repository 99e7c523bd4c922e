"""Sums, who reported, rankings and the export table, for any unit and range of days."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.units import CHILD_LEVEL, Unit, block_unit, district_unit, sector_unit
from models import FIELD_ROLES, Block, DailyReport, District, Person, ReportValue, Sector, Village


def report_scope(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    column = {
        "district": DailyReport.district_id,
        "block": DailyReport.block_id,
        "sector": DailyReport.sector_id,
    }[unit.level]
    return [col(column) == unit.id]


def worker_scope(unit: Unit) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        col(Person.active).is_(True),
        col(Person.role).in_(FIELD_ROLES),
    ]
    if unit.level != "state":
        column = {"district": Person.district_id, "block": Person.block_id, "sector": Person.sector_id}[
            unit.level
        ]
        clauses.append(col(column) == unit.id)
    return clauses


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def count_workers(*, session: Session, unit: Unit) -> int:
    """Active ASHAs and ANMs now in the unit."""
    return int(session.exec(select(func.count()).select_from(Person).where(*worker_scope(unit))).one())


def unit_totals(*, session: Session, unit: Unit, start: dt.date, end: dt.date) -> dict[str, int]:
    rows = session.exec(
        select(ReportValue.metric, func.sum(ReportValue.value))
        .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .group_by(col(ReportValue.metric))
    ).all()
    return {metric: int(total or 0) for metric, total in rows}


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


def missing_workers(*, session: Session, unit: Unit, day: dt.date) -> list[MissingWorker]:
    """Active field workers of the unit with nothing reported for the day, by sector and name."""
    done = reported_people(session=session, unit=unit, start=day, end=day)
    sectors = {s.id: s.name for s in session.exec(select(Sector)).all()}
    out = [
        MissingWorker(p.name, p.phone, v.name if v else "", sectors.get(p.sector_id or -1, ""))
        for p, v in _current_field_workers(session, unit)
        if p.id not in done
    ]
    return sorted(out, key=lambda m: (m.sector, m.name))


@dataclass
class RankRow:
    key: int
    name: str
    value: int
    workers: int = 0
    reported: int = 0
    rank: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def _assign_ranks(rows: list[RankRow]) -> list[RankRow]:
    """Highest first; equal values share a rank (1, 2, 2, 4); ties listed by name."""
    rows.sort(key=lambda r: (-r.value, r.name.casefold()))
    for index, row in enumerate(rows):
        if index and row.value == rows[index - 1].value:
            row.rank = rows[index - 1].rank
        else:
            row.rank = index + 1
    return rows


def children(*, session: Session, unit: Unit) -> list[Unit]:
    """The units one level below (blocks of a district, ...); empty for a sector."""
    if unit.level == "state":
        return [district_unit(d) for d in session.exec(select(District).order_by(col(District.name)))]
    if unit.level == "district":
        district = session.get_one(District, unit.district_id)
        blocks = session.exec(
            select(Block).where(Block.district_id == unit.district_id).order_by(col(Block.name))
        )
        return [block_unit(b, district) for b in blocks]
    if unit.level == "block":
        block = session.get_one(Block, unit.block_id)
        district = session.get_one(District, block.district_id)
        sectors = session.exec(
            select(Sector).where(Sector.block_id == unit.block_id).order_by(col(Sector.name))
        )
        return [sector_unit(s, block, district) for s in sectors]
    return []


def breakdown(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> list[RankRow]:
    """The unit's children (or, in a sector, its workers) ranked by `metric` over the range."""
    child_level = CHILD_LEVEL[unit.level]
    if child_level == "worker":
        return _worker_breakdown(session=session, unit=unit, start=start, end=end, metric=metric)
    report_col: Any = {
        "district": DailyReport.district_id,
        "block": DailyReport.block_id,
        "sector": DailyReport.sector_id,
    }[child_level]
    person_col: Any = {
        "district": Person.district_id,
        "block": Person.block_id,
        "sector": Person.sector_id,
    }[child_level]
    rows: dict[int, RankRow] = {}
    for child in children(session=session, unit=unit):
        assert child.id is not None
        rows[child.id] = RankRow(child.id, child.name, 0)
    sums = session.exec(
        select(report_col, ReportValue.metric, func.sum(ReportValue.value))
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .group_by(report_col, col(ReportValue.metric))
    ).all()
    for key, m, total in sums:
        if key in rows:
            rows[key].totals[m] = int(total or 0)
    workers = session.exec(
        select(person_col, func.count()).where(*worker_scope(unit)).group_by(person_col)
    ).all()
    for key, count in workers:
        if key in rows:
            rows[key].workers = int(count)
    reported = session.exec(
        select(report_col, func.count(func.distinct(DailyReport.person_id)))
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end), *report_scope(unit))
        .group_by(report_col)
    ).all()
    for key, count in reported:
        if key in rows:
            rows[key].reported = int(count)
    for row in rows.values():
        row.value = row.totals.get(metric, 0)
    return _assign_ranks(list(rows.values()))


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
    return _assign_ranks(list(rows.values()))


@dataclass
class Figures:
    """What a BMO or officer asks about a unit over a range of days (see `fieldbot status`)."""

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
        }


def parent_unit(session: Session, unit: Unit, state_name: str) -> Unit | None:
    if unit.level == "sector":
        block = session.get_one(Block, unit.block_id)
        return block_unit(block, session.get_one(District, block.district_id))
    if unit.level == "block":
        return district_unit(session.get_one(District, unit.district_id))
    if unit.level == "district":
        return Unit("state", state_name, state_name)
    return None


def figures(
    *, session: Session, settings: Settings, unit: Unit, start: dt.date, end: dt.date
) -> Figures:
    metric = settings.primary_metric
    totals = unit_totals(session=session, unit=unit, start=start, end=end)
    for key in settings.metric_keys:
        totals.setdefault(key, 0)
    target_conf = settings.targets.get(unit.level, {}).get(metric)  # type: ignore[call-overload]
    days = (end - start).days + 1
    target = target_conf.daily * days if target_conf and target_conf.daily is not None else None
    done = totals.get(metric, 0)
    achievement = round(100 * done / target, 1) if target else None

    required_daily = projected = None
    campaign = settings.campaign
    if target_conf and target_conf.campaign_total is not None and campaign.start and campaign.end:
        since = unit_totals(session=session, unit=unit, start=campaign.start, end=end).get(metric, 0)
        remaining = max(target_conf.campaign_total - since, 0)
        days_left = (campaign.end - end).days
        if days_left > 0:
            required_daily = math.ceil(remaining / days_left)
        week = unit_totals(session=session, unit=unit, start=end - dt.timedelta(days=6), end=end).get(
            metric, 0
        )
        if remaining == 0:
            projected = end
        elif week > 0:
            projected = end + dt.timedelta(days=math.ceil(remaining / (week / 7)))

    rank = of = None
    parent = parent_unit(session, unit, settings.state)
    if parent is not None:
        siblings = breakdown(session=session, unit=parent, start=start, end=end, metric=metric)
        of = len(siblings)
        rank = next((r.rank for r in siblings if r.key == unit.id), None)
    return Figures(
        unit=unit,
        start=start,
        end=end,
        primary_metric=metric,
        workers=count_workers(session=session, unit=unit),
        reported=len(reported_people(session=session, unit=unit, start=start, end=end)),
        totals=totals,
        target=target,
        achievement_pct=achievement,
        coverage_pct=None,
        required_daily=required_daily,
        projected_finish=projected,
        rank=rank,
        of=of,
    )


# ---------------------------------------------------------------- export


EXPORT_HEAD = ["date", "district", "block", "sector", "worker", "phone", "workers", "reported"]


def export_rows(
    *,
    session: Session,
    settings: Settings,
    level: str,
    start: dt.date,
    end: dt.date,
    within: Unit | None = None,
) -> tuple[list[str], list[list[object]]]:
    """The export table: one row per date and unit at `level`, as interface.md describes."""
    metrics = settings.metric_keys
    header = [*EXPORT_HEAD, *metrics, "target", "achievement_pct"]
    scope = report_scope(within) if within else []
    person_scope = worker_scope(within) if within else worker_scope(Unit("state", "", ""))
    names = _unit_names(session)
    target_conf = settings.targets.get(level, {}).get(settings.primary_metric)  # type: ignore[call-overload]
    daily_target = target_conf.daily if target_conf else None
    primary = settings.primary_metric

    def finish(
        day: dt.date,
        ids: tuple[int | None, int | None, int | None],
        worker: str,
        phone: str,
        workers: int,
        reported: int,
        totals: dict[str, int],
    ) -> list[object]:
        district, block, sector = ids
        target = daily_target
        done = totals.get(primary, 0)
        pct = round(100 * done / target, 1) if target else None
        return [
            day.isoformat(),
            names["district"].get(district, "") if district else "",
            names["block"].get(block, "") if block else "",
            names["sector"].get(sector, "") if sector else "",
            worker,
            phone,
            workers,
            reported,
            *[totals.get(m, 0) for m in metrics],
            target if target is not None else "",
            pct if pct is not None else "",
        ]

    rows: list[list[object]] = []
    if level == "worker":
        people = session.exec(
            select(Person).where(col(Person.role).in_(FIELD_ROLES), *person_scope[1:])
        ).all()
        values = session.exec(
            select(DailyReport, ReportValue.metric, ReportValue.value)
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(col(DailyReport.day).between(start, end), *scope)
        ).all()
        per: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(dict)
        where: dict[tuple[dt.date, int], tuple[int, int, int]] = {}
        for report, m, v in values:
            per[(report.day, report.person_id)][m] = v
            where[(report.day, report.person_id)] = (
                report.district_id,
                report.block_id,
                report.sector_id,
            )
        for day in _days(start, end):
            for person in sorted(people, key=lambda p: (p.sector_id or 0, p.name)):
                assert person.id is not None
                key = (day, person.id)
                if not person.active and key not in per:
                    continue
                ids = where.get(key, (person.district_id, person.block_id, person.sector_id))
                totals = per.get(key, {})
                rows.append(
                    finish(
                        day,
                        ids,
                        person.name,
                        person.phone,
                        1 if person.active else 0,
                        1 if key in per else 0,
                        totals,
                    )
                )
        return header, rows

    unit_cols: tuple[Any, ...] = {
        "sector": (DailyReport.district_id, DailyReport.block_id, DailyReport.sector_id),
        "block": (DailyReport.district_id, DailyReport.block_id),
        "district": (DailyReport.district_id,),
        "state": (),
    }[level]
    person_cols: tuple[Any, ...] = {
        "sector": (Person.district_id, Person.block_id, Person.sector_id),
        "block": (Person.district_id, Person.block_id),
        "district": (Person.district_id,),
        "state": (),
    }[level]
    day_col, in_range = col(DailyReport.day), col(DailyReport.day).between(start, end)
    joined = col(ReportValue.report_id) == col(DailyReport.id)
    sums = session.execute(
        sa_select(day_col, *unit_cols, col(ReportValue.metric), func.sum(ReportValue.value))
        .join(ReportValue, joined)
        .where(in_range, *scope)
        .group_by(day_col, *unit_cols, col(ReportValue.metric))
    ).all()
    reported = session.execute(
        sa_select(day_col, *unit_cols, func.count(func.distinct(DailyReport.person_id)))
        .join(ReportValue, joined)
        .where(in_range, *scope)
        .group_by(day_col, *unit_cols)
    ).all()
    workers = session.execute(
        sa_select(*person_cols, func.count())
        .select_from(Person)
        .where(*person_scope)
        .group_by(*person_cols)
    ).all()
    width = len(unit_cols)

    def pad(ids: tuple[Any, ...]) -> tuple[int | None, int | None, int | None]:
        full = (*ids, None, None, None)[:3]
        return (full[0], full[1], full[2])

    sums_by: dict[tuple[dt.date, tuple[Any, ...]], dict[str, int]] = defaultdict(dict)
    for row in sums:
        day, ids, m, total = row[0], tuple(row[1 : 1 + width]), row[1 + width], row[2 + width]
        sums_by[(day, ids)][m] = int(total or 0)
    reported_by = {(row[0], tuple(row[1 : 1 + width])): int(row[1 + width]) for row in reported}
    workers_by = {tuple(row[:width]): int(row[width]) for row in workers}
    units = _units_at(session, level, within)
    for day in _days(start, end):
        for ids in units:
            rows.append(
                finish(
                    day,
                    pad(ids),
                    "",
                    "",
                    workers_by.get(ids, 0),
                    reported_by.get((day, ids), 0),
                    sums_by.get((day, ids), {}),
                )
            )
    return header, rows


def _unit_names(session: Session) -> dict[str, dict[int, str]]:
    return {
        "district": {d.id: d.name for d in session.exec(select(District)) if d.id is not None},
        "block": {b.id: b.name for b in session.exec(select(Block)) if b.id is not None},
        "sector": {s.id: s.name for s in session.exec(select(Sector)) if s.id is not None},
    }


def _units_at(session: Session, level: str, within: Unit | None) -> list[tuple[Any, ...]]:
    """Id tuples (district[, block[, sector]]) of every unit at `level`, in name order."""
    if level == "state":
        return [()]
    query: Any
    if level == "district":
        query = select(District.id).order_by(col(District.name))
        if within and within.level != "state":
            query = query.where(District.id == within.district_id)
    elif level == "block":
        query = (
            select(Block.district_id, Block.id)
            .join(District)
            .order_by(col(District.name), col(Block.name))
        )
        if within and within.district_id:
            query = query.where(Block.district_id == within.district_id)
        if within and within.block_id:
            query = query.where(Block.id == within.block_id)
    else:
        query = (
            select(Block.district_id, Block.id, Sector.id)
            .join(Block, col(Block.id) == col(Sector.block_id))
            .join(District, col(District.id) == col(Block.district_id))
            .order_by(col(District.name), col(Block.name), col(Sector.name))
        )
        if within and within.district_id:
            query = query.where(Block.district_id == within.district_id)
        if within and within.block_id:
            query = query.where(Block.id == within.block_id)
        if within and within.sector_id:
            query = query.where(Sector.id == within.sector_id)
    result = session.exec(query).all()
    return [tuple(r) if isinstance(r, tuple) or hasattr(r, "_fields") else (r,) for r in result]

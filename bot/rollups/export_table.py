"""The export table: one row per date and unit at a level, or per date and worker."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot import leave
from bot.config import Settings
from bot.official.counts import any_official
from bot.rollups.portal import official_by_day
from bot.rollups.scope import (
    AGGREGATES,
    STATE_KEY,
    Source,
    campaign_days,
    days_between,
    pct,
    person_in,
    report_scope,
    run_select,
    workers_by,
)
from bot.rollups.sums import reported_by_day, sum_by_day
from bot.store.units import Unit, state_unit
from bot.targets import goals_at
from models import FIELD_ROLES, Block, DailyReport, District, Person, ReportValue, Sector

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
        return [_Place((i, None, None), (n, "", "")) for i, n in run_select(session, query).all()]
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
    for row in run_select(session, query).all():
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
    with_portal = any_official(session, start, end)
    if with_portal:
        header += EXPORT_OFFICIAL
    in_campaign = {day: campaign_days(settings, day, day) > 0 for day in days_between(start, end)}

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
    sums = sum_by_day(session, level, ids, start, end, source=source)
    reported = reported_by_day(session, level, ids, start, end, source=source)
    workers = workers_by(session, level, within)
    goals = goals_at(
        session=session,
        settings=settings,
        level=level,
        ids=[_unit_id(p, level) for p in places],
        metric=primary,
    )
    portal = official_by_day(session, level, ids, start, end, primary) if with_portal else {}
    rows: list[list[object]] = []
    for day in days_between(start, end):
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
        for row in run_select(
            session, sa_select(*person_cols).where(col(Person.role).in_(FIELD_ROLES), *person_in(scope))
        ).all()
    }
    values = run_select(
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
        for row in run_select(session, sa_select(*person_cols).where(col(Person.id).in_(moved))).all():
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
    for day in days_between(start, end):
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

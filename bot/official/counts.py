"""The portal's counts kept per day (owns official_count): importing a checked file, replacing
the days it gives, and reading the counts back for rollups, charts and the export."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, tuple_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.numbers import indian
from bot.official.read import LEVELS, Entry, OfficialInvalid, Problem, read_file
from bot.store.units import Unit
from models import OfficialCount, utcnow

# ---------------------------------------------------------------- importing


@dataclass
class OfficialSummary:
    rows: int = 0  # figures read (a wide row holds several)
    days: list[dt.date] = field(default_factory=list)
    units: int = 0
    replaced: int = 0  # figures on file before for the same days and districts
    totals_skipped: int = 0
    unknown_skipped: list[Problem] = field(default_factory=list)
    first_days: int = 0  # cumulative figures with no earlier day: no day's count yet


def _chunks(items: Sequence[Any], size: int = 2000) -> list[list[Any]]:
    """Keys in slices small enough for one IN list (PostgreSQL takes 65,535 parameters)."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _write_rows(entries: Sequence[Entry], cumulative: bool) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        (e.day, e.place.level, e.place.unit_id, e.metric): {
            "district_id": e.place.district_id,
            "block_id": e.place.block_id,
            "value": None if cumulative else e.number,
            "cumulative": e.number if cumulative else None,
            "row": e.row,
            "path": e.place.path,
        }
        for e in entries
    }


def _daily_from_cumulative(
    session: Session,
    rows: dict[tuple[Any, ...], dict[str, Any]],
    replaced: set[tuple[dt.date, int]],
) -> tuple[dict[tuple[Any, ...], int | None], list[Problem]]:
    """Each cumulative figure's day count (the difference from the series' previous day), for
    the file's figures and for stored later days whose previous day the file changes."""
    series_keys = {(level, unit, metric) for (_, level, unit, metric) in rows}
    stored: dict[tuple[Any, ...], int] = {}
    if series_keys:
        o: Any = OfficialCount
        for chunk in _chunks(sorted(series_keys)):
            query = select(OfficialCount).where(
                col(OfficialCount.cumulative).is_not(None),
                tuple_(o.level, o.unit_id, o.metric).in_(chunk),
            )
            for found in session.exec(query):
                if (found.day, found.district_id) not in replaced:
                    stored[(found.day, found.level, found.unit_id, found.metric)] = int(
                        found.cumulative or 0
                    )
    merged: dict[tuple[Any, ...], list[tuple[dt.date, int]]] = defaultdict(list)
    for (day, level, unit, metric), value in stored.items():
        merged[(level, unit, metric)].append((day, value))
    for (day, level, unit, metric), row in rows.items():
        merged[(level, unit, metric)].append((day, int(row["cumulative"])))
    daily: dict[tuple[Any, ...], int | None] = {}
    problems = []
    for (level, unit, metric), points in merged.items():
        previous: tuple[dt.date, int] | None = None
        for day, value in sorted(points):
            key = (day, level, unit, metric)
            count = None if previous is None else value - previous[1]
            if count is not None and count < 0:
                mine = rows.get(key) or rows.get((previous[0], level, unit, metric))  # type: ignore[index]
                assert mine is not None
                problems.append(
                    Problem(
                        mine["row"],
                        "below_previous",
                        {
                            "unit": mine["path"],
                            "metric": metric,
                            "value": indian(value),
                            "day": day.isoformat(),
                            "previous": indian(previous[1]),  # type: ignore[index]
                            "previous_day": previous[0].isoformat(),  # type: ignore[index]
                        },
                    )
                )
            daily[key] = count
            previous = (day, value)
    return daily, problems


def import_official(
    *,
    session: Session,
    settings: Settings,
    path: Path,
    today: dt.date,
    dry_run: bool = False,
    skip_unknown: bool = False,
    districts: set[int] | None = None,
) -> OfficialSummary:
    """Check the whole file, then write it in the caller's transaction (nothing on a dry run).

    Names matching no unit are problems too, unless `skip_unknown`: then they are left out and
    listed in the summary. OfficialInvalid lists every problem; nothing is written then."""
    reading = read_file(session=session, settings=settings, path=path, today=today, districts=districts)
    problems = list(reading.problems)
    if not skip_unknown:
        problems += reading.unknown
    problems.sort(key=lambda p: p.row)
    if problems:
        raise OfficialInvalid(problems)
    if not reading.entries:
        raise OfficialInvalid([Problem(2, "no_rows")])
    cumulative = settings.official.cumulative
    rows = _write_rows(reading.entries, cumulative)
    replaced = {(day, row["district_id"]) for (day, *_), row in rows.items()}
    daily: dict[tuple[Any, ...], int | None] = {}
    if cumulative:
        daily, problems = _daily_from_cumulative(session, rows, replaced)
        if problems:
            raise OfficialInvalid(sorted(problems, key=lambda p: p.row))
    o: Any = OfficialCount
    pairs = _chunks(sorted(replaced))
    before = [
        found
        for chunk in pairs
        for found in session.exec(
            select(OfficialCount).where(tuple_(o.day, o.district_id).in_(chunk))
        ).all()
    ]
    summary = OfficialSummary(
        rows=len(rows),
        days=sorted({e.day for e in reading.entries}),
        units=len({(e.place.level, e.place.unit_id) for e in reading.entries}),
        replaced=len(before),
        totals_skipped=reading.totals_skipped,
        unknown_skipped=reading.unknown,
        first_days=sum(1 for k in rows if cumulative and daily.get(k) is None),
    )
    if dry_run:
        return summary
    for chunk in pairs:
        session.execute(delete(OfficialCount).where(tuple_(o.day, o.district_id).in_(chunk)))
    now = utcnow()
    for (day, level, unit, metric), row in rows.items():
        value = daily.get((day, level, unit, metric)) if cumulative else row["value"]
        session.add(
            OfficialCount(
                day=day,
                level=level,
                unit_id=unit,
                metric=metric,
                district_id=row["district_id"],
                block_id=row["block_id"],
                value=value,
                cumulative=row["cumulative"],
                imported_at=now,
            )
        )
    # Stored later days of a cumulative series whose previous day the file changed.
    for key, value in daily.items():
        if key not in rows:
            day, level, unit, metric = key
            stored_row = session.get(OfficialCount, (day, level, unit, metric))
            if stored_row is not None and stored_row.value != value:
                stored_row.value = value
                session.add(stored_row)
    session.flush()
    return summary


# ---------------------------------------------------------------- reading the counts back


def _scope(level: str, ids: Sequence[int] | None) -> list[Any]:
    o: Any = OfficialCount.__table__.c  # type: ignore[attr-defined]
    if ids is None or level == "state":
        return [o.level.in_(LEVELS)]
    if level == "block":
        return [o.level == "block", o.unit_id.in_(list(ids))]
    return [o.level.in_(LEVELS), o.district_id.in_(list(ids))]


def official_rows(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    metric: str,
) -> list[tuple[dt.date, str, int, int, int]]:
    """(day, level, unit id, district id, count) of the portal's rows for units of `level`
    (a district's: its own and its blocks'; ids None: every unit) with a day's count."""
    if level not in ("district", "block", "state") or (ids is not None and not ids):
        return []
    o: Any = OfficialCount.__table__.c  # type: ignore[attr-defined]
    query = sa_select(o.day, o.level, o.unit_id, o.district_id, o.value).where(
        o.metric == metric, o.day.between(start, end), o.value.is_not(None), *_scope(level, ids)
    )
    if session.new or session.dirty or session.deleted:
        session.flush()
    return [
        (day, row_level, int(unit), int(district), int(value))
        for day, row_level, unit, district, value in session.connection().execute(query).all()
    ]


def counted_units(
    rows: Iterable[tuple[dt.date, str, int, int, int]], level: str
) -> dict[tuple[int, dt.date], tuple[int, list[tuple[str, int]]]]:
    """Per unit of `level` (the state: key 0) and day, the portal's count and the units it counts.

    A block's day is its row; a district's its own row that day, or else its blocks' rows added
    up; the state's its districts' added up."""
    out: dict[tuple[int, dt.date], tuple[int, list[tuple[str, int]]]] = {}
    if level == "block":
        for day, _, unit, _, value in rows:
            out[(unit, day)] = (value, [("block", unit)])
        return out
    own: dict[tuple[int, dt.date], int] = {}
    blocks: dict[tuple[int, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for day, row_level, unit, district, value in rows:
        if row_level == "district":
            own[(district, day)] = value
        else:
            blocks[(district, day)].append((unit, value))
    for (district, day), value in own.items():
        key = (0 if level == "state" else district, day)
        total, units = out.get(key, (0, []))
        out[key] = (total + value, [*units, ("district", district)])
    for (district, day), parts in blocks.items():
        if (district, day) in own:
            continue
        key = (0 if level == "state" else district, day)
        total, units = out.get(key, (0, []))
        out[key] = (total + sum(v for _, v in parts), [*units, *(("block", b) for b, _ in parts)])
    return out


def official_days(
    session: Session,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
    metric: str,
) -> dict[int, dict[dt.date, int]]:
    """Per unit of `level` (the state: key 0), the portal's count of `metric` on each day it has
    one (see `counted_units`). Sectors have none."""
    out: dict[int, dict[dt.date, int]] = defaultdict(dict)
    rows = official_rows(session, level, ids, start, end, metric)
    for (unit, day), (value, _) in counted_units(rows, level).items():
        out[unit][day] = value
    return dict(out)


def official_series(
    *, session: Session, unit: Unit, start: dt.date, end: dt.date, metric: str
) -> dict[dt.date, int] | None:
    """The portal's count of `metric` for the unit on each day of the range that it has one.

    For a chart's second line: days without a key have no portal figure (not a zero). A block's
    days are its rows; a district's its own row that day, or else its blocks' rows added up; the
    state's its districts' added up. None for a sector or a worker, which the portal does not
    count; an empty dict when nothing was imported for the unit in the range."""
    if unit.level not in ("district", "block", "state"):
        return None
    key = 0 if unit.level == "state" else unit.id
    assert key is not None
    ids = None if unit.level == "state" else [key]
    return official_days(session, unit.level, ids, start, end, metric).get(key, {})


def any_official(session: Session, start: dt.date, end: dt.date) -> bool:
    """Whether any portal count was imported for a day of the range."""
    o: Any = OfficialCount.__table__.c  # type: ignore[attr-defined]
    query = sa_select(o.day).where(o.day.between(start, end), o.value.is_not(None)).limit(1)
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(query).first() is not None

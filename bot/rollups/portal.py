"""The official portal's counts against the self-reported ones, over the same days and units."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.official.counts import counted_units, official_rows
from bot.rollups.scope import pct, run_select, unit_key
from bot.store import totals
from bot.store.units import Unit
from models import UnitDayTotal

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
    rows = official_rows(session, level, ids, start, end, metric)
    counted = counted_units(rows, level)
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
        for unit_id, day, value in run_select(session, query).all():
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
    level, key = unit_key(unit)
    ids = None if level == "state" else [key]
    return official_gaps(session, level, ids, start, end, metric).get(key)

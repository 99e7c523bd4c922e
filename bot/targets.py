"""Targets and eligible population per unit: the targets file, and what applies to a unit.

A unit's own row (from `fieldbot targets import`) wins value by value; where it has none, the
config default for its level applies. The eligible population and the baseline have no default:
a unit without its own figures adds up those of the units below it, if every one of them has them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, false, or_
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.places import Places, Spot, parse_lgd
from bot.roster.read import RowError, read_table
from bot.store import units
from bot.store.units import Unit
from models import UnitTarget, utcnow

COLUMNS = (
    "level",
    "district",
    "block",
    "sector",
    "metric",
    "daily",
    "campaign_total",
    "eligible",
    "baseline",
)
LGD_COLUMNS = ("district_lgd", "block_lgd")
VALUES = ("daily", "campaign_total", "eligible", "baseline")
FILE_LEVELS = ("state", "district", "block", "sector")
NAMES_FOR = {
    "state": (),
    "district": ("district",),
    "block": ("district", "block"),
    "sector": ("district", "block", "sector"),
}
MAX_VALUE = 10**10  # more than India's population: a typo, not a figure
STATE_ID = 0


@dataclass(frozen=True)
class Goal:
    """What applies to one unit for one metric; None where nothing is known."""

    daily: int | None = None
    campaign_total: int | None = None
    eligible: int | None = None
    baseline: int | None = None


def _default(settings: Settings, level: str, metric: str) -> Goal:
    conf = settings.targets.get(level, {}).get(metric)  # type: ignore[call-overload]
    if conf is None:
        return Goal()
    return Goal(conf.daily, conf.campaign_total)


def _merge(row: UnitTarget | None, default: Goal) -> Goal:
    if row is None:
        return default
    return Goal(
        row.daily if row.daily is not None else default.daily,
        row.campaign_total if row.campaign_total is not None else default.campaign_total,
        row.eligible,
        row.baseline,
    )


def goal_for(*, session: Session, settings: Settings, unit: Unit, metric: str) -> Goal:
    """The unit's targets and eligible population for the metric."""
    unit_id = STATE_ID if unit.level == "state" else unit.id
    t: Any = UnitTarget
    own_row = and_(t.level == unit.level, t.unit_id == unit_id)
    # One query: the unit's own row, and whether any unit below it has an eligible population.
    below: Any = col(UnitTarget.eligible).is_not(None)
    if unit.level == "district":
        below = and_(below, t.district_id == unit.district_id)
    elif unit.level == "block":
        below = and_(below, t.level == "sector", t.block_id == unit.block_id)
    elif unit.level == "sector":
        below = false()
    rows = session.exec(
        select(UnitTarget)
        .where(UnitTarget.metric == metric, or_(own_row, below))
        .order_by(case((own_row, 0), else_=1))  # the own row first, then any one below
        .limit(2)
    ).all()
    row = next((r for r in rows if r.level == unit.level and r.unit_id == unit_id), None)
    goal = _merge(row, _default(settings, unit.level, metric))
    if goal.eligible is None and any(r is not row for r in rows):
        eligible = _eligible_below(session, unit, metric)
        if eligible is not None:
            goal = Goal(goal.daily, goal.campaign_total, eligible[0], eligible[1])
    return goal


def goals_for_view(
    *,
    session: Session,
    settings: Settings,
    unit: Unit,
    child_level: str,
    child_ids: Iterable[int],
    metric: str,
) -> tuple[Goal, dict[int, Goal]]:
    """The unit's goal and those of the units below it (as goal_for and goals_at), in one read."""
    wanted = list(child_ids)
    if child_level == "worker":
        return goal_for(session=session, settings=settings, unit=unit, metric=metric), goals_at(
            session=session, settings=settings, level="worker", ids=wanted, metric=metric
        )
    t: Any = UnitTarget
    unit_id = STATE_ID if unit.level == "state" else unit.id
    own_row = and_(t.level == unit.level, t.unit_id == unit_id)
    below: Any = col(UnitTarget.eligible).is_not(None)
    if unit.level == "district":
        below = t.district_id == unit.district_id
    elif unit.level == "block":
        below = t.block_id == unit.block_id
    rows = session.exec(
        select(UnitTarget).where(
            UnitTarget.metric == metric,
            or_(own_row, and_(t.level == child_level, t.unit_id.in_(wanted)), below),
        )
    ).all()
    own = next((r for r in rows if r.level == unit.level and r.unit_id == unit_id), None)
    goal = _merge(own, _default(settings, unit.level, metric))
    if goal.eligible is None and any(r is not own and r.eligible is not None for r in rows):
        eligible = _eligible_below(session, unit, metric)
        if eligible is not None:
            goal = Goal(goal.daily, goal.campaign_total, eligible[0], eligible[1])
    default = _default(settings, child_level, metric)
    found = {r.unit_id: r for r in rows if r.level == child_level}
    return goal, {i: _merge(found.get(i), default) for i in wanted}


def goals_at(
    *, session: Session, settings: Settings, level: str, ids: Iterable[int], metric: str
) -> dict[int, Goal]:
    """Targets of many units of one level (the rows of a ranking); eligible from own rows only."""
    wanted = list(ids)
    default = _default(settings, level, metric)
    if level == "worker":
        return dict.fromkeys(wanted, default)
    rows: dict[int, UnitTarget] = {}
    if wanted:
        found = session.exec(
            select(UnitTarget).where(
                UnitTarget.level == level,
                UnitTarget.metric == metric,
                col(UnitTarget.unit_id).in_(wanted),
            )
        ).all()
        rows = {r.unit_id: r for r in found}
    return {i: _merge(rows.get(i), default) for i in wanted}


def _eligible_below(session: Session, unit: Unit, metric: str) -> tuple[int, int] | None:
    """(eligible, baseline) added up from the units below, when every one of them has a figure."""
    query = select(UnitTarget).where(
        UnitTarget.metric == metric,
        col(UnitTarget.eligible).is_not(None),
        col(UnitTarget.level).in_(("district", "block", "sector")),
    )
    districts: list[int]
    within: dict[str, int | None] = {}  # the district or block the units below are read in
    if unit.level == "state":
        districts = units.district_ids(session)
    else:
        assert unit.district_id is not None
        districts = [unit.district_id]
        query = query.where(UnitTarget.district_id == unit.district_id)
        within["district_id"] = unit.district_id
    if unit.level == "block":
        query = query.where(col(UnitTarget.level).in_(("sector",)), UnitTarget.block_id == unit.id)
        within["block_id"] = unit.id
    own = {(r.level, r.unit_id): (r.eligible or 0, r.baseline or 0) for r in session.exec(query)}
    if not own:
        return None
    # The blocks and sectors are read only when a unit above them has no figure of its own
    # (a state whose districts all have one needs neither).
    below: dict[str, dict[int, list[int]]] = {}

    def parts_of(kind: str, parent: int) -> list[int]:
        if kind not in below:
            below[kind] = defaultdict(list)
            for child, above in units.children(session, kind, **within):
                if child is not None:
                    below[kind][above].append(child)
        return below[kind][parent]

    def added(parts: list[tuple[int, int] | None]) -> tuple[int, int] | None:
        if not parts or any(p is None for p in parts):
            return None
        return sum(p[0] for p in parts if p), sum(p[1] for p in parts if p)

    def block(block_id: int) -> tuple[int, int] | None:
        return own.get(("block", block_id)) or added(
            [own.get(("sector", s)) for s in parts_of("sector", block_id)]
        )

    def district(district_id: int) -> tuple[int, int] | None:
        return own.get(("district", district_id)) or added(
            [block(b) for b in parts_of("block", district_id)]
        )

    if unit.level == "block":
        assert unit.id is not None
        return added([own.get(("sector", s)) for s in parts_of("sector", unit.id)])
    if unit.level == "district":
        assert unit.id is not None
        return added([block(b) for b in parts_of("block", unit.id)])
    return added([district(d) for d in districts])


# ---------------------------------------------------------------- the targets file


class TargetsInvalid(Exception):
    """The file cannot be imported; `errors` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = errors


@dataclass(frozen=True)
class TargetRow:
    row: int
    level: str
    unit_id: int
    district_id: int | None
    block_id: int | None
    path: str
    metric: str
    values: dict[str, int | None]

    @property
    def clears(self) -> bool:
        return all(v is None for v in self.values.values())


@dataclass
class TargetsSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    cleared: int = 0


def _header_problems(names: list[str]) -> list[str]:
    problems = []
    missing = [c for c in ("level", "metric") if c not in names]
    if missing:
        problems.append(f"header lacks column(s): {', '.join(missing)}")
    unknown = [n for n in names if n and n not in COLUMNS + LGD_COLUMNS]
    if unknown:
        problems.append(
            f"unknown column(s): {', '.join(unknown)}; expected {','.join(COLUMNS)}"
            f" (and optionally {','.join(LGD_COLUMNS)})"
        )
    if not any(v in names for v in VALUES):
        problems.append(f"header has none of {', '.join(VALUES)}")
    return problems


def _read(path: Path) -> Iterator[tuple[int, dict[str, str]]] | list[RowError]:
    """(row number, stripped cells by column) for each data row, or the file-level errors."""
    table = read_table(path, what="a targets file", header_problems=_header_problems)
    if isinstance(table, list):
        return table
    return ((number, {k: v.strip() for k, v in cells.items()}) for number, cells in table)


_NUMBER = re.compile(r"^\d{1,3}(,\d{2})*(,\d{3})$|^\d{1,3}(,\d{3})+$|^\d+$")


def parse_number(text: str) -> int | None:
    """A whole number as people write it: 2895434, 28,95,434, 2,895,434, or 10000.0 from Excel.

    Raises ValueError with the reason for anything else."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if not value:
        return None
    if re.fullmatch(r"\d+\.0+", value):
        value = value.split(".")[0]
    if value.startswith("-"):
        raise ValueError("is negative")
    if not _NUMBER.fullmatch(value):
        raise ValueError("is not a whole number")
    number = int(value.replace(",", ""))
    if number > MAX_VALUE:
        raise ValueError("is far too large")
    return number


class _Places:
    """The roster's units, for matching file rows to them (by LGD code where the row gives one)."""

    def __init__(self, session: Session):
        self.places = Places(session)

    def find(
        self, level: str, names: dict[str, str], codes: dict[str, int | None] | None = None
    ) -> tuple[int, int | None, int | None, str] | str:
        """(unit id, district id, block id, path), or why the names match no unit."""
        if level == "state":
            return STATE_ID, None, None, "state"
        codes = codes or {}
        district = self.places.find("district", None, names["district"], codes.get("district_lgd"))
        if isinstance(district, str):
            return district
        if district is None or district.id is None:
            return f"no district {names['district']!r} on the roster"
        if level == "district":
            return district.id, district.id, None, district.name
        block = self.places.find("block", district, names["block"], codes.get("block_lgd"))
        if isinstance(block, str):
            return block
        if block is None or block.id is None:
            return f"no block {names['block']!r} in district {district.name} on the roster"
        if level == "block":
            return block.id, district.id, block.id, block.path
        sector = self.places.find("sector", block, names["sector"], None)
        if not isinstance(sector, Spot) or sector.id is None:
            return f"no sector {names['sector']!r} in block {block.path} on the roster"
        return sector.id, district.id, block.id, sector.path


def _metric_keys(settings: Settings) -> dict[str, str]:
    """Each metric by its key and its Hindi and English names, lower-cased."""
    names: dict[str, str] = {}
    for metric in settings.metrics:
        for name in (metric.key, metric.en, metric.hi):
            names.setdefault(name.casefold(), metric.key)
    return names


def parse_row(
    number: int, cells: dict[str, str], places: _Places, metrics: dict[str, str]
) -> TargetRow | list[RowError]:
    if "__broken__" in cells:
        return [RowError(number, cells["__broken__"])]
    problems: list[str] = []
    if cells.get("__extra__") == "filled":
        problems.append("text past the last column (a comma inside a name? quote it)")
    level = cells.get("level", "").strip().casefold()
    if level not in FILE_LEVELS:
        shown = cells.get("level", "").strip()
        problems.append(
            f"level {shown!r} is not one of {', '.join(FILE_LEVELS)}" if shown else "level is empty"
        )
    names = {c: cells.get(c, "").strip() for c in ("district", "block", "sector")}
    if level in FILE_LEVELS:
        for column in NAMES_FOR[level]:
            if column == "sector" and not names[column]:
                problems.append(f"a {level} row needs {column}")
            elif not names[column] and not cells.get(f"{column}_lgd", "").strip():
                problems.append(f"a {level} row needs {column} (or {column}_lgd)")
        for column in ("district", "block", "sector"):
            if column not in NAMES_FOR[level] and names[column]:
                problems.append(f"a {level} row names no {column} (found {names[column]!r})")
    metric_text = cells.get("metric", "").strip()
    metric = metrics.get(metric_text.casefold())
    if metric is None:
        known = ", ".join(sorted(set(metrics.values())))
        problems.append(
            f"metric {metric_text!r} is not a configured metric ({known})"
            if metric_text
            else f"metric is empty ({known})"
        )
    values: dict[str, int | None] = {}
    for column in VALUES:
        try:
            values[column] = parse_number(cells.get(column, ""))
        except ValueError as exc:
            problems.append(f"{column} {cells.get(column, '').strip()!r} {exc}")
    codes: dict[str, int | None] = {}
    for column in ("district_lgd", "block_lgd"):
        try:
            codes[column] = parse_lgd(cells.get(column, ""))
        except ValueError as exc:
            problems.append(f"{column} {exc}")
    eligible, baseline = values.get("eligible"), values.get("baseline")
    if baseline is not None and eligible is None:
        problems.append("baseline is given without eligible")
    if eligible is not None and baseline is not None and baseline > eligible:
        problems.append(f"baseline {baseline} is more than eligible {eligible}")
    if problems:
        return [RowError(number, p) for p in problems]
    found = places.find(level, names, codes)
    if isinstance(found, str):
        return [RowError(number, found)]
    unit_id, district_id, block_id, path = found
    assert metric is not None
    return TargetRow(number, level, unit_id, district_id, block_id, path, metric, values)


def load(session: Session, settings: Settings, path: Path) -> list[TargetRow]:
    """Every row checked; TargetsInvalid lists every bad one."""
    table = _read(path)
    if isinstance(table, list):
        raise TargetsInvalid(table)
    places, metrics = _Places(session), _metric_keys(settings)
    rows: list[TargetRow] = []
    errors: list[RowError] = []
    first: dict[tuple[str, int, str], int] = {}
    for number, cells in table:
        parsed = parse_row(number, cells, places, metrics)
        if isinstance(parsed, list):
            errors += parsed
            continue
        key = (parsed.level, parsed.unit_id, parsed.metric)
        if key in first:
            errors.append(
                RowError(number, f"{parsed.path} {parsed.metric} is already given in row {first[key]}")
            )
            continue
        first[key] = number
        rows.append(parsed)
    if errors:
        raise TargetsInvalid(errors)
    if not rows:
        raise TargetsInvalid([RowError(2, "the file has no rows below the header")])
    return rows


def import_targets(
    *, session: Session, settings: Settings, path: Path, dry_run: bool = False
) -> TargetsSummary:
    """Check the whole file, then write it in the caller's transaction (nothing on a dry run).

    A row with every value empty takes the unit's own figures away (the defaults apply again)."""
    rows = load(session, settings, path)
    summary = TargetsSummary(rows=len(rows))
    now = utcnow()
    for row in rows:
        existing = session.get(UnitTarget, (row.level, row.unit_id, row.metric))
        if row.clears:
            if existing is not None:
                summary.cleared += 1
                if not dry_run:
                    session.delete(existing)
            continue
        if existing is None:
            summary.created += 1
            existing = UnitTarget(level=row.level, unit_id=row.unit_id, metric=row.metric)
        else:
            summary.updated += 1
        if dry_run:
            continue
        fields: dict[str, Any] = {
            "district_id": row.district_id,
            "block_id": row.block_id,
            **row.values,
            "updated_at": now,
        }
        for name, value in fields.items():
            setattr(existing, name, value)
        session.add(existing)
    session.flush()
    return summary

"""What every rollup reads first: a unit's rows and workers (scopes), the units below and above it,
and the helpers they share (percentages, campaign days, the state's key)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import leave
from bot.config import Settings
from bot.store.units import CHILD_LEVEL, Unit, block_unit, district_unit, state_unit
from models import FIELD_ROLES, Block, DailyReport, District, Person, Sector, Village


class Source(enum.Enum):
    AGGREGATES = "aggregates"
    RAW = "raw"


AGGREGATES, RAW = Source.AGGREGATES, Source.RAW
STATE_KEY = 0  # the state's id where figures are keyed by unit id

REPORT_COLUMN: dict[str, Any] = {
    "district": DailyReport.district_id,
    "block": DailyReport.block_id,
    "sector": DailyReport.sector_id,
}
PERSON_COLUMN: dict[str, Any] = {
    "district": Person.district_id,
    "block": Person.block_id,
    "sector": Person.sector_id,
}


def run_select(session: Session, statement: Any) -> Any:
    """A Core select on the session's connection: no ORM machinery for rows that are just numbers."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement)


def report_scope(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    return [col(REPORT_COLUMN[unit.level]) == unit.id]


def person_in(unit: Unit) -> list[ColumnElement[bool]]:
    if unit.level == "state":
        return []
    return [col(PERSON_COLUMN[unit.level]) == unit.id]


def worker_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """Active ASHAs and ANMs now in the unit."""
    return [col(Person.active).is_(True), col(Person.role).in_(FIELD_ROLES), *person_in(unit)]


def pct(done: int, base: int | None) -> float | None:
    """done / base as a percentage with one decimal, halves rounded up; None without a base."""
    if not base:
        return None
    value = (Decimal(done) * 100 / Decimal(base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def campaign_days(settings: Settings, start: dt.date, end: dt.date, off: Iterable[dt.date] = ()) -> int:
    """How many days of the range fall inside the campaign (all of them without campaign dates),
    less the unit's holidays `off`."""
    return leave.working_days(settings, start, end, set(off))


def unit_key(unit: Unit) -> tuple[str, int]:
    if unit.level == "state":
        return "state", STATE_KEY
    assert unit.id is not None
    return unit.level, unit.id


# ---------------------------------------------------------------- units, workers, who is missing


def count_workers(*, session: Session, unit: Unit) -> int:
    """Active ASHAs and ANMs now in the unit."""
    return int(session.exec(select(func.count()).select_from(Person).where(*worker_scope(unit))).one())


def workers_by(session: Session, level: str, within: Unit | None) -> dict[int, int]:
    """Active field workers now in each unit of `level` (inside `within`)."""
    scope = worker_scope(within) if within else worker_scope(state_unit(""))
    if level == "state":
        total = session.exec(select(func.count()).select_from(Person).where(*scope)).one()
        return {STATE_KEY: int(total)}
    column = PERSON_COLUMN[level]
    rows = run_select(session, sa_select(column, func.count()).where(*scope).group_by(column)).all()
    return {int(k): int(n) for k, n in rows if k is not None}


def current_field_workers(session: Session, unit: Unit) -> list[tuple[Person, Village | None]]:
    return list(
        session.exec(
            select(Person, Village)
            .join(Village, col(Village.id) == col(Person.village_id), isouter=True)
            .where(*worker_scope(unit))
            .order_by(col(Person.name))
        ).all()
    )


def children(*, session: Session, unit: Unit) -> list[Unit]:
    """The units one level below (blocks of a district, ...) in name order; none for a sector."""
    if unit.level == "state":
        rows = run_select(
            session, sa_select(col(District.id), col(District.name)).order_by(col(District.name))
        ).all()
        return [Unit("district", name, name, district_id=i) for i, name in rows]
    if unit.level == "district":
        found = run_select(
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
        found = run_select(
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


def children_and_workers(session: Session, unit: Unit) -> tuple[list[Unit], dict[int, int]]:
    """children(), each with its active field workers now, in one read; the state's districts in
    two, as the whole roster counted by district is read much quicker than joined to them."""
    if unit.level == "state":
        return children(session=session, unit=unit), workers_by(session, "district", None)
    child_level = CHILD_LEVEL[unit.level]
    table: Any = {"district": District, "block": Block, "sector": Sector}[child_level]
    workers_in = and_(
        col(PERSON_COLUMN[child_level]) == col(table.id),
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
    for row in run_select(session, query).all():
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

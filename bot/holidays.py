"""`fieldbot holidays import FILE`: `date,district,block,name`, every row checked before any is
written (district and block empty: the whole state; block empty: the whole district)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, delete, select

from bot.places import Places
from bot.roster.read import RowError, read_table
from models import Holiday, utcnow

COLUMNS = ("date", "district", "block", "name")


class HolidaysInvalid(Exception):
    """The file cannot be imported; `errors` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = errors


@dataclass(frozen=True)
class HolidayRow:
    row: int
    day: dt.date
    district_id: int | None
    block_id: int | None
    name: str


@dataclass
class HolidaysSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0


def _header_problems(names: list[str]) -> list[str]:
    missing = [c for c in ("date", "name") if c not in names]
    unknown = [n for n in names if n and n not in COLUMNS]
    problems = []
    if missing:
        problems.append(f"header lacks column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}; expected {','.join(COLUMNS)}")
    return problems


def parse_day(text: str) -> dt.date:
    """2026-11-15, 15/11/2026, 15-11-2026 or 15.11.2026 (a spreadsheet's date cell too)."""
    value = text.strip().split(" ")[0]
    for form in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(value, form).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not a date (write 2026-11-15 or 15/11/2026)")


def load(session: Session, path: Path) -> list[HolidayRow]:
    """Every row read and matched to the roster's units; HolidaysInvalid listing every bad row."""
    table = read_table(path, what="a holidays file", header_problems=_header_problems)
    if isinstance(table, list):
        raise HolidaysInvalid(table)
    places = Places(session, down_to="block")
    rows: list[HolidayRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[dt.date, int | None, int | None], int] = {}
    for number, raw in table:
        cells = {k: (v or "").strip() for k, v in raw.items()}
        problems = []
        day = None
        try:
            day = parse_day(cells.get("date", ""))
        except ValueError as exc:
            problems.append(str(exc) if cells.get("date") else "date is empty")
        name = " ".join(cells.get("name", "").split())
        if not name:
            problems.append("name is empty")
        elif name[0] in "=+-@":
            problems.append(
                f"name {name!r} starts with {name[0]!r}, which spreadsheets run as a formula"
            )
        district_id = block_id = None
        district_name, block_name = cells.get("district", ""), cells.get("block", "")
        if block_name and not district_name:
            problems.append("a block's holiday names its district too")
        elif district_name:
            district = places.find("district", None, district_name, None)
            if isinstance(district, str):
                problems.append(district)
            elif district is None or district.id is None:
                problems.append(f"no district {district_name!r} on the roster")
            else:
                district_id = district.id
                if block_name:
                    block = places.find("block", district, block_name, None)
                    if isinstance(block, str):
                        problems.append(block)
                    elif block is None or block.id is None:
                        problems.append(
                            f"no block {block_name!r} in district {district.name} on the roster"
                        )
                    else:
                        block_id = block.id
        if day is not None and not problems:
            key = (day, district_id, block_id)
            if key in seen:
                problems.append(f"the same day and place as row {seen[key]}")
            seen.setdefault(key, number)
        if problems:
            errors += [RowError(number, p) for p in problems]
            continue
        assert day is not None
        rows.append(HolidayRow(number, day, district_id, block_id, name))
    if errors:
        raise HolidaysInvalid(errors)
    if not rows:
        raise HolidaysInvalid([RowError(0, f"{path.name}: no holidays in the file")])
    return rows


def import_holidays(*, session: Session, path: Path, dry_run: bool = False) -> HolidaysSummary:
    """Check the whole file, then write it: a day and place already there takes the new name."""
    rows = load(session, path)
    summary = HolidaysSummary(rows=len(rows))
    existing = {
        (h.day, h.district_id, h.block_id): h
        for h in session.exec(
            select(Holiday).where(col(Holiday.day).in_(sorted({r.day for r in rows})))
        ).all()
    }
    for row in rows:
        if (row.day, row.district_id, row.block_id) in existing:
            summary.updated += 1
        else:
            summary.created += 1
    if dry_run:
        return summary
    now = utcnow()
    for row in rows:
        found = existing.get((row.day, row.district_id, row.block_id))
        if found is not None:
            session.execute(delete(Holiday).where(col(Holiday.id) == found.id))
        session.add(
            Holiday(
                day=row.day,
                district_id=row.district_id,
                block_id=row.block_id,
                name=row.name,
                imported_at=now,
            )
        )
    session.flush()
    return summary

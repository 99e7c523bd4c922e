"""The villages file: each village's centre, for the field-presence check.

`district,block,village,lat,lon` and optionally `village_lgd` (or `lgd_code`), `district_lgd`,
`block_lgd`; headers as in the roster (config `roster.columns`). Validated like the roster: every
bad row listed with its number, nothing imported if any row is bad. The district and block must be
on the roster; the village need not be yet: everyone of that village, now or imported later, gets
its centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from bot.config_sections import RosterAliases
from bot.places import Places, Spot, name_key
from bot.roster.read import (
    MAX_CELL_CHARS,
    RosterInvalid,
    RowError,
    india_problem,
    lgd_codes,
    parse_float,
    read_table,
)
from models import Person, PersonVillage, Village, VillageCentre, utcnow

REQUIRED = ("district", "block", "village", "lat", "lon")
USED = (*REQUIRED, "district_lgd", "block_lgd", "village_lgd")


@dataclass
class VillageRow:
    row: int
    district: Spot
    block: Spot
    village: str
    lgd: int | None
    lat: float
    lon: float


@dataclass
class VillagesSummary:
    villages: int = 0
    created: int = 0
    updated: int = 0
    located: int = 0  # roster villages that now have this centre
    people: int = 0  # people of those villages (her own village, or one of those she covers)
    columns: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _header(names: list[str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in names]
    return [f"header lacks column(s): {', '.join(missing)}"] if missing else []


def parse_row(number: int, cells: dict[str, str], places: Places) -> VillageRow | list[RowError]:
    if "__broken__" in cells:
        return [RowError(number, cells["__broken__"])]
    if cells.get("__extra__") == "filled":
        return [RowError(number, "more cells than header columns (a comma inside a name needs quotes)")]
    get = {k: " ".join(v.split()) for k, v in cells.items() if k in USED}
    problems = [
        f"{k} is longer than {MAX_CELL_CHARS} characters"
        for k, v in get.items()
        if len(v) > MAX_CELL_CHARS
    ]
    for column in ("district", "block", "village"):
        if not get.get(column):
            problems.append(f"{column} is empty")
    lat = parse_float(get.get("lat", ""), "lat", problems)
    lon = parse_float(get.get("lon", ""), "lon", problems)
    if lat is None and not any(p.startswith("lat") for p in problems):
        problems.append("lat is empty")
    if lon is None and not any(p.startswith("lon") for p in problems):
        problems.append("lon is empty")
    if lat is not None and lon is not None:
        outside = india_problem(lat, lon)
        if outside:
            problems.append(outside)
    codes = lgd_codes(get, problems)
    if problems:
        return [RowError(number, p) for p in problems]
    assert lat is not None and lon is not None
    district = places.find("district", None, get["district"], codes["district_lgd"])
    if isinstance(district, str):
        return [RowError(number, district)]
    if district is None:
        return [RowError(number, f"no district {get['district']!r} on the roster")]
    block = places.find("block", district, get["block"], codes["block_lgd"])
    if isinstance(block, str):
        return [RowError(number, block)]
    if block is None:
        return [RowError(number, f"no block {get['block']!r} in district {district.name} on the roster")]
    # Found: the names and codes of this file are kept on them (a Devanagari name, a new code).
    places.get("district", None, get["district"], codes["district_lgd"])
    places.get("block", district, get["block"], codes["block_lgd"])
    return VillageRow(number, district, block, get["village"], codes["village_lgd"], lat, lon)


def load(
    session: Session,
    path: Path,
    aliases: RosterAliases | None = None,
    summary: VillagesSummary | None = None,
) -> tuple[Places, list[VillageRow]]:
    """Every row checked; RosterInvalid lists every bad one."""
    table = read_table(
        path,
        what="a villages file",
        header_problems=_header,
        columns=(aliases or RosterAliases()).column_map(),
    )
    if isinstance(table, list):
        raise RosterInvalid(table)
    if summary is not None:
        summary.columns, summary.ignored = table.columns, table.ignored
    places = Places(session)
    rows: list[VillageRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, str], int] = {}
    for number, cells in table:
        parsed = parse_row(number, cells, places)
        if isinstance(parsed, list):
            errors += parsed
            continue
        keys = [(id(parsed.block), name_key(parsed.village))]
        if parsed.lgd is not None:
            keys.append((id(parsed.block), str(parsed.lgd)))
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier is not None:
            errors.append(
                RowError(
                    number,
                    f"village {parsed.village} of {parsed.block.path} is already on row {earlier}",
                )
            )
            continue
        for key in keys:
            seen[key] = number
        rows.append(parsed)
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no villages"))
    if errors:
        raise RosterInvalid(sorted(errors, key=lambda e: e.row))
    return places, rows


def _matches(village: Spot, row: VillageRow) -> bool:
    if row.lgd is not None and village.lgd is not None:
        return village.lgd == row.lgd
    return name_key(row.village) in {name_key(village.name), name_key(village.name_hi or "")}


def import_villages(
    session: Session, path: Path, *, dry_run: bool = False, aliases: RosterAliases | None = None
) -> VillagesSummary:
    """Check the whole file, then write it in the caller's transaction (nothing on a dry run)."""
    summary = VillagesSummary()
    places, rows = load(session, path, aliases, summary)
    summary.villages = len(rows)
    by_name: dict[tuple[int, str], VillageCentre] = {}
    by_code: dict[tuple[int, int], VillageCentre] = {}
    for centre in session.exec(select(VillageCentre)):
        by_name[(centre.block_id, name_key(centre.name))] = centre
        if centre.lgd_code is not None:
            by_code[(centre.block_id, centre.lgd_code)] = centre
    now = utcnow()
    located: set[int] = set()
    for row in rows:
        assert row.block.id is not None
        existing = by_code.get((row.block.id, row.lgd)) if row.lgd is not None else None
        existing = existing or by_name.get((row.block.id, name_key(row.village)))
        if existing is None:
            summary.created += 1
        else:
            summary.updated += 1
        targets = [v for v in places.villages_in(row.block) if _matches(v, row)]
        located.update(v.id for v in targets if v.id is not None)
        if dry_run:
            continue
        places.save(session, row.district)
        places.save(session, row.block)
        if existing is None:
            existing = VillageCentre(block_id=row.block.id, name=row.village, lat=row.lat, lon=row.lon)
            by_name[(row.block.id, name_key(row.village))] = existing
        existing.lat, existing.lon, existing.updated_at = row.lat, row.lon, now
        existing.lgd_code = row.lgd if row.lgd is not None else existing.lgd_code
        session.add(existing)
        for spot in targets:
            places.get("village", spot.parent, row.village, row.lgd)  # its code and other-script name
            assert spot.id is not None
            places.save(session, spot)
            village = session.get_one(Village, spot.id)
            village.lat, village.lon = row.lat, row.lon
            session.add(village)
    summary.located = len(located)
    if located:
        own = set(session.exec(select(Person.id).where(col(Person.village_id).in_(located))).all())
        more = session.exec(
            select(PersonVillage.person_id).where(col(PersonVillage.village_id).in_(located))
        )
        summary.people = len(own | set(more.all()))
    session.flush()
    return summary

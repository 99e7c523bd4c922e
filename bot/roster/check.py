"""The whole roster checked before anything is written: the problems that only show across
rows or against the people already stored; `load` raises RosterInvalid listing every bad row."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from bot.config_sections import RosterAliases
from bot.geo import distance_m
from bot.places import Places
from bot.roster.match import Known, place_problems
from bot.roster.read import ImportSummary, RosterInvalid, RosterRow, RowError, parse_row, read_table


def check_rows(session: Session, rows: list[RosterRow]) -> list[RowError]:
    """Problems that only show across rows, or against people already in the database."""
    errors: list[RowError] = []
    owner: dict[str, RosterRow] = {}  # phone -> first row that uses it
    by_key: dict[str, RosterRow] = {}
    ids: dict[str, RosterRow] = {}
    villages: dict[tuple[str, str, str, str], RosterRow] = {}
    for row in rows:
        if row.worker_id:
            first = ids.get(row.worker_id)
            if first and (first.role in ("asha", "anm") or first.phone != row.phone):
                errors.append(
                    RowError(row.row, f"worker_id {row.worker_id} is already used on row {first.row}")
                )
                continue
            ids.setdefault(row.worker_id, row)
        earlier = by_key.get(row.key)
        if earlier is not None:
            if row.role in ("asha", "anm") or earlier.role in ("asha", "anm"):
                errors.append(
                    RowError(
                        row.row,
                        f"phone {row.phone} is already on row {earlier.row};"
                        " a field worker's phone may appear only once",
                    )
                )
                continue
            if earlier.role != row.role or earlier.name.casefold() != row.name.casefold():
                errors.append(
                    RowError(
                        row.row,
                        f"phone {row.phone} is on row {earlier.row} for "
                        f"{earlier.name} ({earlier.role}); one phone, one "
                        "person",
                    )
                )
                continue
        else:
            by_key[row.key] = row
        for phone in (row.phone, *row.alt_phones):
            if not phone:
                continue
            first = owner.get(phone)
            if first is not None and first.key != row.key:
                errors.append(
                    RowError(
                        row.row, f"phone {phone} already belongs to {first.name} on row {first.row}"
                    )
                )
            owner.setdefault(phone, row)
        if row.village and row.lat is not None and row.lon is not None:
            place = (
                row.district.casefold(),
                row.block.casefold(),
                row.sector.casefold(),
                row.village.casefold(),
            )
            seen = villages.get(place)
            if seen is None:
                villages[place] = row
            elif seen.lat is not None and seen.lon is not None:
                apart = distance_m((seen.lat, seen.lon), (row.lat, row.lon)) / 1000
                if apart > 2:
                    errors.append(
                        RowError(
                            row.row,
                            f"village {row.village} is {apart:.1f} km from where row {seen.row} puts it",
                        )
                    )
    # Against the database: which stored person each person of the file updates (as apply()
    # will), and phones held by someone this file does not update.
    known = Known(session)
    firsts: dict[str, RosterRow] = {}
    for row in rows:
        firsts.setdefault(row.key, row)
    matched: dict[int, RosterRow] = {}
    for first in firsts.values():
        person_id = known.match(first)
        if person_id is None:
            continue
        other = matched.get(person_id)
        if other is not None:
            errors.append(
                RowError(
                    first.row,
                    f"this row and row {other.row} would both update "
                    f"{known.who(person_id)} (matched by worker_id, "
                    "else phone); give each their own worker_id",
                )
            )
            continue
        matched[person_id] = first
    places = Places(session)  # a plan only: nothing of it is written here
    for row in rows:
        for problem in place_problems(places, row):
            errors.append(RowError(row.row, problem))
    for phone, row in owner.items():
        holder = known.phone_owner.get(phone)
        # SIMs are reused: a number of someone who has left (inactive) may go to a new worker.
        if holder is not None and holder not in matched and known.active[holder]:
            errors.append(
                RowError(
                    row.row,
                    f"phone {phone} belongs to {known.who(holder)} in the "
                    "database, who is not in this file",
                )
            )
    return errors


def load(
    path: Path,
    session: Session,
    aliases: RosterAliases | None = None,
    summary: ImportSummary | None = None,
) -> list[RosterRow]:
    """Read and check the whole file; raise RosterInvalid listing every bad row.

    Headers and roles are read through `aliases` (config `roster`); how the header was read
    goes into `summary`."""
    aliases = aliases or RosterAliases()
    table = read_table(path, columns=aliases.column_map())
    if isinstance(table, list):
        raise RosterInvalid(table)
    if summary is not None:
        summary.columns, summary.ignored = table.columns, table.ignored
    roles = aliases.role_map()
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    for number, cells in table:
        parsed = parse_row(number, cells, roles)
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            rows.append(parsed)
    # Checks across rows run on the rows that are fine on their own, so one run lists them all.
    errors.extend(check_rows(session, rows))
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no people"))
    if errors:
        raise RosterInvalid(sorted(errors, key=lambda e: e.row))
    return rows

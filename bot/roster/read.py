"""Roster import: CSV or XLSX, every row checked before anything is written, upsert by id or phone."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, select
from tqdm import tqdm

from bot.config import FILE_COLUMNS, RosterAliases, header_key
from bot.geo import distance_m
from bot.phones import PhoneError, normalize_phone
from bot.places import Places, Spot, name_key, parse_lgd
from models import Person, PersonPhone, PersonVillage, Post, Role, Village, VillageCentre, utcnow

REQUIRED = ("name", "phone", "role", "district", "block", "sector", "village")
OPTIONAL = (
    "lat",
    "lon",
    "language",
    "worker_id",
    "alt_phones",
    "active",
    "whatsapp_opt_in",
    "villages",
    "district_lgd",
    "block_lgd",
    "village_lgd",
)
assert set(REQUIRED + OPTIONAL) == set(FILE_COLUMNS)
LGD_COLUMNS = ("district_lgd", "block_lgd", "village_lgd")
MANY_VILLAGES = ("asha", "anm", "supervisor")
NEEDS = {
    "asha": ("district", "block", "sector", "village"),
    "anm": ("district", "block", "sector", "village"),
    "supervisor": ("district", "block", "sector"),
    "bmo": ("district", "block"),
    "district_officer": ("district",),
    "admin": (),
}
TRUE_WORDS = {"true", "yes", "y", "1", "हाँ", "हां", "active"}
FALSE_WORDS = {"false", "no", "n", "0", "नहीं", "inactive"}
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CELL_CHARS = 200
# A generous box around India: catches lat/lon swapped or typed in the wrong column.
INDIA_LAT, INDIA_LON = (6.0, 37.5), (68.0, 97.5)


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class RosterInvalid(Exception):
    """The file cannot be imported; `errors` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad row(s)")
        self.errors = errors


@dataclass
class RosterRow:
    row: int
    name: str
    phone: str
    role: str
    district: str
    block: str
    sector: str
    village: str
    lat: float | None
    lon: float | None
    language: str
    worker_id: str | None
    alt_phones: list[str]
    active: bool
    villages: list[str] = field(default_factory=list)  # more villages she covers, besides `village`
    lgd: dict[str, int | None] = field(default_factory=dict)  # district_lgd, block_lgd, village_lgd
    whatsapp_opt_in: bool | None = None  # the roster's word on WhatsApp templates; None: not said

    @property
    def key(self) -> str:
        return f"id:{self.worker_id}" if self.worker_id else f"phone:{self.phone}"


@dataclass
class ImportSummary:
    people: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    units_created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    columns: list[tuple[str, str]] = field(default_factory=list)  # (file header, roster column)
    ignored: list[str] = field(default_factory=list)  # file headers that are no roster column
    located: int = 0  # villages given their centre from the villages file


class Table:
    """The data rows of a file, with how its header was read."""

    def __init__(
        self,
        rows: Iterator[tuple[int, dict[str, str]]],
        columns: list[tuple[str, str]],
        ignored: list[str],
    ):
        self.rows, self.columns, self.ignored = rows, columns, ignored

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self.rows

    def __next__(self) -> tuple[int, dict[str, str]]:
        return next(self.rows)


def describe_columns(columns: list[tuple[str, str]]) -> str:
    """`नाम -> name, मोबाइल नंबर -> phone`: which file column became which field."""
    return ", ".join(f"{header} -> {column}" for header, column in columns)


def ignored_warning(ignored: list[str]) -> str:
    return "ignored column(s), not roster fields: " + ", ".join(ignored)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) > 1e6:
        return str(int(value))  # a phone typed into a number cell
    return str(value).strip()


def read_table(
    path: Path,
    *,
    what: str = "a roster",
    header_problems: Callable[[list[str]], list[str]] | None = None,
    columns: dict[str, str] | None = None,
) -> Table | list[RowError]:
    """(row number, cells by lower-case header) for each data row, or the file-level errors.

    `what` names the file in errors; `header_problems` checks the header (default: the roster's).
    With `columns` (a header as `header_key` gives it -> the column it is), headers are read
    through that table and a header not in it is ignored (listed in the result's `ignored`).
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [RowError(0, f"no such file: {path}")]
    if size > MAX_FILE_BYTES:
        return [RowError(0, f"file is {size // 2**20} MiB; at most {MAX_FILE_BYTES // 2**20} MiB")]
    if path.suffix.casefold() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif path.suffix.casefold() in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        return [RowError(0, f"{path.name}: {what} is a .csv or .xlsx file")]
    if isinstance(rows, list):
        return rows
    try:
        header = next(rows)
    except StopIteration:
        return [RowError(1, "the file is empty")]
    except csv.Error as exc:
        return [RowError(1, _unreadable(exc))]
    mapping: list[tuple[str, str]] = []
    ignored: list[str] = []
    if columns is None:
        names = [h.strip().casefold().lstrip("\ufeff") for h in header]
    else:
        names = []
        for written in header:
            shown = written.strip().lstrip("\ufeff")
            column = columns.get(header_key(written), "")
            names.append(column)
            if column:
                mapping.append((shown, column))
            elif shown:
                ignored.append(shown)
    errors = [RowError(1, problem) for problem in (header_problems or _roster_header)(names)]
    duplicated = {n for n in names if n and names.count(n) > 1}
    if duplicated:
        twice = [
            f"{n} ({', '.join(repr(h) for h, c in mapping if c == n)})" if mapping else n
            for n in sorted(duplicated)
        ]
        errors.append(RowError(1, f"column(s) named twice: {', '.join(twice)}"))
    if errors and ignored and any("lacks" in e.message for e in errors):
        # A heading written some other way than the table knows: name what was left unread.
        errors.append(RowError(1, ignored_warning(ignored)))
    if errors:
        return errors

    def data() -> Iterator[tuple[int, dict[str, str]]]:
        for number in itertools.count(2):
            try:
                cells = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader cannot go on past this row
                yield number, {"__broken__": _unreadable(exc)}
                return
            if not any(c.strip() for c in cells):
                continue
            padded = [*cells, *[""] * (len(names) - len(cells))]
            record = {name: padded[i] for i, name in enumerate(names) if name}
            if columns is not None and not any(v.strip() for v in record.values()):
                continue  # only a serial number or a remark: a spacer row, as merged cells leave
            if len(cells) > len(names):  # "filled": text past the last column; "empty": commas
                filled = any(c.strip() for c in cells[len(names) :])
                record["__extra__"] = "filled" if filled else "empty"
            yield number, record

    return Table(data(), mapping, ignored)


def _roster_header(names: list[str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in names]
    if "village" in missing and "villages" in names:
        missing.remove("village")
    unknown = [n for n in names if n and n not in REQUIRED + OPTIONAL]
    problems = []
    if missing:
        problems.append(f"header lacks column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    return problems


def _unreadable(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a cell is longer than {csv.field_size_limit()} characters (a missing closing "
            "quote?); rows after it were not checked"
        )
    return f"cannot read this row as CSV ({exc}); rows after it were not checked"


def _csv_rows(path: Path) -> Iterator[list[str]] | list[RowError]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [
            RowError(
                line, "the file is not UTF-8 text; in Excel use Save As > 'CSV UTF-8 (Comma delimited)'"
            )
        ]
    if "\x00" in text:
        return [RowError(0, "the file has NUL bytes; it is not a CSV text file")]
    return iter(csv.reader(io.StringIO(text, newline="")))


def _xlsx_rows(path: Path) -> Iterator[list[str]] | list[RowError]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
        return [RowError(0, f"cannot read the workbook: {type(exc).__name__}")]
    sheet = book.worksheets[0]
    return ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))


def _float(value: str, what: str, errors: list[str]) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append(f"{what} {value!r} is not a decimal number")
        return None
    if not math.isfinite(number):
        errors.append(f"{what} {value!r} is not a number")
        return None
    return number


def india_problem(lat: float, lon: float) -> str | None:
    """Why a point cannot be a village centre in India, or None."""
    in_box = INDIA_LAT[0] <= lat <= INDIA_LAT[1] and INDIA_LON[0] <= lon <= INDIA_LON[1]
    swapped = INDIA_LAT[0] <= lon <= INDIA_LAT[1] and INDIA_LON[0] <= lat <= INDIA_LON[1]
    if in_box:
        return None
    hint = " (lat and lon look swapped)" if swapped else ""
    return f"lat {lat}, lon {lon} is outside India{hint}"


def lgd_codes(get: dict[str, str], problems: list[str]) -> dict[str, int | None]:
    """The row's LGD code columns, each problem added."""
    codes: dict[str, int | None] = {}
    for column in LGD_COLUMNS:
        try:
            codes[column] = parse_lgd(get.get(column, ""))
        except ValueError as exc:
            problems.append(f"{column} {exc}")
            codes[column] = None
    return codes


def parse_row(
    number: int, cells: dict[str, str], roles: dict[str, str] | None = None
) -> RosterRow | list[RowError]:
    """Check one row on its own; every problem in it is reported, not just the first.

    `roles` maps role values as people write them (`header_key` of `आशा`, `MOIC`) to roles."""
    problems: list[str] = []
    if "__broken__" in cells:
        return [RowError(number, cells["__broken__"])]
    extra = "more cells than header columns (a comma inside a name needs quotes)"
    if cells.get("__extra__") == "filled":  # the cells after a stray comma are all shifted
        return [RowError(number, extra)]
    get = {k: (v or "").strip() for k, v in cells.items() if k != "__extra__"}
    for name, value in get.items():
        if len(value) > MAX_CELL_CHARS:
            problems.append(f"{name} is longer than {MAX_CELL_CHARS} characters")
            get[name] = value[:MAX_CELL_CHARS]
    name = get.get("name", "")
    if not name:
        problems.append("name is empty")
    elif name[0] in "=+-@":
        problems.append(f"name {name!r} starts with {name[0]!r}, which spreadsheets run as a formula")
    written_role = get.get("role", "")
    role = (roles or RosterAliases().role_map()).get(header_key(written_role), written_role)
    if role not in NEEDS:
        problems.append(f"role {written_role!r} is not one of {', '.join(NEEDS)}")
    villages = [" ".join(v.split()) for v in get.get("villages", "").split(";") if v.strip()]
    if villages and role in NEEDS and role not in MANY_VILLAGES:
        problems.append(f"villages are for ASHAs, ANMs and supervisors, not a {role}")
    if villages and not get.get("village") and role in MANY_VILLAGES:
        get["village"] = villages[0]  # her first village is her own
    if role == "supervisor" and get.get("village"):
        villages = [get["village"], *villages]
    phone = ""
    # A field worker with a worker_id may have no phone: her supervisor or ANM reports for her.
    phoneless = not get.get("phone") and role in ("asha", "anm") and bool(get.get("worker_id"))
    try:
        if not phoneless:
            phone = normalize_phone(get.get("phone", ""))
    except PhoneError as exc:
        problems.append(
            f"phone {exc}"
            if get.get("phone")
            else "phone is empty (an ASHA or ANM without a phone needs a worker_id)"
        )
    for needed in NEEDS.get(role, ()):
        if not get.get(needed):
            problems.append(f"{needed} is empty (a {role} needs {', '.join(NEEDS[role])})")
    lat = _float(get.get("lat", ""), "lat", problems)
    lon = _float(get.get("lon", ""), "lon", problems)
    if (lat is None) != (lon is None) and not any(p.startswith(("lat", "lon")) for p in problems):
        problems.append("lat and lon go together: give both or neither")
    elif lat is not None and lon is not None:
        outside = india_problem(lat, lon)
        if outside:
            problems.append(outside)
    lgd = lgd_codes(get, problems)
    language = get.get("language", "").casefold() or "hi"
    if language not in ("hi", "en"):
        problems.append(f"language {get.get('language')!r} is not hi or en")
    active_text = get.get("active", "").casefold()
    active = True
    if active_text in FALSE_WORDS:
        active = False
    elif active_text and active_text not in TRUE_WORDS:
        problems.append(f"active {get.get('active')!r} is not true or false")
    opt_text = get.get("whatsapp_opt_in", "").casefold()
    opt_in: bool | None = None
    if opt_text in FALSE_WORDS - {"inactive"}:
        opt_in = False
    elif opt_text in TRUE_WORDS - {"active"}:
        opt_in = True
    elif opt_text:
        problems.append(f"whatsapp_opt_in {get.get('whatsapp_opt_in')!r} is not true or false")
    alt_phones: list[str] = []
    for alt in filter(None, (a.strip() for a in get.get("alt_phones", "").split(";"))):
        try:
            normalized = normalize_phone(alt)
        except PhoneError as exc:
            problems.append(f"alt_phones: {exc}")
            continue
        if normalized != phone and normalized not in alt_phones:
            alt_phones.append(normalized)
    if problems:
        if "__extra__" in cells:  # a stray comma, with empty cells shifted off the end?
            problems.insert(0, extra)
        return [RowError(number, p) for p in problems]
    is_field = role in ("asha", "anm")
    own = get.get("village", "") if is_field else ""
    more = [v for v in villages if name_key(v) != name_key(own)]
    more = [v for i, v in enumerate(more) if name_key(v) not in map(name_key, more[:i])]
    return RosterRow(
        row=number,
        name=" ".join(name.split()),
        phone=phone,
        role=role,
        district=get.get("district", "") if NEEDS[role] or get.get("district") else "",
        block=get.get("block", "") if "block" in NEEDS[role] else "",
        sector=get.get("sector", "") if "sector" in NEEDS[role] else "",
        village=get.get("village", "") if is_field else "",
        lat=lat if is_field else None,
        lon=lon if is_field else None,
        language=language,
        worker_id=get.get("worker_id") or None,
        alt_phones=alt_phones,
        active=active,
        whatsapp_opt_in=opt_in,
        villages=more if role in MANY_VILLAGES else [],
        lgd={
            "district_lgd": lgd["district_lgd"] if NEEDS[role] else None,
            "block_lgd": lgd["block_lgd"] if "block" in NEEDS[role] else None,
            "village_lgd": lgd["village_lgd"] if is_field else None,
        },
    )


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
    known = _Known(session)
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
        for problem in _place_problems(places, row):
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


class _Known:
    """The people already stored, and which of them a person of the file is: the worker_id when
    the row has one, else whoever holds the row's phone (check_rows and apply agree on this)."""

    def __init__(self, session: Session):
        self.worker_of: dict[int, str | None] = {}
        self.names: dict[int, str] = {}
        self.by_worker_id: dict[str, int] = {}
        self.active: dict[int, bool] = {}
        rows = session.exec(select(Person.id, Person.worker_id, Person.name, Person.active))
        for person_id, worker_id, name, active in rows:
            assert person_id is not None
            self.worker_of[person_id], self.names[person_id] = worker_id, name
            self.active[person_id] = active
            if worker_id:
                self.by_worker_id[worker_id] = person_id
        self.phone_owner: dict[str, int] = dict(
            session.exec(select(PersonPhone.phone, PersonPhone.person_id)).all()
        )

    def match(self, first: RosterRow) -> int | None:
        if first.worker_id and first.worker_id in self.by_worker_id:
            return self.by_worker_id[first.worker_id]
        holder = self.phone_owner.get(first.phone)
        if holder is not None and (not first.worker_id or self.worker_of[holder] is None):
            return holder  # a stored person without a worker_id may be given one
        return None

    def who(self, person_id: int) -> str:
        return f"{self.names[person_id]} (worker_id {self.worker_of[person_id] or '-'})"


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


@dataclass
class RowPlace:
    """A row's units as Places has them; sector, village and villages only where the role has them."""

    district: Spot | None = None
    block: Spot | None = None
    sector: Spot | None = None
    village: Spot | None = None
    villages: list[Spot] = field(default_factory=list)


def _row_place(places: Places, row: RosterRow) -> RowPlace | str:
    """The units a row names, matched by LGD code where it gives one (planned where new)."""
    found = RowPlace()
    if not row.district:
        return found
    district = places.get("district", None, row.district, row.lgd.get("district_lgd"))
    if isinstance(district, str):
        return district
    found.district = district
    if not row.block:
        return found
    block = places.get("block", district, row.block, row.lgd.get("block_lgd"))
    if isinstance(block, str):
        return block
    found.block = block
    if not row.sector:
        return found
    sector = places.get("sector", block, row.sector, None)
    assert not isinstance(sector, str)  # sectors have no codes: a name always matches or is new
    found.sector = sector
    if row.village:
        village = places.get("village", sector, row.village, row.lgd.get("village_lgd"))
        if isinstance(village, str):
            return village
        found.village = village
    for name in row.villages:
        more = places.get("village", sector, name, None)
        assert not isinstance(more, str)
        found.villages.append(more)
    return found


def _place_problems(places: Places, row: RosterRow) -> list[str]:
    found = _row_place(places, row)
    return [found] if isinstance(found, str) else []


class _Centres:
    """Village centres from the villages file, by block: by LGD code, else by name."""

    def __init__(self, session: Session):
        self.by_name: dict[tuple[int, str], VillageCentre] = {}
        self.by_code: dict[tuple[int, int], VillageCentre] = {}
        for centre in session.exec(select(VillageCentre)):
            self.by_name[(centre.block_id, name_key(centre.name))] = centre
            if centre.lgd_code is not None:
                self.by_code[(centre.block_id, centre.lgd_code)] = centre

    def of(self, block_id: int, village: Spot) -> VillageCentre | None:
        if village.lgd is not None and (block_id, village.lgd) in self.by_code:
            return self.by_code[(block_id, village.lgd)]
        for name in (village.name, village.name_hi):
            if name and (block_id, name_key(name)) in self.by_name:
                return self.by_name[(block_id, name_key(name))]
        return None


def _locate(
    session: Session,
    places: Places,
    centres: _Centres,
    village: Spot,
    row: RosterRow | None,
    summary: ImportSummary,
) -> int:
    """Store the village; its centre is the row's lat/lon if given, else the villages file's."""
    village_id = places.save(session, village)
    assert village.parent is not None and village.parent.id is not None
    block_id = village.parent.parent.id if village.parent.parent else None
    stored = session.get_one(Village, village_id)
    where: tuple[float, float] | None = None
    if row is not None and row.lat is not None and row.lon is not None:
        where = (row.lat, row.lon)
    elif stored.lat is None and block_id is not None:
        centre = centres.of(block_id, village)
        if centre is not None:
            where = (centre.lat, centre.lon)
            summary.located += 1
    if where is not None and (stored.lat, stored.lon) != where:
        stored.lat, stored.lon = where
        session.add(stored)
    return village_id


def apply(
    session: Session,
    rows: list[RosterRow],
    *,
    deactivate_missing: bool = False,
    progress: bool = True,
) -> ImportSummary:
    """Write checked rows: create or update each person, their phones and their posts."""
    summary = ImportSummary()
    places, centres = Places(session), _Centres(session)
    people: dict[str, list[RosterRow]] = defaultdict(list)
    for row in rows:
        people[row.key].append(row)
    known = _Known(session)
    phone_owner = dict(known.phone_owner)  # kept current as phones move below
    seen: set[int] = set()
    now = utcnow()
    bar = tqdm(
        total=len(rows), unit="row", desc="roster", disable=not progress or len(rows) < 500, leave=False
    )
    for group in people.values():
        first = group[0]
        match = known.match(first)
        person = session.get(Person, match) if match is not None else None
        if person is None:
            person = Person(name=first.name, phone=first.phone, role=first.role)
            summary.created += 1
        else:
            summary.updated += 1
        person.name, person.phone, person.role = first.name, first.phone, first.role
        person.language, person.active, person.updated_at = first.language, first.active, now
        person.worker_id = first.worker_id or person.worker_id
        person.village_id = person.sector_id = person.block_id = person.district_id = None
        covered: set[int] = set()
        if first.role in ("asha", "anm"):
            place = _row_place(places, first)
            assert not isinstance(place, str), place  # check_rows found every such row
            assert place.sector is not None and place.village is not None
            person.village_id = _locate(session, places, centres, place.village, first, summary)
            person.sector_id = places.save(session, place.sector)
            person.block_id, person.district_id = place.sector.parent.id, place.district.id  # type: ignore[union-attr]
            covered.update(_locate(session, places, centres, v, None, summary) for v in place.villages)
        session.add(person)
        session.flush()
        assert person.id is not None
        seen.add(person.id)
        if first.whatsapp_opt_in is not None:
            from bot.delivery.wa_limits import set_opt_in

            set_opt_in(
                session=session,
                person_id=person.id,
                opted_in=first.whatsapp_opt_in,
                source="roster",
                now=now,
            )
        phones = {first.phone} - {""}
        for row in group:
            phones.update(row.alt_phones)
        session.execute(
            delete(PersonPhone).where(
                col(PersonPhone.person_id) == person.id, col(PersonPhone.phone).not_in(phones)
            )
        )
        for phone in phones:
            if phone_owner.get(phone) != person.id:
                if phone in phone_owner:
                    session.execute(delete(PersonPhone).where(col(PersonPhone.phone) == phone))
                session.add(PersonPhone(phone=phone, person_id=person.id))
                phone_owner[phone] = person.id
        session.execute(delete(Post).where(col(Post.person_id) == person.id))
        if first.role not in ("asha", "anm"):
            for row in group:
                post = Post(person_id=person.id)
                place = _row_place(places, row)
                assert not isinstance(place, str), place
                for level in ("district", "block", "sector"):
                    spot = getattr(place, level)
                    if spot is not None:
                        setattr(post, f"{level}_id", places.save(session, spot))
                covered.update(
                    _locate(session, places, centres, v, None, summary) for v in place.villages
                )
                if first.role != Role.admin or post.district_id is not None:
                    session.add(post)
        session.execute(delete(PersonVillage).where(col(PersonVillage.person_id) == person.id))
        for village_id in sorted(covered - {person.village_id}):
            session.add(PersonVillage(person_id=person.id, village_id=village_id))
        bar.update(len(group))
    bar.close()
    summary.people = len(people)
    for level, count in places.created.items():
        summary.units_created[level] += count
    if deactivate_missing:
        for person in session.exec(select(Person).where(col(Person.active).is_(True))):
            if person.id not in seen:
                person.active = False
                person.updated_at = now
                session.add(person)
                summary.deactivated += 1
    session.flush()
    return summary


def import_roster(
    session: Session,
    path: Path,
    *,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    progress: bool = True,
    aliases: RosterAliases | None = None,
) -> ImportSummary:
    """Check the whole file, then write it in the caller's transaction (nothing on dry run)."""
    header = ImportSummary()
    rows = load(path, session, aliases, header)
    if dry_run:
        summary = ImportSummary(people=len({r.key for r in rows}))
    else:
        summary = apply(session, rows, deactivate_missing=deactivate_missing, progress=progress)
    summary.columns, summary.ignored = header.columns, header.ignored
    return summary


def iter_errors(errors: Iterable[RowError]) -> Iterator[str]:
    for error in errors:
        yield str(error)

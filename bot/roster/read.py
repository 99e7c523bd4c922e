"""Reading a roster file (CSV or XLSX): its header through the configured column names, and
every row checked on its own (`parse_row`); `read_table` serves the other imports too."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config_sections import FILE_COLUMNS, RosterAliases, header_key
from bot.phones import PhoneError, normalize_phone
from bot.places import name_key, parse_lgd

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
        rows = xlsx_rows(path)
    elif path.suffix.casefold() in (".csv", ".txt"):
        rows = csv_rows(path)
    else:
        return [RowError(0, f"{path.name}: {what} is a .csv or .xlsx file")]
    if isinstance(rows, list):
        return rows
    try:
        header = next(rows)
    except StopIteration:
        return [RowError(1, "the file is empty")]
    except csv.Error as exc:
        return [RowError(1, unreadable(exc))]
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
                yield number, {"__broken__": unreadable(exc)}
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


def unreadable(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a cell is longer than {csv.field_size_limit()} characters (a missing closing "
            "quote?); rows after it were not checked"
        )
    return f"cannot read this row as CSV ({exc}); rows after it were not checked"


def csv_rows(path: Path) -> Iterator[list[str]] | list[RowError]:
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


def xlsx_rows(path: Path) -> Iterator[list[str]] | list[RowError]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
        return [RowError(0, f"cannot read the workbook: {type(exc).__name__}")]
    sheet = book.worksheets[0]
    return ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))


def parse_float(value: str, what: str, errors: list[str]) -> float | None:
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
    lat = parse_float(get.get("lat", ""), "lat", problems)
    lon = parse_float(get.get("lon", ""), "lon", problems)
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

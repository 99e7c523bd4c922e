"""Reading the official portal's file: its layout found, every row checked, who may send one.

Two shapes of file are read (CSV or XLSX):

- the long form `date,level,district,block,metric,value` (level `district` or `block`);
- a portal report as it is exported: one column per metric (`official.columns` in config.yaml maps
  a report's column names to metrics), a date column, a district column and, for block rows, a
  block column. Other columns are ignored and totals rows (`Total`, `कुल`, `योग`) skipped.

Dates are `YYYY-MM-DD` or `DD/MM/YYYY`, numbers in any grouping. With `official.cumulative` the
values are to date, and a day's count is the difference from the unit's previous day on file.
Either form may give LGD codes: `district_lgd`, `block_lgd` (headers as in the roster,
`roster.columns`), or a bare `LGD Code` for the row's own unit; where a row gives one, its unit is
matched by code first, as every import matches (`bot.places`). Names and codes are matched to the
roster by `match_unit`. Every bad row is listed with its number and reason and nothing is imported
if any row is bad; importing a day again replaces that day's rows of the districts in the file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.config import Settings
from bot.config_sections import header_key
from bot.i18n import t
from bot.numbers import indian
from bot.places import Clash, Places, Spot, parse_lgd
from bot.roster.read import read_table
from bot.store import people
from bot.targets import parse_number

# Who may send the portal's counts in chat.
UPLOADERS = ("district_officer", "admin")
# A workbook is read only if it unpacks to at most this much (a file sent in chat may be a zip
# bomb), and a file only to this many rows (a state's blocks for a few months fit well under it).
MAX_UNPACKED_BYTES = 100 * 2**20
MAX_ROWS = 100_000
LONG_COLUMNS = ("date", "level", "district", "block", "metric", "value")
LEVELS = ("district", "block")
# A row naming one of these anywhere outside its figures is a totals row, and is skipped.
TOTAL_WORDS = ("total", "grand total", "sub total", "subtotal", "कुल", "योग", "कुल योग", "सकल योग")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
_SEPARATORS = re.compile(r"[\s._\-]+")
_PARSE_REASONS = {
    "is negative": "negative",
    "is not a whole number": "not_number",
    "is far too large": "too_large",
}


def name_key(text: str) -> str:
    """A name as it is compared: Unicode NFC, case folded, without spaces, dots, dashes."""
    return _SEPARATORS.sub("", _INVISIBLE.sub("", unicodedata.normalize("NFC", text)).casefold())


TOTAL_KEYS = frozenset(name_key(w) for w in TOTAL_WORDS)
# A bare LGD code column: the code of the row's own unit (the block's on a block row).
LGD_KEYS = frozenset(name_key(w) for w in ("lgd code", "lgd", "एलजीडी कोड"))


# ---------------------------------------------------------------- problems, in the reader's words


@dataclass(frozen=True)
class Problem:
    """One reason a row (0: the file itself, 1: its header) cannot be imported."""

    row: int
    key: str
    values: dict[str, str] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        reason = t(lang, f"official_err_{self.key}", **self.values)
        return t(lang, "official_row", row=self.row, reason=reason) if self.row else reason

    def __str__(self) -> str:
        return self.text("en")


class OfficialInvalid(Exception):
    """The file cannot be imported; `problems` lists every bad row."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} bad row(s)")
        self.problems = problems


# ---------------------------------------------------------------- matching names to units


@dataclass(frozen=True)
class Place:
    level: str  # district | block
    unit_id: int
    district_id: int
    block_id: int | None
    path: str


# Problems of a row whose names (or codes) match no unit: listed, and left out with --skip-unknown.
UNKNOWN = frozenset(("unknown_district", "unknown_block", "unknown_district_lgd", "unknown_block_lgd"))


class UnitMatcher:
    """The roster's districts and blocks, found by the names and LGD codes a portal report uses."""

    def __init__(self, session: Session, aliases: Mapping[str, str]):
        self.aliases = {name_key(k): name_key(v) for k, v in aliases.items()}
        self.places = Places(session, down_to="block")
        self.districts: dict[str, Spot] = {}
        self.blocks: dict[tuple[int, str], Spot] = {}
        for spot in self.places.units("district"):
            for name in (spot.name, spot.name_hi):
                if name:
                    self.districts.setdefault(name_key(name), spot)
        for spot in self.places.units("block"):
            assert spot.parent is not None
            for name in (spot.name, spot.name_hi):
                if name:
                    self.blocks.setdefault((id(spot.parent), name_key(name)), spot)

    def _named(self, found: Mapping[Any, Spot], under: int | None, name: str) -> Spot | None:
        key = name_key(name)
        for option in (key, self.aliases.get(key, key)):
            hit = found.get(option if under is None else (under, option))
            if hit is not None:
                return hit
        return None

    def _settle(self, level: str, parent: Spot | None, name: str, lgd: int | None) -> Spot | Problem:
        found = self.districts if parent is None else self.blocks
        named = self._named(found, None if parent is None else id(parent), name) if name else None
        hit = self.places.settle(level, parent, name, lgd, named)
        if isinstance(hit, Clash):
            values = {"name": name, "code": str(lgd), "district": parent.path if parent else ""}
            if hit.coded is not None:
                values["coded"] = hit.coded.path
            if hit.named is not None:
                values |= {"named": hit.named.path, "known": str(hit.named.lgd)}
            return Problem(0, f"{level}_lgd_{hit.kind}", values)
        if hit is None or hit.id is None:
            if lgd is not None:
                return Problem(0, f"unknown_{level}_lgd", {"code": str(lgd), "name": name or "—"})
            values = {"name": name} | ({"district": parent.path} if parent else {})
            return Problem(0, f"unknown_{level}", values)
        return hit

    def match_unit(
        self,
        *,
        district: str,
        block: str = "",
        district_lgd: int | None = None,
        block_lgd: int | None = None,
    ) -> Place | Problem:
        """The district (no block name or code) or block these names and codes mean: by LGD code
        first (`Places.settle`, as the roster import matches), else by name, case- and
        space-insensitive, in Devanagari or Latin, an alias (`official.aliases`) standing for its
        roster name. A code that means another unit than the name is a problem (`*_lgd_*`); one
        that matches no unit an unknown unit. The Problem has row 0: the caller sets the row."""
        found = self._settle("district", None, district, district_lgd)
        if isinstance(found, Problem):
            return found
        assert found.id is not None
        if not block and block_lgd is None:
            return Place("district", found.id, found.id, None, found.path)
        hit = self._settle("block", found, block, block_lgd)
        if isinstance(hit, Problem):
            return hit
        assert hit.id is not None
        return Place("block", hit.id, found.id, hit.id, hit.path)


# ---------------------------------------------------------------- reading the file


@dataclass(frozen=True)
class Entry:
    """One figure of the file: a unit's count (or count to date) of a metric on a day."""

    row: int
    day: dt.date
    place: Place
    metric: str
    number: int


@dataclass
class Layout:
    """Which column holds what, in either form."""

    long: bool = False
    date: str = ""
    district: str = ""
    block: str = ""
    level: str = ""
    metric: str = ""
    value: str = ""
    district_lgd: str = ""  # LGD code columns, each optional; `lgd` is the row's own unit's code
    block_lgd: str = ""
    lgd: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (column, metric) in the wide form


def _metric_names(settings: Settings) -> dict[str, str]:
    """Metric keys by every name a file may use for them: key, labels, the report's columns."""
    names: dict[str, str] = {}
    for metric in settings.metrics:
        for name in (metric.key, metric.en, metric.hi):
            names.setdefault(name_key(name), metric.key)
    for column, key in settings.official.columns.items():
        names.setdefault(name_key(column), key)
    return names


def find_layout(settings: Settings, names: Sequence[str]) -> Layout | list[Problem]:
    keys = {name_key(n): n for n in names if n}
    conf = settings.official

    def first(options: Iterable[str]) -> str:
        return next((keys[k] for k in map(name_key, options) if k in keys), "")

    roster = settings.roster.column_map()  # the code columns answer to the roster's names for them

    def named(column: str) -> str:
        return next((n for n in names if n and roster.get(header_key(n)) == column), "")

    district_lgd, block_lgd = named("district_lgd"), named("block_lgd")
    lgd = next((n for n in names if n and name_key(n) in LGD_KEYS), "")
    if "metric" in keys and "value" in keys:
        missing = [
            c
            for c in ("date", "level", "district")
            if c not in keys and not (c == "district" and district_lgd)
        ]
        if missing:
            return [Problem(1, "missing_columns", {"columns": ", ".join(missing)})]
        return Layout(
            long=True,
            date=keys["date"],
            district=keys.get("district", ""),
            block=keys.get("block", ""),
            level=keys["level"],
            metric=keys["metric"],
            value=keys["value"],
            district_lgd=district_lgd,
            block_lgd=block_lgd,
            lgd=lgd,
        )
    layout = Layout(
        date=first(conf.date_columns),
        district=first(conf.district_columns),
        block=first(conf.block_columns),
        district_lgd=district_lgd,
        block_lgd=block_lgd,
        lgd=lgd,
    )
    metrics = _metric_names(settings)
    used = {layout.date, layout.district, layout.block, district_lgd, block_lgd, lgd}
    layout.figures = [(n, metrics[k]) for k, n in keys.items() if k in metrics and n not in used]
    problems = []
    if not layout.date:
        problems.append(Problem(1, "no_date_column", {"columns": ", ".join(conf.date_columns)}))
    if not layout.district and not layout.district_lgd:
        problems.append(Problem(1, "no_district_column", {"columns": ", ".join(conf.district_columns)}))
    if not layout.figures:
        problems.append(
            Problem(1, "no_metric_column", {"columns": ", ".join(sorted(conf.columns)) or "—"})
        )
    return problems or layout


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_day(text: str) -> dt.date | None:
    """`2026-11-24`, `24/11/2026` (or `24-11-2026`, `24.11.2026`), or an Excel date cell."""
    value = text.strip()
    found = _ISO.match(value)
    try:
        if found:
            return dt.date(int(found[1]), int(found[2]), int(found[3]))
        found = _DMY.match(value)
        if found:
            return dt.date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None
    return None


@dataclass
class Reading:
    """What a file holds: its figures, and what was left out or is wrong."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Problem] = field(default_factory=list)  # names matching no unit
    totals_skipped: int = 0


def unpacked_size(path: Path) -> int | None:
    """What an .xlsx file unpacks to, as its zip directory declares (what a reader gets at most);
    None for other files and for files that are not zip archives (the reader reports those)."""
    if path.suffix.casefold() not in (".xlsx", ".xlsm"):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _number(row: int, column: str, text: str) -> int | Problem | None:
    try:
        return parse_number(text)
    except ValueError as exc:
        reason = _PARSE_REASONS.get(str(exc), "not_number")
        return Problem(row, f"value_{reason}", {"column": column, "value": text.strip()})


def _codes(
    number: int, layout: Layout, cells: Mapping[str, str], problems: list[Problem]
) -> dict[str, int | None]:
    """The row's LGD codes (`district`, `block`, and `lgd`: its own unit's), each bad one a problem."""
    codes: dict[str, int | None] = {}
    for key, column in (
        ("district", layout.district_lgd),
        ("block", layout.block_lgd),
        ("lgd", layout.lgd),
    ):
        text = cells.get(column, "").strip() if column else ""
        try:
            codes[key] = parse_lgd(text)
        except ValueError:
            problems.append(Problem(number, "bad_lgd", {"column": column, "value": text}))
            codes[key] = None
    return codes


def read_file(
    *,
    session: Session,
    settings: Settings,
    path: Path,
    today: dt.date,
    districts: set[int] | None = None,
) -> Reading:
    """Every row of the file checked; `districts` limits it to those districts (a district
    officer's own), a row of another being a problem."""
    reading = Reading()
    found: dict[str, Layout] = {}

    def header(names: list[str]) -> list[str]:
        layout = find_layout(settings, names)
        if isinstance(layout, list):
            reading.problems += layout
            return ["bad header"]
        found["layout"] = layout
        return []

    unpacked = unpacked_size(path)
    if unpacked is not None and unpacked > MAX_UNPACKED_BYTES:
        limit = indian(MAX_UNPACKED_BYTES // 2**20)
        reading.problems.append(
            Problem(0, "unpacked_too_large", {"size": indian(unpacked // 2**20), "max": limit})
        )
        return reading
    table = read_table(path, what="an official counts file", header_problems=header)
    if isinstance(table, list):
        reading.problems += [
            Problem(e.row, "file", {"detail": e.message}) for e in table if e.message != "bad header"
        ]
        return reading
    layout = found["layout"]
    matcher = UnitMatcher(session, settings.official.aliases)
    metrics = _metric_names(settings)
    known = ", ".join(settings.metric_keys)
    first: dict[tuple[dt.date, str, int, str], int] = {}
    scope_names = ""
    if districts is not None:
        scope_names = ", ".join(
            sorted(d.name for d in matcher.places.units("district") if d.id in districts)
        )
    figure_columns = {layout.value} if layout.long else {c for c, _ in layout.figures}
    for number, cells in table:
        if number > MAX_ROWS + 1:
            reading.problems.append(Problem(number, "too_many_rows", {"max": indian(MAX_ROWS)}))
            break
        if "__broken__" in cells:
            reading.problems.append(Problem(number, "file", {"detail": cells["__broken__"]}))
            continue
        if any(
            name_key(v) in TOTAL_KEYS
            for k, v in cells.items()
            if k not in figure_columns and not k.startswith("__")
        ):
            reading.totals_skipped += 1
            continue
        problems: list[Problem] = []
        if layout.long and cells.get("__extra__") == "filled":
            problems.append(Problem(number, "extra_text"))
        day_text = cells.get(layout.date, "").strip()
        day = parse_day(day_text)
        if day is None:
            key = "bad_date" if day_text else "no_date"
            problems.append(Problem(number, key, {"value": day_text}))
        elif day > today:
            problems.append(Problem(number, "future_date", {"value": day_text}))
        district = cells.get(layout.district, "").strip() if layout.district else ""
        block = cells.get(layout.block, "").strip() if layout.block else ""
        codes = _codes(number, layout, cells, problems)
        level = cells.get(layout.level, "").strip().casefold() if layout.long else ""
        block_row = level == "block" if layout.long else bool(block) or codes["block"] is not None
        own = "block" if block_row else "district"  # whose code a bare `LGD Code` column holds
        if codes[own] is None:
            codes[own] = codes["lgd"]
        if not district and codes["district"] is None:
            problems.append(Problem(number, "no_district"))
        figures: list[tuple[str, int]] = []
        if layout.long:
            if level not in LEVELS:
                problems.append(
                    Problem(number, "bad_level", {"value": cells.get(layout.level, "").strip()})
                )
            elif level == "block" and not block and codes["block"] is None:
                problems.append(Problem(number, "block_needs_block"))
            elif level == "district" and (block or codes["block"] is not None):
                written = block or str(codes["block"])
                problems.append(Problem(number, "district_has_block", {"value": written}))
            metric_text = cells.get(layout.metric, "").strip()
            metric = metrics.get(name_key(metric_text))
            if metric is None:
                problems.append(Problem(number, "bad_metric", {"value": metric_text, "known": known}))
            value = _number(number, "value", cells.get(layout.value, ""))
            if isinstance(value, Problem):
                problems.append(value)
            elif value is None:
                problems.append(Problem(number, "empty_value", {"column": "value"}))
            elif metric is not None:
                figures.append((metric, value))
        else:
            for column, metric in layout.figures:
                value = _number(number, column, cells.get(column, ""))
                if isinstance(value, Problem):
                    problems.append(value)
                elif value is not None:  # an empty cell: the report has no figure there
                    figures.append((metric, value))
        if problems:
            reading.problems += problems
            continue
        if not figures:
            continue
        place = matcher.match_unit(
            district=district,
            block=block,
            district_lgd=codes["district"],
            block_lgd=codes["block"],
        )
        if isinstance(place, Problem):
            listed = reading.unknown if place.key in UNKNOWN else reading.problems
            listed.append(Problem(number, place.key, place.values))
            continue
        if districts is not None and place.district_id not in districts:
            reading.problems.append(
                Problem(number, "out_of_scope", {"name": place.path, "scope": scope_names})
            )
            continue
        assert day is not None
        for metric, value in figures:
            seen = (day, place.level, place.unit_id, metric)
            if seen in first:
                reading.problems.append(
                    Problem(
                        number,
                        "duplicate",
                        {"unit": place.path, "metric": metric, "other": str(first[seen])},
                    )
                )
                continue
            first[seen] = number
            reading.entries.append(Entry(number, day, place, metric, value))
    return reading


def may_upload(*, session: Session, telegram_user_id: int) -> bool:
    """Whether this Telegram account is an active district officer or admin, whose file the bot
    fetches; anyone else's is answered without it."""
    person = people.person_by_telegram(session=session, telegram_user_id=telegram_user_id)
    return person is not None and person.active and person.role in UPLOADERS

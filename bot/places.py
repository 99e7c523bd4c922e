"""Districts, blocks, sectors and villages as files name them, matched the same way in every import.

A unit is found by its LGD code (India's Local Government Directory) where the file gives one, else
by its name in either script: `Hardoi`, `HARDOI` and, with the code, `हरदोई` are one district. A
name in the other script than the stored one is kept as the unit's second name (`name_hi` is the
Devanagari one), so replies can use the reader's. The roster, villages, targets and official counts
imports all match through `Places`; checking a file changes nothing, only `save` writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from models import Block, District, Sector, Village

LEVELS = ("district", "block", "sector", "village")
TABLES: dict[str, Any] = {"district": District, "block": Block, "sector": Sector, "village": Village}
PARENT_COLUMN = {"block": "district_id", "sector": "block_id", "village": "sector_id"}
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
MAX_LGD = 10**9


def name_key(text: str) -> str:
    """A unit name as compared: NFC, case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def is_devanagari(text: str) -> bool:
    return bool(_DEVANAGARI.search(text))


def parse_lgd(text: str) -> int | None:
    """An LGD code as a cell holds it (`134`, `0134`, `134.0` from Excel, `१३४`), else ValueError."""
    value = "".join(
        str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
        for ch in text.strip()
    )
    if not value:
        return None
    if re.fullmatch(r"\d+\.0+", value):
        value = value.split(".")[0]
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < MAX_LGD:
        raise ValueError(f"{text.strip()!r} is not an LGD code (a whole number)")
    return int(value)


@dataclass(eq=False)
class Spot:
    """One unit as the import sees it: stored (id) or planned by the file (id None)."""

    level: str
    name: str
    parent: Spot | None = None
    name_hi: str | None = None
    lgd: int | None = None
    id: int | None = None
    changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.parent.path}/{self.name}" if self.parent else self.name

    def label(self, language: str) -> str:
        return (self.name_hi or self.name) if language == "hi" else self.name


@dataclass(frozen=True)
class Clash:
    """A row whose LGD code and name mean different units: the code's unit lies under another
    parent (`elsewhere`), the name is another unit (`other_unit`), or the name's unit has another
    code (`other_code`)."""

    kind: str
    level: str
    name: str  # as the file writes it
    lgd: int
    coded: Spot | None  # the unit the code means (None for other_code)
    named: Spot | None  # the unit the name means
    parent: Spot | None

    def __str__(self) -> str:
        if self.kind == "elsewhere":
            assert self.coded is not None
            where = self.parent.path if self.parent else "-"
            return f"{self.level} LGD code {self.lgd} is {self.coded.path}, not in {where}"
        assert self.named is not None
        if self.kind == "other_unit":
            assert self.coded is not None
            return (
                f"{self.level} {self.name!r} is {self.named.path} on the roster, but LGD code "
                f"{self.lgd} is {self.coded.path}"
            )
        return f"{self.level} {self.named.path} has LGD code {self.named.lgd}, not {self.lgd}"


class Places:
    """Every stored unit, indexed by name (either script) and LGD code under its parent."""

    def __init__(self, session: Session, down_to: str = "village"):
        """Every stored unit down to the level `down_to` (a file naming no sectors or villages
        need not load a state's villages)."""
        self.by_name: dict[tuple[str, int, str], Spot] = {}
        self.by_code: dict[tuple[str, int, int], Spot] = {}  # villages: under their sector
        self.national: dict[tuple[str, int], Spot] = {}  # district and block codes are national
        self.children: dict[int, list[Spot]] = defaultdict(list)
        self.created: dict[str, int] = defaultdict(int)
        stored: dict[tuple[str, int], Spot] = {}
        for level in LEVELS[: LEVELS.index(down_to) + 1]:
            parent_level = LEVELS[LEVELS.index(level) - 1] if level != "district" else None
            for obj in session.exec(select(TABLES[level])):
                parent = None
                if parent_level is not None:
                    parent = stored[(parent_level, getattr(obj, PARENT_COLUMN[level]))]
                spot = Spot(
                    level,
                    obj.name,
                    parent,
                    obj.name_hi,
                    getattr(obj, "lgd_code", None),
                    obj.id,
                )
                if level == "village":
                    spot.extra = {"lat": obj.lat, "lon": obj.lon}
                stored[(level, obj.id)] = spot
                self._index(spot)

    def _index(self, spot: Spot) -> None:
        under = id(spot.parent) if spot.parent else 0
        for name in (spot.name, spot.name_hi):
            if name:
                self.by_name.setdefault((spot.level, under, name_key(name)), spot)
        if spot.lgd is not None:
            if spot.level in ("district", "block"):
                self.national.setdefault((spot.level, spot.lgd), spot)
            self.by_code.setdefault((spot.level, under, spot.lgd), spot)
        if spot.parent is not None and spot not in self.children[id(spot.parent)]:
            self.children[id(spot.parent)].append(spot)

    def find(self, level: str, parent: Spot | None, name: str, lgd: int | None) -> Spot | str | None:
        """The unit a file's name and code mean, None if there is none yet, or why they disagree."""
        under = id(parent) if parent else 0
        by_name = self.by_name.get((level, under, name_key(name))) if name else None
        found = self.settle(level, parent, name, lgd, by_name)
        return str(found) if isinstance(found, Clash) else found

    def settle(
        self, level: str, parent: Spot | None, name: str, lgd: int | None, named: Spot | None
    ) -> Spot | Clash | None:
        """The unit a row means, from the unit its name means (`named`, found however the file's
        names are matched) and its LGD code: the code's unit first; None if neither means one."""
        if lgd is None:
            return named
        if level in ("district", "block"):
            by_code = self.national.get((level, lgd))
        else:
            by_code = self.by_code.get((level, id(parent) if parent else 0, lgd))
        if by_code is not None:
            if by_code.parent is not parent:
                return Clash("elsewhere", level, name, lgd, by_code, named, parent)
            if named is not None and named is not by_code:
                return Clash("other_unit", level, name, lgd, by_code, named, parent)
            return by_code
        if named is not None and named.lgd is not None:
            return Clash("other_code", level, name, lgd, None, named, parent)
        return named

    def get(self, level: str, parent: Spot | None, name: str, lgd: int | None) -> Spot | str:
        """As find, planning a new unit where there is none; a new code or other-script name is kept."""
        found = self.find(level, parent, name, lgd)
        if isinstance(found, str):
            return found
        if found is None:
            found = Spot(level, name, parent, lgd=lgd)
            self._index(found)
            return found
        if lgd is not None and found.lgd is None:
            found.lgd, found.changed = lgd, True
        known = {name_key(found.name), name_key(found.name_hi or "")}
        if name and name_key(name) not in known:
            if is_devanagari(name) and not is_devanagari(found.name) and not found.name_hi:
                found.name_hi, found.changed = name, True
            elif not is_devanagari(name) and is_devanagari(found.name):
                # The Latin name becomes the unit's name; the Devanagari one stays for Hindi readers.
                found.name_hi, found.name, found.changed = found.name_hi or found.name, name, True
        self._index(found)
        return found

    def units(self, level: str) -> list[Spot]:
        """Every unit of the level, stored or planned."""
        return list({id(s): s for k, s in self.by_name.items() if k[0] == level}.values())

    def villages_in(self, block: Spot) -> list[Spot]:
        """Every village of a block, whichever sector it lies in."""
        return [v for sector in self.children[id(block)] for v in self.children[id(sector)]]

    def save(self, session: Session, spot: Spot) -> int:
        """Write a planned or changed unit (and the units above it); its id."""
        if spot.parent is not None:
            self.save(session, spot.parent)
        table = TABLES[spot.level]
        if spot.id is None:
            fields: dict[str, Any] = {"name": spot.name, "name_hi": spot.name_hi}
            if spot.level != "sector":
                fields["lgd_code"] = spot.lgd
            if spot.parent is not None:
                fields[PARENT_COLUMN[spot.level]] = spot.parent.id
            obj = table(**fields)
            session.add(obj)
            session.flush()
            spot.id = obj.id
            spot.changed = False
            self.created[spot.level] += 1
        elif spot.changed:
            obj = session.get_one(table, spot.id)
            obj.name, obj.name_hi = spot.name, spot.name_hi
            if spot.level != "sector":
                obj.lgd_code = spot.lgd
            session.add(obj)
            session.flush()
            spot.changed = False
        assert spot.id is not None
        return spot.id

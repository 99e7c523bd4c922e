"""Leave and holidays: who is off on which day, and what that takes out of the day's counts.

A worker is off on a day of her own leave (`छुट्टी`) or of a holiday of her state, district or
block (config.yaml `holidays`, or `fieldbot holidays import`). Off, she gets no start message or
reminder, is not missing and is not counted in "reported x of y"; a report she sends anyway counts,
and then she is counted as any reporter. A holiday of a whole unit is also not a working day for
that unit's targets (`working_days`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.numbers import DEVANAGARI_DIGITS
from bot.store.units import Unit
from models import FIELD_ROLES, Block, DailyReport, District, Holiday, Leave, Person, ReportValue

# More people than this (the 09:00 job for a whole state) are not listed in a query: the leave of
# the range is read whole (it is a small table) and sorted out here.
MANY_IDS = 500
STATE_KEY = 0  # the state's key where counts are keyed by unit id (as in bot.rollups)
_PERSON_COLUMN: dict[str, Any] = {
    "district": Person.district_id,
    "block": Person.block_id,
    "sector": Person.sector_id,
}


@dataclass(frozen=True)
class HolidayDay:
    """One holiday: the state's (no district), a district's (no block) or a block's."""

    day: dt.date
    name: str
    district_id: int | None = None
    block_id: int | None = None

    def covers(self, district_id: int | None, block_id: int | None) -> bool:
        """Whether a worker or unit placed in this district and block is off that day."""
        if self.district_id is None:
            return True
        if self.district_id != district_id:
            return False
        return self.block_id is None or self.block_id == block_id


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- holidays


def holidays_between(
    session: Session, settings: Settings | None, start: dt.date, end: dt.date
) -> list[HolidayDay]:
    """Every holiday in the range, from the config (names matched to the roster's units) and the
    imported table. A config holiday naming a unit the roster does not have covers nobody."""
    found = [
        HolidayDay(row.day, row.name, row.district_id, row.block_id)
        for row in session.exec(select(Holiday).where(col(Holiday.day).between(start, end))).all()
    ]
    entries = [h for h in (settings.holidays if settings else []) if start <= h.date <= end]
    if not entries:
        return found
    districts = {d.name.casefold(): d.id for d in session.exec(select(District)).all()}
    blocks = {(b.district_id, b.name.casefold()): b.id for b in session.exec(select(Block)).all()}
    for entry in entries:
        if entry.district is None:
            found.append(HolidayDay(entry.date, entry.name))
            continue
        district_id = districts.get(entry.district.casefold())
        if district_id is None:
            continue
        block_id = None
        if entry.block:
            block_id = blocks.get((district_id, entry.block.casefold()))
            if block_id is None:
                continue
        found.append(HolidayDay(entry.date, entry.name, district_id, block_id))
    return found


def unit_holidays(
    session: Session, settings: Settings | None, unit: Unit, start: dt.date, end: dt.date
) -> dict[dt.date, str]:
    """The days of the range that are a holiday for the whole unit, with the holiday's name."""
    out: dict[dt.date, str] = {}
    for holiday in holidays_between(session, settings, start, end):
        if holiday.district_id is None:
            out.setdefault(holiday.day, holiday.name)
        elif unit.level in ("district", "block", "sector") and holiday.block_id is None:
            if holiday.district_id == unit.district_id:
                out.setdefault(holiday.day, holiday.name)
        elif unit.level in ("block", "sector") and holiday.block_id == unit.block_id:
            out.setdefault(holiday.day, holiday.name)
    return out


def working_days(settings: Settings, start: dt.date, end: dt.date, off: Collection[dt.date] = ()) -> int:
    """The campaign's days in the range (all of them without campaign dates), less `off`."""
    first = max(start, settings.campaign.start) if settings.campaign.start else start
    last = min(end, settings.campaign.end) if settings.campaign.end else end
    if last < first:
        return 0
    return (last - first).days + 1 - sum(1 for day in set(off) if first <= day <= last)


# ---------------------------------------------------------------- leave


def add_leave(
    *,
    session: Session,
    person_id: int,
    first: dt.date,
    last: dt.date,
    entered_by: int,
    now: dt.datetime,
) -> Leave:
    leave = Leave(
        person_id=person_id, first_day=first, last_day=last, entered_by=entered_by, created_at=now
    )
    session.add(leave)
    session.flush()
    return leave


def upcoming_leave(*, session: Session, person_ids: Iterable[int], today: dt.date) -> list[Leave]:
    """Leave not cancelled that has not ended before today, first days first."""
    ids = sorted(set(person_ids))
    if not ids:
        return []
    return list(
        session.exec(
            select(Leave)
            .where(
                col(Leave.person_id).in_(ids),
                col(Leave.cancelled_at).is_(None),
                col(Leave.last_day) >= today,
            )
            .order_by(col(Leave.first_day), col(Leave.id))
        ).all()
    )


def cancel_leave(
    *, session: Session, person_id: int, today: dt.date, by: int, now: dt.datetime
) -> list[tuple[dt.date, dt.date]]:
    """Cancel her leave from today on: leave still to come goes, leave under way ends yesterday.

    Returns the stretches of days given back to work."""
    back = []
    for leave in upcoming_leave(session=session, person_ids=[person_id], today=today):
        if leave.first_day >= today:
            back.append((leave.first_day, leave.last_day))
            leave.cancelled_at, leave.cancelled_by = now, by
        else:
            back.append((today, leave.last_day))
            # The days already taken stay as leave; from today she is back.
            session.add(
                Leave(
                    person_id=leave.person_id,
                    first_day=leave.first_day,
                    last_day=today - dt.timedelta(days=1),
                    entered_by=leave.entered_by,
                    created_at=leave.created_at,
                )
            )
            leave.cancelled_at, leave.cancelled_by = now, by
        session.add(leave)
    session.flush()
    return back


def _leave_days(
    session: Session, person_ids: Sequence[int] | None, start: dt.date, end: dt.date, scope: Any
) -> dict[int, set[dt.date]]:
    """Per person (of `person_ids`, or of the scope's active workers), her days of leave in the range."""
    query = (
        sa_select(col(Leave.person_id), col(Leave.first_day), col(Leave.last_day))
        .join(Person, col(Person.id) == col(Leave.person_id))
        .where(
            col(Leave.cancelled_at).is_(None),
            col(Leave.first_day) <= end,
            col(Leave.last_day) >= start,
            *scope,
        )
    )
    wanted = set(person_ids) if person_ids is not None else None
    if wanted is not None and len(wanted) <= MANY_IDS:
        query = query.where(col(Leave.person_id).in_(sorted(wanted)))
    days: dict[int, set[dt.date]] = defaultdict(set)
    for person_id, first, last in session.execute(query).all():
        if wanted is None or person_id in wanted:
            days[int(person_id)].update(_days(max(first, start), min(last, end)))
    return days


def off_days(
    session: Session,
    settings: Settings | None,
    people: Sequence[tuple[int, int | None, int | None]],
    start: dt.date,
    end: dt.date,
) -> dict[int, set[dt.date]]:
    """Per person (id, district, block), the days of the range she is off."""
    ids = [p[0] for p in people]
    if not ids:
        return {}
    holidays = holidays_between(session, settings, start, end)
    out: dict[int, set[dt.date]] = defaultdict(set, _leave_days(session, ids, start, end, []))
    if holidays:
        for person_id, district_id, block_id in people:
            out[person_id] |= {h.day for h in holidays if h.covers(district_id, block_id)}
    return {k: v for k, v in out.items() if v}


def off_reasons(
    session: Session, settings: Settings | None, people: Sequence[Person], day: dt.date
) -> dict[int, str]:
    """Which of these people are off on the day: "leave" or the holiday's name."""
    ids = [p.id for p in people if p.id is not None]
    if not ids:
        return {}
    holidays = holidays_between(session, settings, day, day)
    out: dict[int, str] = {}
    for person in people:
        assert person.id is not None
        for holiday in holidays:
            if holiday.covers(person.district_id, person.block_id):
                out[person.id] = holiday.name
                break
    for person_id in _leave_days(session, ids, day, day, []):
        out[person_id] = "leave"
    return out


@dataclass(frozen=True)
class Away:
    """Field workers of a unit off on every day of a range: all of them, and those of them who
    reported nothing (they leave the "reported x of y" denominator)."""

    off: int = 0
    not_reported: int = 0


def _scope(level: str, ids: Sequence[int] | None) -> list[Any]:
    clauses: list[Any] = [col(Person.active).is_(True), col(Person.role).in_(FIELD_ROLES)]
    if level != "state" and ids is not None:
        clauses.append(col(_PERSON_COLUMN[level]).in_(sorted(set(ids))))
    return clauses


def away_by(
    session: Session,
    settings: Settings | None,
    level: str,
    ids: Sequence[int] | None,
    start: dt.date,
    end: dt.date,
) -> dict[int, Away]:
    """Per unit of `level` (the state: key 0), its active field workers off on every day of the
    range, by leave or holiday; units with nobody off are left out."""
    if ids is not None and not ids:
        return {}
    days = set(_days(start, end))
    holidays = holidays_between(session, settings, start, end)
    scope = _scope(level, ids)
    leave = _leave_days(session, None, start, end, scope)
    if not holidays and not leave:
        return {}
    unit_col: Any = _PERSON_COLUMN[level] if level != "state" else None
    # Per district and block where workers are, the holiday days that cover it.
    places = session.execute(
        sa_select(col(Person.district_id), col(Person.block_id), func.count(col(Person.id)))
        .where(*scope)
        .group_by(col(Person.district_id), col(Person.block_id))
    ).all()
    covered: dict[tuple[int | None, int | None], set[dt.date]] = {}
    for district_id, block_id, _ in places:
        covered[(district_id, block_id)] = {h.day for h in holidays if h.covers(district_id, block_id)}
    whole = [place for place, found in covered.items() if found >= days]
    off_people: dict[int, int] = {}  # person -> unit key
    if whole:
        conditions = [(col(Person.district_id) == d) & (col(Person.block_id) == b) for d, b in whole]
        rows = session.execute(
            sa_select(col(Person.id), unit_col if unit_col is not None else col(Person.id)).where(
                *scope, or_(*conditions)
            )
        ).all()
        for person_id, key in rows:
            off_people[int(person_id)] = STATE_KEY if unit_col is None else int(key)
    if leave:
        rows = session.execute(
            sa_select(
                col(Person.id),
                col(Person.district_id),
                col(Person.block_id),
                unit_col if unit_col is not None else col(Person.id),
            ).where(*scope, col(Person.id).in_(sorted(leave)))
        ).all()
        for person_id, district_id, block_id, key in rows:
            free = leave[int(person_id)] | covered.get((district_id, block_id), set())
            if free >= days:
                off_people[int(person_id)] = STATE_KEY if unit_col is None else int(key)
    if not off_people:
        return {}
    query = (
        sa_select(col(DailyReport.person_id))
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.day).between(start, end))
        .distinct()
    )
    if len(off_people) <= MANY_IDS:
        query = query.where(col(DailyReport.person_id).in_(sorted(off_people)))
    else:  # a whole district's holiday: its reporters, by the scope
        query = query.join(Person, col(Person.id) == col(DailyReport.person_id)).where(*scope)
    reported = set(session.execute(query).scalars()) & set(off_people)
    off: dict[int, int] = defaultdict(int)
    silent: dict[int, int] = defaultdict(int)
    for person_id, key in off_people.items():
        off[key] += 1
        silent[key] += person_id not in reported
    return {key: Away(off[key], silent[key]) for key in off}


def away_in(
    session: Session, settings: Settings | None, unit: Unit, start: dt.date, end: dt.date
) -> Away:
    """`away_by` for one unit."""
    key = STATE_KEY if unit.level == "state" else unit.id
    assert key is not None
    ids = None if unit.level == "state" else [key]
    return away_by(session, settings, unit.level, ids, start, end).get(key, Away())


def off_people_in(
    session: Session, settings: Settings | None, unit: Unit, day: dt.date
) -> dict[int, str]:
    """The unit's active field workers off on the day, each with why ("leave" or the holiday).

    Reads ids only, and people only of the places a holiday covers: a state's page asks this too.
    """
    scope = _scope(unit.level, None if unit.level == "state" else [unit.id or 0])
    out: dict[int, str] = {}
    holidays = holidays_between(session, settings, day, day)
    if holidays:
        places = session.execute(
            sa_select(col(Person.district_id), col(Person.block_id))
            .where(*scope)
            .group_by(col(Person.district_id), col(Person.block_id))
        ).all()
        for district_id, block_id in places:
            name = next((h.name for h in holidays if h.covers(district_id, block_id)), None)
            if name is None:
                continue
            here = session.execute(
                sa_select(col(Person.id)).where(
                    *scope, col(Person.district_id) == district_id, col(Person.block_id) == block_id
                )
            ).scalars()
            out.update(dict.fromkeys((int(pid) for pid in here), name))
    out.update(dict.fromkeys(_leave_days(session, None, day, day, scope), "leave"))
    return out


# ---------------------------------------------------------------- what people type

LEAVE_WORDS = {"छुट्टी", "छुट्टि", "छुटटी", "chutti", "chhutti", "chuti", "leave", "अवकाश", "/leave"}
CANCEL_WORDS = {"रद्द", "रद", "radd", "rad", "cancel", "खत्म", "ख़त्म", "khatam", "समाप्त", "हटाएँ"}
DAY_WORDS = {
    "आज": 0,
    "aaj": 0,
    "today": 0,
    "कल": 1,
    "kal": 1,
    "tomorrow": 1,
    "परसों": 2,
    "parso": 2,
    "parson": 2,
}
RANGE_WORDS = {"से", "se", "to", "till", "until", "तक", "tak", "-", "–", "—"}
_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?$")
_DAYS = re.compile(r"^(\d{1,2})$")
_DAYS_WORDS = {"दिन", "din", "day", "days"}


@dataclass(frozen=True)
class LeaveAsk:
    """`छुट्टी ...` read: cancel or enter; the days named (none: today); the other words (a name)."""

    cancel: bool
    days: tuple[dt.date, ...] = ()
    length: int | None = None  # `छुट्टी 3 दिन`
    who: str = ""


def read_leave(text: str, today: dt.date) -> LeaveAsk | str | None:
    """A leave message read, an error key ("leave_bad_date") for one that cannot be, or None for
    a message that is not about leave. `कल` is tomorrow here: leave is announced ahead."""
    normal = unicodedata.normalize("NFC", text).translate(DEVANAGARI_DIGITS).strip()
    words = normal.replace(",", " ").split()
    if not words or words[0].casefold().split("@", 1)[0] not in LEAVE_WORDS:
        return None
    rest = words[1:]
    # `25/11-27/11` is two dates and a dash
    spread: list[str] = []
    for word in rest:
        parts = re.split(r"(?<=\d)\s*[-–—]\s*(?=\d{1,2}[/.])", word)
        for index, part in enumerate(parts):
            if index:
                spread.append("-")
            spread.append(part)
    cancel = False
    days: list[dt.date] = []
    length = None
    name: list[str] = []
    for index, word in enumerate(spread):
        key = word.casefold().strip(":")
        if key in CANCEL_WORDS:
            cancel = True
        elif key in DAY_WORDS:
            days.append(today + dt.timedelta(days=DAY_WORDS[key]))
        elif key in RANGE_WORDS or key in _DAYS_WORDS:
            continue
        elif _DATE.match(key):
            found = _DATE.match(key)
            assert found is not None
            day = _as_date(found, today)
            if day is None:
                return "leave_bad_date"
            days.append(day)
        elif (
            _DAYS.match(key) and index + 1 < len(spread) and spread[index + 1].casefold() in _DAYS_WORDS
        ):
            length = int(key)
        elif any(ch.isdigit() for ch in key) and not name:
            name.append(word)  # a phone or a worker id
        else:
            name.append(word)
    if len(days) > 2:
        return "leave_bad_date"
    return LeaveAsk(cancel, tuple(days), length, " ".join(name))


def _as_date(found: re.Match[str], today: dt.date) -> dt.date | None:
    day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
    full = (int(year) + (2000 if len(year) == 2 else 0)) if year else today.year
    try:
        date = dt.date(full, month, day)
    except ValueError:
        return None
    if year is None and (date - today).days < -180:
        date = date.replace(year=full + 1)  # "5/1" written in December
    elif year is None and (date - today).days > 185:
        date = date.replace(year=full - 1)
    return date


def leave_span(ask: LeaveAsk, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a leave message names (today alone when it names none)."""
    first = ask.days[0] if ask.days else today
    last = ask.days[-1] if len(ask.days) > 1 else first
    if ask.length:
        last = first + dt.timedelta(days=ask.length - 1)
    return first, last

"""The unit page's open problems and who is off today, read with the queries the digests use
(`bot/problems.py`, `bot/problem_digest.py`, `bot/leave.py`). No phone numbers here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from bot import leave, problem_digest, problems
from bot.config import Settings
from bot.dashboard.texts import t
from bot.i18n import short_date
from bot.numbers import indian
from bot.store.units import Unit

MAX_LISTED = 100  # open problems named on one page; the rest are counted
LISTED_LEVELS = ("sector", "block")  # where each problem and each person off is named


@dataclass(frozen=True)
class CodeLine:
    label: str
    workers: str
    units: str
    escalated: str  # "" when none of this code has waited past escalation


@dataclass(frozen=True)
class Entry:
    id: int
    worker: str
    sector: str
    day: str
    label: str
    text: str
    days_open: str
    escalated: bool


@dataclass
class Blockers:
    """What the page's problems and leave sections show."""

    total: str = "0"
    codes: list[CodeLine] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    more: str = ""
    listed: bool = False
    holiday: str = ""
    off_names: list[str] = field(default_factory=list)
    off_count: int = 0
    off_count_text: str = ""


def _units_level(unit: Unit) -> str:
    """Sectors counted at sector and block level, blocks at district and state level."""
    return "sector" if unit.level in LISTED_LEVELS else "block"


def build(*, session: Session, settings: Settings, unit: Unit, today: dt.date, lang: str) -> Blockers:
    out = Blockers(listed=unit.level in LISTED_LEVELS)
    rows = problems.open_in(session=session, units=[unit])
    days = problem_digest.escalation_days(settings, unit)
    level = _units_level(unit)
    out.total = indian(len(rows))
    for count in problem_digest.counts_by_code(settings, rows, level, today, days):
        out.codes.append(
            CodeLine(
                label=settings.problems.code(count.code).label(lang),
                workers=t(lang, "problems_workers", count=indian(count.workers)),
                units=t(lang, f"problems_{level}s", count=indian(count.units)),
                escalated=t(lang, "problems_escalated", count=indian(count.escalated), days=indian(days))
                if count.escalated
                else "",
            )
        )
    if out.listed:
        for row in rows[:MAX_LISTED]:
            p = row.problem
            out.entries.append(
                Entry(
                    id=p.id or 0,
                    worker=row.worker,
                    sector=row.sector,
                    day=short_date(p.day, lang),
                    label=settings.problems.code(p.code).label(lang),
                    text=p.text,
                    days_open=t(lang, "problems_days_open", count=indian(max((today - p.day).days, 0))),
                    escalated=problem_digest.is_escalated(row, today, days),
                )
            )
        if len(rows) > MAX_LISTED:
            out.more = t(lang, "problems_more", count=indian(len(rows) - MAX_LISTED))
    out.holiday = leave.unit_holidays(session, settings, unit, today, today).get(today, "")
    on_leave = [
        pid for pid, why in leave.off_people_in(session, settings, unit, today).items() if why == "leave"
    ]
    out.off_count = len(on_leave)
    out.off_count_text = t(lang, "leave_count", count=indian(len(on_leave)))
    if out.listed and on_leave:
        people = problems.people_by_id(session=session, ids=on_leave)
        out.off_names = sorted(p.name for p in people.values())
    return out

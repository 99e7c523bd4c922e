"""What the digests and the daily problem notice say about problems, and the problems CSV."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot import problems
from bot.config import Settings
from bot.config_sections import OTHER_PROBLEM
from bot.delivery.outbox import Message
from bot.i18n import short_date, t
from bot.numbers import indian
from bot.phones import local_phone
from bot.problems import Row
from bot.store import people
from bot.store.units import CHILD_LEVEL, Unit, scope_units
from models import Person, utcnow

ESCALATED_SHOWN = 15  # escalated problems named in one digest section; the rest are counted
COLUMNS = (
    "date",
    "time",
    "district",
    "block",
    "sector",
    "worker",
    "phone",
    "code",
    "text",
    "status",
    "resolved_by",
    "resolved_at",
    "note",
)


def _label(settings: Settings, code: str, lang: str) -> str:
    return settings.problems.code(code).label(lang)


def _by_code(settings: Settings, rows: Sequence[Row]) -> list[tuple[str, list[Row]]]:
    """Rows grouped by code, in the config's order of codes."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.problem.code].append(row)
    order = {c.key: n for n, c in enumerate(settings.problems.codes)}
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))


@dataclass(frozen=True)
class CodeCount:
    """One code's open problems: how many workers and units below have them, how many are new
    today and how many have waited past escalation."""

    code: str
    workers: int
    units: int
    new: int
    escalated: int


def escalation_days(settings: Settings, unit: Unit) -> int:
    """Days a problem may stay open before it counts as escalated at this unit's level."""
    if unit.level in ("district", "state"):
        return settings.problems.escalate_to_district_after_days
    return settings.problems.escalate_after_days


def is_escalated(row: Row, day: dt.date, days: int) -> bool:
    return (day - row.problem.day).days > days


def counts_by_code(
    settings: Settings, rows: Sequence[Row], level: str, day: dt.date, days: int
) -> list[CodeCount]:
    """Open problems per code (the config's order), units counted at `level`."""
    column = {"sector": "sector_id", "block": "block_id"}.get(level, "district_id")
    return [
        CodeCount(
            code=code,
            workers=len({r.problem.person_id for r in found}),
            units=len({getattr(r.problem, column) for r in found}),
            new=sum(1 for r in found if r.problem.day == day),
            escalated=sum(1 for r in found if is_escalated(r, day, days)),
        )
        for code, found in _by_code(settings, rows)
    ]


def sector_lines(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """The supervisor's view: today's problems by code with who reported them, and older open ones."""
    today = problems.reported_on(session=session, units=[unit], day=day)
    older = problems.opened_before(session=session, units=[unit], day=day)
    if not today and not older:
        return []
    lines = []
    if today:
        lines.append(t(lang, "digest_problems_today", count=indian(len(today))))
        for code, rows in _by_code(settings, today):
            names = ", ".join(
                f"{r.worker} ({r.problem.text})"
                if code == OTHER_PROBLEM and r.problem.text
                else r.worker
                for r in rows
            )
            lines.append(f"• {_label(settings, code, lang)}: {names}")
    if older:
        lines.append(t(lang, "digest_problems_older", count=indian(len(older))))
    return lines


def review_lines(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """A BMO's or district officer's view: open problems per code, counted in workers and in the
    units below (`ऑपरेटर आईडी बंद: 12 आशा, 3 सेक्टर`), and the escalated ones named."""
    rows = problems.open_in(session=session, units=[unit])
    if not rows:
        return []
    child = CHILD_LEVEL[unit.level]
    lines = ["", t(lang, "digest_problems_open", count=indian(len(rows)))]
    for count in counts_by_code(settings, rows, child, day, escalation_days(settings, unit)):
        lines.append(
            t(
                lang,
                "digest_problems_count",
                label=_label(settings, count.code, lang),
                workers=indian(count.workers),
                units=indian(count.units),
                level=t(lang, f"level_{child}"),
                new=t(lang, "digest_problems_new", count=indian(count.new)) if count.new else "",
            )
        )
    days = escalation_days(settings, unit)
    late = [r for r in rows if is_escalated(r, day, days)]
    if late:
        lines.append(t(lang, "digest_escalated", count=indian(len(late)), days=indian(days)))
        for r in late[:ESCALATED_SHOWN]:
            where = r.sector if unit.level == "block" else f"{r.block}/{r.sector}"
            lines.append(
                f"• #{r.problem.id} {r.worker} ({where}) — {_label(settings, r.problem.code, lang)}, "
                + t(lang, "problem_since_date", date=short_date(r.problem.day, lang))
            )
        if len(late) > ESCALATED_SHOWN:
            lines.append(t(lang, "digest_escalated_more", count=indian(len(late) - ESCALATED_SHOWN)))
    return lines


# ---------------------------------------------------------------- the daily notice


def _officers(session: Session, roles: Sequence[str]) -> list[Person]:
    return list(
        session.exec(
            select(Person)
            .where(col(Person.active).is_(True), col(Person.role).in_(list(roles)))
            .order_by(col(Person.id))
        ).all()
    )


def notices(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """Once a day: each code's recipients get the problems of that code reported since the last
    notice, in their units (officers by role) or all of them (listed phones)."""
    rows = problems.not_notified(session=session)
    if not rows:
        return []
    roles = sorted({r for c in settings.problems.codes for r in c.notify.roles})
    scopes = {
        person.id: (person, scope_units(session, person, settings.state))
        for person in _officers(session, roles)
    }
    wanted: dict[str, tuple[Person, list[Row]]] = {}

    def add(key: str, person: Person, row: Row) -> None:
        wanted.setdefault(key, (person, []))[1].append(row)

    for row in rows:
        code = settings.problems.code(row.problem.code)
        p = row.problem
        for person, units in scopes.values():
            if person.role in code.notify.roles and any(
                u.holds(p.district_id, p.block_id, p.sector_id) for u in units
            ):
                add(f"person:{person.id}", person, row)
        for phone in (*code.notify.phones, *code.notify.district_phones.get(row.district, [])):
            known = people.person_by_phone(session=session, phone=phone)
            if known is not None and known.active:
                add(f"person:{known.id}", known, row)
            elif known is None:
                # Not on the roster (a district's IT manager): reached at the number itself.
                add(f"phone:{phone}", Person(name=phone, phone=phone, role="admin"), row)
    problems.mark_notified(session=session, problems=[r.problem for r in rows], now=utcnow())
    messages = []
    for who, (person, found) in wanted.items():
        lang = person.language
        lines = [t(lang, "problem_notice_head", count=indian(len(found)), date=short_date(day, lang))]
        for code_key, group in _by_code(settings, found):
            lines.append(f"\n{_label(settings, code_key, lang)} ({indian(len(group))}):")
            for r in group:
                text = f" «{r.problem.text}»" if r.problem.text else ""
                lines.append(
                    f"• #{r.problem.id} {r.worker} · {r.district}/{r.block}/{r.sector} · "
                    f"{local_phone(r.phone)}{text}"
                )
        lines.append("\n" + t(lang, "problem_notice_foot"))
        messages.append(Message(person, "\n".join(lines), key=f"problem_notice:{day.isoformat()}:{who}"))
    return messages


# ---------------------------------------------------------------- the CSV


def table(
    *, session: Session, settings: Settings, start: dt.date, end: dt.date
) -> list[tuple[object, ...]]:
    """The problems table of interface.md, one row per problem reported in the range."""
    rows = problems.between(session=session, start=start, end=end)
    resolvers = problems.people_by_id(
        session=session, ids=[r.problem.resolved_by for r in rows if r.problem.resolved_by]
    )
    out: list[tuple[object, ...]] = []
    for row in rows:
        p = row.problem
        local = p.reported_at.astimezone(settings.tz)
        resolver = resolvers.get(p.resolved_by) if p.resolved_by else None
        resolved = p.resolved_at.astimezone(settings.tz) if p.resolved_at else None
        out.append(
            (
                p.day.isoformat(),
                f"{local:%H:%M}",
                row.district,
                row.block,
                row.sector,
                row.worker,
                row.phone,
                p.code,
                p.text,
                p.status,
                resolver.name if resolver else "",
                f"{resolved:%Y-%m-%d %H:%M}" if resolved else "",
                p.note,
            )
        )
    return out

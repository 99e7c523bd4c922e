"""Daily reports: their values, the changes that wrote them (the audit), undo and edits.

Every change is also counted into the aggregates (bot/store/totals.py) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store import totals
from bot.store.insert import dialect_insert, insert_many
from bot.store.people import Sender
from models import DailyReport, Person, ReportChange, ReportValue, utcnow


@dataclass(frozen=True)
class Change:
    """One metric changed by one message: old is None where nothing was reported before."""

    day: dt.date
    metric: str
    old: int | None
    new: int | None
    added: int | None = None  # the `+5` that produced `new`


def _new_report_row(
    person_id: int, where: Person | Sender, day: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """A daily_report row for a worker's day, in the units she reports from."""
    if where.sector_id is None or where.block_id is None or where.district_id is None:
        raise ValueError("a report needs a field worker with a sector")
    return {
        "person_id": person_id,
        "day": day,
        "district_id": where.district_id,
        "block_id": where.block_id,
        "sector_id": where.sector_id,
        "village_id": where.village_id,
        "created_at": now,
        "updated_at": now,
    }


def _lock_report(*, session: Session, person: Person, day: dt.date) -> DailyReport:
    """The person's report row for the day, created if needed and locked for this transaction.

    Two messages from one worker at once (two web processes) serialise on this row.
    """
    assert person.id is not None
    values = _new_report_row(person.id, person, day, utcnow())
    dialect = session.get_bind().dialect.name
    table = DailyReport.__table__  # type: ignore[attr-defined]
    insert = dialect_insert(session, table)
    session.execute(insert.values(**values).on_conflict_do_nothing())
    query = select(DailyReport).where(DailyReport.person_id == person.id, DailyReport.day == day)
    if dialect == "postgresql":
        query = query.with_for_update()
    report = session.exec(query.execution_options(populate_existing=True)).one()
    return report


def report_values(*, session: Session, person_id: int, day: dt.date) -> dict[str, int]:
    """What a worker has reported for a day, per metric."""
    rows = session.exec(
        select(ReportValue.metric, ReportValue.value)
        .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
        .where(DailyReport.person_id == person_id, DailyReport.day == day)
    ).all()
    return dict(rows)


def has_reported(*, session: Session, person_id: int, day: dt.date) -> bool:
    """A day counts as reported while it holds at least one value (a 0 counts; all undone does not)."""
    return bool(report_values(session=session, person_id=person_id, day=day))


def person_totals(
    *, session: Session, person_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, int]:
    """A worker's sums per metric over a range of days (open-ended where not given)."""
    query = (
        select(ReportValue.metric, func.sum(ReportValue.value))
        .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
        .where(DailyReport.person_id == person_id)
        .group_by(col(ReportValue.metric))
    )
    if start is not None:
        query = query.where(DailyReport.day >= start)
    if end is not None:
        query = query.where(DailyReport.day <= end)
    return {metric: int(total or 0) for metric, total in session.exec(query).all()}


def plan_changes(
    current: Mapping[str, int], entries: Iterable[tuple[str, int, bool]], day: dt.date
) -> list[Change]:
    """What a report would change: named values replace, `+n` adds."""
    changes = []
    for metric, value, add in entries:
        old = current.get(metric)
        new = (old or 0) + value if add else value
        changes.append(Change(day, metric, old, new, value if add else None))
    return changes


def _write_value(*, session: Session, report: DailyReport, metric: str, value: int | None) -> None:
    """Set (or, with None, remove) one value of a report, and note what it does to the aggregates."""
    assert report.id is not None
    totals.day_state(session, report)  # what the day held before this transaction touched it
    existing = session.get(ReportValue, (report.id, metric))
    old = existing.value if existing is not None else None
    if value is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(ReportValue(report_id=report.id, metric=metric, value=value))
    else:
        existing.value = value
        session.add(existing)
    totals.note_change(session=session, report=report, metric=metric, old=old, new=value)


def apply_changes(
    *,
    session: Session,
    person: Person,
    changes: Sequence[Change],
    kind: str,
    channel: str,
    source_key: str | None,
    group: str | None = None,
    entered_by: int | None = None,
) -> str:
    """Write changes and their audit rows as one group; return the group id for /undo.

    `entered_by`: who wrote them when it was not the worker (her supervisor or ANM)."""
    assert person.id is not None
    group = group or uuid.uuid4().hex
    now = utcnow()
    reports: dict[dt.date, DailyReport] = {}
    for change in changes:
        report = reports.get(change.day)
        if report is None:
            report = reports[change.day] = _lock_report(session=session, person=person, day=change.day)
        assert report.id is not None
        _write_value(session=session, report=report, metric=change.metric, value=change.new)
        session.add(
            ReportChange(
                report_id=report.id,
                person_id=person.id,
                day=change.day,
                metric=change.metric,
                old_value=change.old,
                new_value=change.new,
                kind=kind,
                change_group=group,
                source_key=source_key,
                channel=channel,
                changed_at=now,
                entered_by=entered_by,
            )
        )
        report.updated_at = now
        session.add(report)
    return group


def lock_for_report(*, session: Session, person: Person, day: dt.date) -> dict[str, int]:
    """Lock the worker's day and return its current values (the basis of a re-report)."""
    report = _lock_report(session=session, person=person, day=day)
    rows = session.exec(select(ReportValue).where(ReportValue.report_id == report.id)).all()
    return {row.metric: row.value for row in rows}


def undo_last(*, session: Session, person: Person, channel: str) -> list[Change]:
    """Revert the person's most recent change group that is not already undone."""
    return undo_latest(session=session, person=person, channel=channel)[0]


def undo_latest(*, session: Session, person: Person, channel: str) -> tuple[list[Change], Person]:
    """Revert the most recent change group that is not already undone, of the person's own
    reports or of those she entered for someone else; also whose report it was."""
    assert person.id is not None
    found = session.exec(
        select(ReportChange.change_group, ReportChange.person_id)
        .where(
            (col(ReportChange.person_id) == person.id) | (col(ReportChange.entered_by) == person.id),
            col(ReportChange.undone).is_(False),
            ReportChange.kind != "undo",
        )
        .order_by(col(ReportChange.id).desc())
        .limit(1)
    ).first()
    if found is None:
        return [], person
    last, owner_id = found
    if owner_id != person.id:
        person, entrant = session.get_one(Person, owner_id), person.id
    else:
        entrant = None
    rows = session.exec(
        select(ReportChange)
        .where(ReportChange.change_group == last)
        .order_by(col(ReportChange.id).desc())
    ).all()
    reverted: list[Change] = []
    for row in rows:
        _lock_report(session=session, person=person, day=row.day)
        reverted.append(Change(row.day, row.metric, row.new_value, row.old_value))
        row.undone = True
        session.add(row)
    # Oldest first in the reply and the audit, as the worker wrote them.
    reverted.reverse()
    apply_changes(
        session=session,
        person=person,
        changes=reverted,
        kind="undo",
        channel=channel,
        source_key=None,
        entered_by=entrant,
    )
    return reverted, person


def changes_from_source(*, session: Session, source_key: str) -> list[ReportChange]:
    """Every live change an original message (and its earlier edits) made, oldest first."""
    return list(
        session.exec(
            select(ReportChange)
            .where(ReportChange.source_key == source_key, col(ReportChange.undone).is_(False))
            .order_by(col(ReportChange.id))
        ).all()
    )


def revert_plan(*, session: Session, person: Person, earlier: Sequence[ReportChange]) -> list[Change]:
    """Changes that take back what an edited message had reported, where nobody changed it since."""
    first_old: dict[tuple[dt.date, str], int | None] = {}
    last_new: dict[tuple[dt.date, str], int | None] = {}
    for row in earlier:
        first_old.setdefault((row.day, row.metric), row.old_value)
        last_new[(row.day, row.metric)] = row.new_value
    plan: list[Change] = []
    assert person.id is not None
    for (day, metric), original in first_old.items():
        current = report_values(session=session, person_id=person.id, day=day).get(metric)
        if current == last_new[(day, metric)] and current != original:
            plan.append(Change(day, metric, current, original))
    return plan


# ---------------------------------------------------------------- reports written in batches
#
# Many workers' reports stored in one transaction with a few multi-row statements: the path most
# messages take (bot/core/batch.py). The aggregates are counted exactly as for a single report.


@dataclass
class LockedDay:
    """A worker's report row for a day, locked for the transaction, and its values as they stand."""

    report_id: int
    person_id: int
    day: dt.date
    units: tuple[int, int, int]  # district, block, sector where the report was made
    values: dict[str, int]


def lock_days(
    *, session: Session, people: Mapping[int, Sender], keys: Iterable[tuple[int, dt.date]]
) -> dict[tuple[int, dt.date], LockedDay]:
    """Each (person, day)'s report row, created where needed and locked in key order, with values."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    now = utcnow()
    rows = [_new_report_row(pid, people[pid], day, now) for pid, day in wanted]
    table: Table = DailyReport.__table__  # type: ignore[attr-defined]
    insert_many(
        session, table, rows, lambda stmt: stmt.on_conflict_do_nothing(), name="daily_report.lock"
    )
    values = ReportValue.__table__  # type: ignore[attr-defined]
    query = (
        sa_select(
            table.c.id,
            table.c.person_id,
            table.c.day,
            table.c.district_id,
            table.c.block_id,
            table.c.sector_id,
            values.c.metric,
            values.c.value,
        )
        .outerjoin(values, values.c.report_id == table.c.id)
        .where(tuple_(table.c.person_id, table.c.day).in_(wanted))
        .order_by(table.c.person_id, table.c.day)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=table)
    locked: dict[tuple[int, dt.date], LockedDay] = {}
    by_id: dict[int, LockedDay] = {}
    for rid, person_id, day, district, block, sector, metric, value in session.execute(query):
        day_ = by_id.get(rid)
        if day_ is None:
            day_ = LockedDay(rid, person_id, day, (district, block, sector), {})
            locked[(person_id, day)] = by_id[rid] = day_
        if metric is not None:
            day_.values[metric] = value
    for day_ in by_id.values():
        totals.track_day(session, day_.report_id, day_.person_id, day_.day, day_.units, day_.values)
    return locked


def people_totals(
    *, session: Session, person_ids: Iterable[int], start: dt.date
) -> dict[int, dict[str, int]]:
    """Each worker's sums per metric from `start` on (what `person_totals` gives one worker)."""
    ids = sorted(set(person_ids))
    out: dict[int, dict[str, int]] = {pid: {} for pid in ids}
    if not ids:
        return out
    reports = DailyReport.__table__  # type: ignore[attr-defined]
    values = ReportValue.__table__  # type: ignore[attr-defined]
    query = (
        sa_select(reports.c.person_id, values.c.metric, func.sum(values.c.value))
        .join(reports, reports.c.id == values.c.report_id)
        .where(reports.c.person_id.in_(ids), reports.c.day >= start)
        .group_by(reports.c.person_id, values.c.metric)
    )
    for person_id, metric, total in session.execute(query):
        out[person_id][metric] = int(total or 0)
    return out


def set_value(session: Session, day: LockedDay, metric: str, value: int) -> int | None:
    """Note one value of a locked day as set (written by `write_days`); return the old value."""
    old = day.values.get(metric)
    totals.count_value(session, day.report_id, metric, old, value)
    day.values[metric] = value
    return old


def write_days(
    *,
    session: Session,
    days: Iterable[LockedDay],
    changes: Sequence[dict[str, Any]],
) -> None:
    """Store the values the changes set, as the locked days now hold them, and the audit rows."""
    if not changes:
        return
    now = utcnow()
    by_id = {day.report_id: day for day in days}
    written = sorted({(c["report_id"], c["metric"]) for c in changes})
    values = ReportValue.__table__  # type: ignore[attr-defined]
    rows = [{"report_id": r, "metric": m, "value": by_id[r].values[m]} for r, m in written]
    insert_many(
        session,
        values,
        rows,
        lambda stmt: stmt.on_conflict_do_update(
            index_elements=["report_id", "metric"], set_={"value": stmt.excluded.value}
        ),
        name="report_value.set",
    )
    audit = ReportChange.__table__  # type: ignore[attr-defined]
    insert_many(session, audit, [{**c, "changed_at": now} for c in changes])
    reports = DailyReport.__table__  # type: ignore[attr-defined]
    touched = sorted(by_id.keys() & {r for r, _ in written})
    session.execute(update(reports).where(reports.c.id.in_(touched)).values(updated_at=now))

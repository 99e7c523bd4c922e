"""Every database query the bot makes, as keyword-only, session-first functions."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    event,
    func,
    text,
    tuple_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.store.insert import dialect_insert, insert_many
from models import (
    FIELD_ROLES,
    DailyReport,
    InboundMessage,
    Person,
    PersonPhone,
    ReportChange,
    ReportingDays,
    ReportValue,
    UnitDayReported,
    UnitDayTotal,
    utcnow,
)

# ---------------------------------------------------------------- people


def person_by_phone(*, session: Session, phone: str) -> Person | None:
    """The person any of whose numbers this is."""
    row = session.get(PersonPhone, phone)
    return session.get(Person, row.person_id) if row else None


def person_by_telegram(*, session: Session, telegram_user_id: int) -> Person | None:
    return session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()


@dataclass(frozen=True)
class Sender:
    """What storing a report needs of the roster person who sent it, read without the ORM."""

    id: int
    role: str
    language: str
    active: bool
    district_id: int | None
    block_id: int | None
    sector_id: int | None
    village_id: int | None

    @property
    def is_field_worker(self) -> bool:
        return self.role in FIELD_ROLES


def _senders(session: Session, key: Any, where: Any) -> dict[Any, Sender]:
    people = Person.__table__  # type: ignore[attr-defined]
    query = sa_select(
        key,
        people.c.id,
        people.c.role,
        people.c.language,
        people.c.active,
        people.c.district_id,
        people.c.block_id,
        people.c.sector_id,
        people.c.village_id,
    ).where(where)
    return {row[0]: Sender(*row[1:]) for row in session.execute(query).all()}


def senders_by_telegram(*, session: Session, user_ids: Iterable[int]) -> dict[int, Sender]:
    """The roster people behind these Telegram accounts, by account."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    people = Person.__table__  # type: ignore[attr-defined]
    return _senders(session, people.c.telegram_user_id, people.c.telegram_user_id.in_(ids))


def senders_by_phone(*, session: Session, phones: Iterable[str]) -> dict[str, Sender]:
    """The people any of whose numbers these are, by number."""
    numbers = sorted(set(phones))
    if not numbers:
        return {}
    people = Person.__table__  # type: ignore[attr-defined]
    phone_table = PersonPhone.__table__  # type: ignore[attr-defined]
    query = sa_select(phone_table.c.phone, phone_table.c.person_id).where(
        phone_table.c.phone.in_(numbers)
    )
    owners = dict(session.execute(query).all())
    found = _senders(session, people.c.id, people.c.id.in_(sorted(set(owners.values()))))
    return {phone: found[pid] for phone, pid in owners.items() if pid in found}


def link_telegram(*, session: Session, person: Person, user_id: int, chat_id: int) -> None:
    """Tie a Telegram account to a roster person; an account moves if it was tied to another."""
    session.execute(
        update(Person)
        .where(col(Person.telegram_user_id) == user_id, col(Person.id) != person.id)
        .values(telegram_user_id=None, telegram_chat_id=None)
    )
    person.telegram_user_id = user_id
    person.telegram_chat_id = chat_id
    person.updated_at = utcnow()
    session.add(person)


def set_language(*, session: Session, person: Person, language: str) -> None:
    person.language = language
    person.updated_at = utcnow()
    session.add(person)


# ---------------------------------------------------------------- reports


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
    _day_state(session, report)  # what the day held before this transaction touched it
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
    _note_change(session=session, report=report, metric=metric, old=old, new=value)


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
# messages take (bot/batch.py). The aggregates are counted exactly as for a single report.


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
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    for day_ in by_id.values():
        pending.days.setdefault(
            day_.report_id,
            _DayState(day_.person_id, day_.day, day_.units, bool(day_.values), set(day_.values)),
        )
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
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    _count_change(session, pending.days[day.report_id], metric, old, value)
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


# ---------------------------------------------------------------- aggregates
#
# Every value written above is also counted into unit_day_total (per sector, block and district
# and day), unit_day_reported and reporting_days. The deltas of a transaction are gathered while
# it runs and written just before it commits, sorted, as upserts that add: concurrent writers on
# PostgreSQL then lock the shared rows in one order (no deadlocks) and only for the commit itself.

AGGREGATE_LEVELS = ("district", "block", "sector")
EPOCH = dt.date(2020, 1, 1)  # day 0 of reporting_days; the migration repeats it
BUCKET_DAYS = 63  # days per reporting_days row: bits 0-62 of a signed 64-bit integer
_ALL_BITS = (1 << BUCKET_DAYS) - 1
_PENDING = "fieldbot.pending_totals"


def day_bit(day: dt.date) -> tuple[int, int]:
    """(bucket, bit mask) of a day in reporting_days."""
    number = (day - EPOCH).days
    return number // BUCKET_DAYS, 1 << (number % BUCKET_DAYS)


def bucket_masks(start: dt.date, end: dt.date) -> dict[int, int]:
    """The reporting_days buckets a range touches, each with the bits of the range's days."""
    first, last = (start - EPOCH).days, (end - EPOCH).days
    masks: dict[int, int] = {}
    for bucket in range(first // BUCKET_DAYS, last // BUCKET_DAYS + 1):
        low = max(first, bucket * BUCKET_DAYS) - bucket * BUCKET_DAYS
        high = min(last, bucket * BUCKET_DAYS + BUCKET_DAYS - 1) - bucket * BUCKET_DAYS
        masks[bucket] = ((1 << (high + 1)) - 1) ^ ((1 << low) - 1)
    return masks


@dataclass
class _DayState:
    """One worker-day touched by the transaction: did it hold values before, which does it hold now."""

    person_id: int
    day: dt.date
    units: tuple[int, int, int]  # district, block, sector where the report was made
    had_values: bool
    metrics: set[str]


@dataclass
class _Pending:
    values: dict[tuple[tuple[int, int, int], dt.date, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    days: dict[int, _DayState] = field(default_factory=dict)  # by report id


def _day_state(session: Session, report: DailyReport) -> _DayState:
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    assert report.id is not None
    state = pending.days.get(report.id)
    if state is None:
        metrics = set(
            session.exec(select(ReportValue.metric).where(ReportValue.report_id == report.id)).all()
        )
        state = pending.days[report.id] = _DayState(
            report.person_id,
            report.day,
            (report.district_id, report.block_id, report.sector_id),
            bool(metrics),
            metrics,
        )
    return state


def _note_change(
    *, session: Session, report: DailyReport, metric: str, old: int | None, new: int | None
) -> None:
    _count_change(session, _day_state(session, report), metric, old, new)


def _count_change(
    session: Session, state: _DayState, metric: str, old: int | None, new: int | None
) -> None:
    if new is None:
        state.metrics.discard(metric)
    else:
        state.metrics.add(metric)
    delta = (new or 0) - (old or 0)
    if delta:
        pending: _Pending = session.info[_PENDING]
        pending.values[(state.units, state.day, metric)] += delta


def _upsert_adding(
    session: Session, table: Table, keys: Sequence[str], column: str, rows: list[dict[str, Any]]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column, in row order."""
    insert_many(
        session,
        table,
        rows,
        lambda stmt: stmt.on_conflict_do_update(
            index_elements=list(keys), set_={column: table.c[column] + stmt.excluded[column]}
        ),
        name=f"{table.name}.add",
    )


def apply_pending_totals(*, session: Session) -> None:
    """Write the aggregate deltas of the transaction so far (before commit, or before reading them)."""
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    totals: dict[tuple[str, int, dt.date, str], int] = defaultdict(int)
    for (units, day, metric), delta in pending.values.items():
        if delta:
            for level, unit_id in zip(AGGREGATE_LEVELS, units, strict=True):
                totals[(level, unit_id, day, metric)] += delta
    reported: dict[tuple[str, int, dt.date], int] = defaultdict(int)
    # (sector, bucket) -> where it lies, and per worker the bits to set and to clear
    bits: dict[tuple[int, int], tuple[tuple[int, int], dict[int, list[int]]]] = {}
    for state in pending.days.values():
        has_values = bool(state.metrics)
        if has_values == state.had_values:
            continue
        for level, unit_id in zip(AGGREGATE_LEVELS, state.units, strict=True):
            reported[(level, unit_id, state.day)] += 1 if has_values else -1
        bucket, bit = day_bit(state.day)
        _, changes = bits.setdefault((state.units[2], bucket), (state.units[:2], {}))
        change = changes.setdefault(state.person_id, [0, 0])
        change[0 if has_values else 1] |= bit

    total_rows = [
        {"level": k[0], "unit_id": k[1], "day": k[2], "metric": k[3], "value": v}
        for k, v in sorted(totals.items())
        if v
    ]
    if total_rows:
        table = UnitDayTotal.__table__  # type: ignore[attr-defined]
        _upsert_adding(session, table, ("level", "unit_id", "day", "metric"), "value", total_rows)
    reported_rows = [
        {"level": k[0], "unit_id": k[1], "day": k[2], "reported": v}
        for k, v in sorted(reported.items())
        if v
    ]
    if reported_rows:
        table = UnitDayReported.__table__  # type: ignore[attr-defined]
        _upsert_adding(session, table, ("level", "unit_id", "day"), "reported", reported_rows)
    if bits:
        _update_reporting_days(session, bits)


def parse_workers(text: str) -> dict[int, int]:
    """reporting_days.workers ("person:bits person:bits") as {person: bits}."""
    out: dict[int, int] = {}
    for item in text.split():
        person, _, bits = item.partition(":")
        out[int(person)] = int(bits)
    return out


def _format_workers(workers: Mapping[int, int]) -> str:
    return " ".join(f"{person}:{bits}" for person, bits in sorted(workers.items()) if bits)


def _update_reporting_days(
    session: Session,
    bits: Mapping[tuple[int, int], tuple[tuple[int, int], Mapping[int, Sequence[int]]]],
) -> None:
    """Set and clear workers' day bits in sectors' rows, locked in key order while rewritten.

    `bits`: (sector, bucket) -> ((district, block), {person: (bits to set, bits to clear)}).
    """
    table = ReportingDays.__table__  # type: ignore[attr-defined]
    keys = sorted(bits)
    insert_many(
        session,
        table,
        [
            {
                "sector_id": sector_id,
                "bucket": bucket,
                "district_id": bits[(sector_id, bucket)][0][0],
                "block_id": bits[(sector_id, bucket)][0][1],
                "workers": "",
            }
            for sector_id, bucket in keys
        ],
        lambda stmt: stmt.on_conflict_do_nothing(),
        name="reporting_days.ensure",
    )
    query = (
        sa_select(table.c.sector_id, table.c.bucket, table.c.workers)
        .where(tuple_(table.c.sector_id, table.c.bucket).in_(keys))
        .order_by(table.c.sector_id, table.c.bucket)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    rows = []
    for sector_id, bucket, packed in session.execute(query).all():
        workers = parse_workers(packed)
        for person, (add, remove) in bits[(sector_id, bucket)][1].items():
            workers[person] = (workers.get(person, 0) | add) & (_ALL_BITS ^ remove)
        rows.append({"key_sector": sector_id, "key_bucket": bucket, "packed": _format_workers(workers)})
    session.execute(
        update(table)
        .where(table.c.sector_id == bindparam("key_sector"), table.c.bucket == bindparam("key_bucket"))
        .values(workers=bindparam("packed")),
        rows,
    )


@event.listens_for(OrmSession, "before_commit")
def _write_totals_before_commit(session: Session) -> None:
    apply_pending_totals(session=session)


@event.listens_for(OrmSession, "after_rollback")
def _forget_totals_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def rebuild_totals(*, session: Session) -> None:
    """Recount every aggregate from the stored reports (what migration 0005 does on upgrade)."""
    apply_pending_totals(session=session)
    for model in (UnitDayTotal, UnitDayReported, ReportingDays):
        session.execute(delete(model))
    if session.get_bind().dialect.name == "postgresql":
        day_number = f"(r.day - DATE '{EPOCH.isoformat()}')"
    else:
        day_number = f"CAST(julianday(r.day) - julianday('{EPOCH.isoformat()}') AS INTEGER)"
    has_values = "EXISTS (SELECT 1 FROM report_value v WHERE v.report_id = r.id)"
    for level in AGGREGATE_LEVELS:
        session.execute(
            text(
                f"INSERT INTO unit_day_total (level, unit_id, day, metric, value) "
                f"SELECT '{level}', r.{level}_id, r.day, v.metric, SUM(v.value) "
                f"FROM daily_report r JOIN report_value v ON v.report_id = r.id "
                f"GROUP BY r.{level}_id, r.day, v.metric"
            )
        )
        session.execute(
            text(
                f"INSERT INTO unit_day_reported (level, unit_id, day, reported) "
                f"SELECT '{level}', r.{level}_id, r.day, COUNT(*) FROM daily_report r "
                f"WHERE {has_values} GROUP BY r.{level}_id, r.day"
            )
        )
    # One report per worker and day, so adding the days' bits is the same as or-ing them.
    if session.get_bind().dialect.name == "postgresql":
        packed = "string_agg(w.person_id || ':' || w.bits, ' ' ORDER BY w.person_id)"
    else:
        packed = "group_concat(w.person_id || ':' || w.bits, ' ')"
    session.execute(
        text(
            f"INSERT INTO reporting_days (sector_id, bucket, block_id, district_id, workers) "
            f"SELECT w.sector_id, w.bucket, MIN(w.block_id), MIN(w.district_id), {packed} FROM ("
            f"SELECT r.person_id, r.sector_id, {day_number} / {BUCKET_DAYS} AS bucket, "
            f"MIN(r.block_id) AS block_id, MIN(r.district_id) AS district_id, "
            f"SUM(CAST(1 AS BIGINT) << ({day_number} % {BUCKET_DAYS})) AS bits "
            f"FROM daily_report r WHERE {has_values} "
            f"GROUP BY r.person_id, r.sector_id, {day_number} / {BUCKET_DAYS}) w "
            f"GROUP BY w.sector_id, w.bucket"
        )
    )


# ---------------------------------------------------------------- inbound messages


def processed_replies(*, session: Session, dedup_key: str) -> list[Reply] | None:
    """The replies already given to this message, if it was processed before."""
    row = session.exec(select(InboundMessage).where(InboundMessage.dedup_key == dedup_key)).first()
    if row is None:
        return None
    return [Reply.from_json(item) for item in json.loads(row.replies)]


def record_inbound(
    *,
    session: Session,
    channel: str,
    dedup_key: str,
    source_key: str | None,
    person_id: int | None,
    sent_at: dt.datetime,
    replies: Sequence[Reply],
) -> None:
    """Mark a message processed, in the same transaction as what it changed."""
    session.add(
        InboundMessage(
            channel=channel,
            dedup_key=dedup_key,
            source_key=source_key,
            person_id=person_id,
            sent_at=sent_at,
            replies=json.dumps([r.to_json() for r in replies], ensure_ascii=False),
        )
    )
    session.flush()


def replies_for(*, session: Session, dedup_keys: Iterable[str]) -> dict[str, list[Reply]]:
    """The replies already given to those of these messages that were processed before."""
    keys = sorted(set(dedup_keys))
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(table.c.dedup_key, table.c.replies).where(table.c.dedup_key.in_(keys))
    ).all()
    return {key: [Reply.from_json(item) for item in json.loads(replies)] for key, replies in rows}


def record_inbound_many(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """`record_inbound` for many messages: each row has its Inbound's keys, person and replies."""
    if not rows:
        return
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    now = utcnow()
    insert_many(
        session,
        table,
        [
            {
                **{k: v for k, v in row.items() if k != "replies"},
                "received_at": now,
                "replies": json.dumps([r.to_json() for r in row["replies"]], ensure_ascii=False),
            }
            for row in rows
        ],
    )


def is_duplicate_error(exc: IntegrityError) -> bool:
    return "dedup_key" in str(exc.orig) or "inbound_message" in str(exc.orig)

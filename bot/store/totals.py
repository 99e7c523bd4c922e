"""The aggregates kept in the writing transaction: unit_day_total, unit_day_reported, reporting_days.

Every value bot/store/reports.py writes is also counted into unit_day_total (per sector, block and
district and day), unit_day_reported and reporting_days. The deltas of a transaction are gathered
while it runs and written just before it commits, sorted, as upserts that add: concurrent writers on
PostgreSQL then lock the shared rows in one order (no deadlocks) and only for the commit itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, delete, event, text, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from bot.store.insert import insert_many
from models import DailyReport, ReportingDays, ReportValue, UnitDayReported, UnitDayTotal

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
class DayState:
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
    days: dict[int, DayState] = field(default_factory=dict)  # by report id


def day_state(session: Session, report: DailyReport) -> DayState:
    """The report's worker-day in this transaction, read as it stood the first time it is touched."""
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    assert report.id is not None
    state = pending.days.get(report.id)
    if state is None:
        metrics = set(
            session.exec(select(ReportValue.metric).where(ReportValue.report_id == report.id)).all()
        )
        state = pending.days[report.id] = DayState(
            report.person_id,
            report.day,
            (report.district_id, report.block_id, report.sector_id),
            bool(metrics),
            metrics,
        )
    return state


def note_change(
    *, session: Session, report: DailyReport, metric: str, old: int | None, new: int | None
) -> None:
    """Count one value of a report changing from `old` to `new` (None: not there)."""
    _count_change(session, day_state(session, report), metric, old, new)


def track_day(
    session: Session,
    report_id: int,
    person_id: int,
    day: dt.date,
    units: tuple[int, int, int],
    values: Mapping[str, int],
) -> None:
    """Note a locked worker-day as it stands before the transaction changes it (the batch path)."""
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    pending.days.setdefault(report_id, DayState(person_id, day, units, bool(values), set(values)))


def count_value(session: Session, report_id: int, metric: str, old: int | None, new: int | None) -> None:
    """Count one value of a tracked worker-day changing from `old` to `new`."""
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    _count_change(session, pending.days[report_id], metric, old, new)


def _count_change(
    session: Session, state: DayState, metric: str, old: int | None, new: int | None
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


def _write_totals_before_commit(session: Session) -> None:
    apply_pending_totals(session=session)


def _forget_totals_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_LISTENERS = (
    ("before_commit", _write_totals_before_commit),
    ("after_rollback", _forget_totals_after_rollback),
)


def register_listeners() -> None:
    """Write the aggregates with every commit and drop them with every rollback, for every session.

    Called where engines are made (bot/store/db.py's make_engine); registering again does nothing.
    """
    for name, listener in _LISTENERS:
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)


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

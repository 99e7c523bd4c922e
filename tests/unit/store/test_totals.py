"""The aggregates kept in the writing transaction stay equal to a recount from the reports
(`rebuild_totals`) after reports, edits, removals, undo, a worker's move and the batch path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.db import session_scope
from bot.store.people import person_by_phone, senders_by_phone
from bot.store.reports import (
    Change,
    apply_changes,
    lock_days,
    report_values,
    set_value,
    undo_latest,
    write_days,
)
from bot.store.totals import (
    BUCKET_DAYS,
    EPOCH,
    apply_pending_totals,
    bucket_masks,
    day_bit,
    parse_workers,
    rebuild_totals,
)
from models import Person, ReportingDays, Sector, UnitDayReported, UnitDayTotal

SUNITA = "+917973321377"  # Sandila-1
REKHA = "+917339325088"  # Sandila-1
RANI = "+916582022368"  # Sandila-2
ASHA = "+916774096392"  # Bilgram-1
D20, D22, D23 = dt.date(2026, 11, 20), dt.date(2026, 11, 22), dt.date(2026, 11, 23)

Aggregates = tuple[dict[Any, int], dict[Any, int], dict[Any, Any]]


def aggregates(session: Session) -> Aggregates:
    """The three aggregates, without the rows that add up to nothing (a recount writes none)."""
    totals = {
        (r.level, r.unit_id, r.day, r.metric): r.value
        for r in session.execute(select(UnitDayTotal)).scalars()
        if r.value
    }
    reported = {
        (r.level, r.unit_id, r.day): r.reported
        for r in session.execute(select(UnitDayReported)).scalars()
        if r.reported
    }
    days = {}
    for r in session.execute(select(ReportingDays)).scalars():
        workers = {p: bits for p, bits in parse_workers(r.workers).items() if bits}
        if workers:
            days[(r.sector_id, r.bucket)] = (r.block_id, r.district_id, workers)
    return totals, reported, days


def kept(engine: Engine) -> Aggregates:
    with session_scope(engine) as session:
        return aggregates(session)


def recounted(engine: Engine) -> Aggregates:
    with Session(engine) as session:
        rebuild_totals(session=session)
        found = aggregates(session)
        session.rollback()
    return found


def person(session: Session, phone: str) -> Person:
    found = person_by_phone(session=session, phone=phone)
    assert found is not None
    return found


def write(engine: Engine, phone: str, day: dt.date, values: dict[str, int | None]) -> None:
    """One message: named values replace, None removes."""
    with session_scope(engine) as session:
        who = person(session, phone)
        assert who.id is not None
        current = report_values(session=session, person_id=who.id, day=day)
        apply_changes(
            session=session,
            person=who,
            changes=[Change(day, m, current.get(m), v) for m, v in values.items()],
            kind="report",
            channel="simulator",
            source_key=None,
        )


def undo(engine: Engine, phone: str) -> None:
    with session_scope(engine) as session:
        undo_latest(session=session, person=person(session, phone), channel="simulator")


def move(engine: Engine, phone: str, sector_name: str) -> None:
    """The worker now works in another sector (a roster import would do this)."""
    with session_scope(engine) as session:
        who = person(session, phone)
        sector = session.execute(select(Sector).where(Sector.name == sector_name)).scalar_one()
        who.sector_id = sector.id
        session.add(who)


def batch(engine: Engine, reports: dict[str, dict[str, int]], day: dt.date = D23) -> None:
    """Several workers' reports in one transaction, as the batch path stores them."""
    with session_scope(engine) as session:
        senders = senders_by_phone(session=session, phones=list(reports))
        people = {s.id: s for s in senders.values()}
        locked = lock_days(session=session, people=people, keys=[(s.id, day) for s in people.values()])
        changes = []
        for phone, values in reports.items():
            held = locked[(senders[phone].id, day)]
            for metric, value in values.items():
                old = set_value(session, held, metric, value)
                changes.append(
                    {
                        "report_id": held.report_id,
                        "person_id": held.person_id,
                        "day": day,
                        "metric": metric,
                        "old_value": old,
                        "new_value": value,
                        "kind": "report",
                        "change_group": f"batch-{phone}",
                        "source_key": None,
                        "channel": "simulator",
                    }
                )
        write_days(session=session, days=locked.values(), changes=changes)


Step = Callable[[Engine], None]

SCENARIOS: dict[str, list[Step]] = {
    "one report": [lambda e: write(e, SUNITA, D23, {"cards": 5, "households": 12})],
    "workers of three sectors, two days": [
        lambda e: write(e, SUNITA, D23, {"cards": 5}),
        lambda e: write(e, REKHA, D23, {"cards": 2, "rejected": 1}),
        lambda e: write(e, RANI, D22, {"cards": 7}),
        lambda e: write(e, ASHA, D23, {"households": 30}),
    ],
    "re-report replaces": [
        lambda e: write(e, SUNITA, D23, {"cards": 5}),
        lambda e: write(e, SUNITA, D23, {"cards": 9, "households": 1}),
    ],
    "a zero is reported": [lambda e: write(e, SUNITA, D23, {"cards": 0})],
    "every value removed": [
        lambda e: write(e, SUNITA, D23, {"cards": 5, "households": 2}),
        lambda e: write(e, SUNITA, D23, {"cards": None, "households": None}),
    ],
    "undo back to nothing": [
        lambda e: write(e, SUNITA, D23, {"cards": 5}),
        lambda e: write(e, SUNITA, D22, {"cards": 3}),
        lambda e: undo(e, SUNITA),
        lambda e: undo(e, SUNITA),
    ],
    "undo of a re-report": [
        lambda e: write(e, SUNITA, D23, {"cards": 5}),
        lambda e: write(e, SUNITA, D23, {"cards": 50, "households": 4}),
        lambda e: undo(e, SUNITA),
    ],
    "an old day edited after she moved sector": [
        lambda e: write(e, SUNITA, D20, {"cards": 5}),
        lambda e: move(e, SUNITA, "Sandila-2"),
        lambda e: write(e, SUNITA, D20, {"cards": 8}),
        lambda e: write(e, SUNITA, D23, {"cards": 1}),
        lambda e: undo(e, SUNITA),
    ],
    "the batch path, then edits and undo": [
        lambda e: write(e, REKHA, D23, {"cards": 1}),
        lambda e: batch(e, {SUNITA: {"cards": 4}, REKHA: {"cards": 6, "households": 2}}),
        lambda e: write(e, SUNITA, D23, {"cards": None}),
        lambda e: undo(e, REKHA),
    ],
}


@pytest.mark.parametrize("steps", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_the_aggregates_equal_a_recount_after_every_write(district: Engine, steps: list[Step]) -> None:
    for step in steps:
        step(district)
        assert kept(district) == recounted(district)


def test_the_aggregates_add_up_every_level(district: Engine) -> None:
    write(district, SUNITA, D23, {"cards": 5})
    write(district, REKHA, D23, {"cards": 2})
    write(district, RANI, D23, {"cards": 7})
    with session_scope(district) as session:
        sunita, rani = person(session, SUNITA), person(session, RANI)
    totals, reported, days = kept(district)
    assert totals[("sector", sunita.sector_id, D23, "cards")] == 7
    assert totals[("sector", rani.sector_id, D23, "cards")] == 7
    assert totals[("block", sunita.block_id, D23, "cards")] == 14
    assert totals[("district", sunita.district_id, D23, "cards")] == 14
    assert reported[("sector", sunita.sector_id, D23)] == 2
    assert reported[("block", sunita.block_id, D23)] == 3
    bucket, bit = day_bit(D23)
    assert days[(sunita.sector_id, bucket)][2] == {sunita.id: bit, person_id(district, REKHA): bit}


def person_id(engine: Engine, phone: str) -> int:
    with session_scope(engine) as session:
        found = person(session, phone).id
        assert found is not None
        return found


def test_a_rolled_back_write_counts_nothing(district: Engine) -> None:
    with Session(district) as session:
        who = person(session, SUNITA)
        apply_changes(
            session=session,
            person=who,
            changes=[Change(D23, "cards", None, 99)],
            kind="report",
            channel="simulator",
            source_key=None,
        )
        session.rollback()
    write(district, SUNITA, D23, {"cards": 5})
    totals, _, _ = kept(district)
    assert totals[("sector", person_sector(district, SUNITA), D23, "cards")] == 5
    assert kept(district) == recounted(district)


def person_sector(engine: Engine, phone: str) -> int:
    with session_scope(engine) as session:
        sector = person(session, phone).sector_id
        assert sector is not None
        return sector


def test_totals_read_within_the_transaction_are_not_counted_twice(district: Engine) -> None:
    with session_scope(district) as session:
        who = person(session, SUNITA)
        changes = [Change(D23, "cards", None, 5)]
        apply_changes(
            session=session, person=who, changes=changes, kind="report", channel="s", source_key=None
        )
        apply_pending_totals(session=session)  # as a reply that reads the day's sums does
        changes = [Change(D23, "cards", 5, 6)]
        apply_changes(
            session=session, person=who, changes=changes, kind="report", channel="s", source_key=None
        )
    totals, reported, _ = kept(district)
    sector = person_sector(district, SUNITA)
    assert totals[("sector", sector, D23, "cards")] == 6
    assert reported[("sector", sector, D23)] == 1
    assert kept(district) == recounted(district)


@pytest.mark.parametrize(
    ("day", "bucket", "bit"),
    [
        (EPOCH, 0, 1),
        (EPOCH + dt.timedelta(days=1), 0, 2),
        (EPOCH + dt.timedelta(days=BUCKET_DAYS - 1), 0, 1 << 62),
        (EPOCH + dt.timedelta(days=BUCKET_DAYS), 1, 1),
    ],
)
def test_each_day_has_its_bit(day: dt.date, bucket: int, bit: int) -> None:
    assert day_bit(day) == (bucket, bit)


@pytest.mark.parametrize(
    ("first", "last", "masks"),
    [
        (0, 0, {0: 1}),
        (1, 3, {0: 0b1110}),
        (0, BUCKET_DAYS - 1, {0: (1 << BUCKET_DAYS) - 1}),
        (BUCKET_DAYS - 2, BUCKET_DAYS + 1, {0: 0b11 << (BUCKET_DAYS - 2), 1: 0b11}),
        (
            10,
            2 * BUCKET_DAYS + 5,
            {0: ((1 << BUCKET_DAYS) - 1) ^ 0b1111111111, 1: (1 << BUCKET_DAYS) - 1, 2: 0b111111},
        ),
    ],
)
def test_a_range_of_days_as_bits(first: int, last: int, masks: dict[int, int]) -> None:
    start, end = EPOCH + dt.timedelta(days=first), EPOCH + dt.timedelta(days=last)
    assert bucket_masks(start, end) == masks
    days = [start + dt.timedelta(days=n) for n in range(last - first + 1)]
    together: dict[int, int] = {}
    for day in days:
        bucket, bit = day_bit(day)
        together[bucket] = together.get(bucket, 0) | bit
    assert together == masks


def test_the_packed_workers_read_back() -> None:
    assert parse_workers("") == {}
    assert parse_workers("3:5 12:4611686018427387904") == {3: 5, 12: 1 << 62}

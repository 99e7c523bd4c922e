"""The one dialect-aware insert: ON CONFLICT does the same on both databases, one row or many."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError

from bot.store.db import session_scope
from bot.store.insert import dialect_insert, insert_many
from models import InboundMessage, UnitDayTotal

TOTALS: Table = UnitDayTotal.__table__  # type: ignore[attr-defined]
MESSAGES: Table = InboundMessage.__table__  # type: ignore[attr-defined]
DAY = dt.date(2026, 11, 23)
KEY = ["level", "unit_id", "day", "metric"]


def total(unit_id: int, value: int, metric: str = "cards") -> dict[str, Any]:
    return {"level": "sector", "unit_id": unit_id, "day": DAY, "metric": metric, "value": value}


def totals(engine: Engine) -> dict[tuple[int, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(TOTALS.c.unit_id, TOTALS.c.metric, TOTALS.c.value)).all()
    return {(unit, metric): value for unit, metric, value in rows}


def do_nothing(stmt: Any) -> Any:
    return stmt.on_conflict_do_nothing()


def replace(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(index_elements=KEY, set_={"value": stmt.excluded.value})


def add(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=KEY, set_={"value": TOTALS.c.value + stmt.excluded.value}
    )


@pytest.mark.parametrize(
    ("conflict", "expected"),
    [(do_nothing, 5), (replace, 7), (add, 12)],
    ids=["do nothing", "update", "update adding"],
)
def test_one_row_on_conflict(db: Engine, conflict: Any, expected: int) -> None:
    with session_scope(db) as session:
        session.execute(dialect_insert(session, TOTALS).values(**total(1, 5)))
    with session_scope(db) as session:
        session.execute(conflict(dialect_insert(session, TOTALS).values(**total(1, 7))))
    assert totals(db) == {(1, "cards"): expected}


def test_one_row_update_only_where_its_condition_holds(db: Engine) -> None:
    with session_scope(db) as session:
        session.execute(dialect_insert(session, TOTALS).values(**total(1, 5)))
    for value in (3, 9, 4):
        with session_scope(db) as session:
            stmt = dialect_insert(session, TOTALS).values(**total(1, value))
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=KEY,
                    set_={"value": stmt.excluded.value},
                    where=TOTALS.c.value < stmt.excluded.value,
                )
            )
    assert totals(db) == {(1, "cards"): 9}  # only ever raised


def test_returning_gives_the_new_rows_key(db: Engine) -> None:
    now = dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)
    with session_scope(db) as session:
        stmt = dialect_insert(session, MESSAGES).values(
            channel="simulator", dedup_key="k1", sent_at=now, received_at=now, replies="[]"
        )
        new_id = session.execute(stmt.returning(MESSAGES.c.id)).scalar_one()
        again = session.execute(
            dialect_insert(session, MESSAGES)
            .values(channel="simulator", dedup_key="k1", sent_at=now, received_at=now, replies="[]")
            .on_conflict_do_nothing()
            .returning(MESSAGES.c.id)
        ).scalar_one_or_none()
    assert isinstance(new_id, int)
    assert again is None  # nothing inserted, nothing returned


@pytest.mark.parametrize(
    ("conflict", "name", "expected"),
    [
        (do_nothing, "test.nothing", {(1, "cards"): 5, (2, "cards"): 1, (3, "cards"): 4}),
        (replace, "test.replace", {(1, "cards"): 2, (2, "cards"): 1, (3, "cards"): 4}),
        (add, "test.add", {(1, "cards"): 7, (2, "cards"): 1, (3, "cards"): 4}),
    ],
)
def test_many_rows_on_conflict(
    db: Engine, conflict: Any, name: str, expected: dict[tuple[int, str], int]
) -> None:
    with session_scope(db) as session:
        insert_many(session, TOTALS, [total(1, 5), total(2, 1)])
    with session_scope(db) as session:
        insert_many(session, TOTALS, [total(1, 2), total(3, 4)], conflict, name=name)
    assert totals(db) == expected


def test_many_rows_of_one_statement_may_be_added_up_twice(db: Engine) -> None:
    """The same statement, kept by its name, run again: each run adds its rows."""
    for _ in range(3):
        with session_scope(db) as session:
            insert_many(session, TOTALS, [total(1, 2), total(1, 3, "households")], add, name="t.add")
    assert totals(db) == {(1, "cards"): 6, (1, "households"): 9}


def test_no_rows_is_no_statement(db: Engine) -> None:
    with session_scope(db) as session:
        insert_many(session, TOTALS, [])
    assert totals(db) == {}


def test_a_conflict_needs_a_name(db: Engine) -> None:
    with session_scope(db) as session, pytest.raises(AssertionError):
        insert_many(session, TOTALS, [total(1, 1)], do_nothing)


def test_many_rows_keep_their_order_their_zones_and_their_script(db: Engine) -> None:
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    sent = [dt.datetime(2026, 11, 23, 20, minute, tzinfo=ist) for minute in (5, 1, 3)]
    rows = [
        {
            "channel": "simulator",
            "dedup_key": f"m{i}",
            "sent_at": at,
            "received_at": at,
            "replies": '[{"text": "✅ रिपोर्ट दर्ज हुई"}]',
        }
        for i, at in enumerate(sent)
    ]
    with session_scope(db) as session:
        insert_many(session, MESSAGES, rows)
    with db.connect() as conn:
        stored = conn.execute(
            select(MESSAGES.c.dedup_key, MESSAGES.c.sent_at, MESSAGES.c.replies).order_by(MESSAGES.c.id)
        ).all()
    assert [r.dedup_key for r in stored] == ["m0", "m1", "m2"]
    assert [r.sent_at for r in stored] == sent  # the same moments, whatever zone they came in
    assert all(r.sent_at.tzinfo is not None for r in stored)
    assert stored[0].replies == '[{"text": "✅ रिपोर्ट दर्ज हुई"}]'


def test_a_moment_without_a_zone_is_refused(db: Engine) -> None:
    naive = dt.datetime(2026, 11, 23, 20, 5)
    row = {"channel": "s", "dedup_key": "x", "sent_at": naive, "received_at": naive, "replies": "[]"}
    # PostgreSQL's JSON rows and SQLite's column type both refuse it, naming the reason
    refused = pytest.raises((ValueError, StatementError), match="naive datetime")
    with refused, session_scope(db) as session:
        insert_many(session, MESSAGES, [row])
    with db.connect() as conn:
        assert conn.execute(select(MESSAGES.c.id)).all() == []

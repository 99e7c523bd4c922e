"""Daily reports: values written with their audit, what a worker has reported, undo, and edits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.store.db import session_scope
from bot.store.people import person_by_phone, senders_by_phone
from bot.store.reports import (
    Change,
    apply_changes,
    changes_from_source,
    has_reported,
    lock_days,
    lock_for_report,
    people_totals,
    person_totals,
    plan_changes,
    report_values,
    revert_plan,
    set_value,
    undo_last,
    undo_latest,
    write_days,
)
from models import Person, ReportChange

SUNITA = "+917973321377"
REKHA = "+917339325088"
USHA = "+917285872429"  # supervisor of Sunita's sector
RAJESH = "+918124645116"  # BMO: no sector of his own
D21, D22, D23 = dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 11, 23)


def who(session: Session, phone: str) -> Person:
    person = person_by_phone(session=session, phone=phone)
    assert person is not None and person.id is not None
    return person


def report(
    engine: Engine,
    phone: str,
    values: dict[str, int | None],
    day: dt.date = D23,
    source: str | None = None,
    entered_by: str | None = None,
) -> str:
    with session_scope(engine) as session:
        person = who(session, phone)
        assert person.id is not None
        current = report_values(session=session, person_id=person.id, day=day)
        changes = [Change(day, m, current.get(m), v) for m, v in values.items()]
        return apply_changes(
            session=session,
            person=person,
            changes=changes,
            kind="report",
            channel="simulator",
            source_key=source,
            entered_by=who(session, entered_by).id if entered_by else None,
        )


def values(engine: Engine, phone: str, day: dt.date = D23) -> dict[str, int]:
    with session_scope(engine) as session:
        person = who(session, phone)
        assert person.id is not None
        return report_values(session=session, person_id=person.id, day=day)


def undo(engine: Engine, phone: str) -> tuple[list[Change], str]:
    with session_scope(engine) as session:
        reverted, owner = undo_latest(session=session, person=who(session, phone), channel="simulator")
        return reverted, owner.name


@pytest.mark.parametrize(
    ("current", "entries", "expected"),
    [
        ({}, [("cards", 5, False)], [Change(D23, "cards", None, 5)]),
        ({"cards": 5}, [("cards", 7, False)], [Change(D23, "cards", 5, 7)]),
        ({"cards": 5}, [("cards", 3, True)], [Change(D23, "cards", 5, 8, 3)]),
        ({}, [("cards", 3, True)], [Change(D23, "cards", None, 3, 3)]),
        ({"cards": 5}, [("cards", 5, False)], [Change(D23, "cards", 5, 5)]),
        (
            {"cards": 1},
            [("cards", 2, False), ("households", 0, False)],
            [Change(D23, "cards", 1, 2), Change(D23, "households", None, 0)],
        ),
    ],
    ids=["new", "replaced", "added", "added to nothing", "same again", "several"],
)
def test_what_a_report_would_change(
    current: dict[str, int], entries: list[tuple[str, int, bool]], expected: list[Change]
) -> None:
    assert plan_changes(current, entries, D23) == expected


def test_a_report_is_stored_with_its_audit_as_one_group(district: Engine) -> None:
    group = report(district, SUNITA, {"cards": 5, "households": 12}, source="m1")
    assert values(district, SUNITA) == {"cards": 5, "households": 12}
    assert values(district, REKHA) == {}
    with session_scope(district) as session:
        audit = session.exec(select(ReportChange).order_by(col(ReportChange.id))).all()
    assert [(a.metric, a.old_value, a.new_value, a.kind, a.change_group) for a in audit] == [
        ("cards", None, 5, "report", group),
        ("households", None, 12, "report", group),
    ]
    assert {a.source_key for a in audit} == {"m1"}


@pytest.mark.parametrize(
    ("written", "reported"),
    [
        ([{"cards": 5}], True),
        ([{"cards": 0}], True),  # a 0 is a report
        ([{"cards": 5}, {"cards": None}], False),  # every value taken back
        ([{"cards": 5, "households": 2}, {"cards": None}], True),
    ],
)
def test_whether_a_day_counts_as_reported(
    district: Engine, written: list[dict[str, int | None]], reported: bool
) -> None:
    for step in written:
        report(district, SUNITA, step)
    with session_scope(district) as session:
        sunita = who(session, SUNITA)
        assert sunita.id is not None
        assert has_reported(session=session, person_id=sunita.id, day=D23) is reported
        assert not has_reported(session=session, person_id=sunita.id, day=D22)


def test_her_sums_over_a_range_of_days(district: Engine) -> None:
    report(district, SUNITA, {"cards": 1}, D21)
    report(district, SUNITA, {"cards": 2, "households": 4}, D22)
    report(district, SUNITA, {"cards": 3}, D23)
    report(district, REKHA, {"cards": 100}, D23)
    with session_scope(district) as session:
        sunita = who(session, SUNITA)
        assert sunita.id is not None
        assert person_totals(session=session, person_id=sunita.id) == {"cards": 6, "households": 4}
        assert person_totals(session=session, person_id=sunita.id, start=D22, end=D22) == {
            "cards": 2,
            "households": 4,
        }
        assert person_totals(session=session, person_id=sunita.id, start=D23) == {"cards": 3}
        assert people_totals(session=session, person_ids=[sunita.id, sunita.id], start=D22) == {
            sunita.id: {"cards": 5, "households": 4}
        }


def test_undo_takes_back_the_latest_message_then_the_one_before(district: Engine) -> None:
    report(district, SUNITA, {"cards": 5})
    report(district, SUNITA, {"cards": 7, "households": 3})
    assert undo(district, SUNITA) == (
        [Change(D23, "cards", 7, 5), Change(D23, "households", 3, None)],
        "Sunita Devi",
    )
    assert values(district, SUNITA) == {"cards": 5}
    assert undo(district, SUNITA)[0] == [Change(D23, "cards", 5, None)]
    assert values(district, SUNITA) == {}
    assert undo(district, SUNITA) == ([], "Sunita Devi")  # an undo is not itself undone
    with session_scope(district) as session:
        assert undo_last(session=session, person=who(session, SUNITA), channel="simulator") == []


def test_undo_of_a_report_entered_for_someone_else_is_hers_to_take_back(district: Engine) -> None:
    report(district, SUNITA, {"cards": 2})
    report(district, SUNITA, {"cards": 9}, entered_by=USHA)
    assert undo(district, USHA) == ([Change(D23, "cards", 9, 2)], "Sunita Devi")
    assert values(district, SUNITA) == {"cards": 2}
    assert undo(district, USHA) == ([], "Usha Srivastava")  # Sunita's own report is not Usha's
    assert undo(district, SUNITA)[0] == [Change(D23, "cards", 2, None)]


@pytest.mark.parametrize(
    ("since", "plan"),
    [
        (None, [Change(D23, "cards", 8, None), Change(D23, "households", 4, 1)]),
        ({"cards": 20}, [Change(D23, "households", 4, 1)]),  # changed since: left as it is
    ],
)
def test_an_edit_takes_back_what_the_original_message_set(
    district: Engine, since: dict[str, int | None] | None, plan: list[Change]
) -> None:
    report(district, SUNITA, {"households": 1})
    report(district, SUNITA, {"cards": 5, "households": 4}, source="m1")
    report(district, SUNITA, {"cards": 8}, source="m1")  # an earlier edit of the same message
    if since is not None:
        report(district, SUNITA, since, source="m2")
    with session_scope(district) as session:
        earlier = changes_from_source(session=session, source_key="m1")
        assert [(c.metric, c.new_value) for c in earlier] == [
            ("cards", 5),
            ("households", 4),
            ("cards", 8),
        ]
        assert revert_plan(session=session, person=who(session, SUNITA), earlier=earlier) == plan


def test_an_undone_change_is_no_longer_the_messages(district: Engine) -> None:
    report(district, SUNITA, {"cards": 5}, source="m1")
    undo(district, SUNITA)
    with session_scope(district) as session:
        assert changes_from_source(session=session, source_key="m1") == []


def test_locking_her_day_gives_what_it_holds(district: Engine) -> None:
    report(district, SUNITA, {"cards": 5})
    with session_scope(district) as session:
        sunita = who(session, SUNITA)
        assert lock_for_report(session=session, person=sunita, day=D23) == {"cards": 5}
        assert lock_for_report(session=session, person=sunita, day=D22) == {}


def test_only_a_worker_with_a_sector_has_a_report(district: Engine) -> None:
    with session_scope(district) as session, pytest.raises(ValueError, match="sector"):
        lock_for_report(session=session, person=who(session, RAJESH), day=D23)


def test_the_batch_path_stores_what_the_single_path_stores(district: Engine) -> None:
    report(district, REKHA, {"cards": 1})  # the single path, for the day already held
    with session_scope(district) as session:
        senders = senders_by_phone(session=session, phones=[SUNITA, REKHA])
        people = {s.id: s for s in senders.values()}
        locked = lock_days(
            session=session, people=people, keys=[(senders[SUNITA].id, D23), (senders[REKHA].id, D23)]
        )
        changes = []
        for (person_id, day), held in locked.items():
            for metric, value in (("cards", 4), ("households", 2)):
                old = set_value(session, held, metric, value)
                changes.append(
                    {
                        "report_id": held.report_id,
                        "person_id": person_id,
                        "day": day,
                        "metric": metric,
                        "old_value": old,
                        "new_value": value,
                        "kind": "report",
                        "change_group": f"g{person_id}",
                        "source_key": None,
                        "channel": "simulator",
                    }
                )
        assert locked[(senders[REKHA].id, D23)].values == {"cards": 4, "households": 2}
        write_days(session=session, days=locked.values(), changes=changes)
        write_days(session=session, days=locked.values(), changes=[])
    assert values(district, SUNITA) == values(district, REKHA) == {"cards": 4, "households": 2}
    with session_scope(district) as session:
        olds = session.exec(
            select(ReportChange.person_id, ReportChange.metric, ReportChange.old_value).where(
                ReportChange.kind == "report", ReportChange.change_group != ""
            )
        ).all()
    assert (senders[REKHA].id, "cards", 1) in olds and (senders[SUNITA].id, "cards", None) in olds
    # and /undo after the batch takes the batch's message back
    assert undo(district, REKHA)[0] == [Change(D23, "cards", 4, 1), Change(D23, "households", 2, None)]

"""A small state whose figures can be worked out by hand: two districts, three blocks, four
sectors, seven field workers (one inactive), their officers, and a campaign over November 2026.

    Hardoi/Sandila/S1: Asha One, Asha Two, Asha Three (inactive)
    Hardoi/Sandila/S2: Asha Four
    Hardoi/Bilgram/B1: Asha Five, Asha Six
    Sultanpur/Kadipur/K1: Asha Seven
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.store import reports
from bot.store.db import session_scope
from models import Person
from tests.conftest import ROOT, import_csv

ROSTER = """name,phone,role,district,block,sector,village,lat,lon,language,worker_id,alt_phones,active
Admin,9000000001,admin,,,,,,,en,,,true
Officer Hardoi,9000000002,district_officer,Hardoi,,,,,,hi,,,true
Officer Sultanpur,9000000003,district_officer,Sultanpur,,,,,,hi,,,true
BMO Sandila,9000000004,bmo,Hardoi,Sandila,,,,,hi,,,true
Supervisor S1,9000000005,supervisor,Hardoi,Sandila,S1,,,,hi,,,true
Asha One,9100000001,asha,Hardoi,Sandila,S1,V1,,,hi,W1,,true
Asha Two,9100000002,asha,Hardoi,Sandila,S1,V1,,,hi,W2,,true
Asha Three,9100000003,asha,Hardoi,Sandila,S1,V2,,,hi,W3,,false
Asha Four,9100000004,anm,Hardoi,Sandila,S2,V3,,,hi,W4,,true
Asha Five,9100000005,asha,Hardoi,Bilgram,B1,V4,,,hi,W5,,true
Asha Six,9100000006,asha,Hardoi,Bilgram,B1,V4,,,hi,W6,,true
Asha Seven,9100000007,asha,Sultanpur,Kadipur,K1,V5,,,en,W7,,true
"""
CAMPAIGN = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
TARGETS = {
    "worker": {"cards": {"daily": 10}},
    "sector": {"cards": {"daily": 20}},
    "block": {"cards": {"daily": 40}},
    "district": {"cards": {"daily": 100, "campaign_total": 2000}},
    "state": {"cards": {"daily": 150, "campaign_total": 4000}},
}
OFFICER_HARDOI, OFFICER_SULTANPUR, BMO_SANDILA, ADMIN = (
    "9000000002",
    "9000000003",
    "9000000004",
    "9000000001",
)


def nov(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def small_settings(base: Settings, **changes: object) -> Settings:
    data = base.model_dump(exclude={"base_dir"})
    data["campaign"] = {"name": "test", "start": CAMPAIGN[0], "end": CAMPAIGN[1]}
    data["targets"] = TARGETS
    data.update(changes)
    return Settings.model_validate({**data, "base_dir": ROOT})


def load_small_state(engine: Engine, folder: Path) -> None:
    path = folder / "small_state.csv"
    path.write_text(ROSTER, encoding="utf-8")
    import_csv(engine, path)


def person(session: Session, worker_id: str) -> Person:
    from sqlmodel import select

    found = session.exec(select(Person).where(Person.worker_id == worker_id)).one()
    return found


def report(engine: Engine, worker_id: str, day: dt.date, values: Mapping[str, int]) -> None:
    """A worker's report for a day, written as the bot writes it (replacing the values named)."""
    with session_scope(engine) as session:
        who = person(session, worker_id)
        current = reports.lock_for_report(session=session, person=who, day=day)
        changes = reports.plan_changes(current, ((m, v, False) for m, v in values.items()), day)
        reports.apply_changes(
            session=session, person=who, changes=changes, kind="report", channel="test", source_key=None
        )


# Reports of the hand-worked examples (cards unless named).
REPORTS: list[tuple[str, dt.date, dict[str, int]]] = [
    ("W1", nov(10), {"cards": 10, "applications": 12}),
    ("W1", nov(18), {"cards": 20}),
    ("W1", nov(20), {"cards": 15, "households": 30}),
    ("W2", nov(19), {"cards": 5}),
    ("W2", nov(20), {"cards": 0}),  # a 0 counts as reported
    ("W4", nov(20), {"cards": 25}),
    ("W5", nov(14), {"cards": 40}),
    ("W6", nov(13), {"cards": 100}),
    ("W7", nov(20), {"cards": 60}),
]


def load_reports(engine: Engine) -> None:
    for worker_id, day, values in REPORTS:
        report(engine, worker_id, day, values)

"""Many messages at once: every one stored exactly once, totals consistent, no error replies."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.store import people, reports
from models import ReportChange
from tests.conftest import SUNITA, Chat, at


def test_simultaneous_adds_from_one_worker_all_count(chat: Chat, district: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda i: chat.say(SUNITA, "कार्ड +1", at(23, 10, i)), range(24)))
    assert all("✅" in r for r in replies), [r for r in replies if "✅" not in r][:1]
    with Session(district) as session:
        person = people.person_by_phone(session=session, phone="+917973321377")
        assert person is not None and person.id is not None
        value = reports.report_values(session=session, person_id=person.id, day=dt.date(2026, 11, 23))
        trail = session.exec(select(ReportChange).order_by(col(ReportChange.id))).all()
    assert value == {"cards": 24}
    # the audit trail is a consistent chain: each change starts where the previous ended
    assert [c.old_value for c in trail] == [None, *range(1, 24)]
    assert [c.new_value for c in trail] == list(range(1, 25))


def test_many_workers_at_once(chat: Chat, district: Engine) -> None:
    from bot.roster.read import read_table
    from tests.conftest import SAMPLE

    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    phones = [r["phone"] for _, r in table if r["role"] in ("asha", "anm") and r["active"] == "true"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda p: chat.say(p, "आवेदन 3 कार्ड 2", at(23, 11)), phones))
    assert all("✅" in r or "✅" in r for r in replies)
    status = chat.say("+91 92668 36880", "/status", at(23, 19))
    assert f"रिपोर्ट भेजी: {len(phones)}/{len(phones)}" in status
    assert f"कार्ड {2 * len(phones)}" in status

"""Messages already processed and the replies they were given: a redelivery is answered as before."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.messages import Document, Reply
from bot.store.db import session_scope
from bot.store.inbound import (
    is_duplicate_error,
    last_received,
    processed_replies,
    record_inbound,
    record_inbound_many,
    replies_for,
)
from bot.store.people import person_by_phone
from models import UnitDayTotal
from tests.conftest import SUNITA_PHONE

SENT = dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)

REPLIES = [
    pytest.param([], id="no reply"),
    pytest.param([Reply("✅ 23 नवंबर की रिपोर्ट दर्ज हुई")], id="hindi"),
    pytest.param([Reply("one"), Reply("two")], id="two, in order"),
    pytest.param([Reply("क्या यह सही है?", buttons=("✅ हाँ", "✏️ नहीं"), question=17)], id="buttons"),
    pytest.param([Reply("sign in: https://x.example/a", preview=False)], id="no preview"),
    pytest.param([Reply("share", request_contact="📱 नंबर भेजें")], id="contact button"),
]


def record(engine: Engine, key: str, replies: list[Reply], person_id: int | None = None) -> None:
    with session_scope(engine) as session:
        record_inbound(
            session=session,
            channel="simulator",
            dedup_key=key,
            source_key=key,
            person_id=person_id,
            sent_at=SENT,
            replies=replies,
        )


def test_a_new_message_has_no_replies_yet(db: Engine) -> None:
    with session_scope(db) as session:
        assert processed_replies(session=session, dedup_key="never-seen") is None


@pytest.mark.parametrize("replies", REPLIES)
def test_the_replies_given_are_given_again(db: Engine, replies: list[Reply]) -> None:
    record(db, "k", replies)
    with session_scope(db) as session:
        assert processed_replies(session=session, dedup_key="k") == replies
        assert replies_for(session=session, dedup_keys=["k"]) == {"k": replies}


def test_a_document_is_not_kept_only_its_text() -> None:
    """What the stored form keeps of a reply with a file: its text (the file is not stored)."""
    reply = Reply("export", document=Document("report.csv", b"a,b"))
    assert Reply.from_json(reply.to_json()) == Reply("export")


def test_many_messages_recorded_at_once_read_back_each(db: Engine) -> None:
    rows = [
        {
            "channel": "simulator",
            "dedup_key": f"b{i}",
            "source_key": f"b{i}",
            "person_id": None,
            "sent_at": SENT,
            "replies": [Reply(f"reply {i}")],
        }
        for i in range(3)
    ]
    with session_scope(db) as session:
        record_inbound_many(session=session, rows=rows)
        record_inbound_many(session=session, rows=[])
    with session_scope(db) as session:
        found = replies_for(session=session, dedup_keys=["b2", "b0", "missing", "b0"])
    assert found == {"b0": [Reply("reply 0")], "b2": [Reply("reply 2")]}


def test_the_same_message_cannot_be_recorded_twice(db: Engine) -> None:
    record(db, "dup", [Reply("first")])
    with pytest.raises(IntegrityError) as raised:
        record(db, "dup", [Reply("second")])
    assert is_duplicate_error(raised.value)
    with session_scope(db) as session:
        assert processed_replies(session=session, dedup_key="dup") == [Reply("first")]


def test_a_conflict_on_another_table_is_not_a_duplicate(db: Engine) -> None:
    row = {"level": "sector", "unit_id": 1, "day": SENT.date(), "metric": "cards", "value": 1}
    with pytest.raises(IntegrityError) as raised, session_scope(db) as session:
        session.execute(insert(UnitDayTotal), [row])
        session.execute(insert(UnitDayTotal), [row])
    assert not is_duplicate_error(raised.value)


def test_when_each_person_last_wrote_on_a_channel(district: Engine) -> None:
    with session_scope(district) as session:
        sunita = person_by_phone(session=session, phone=SUNITA_PHONE)
        assert sunita is not None and sunita.id is not None
        sunita_id = sunita.id
    record(district, "a", [], person_id=sunita_id)
    record(district, "b", [], person_id=sunita_id)
    with session_scope(district) as session:
        seen = last_received(session=session, person_ids=[sunita_id, 10**9], channel="simulator")
        other_channel = last_received(session=session, person_ids=[sunita_id], channel="telegram")
    assert list(seen) == [sunita_id]
    assert other_channel == {}

"""The per-sender flood limit: who counts as one sender, and the count per sender and minute."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from bot.core.floods import count, count_many, exempt, may_be_exempt, minute_of
from bot.core.identity import language_of, sender_key
from bot.core.messages import Inbound, Location
from bot.store.db import session_scope
from models import LiveTrack, Person, PersonPhone

NOW = dt.datetime(2026, 11, 23, 14, 5, 12, tzinfo=dt.UTC)


def message(channel: str = "simulator", **fields: object) -> Inbound:
    values: dict[str, object] = {"dedup_key": "k", "sent_at": NOW, "chat_id": "c", **fields}
    return Inbound(channel=channel, **values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- sender_key


def test_one_telegram_user_is_one_sender_in_every_chat() -> None:
    private = message("telegram", chat_id="6021443871", account=6021443871)
    group = message("telegram", chat_id="-1002183345120", account=6021443871, is_group=True)
    other = message("telegram", chat_id="6021443872", account=6021443872)
    assert sender_key(private) == sender_key(group)
    assert sender_key(private) != sender_key(other)


@pytest.mark.parametrize("written", ["07973321377", "+91 79733 21377", "७९७३३२१३७७", "917973321377"])
def test_a_number_written_any_way_is_one_sender(written: str) -> None:
    assert sender_key(message(phone=written)) == sender_key(message(phone="+917973321377"))


def test_the_same_number_on_two_channels_counts_twice() -> None:
    simulator = message("simulator", phone="+917973321377")
    whatsapp = message("whatsapp", phone="+917973321377", chat_id="whatsapp:+917973321377")
    assert sender_key(simulator) != sender_key(whatsapp)


def test_the_key_holds_no_phone_and_fits_its_column() -> None:
    key = sender_key(message(phone="+917973321377"))
    assert len(key) == 32 and "7973321377" not in key
    assert all(ch in "0123456789abcdef" for ch in key)


def test_a_sender_without_a_usable_number_is_told_apart_by_what_it_has() -> None:
    bad = sender_key(message(phone="not a phone"))
    assert bad == sender_key(message(phone="not a phone", chat_id="elsewhere"))
    assert bad != sender_key(message(phone="also not a phone"))
    assert sender_key(message(chat_id="chat-1")) != sender_key(message(chat_id="chat-2"))


def test_a_telegram_message_without_a_user_is_keyed_by_its_chat() -> None:
    assert sender_key(message("telegram", chat_id="1")) != sender_key(message("telegram", chat_id="2"))


# ---------------------------------------------------------------- counting


def test_minutes_are_counted_from_1970() -> None:
    assert minute_of(dt.datetime(1970, 1, 1, 0, 1, 59, tzinfo=dt.UTC)) == 1
    assert minute_of(NOW.replace(second=0)) == minute_of(NOW.replace(second=59))
    assert minute_of(NOW + dt.timedelta(seconds=48)) == minute_of(NOW) + 1


def test_messages_in_one_minute_add_up_and_a_new_minute_starts_again(db: Engine) -> None:
    with session_scope(db) as session:
        counts = [count(session=session, sender="a", now=NOW) for _ in range(3)]
    assert counts == [1, 2, 3]
    with session_scope(db) as session:
        assert count(session=session, sender="b", now=NOW) == 1  # someone else's count is her own
        assert count(session=session, sender="a", now=NOW + dt.timedelta(seconds=48)) == 1
        assert count(session=session, sender="a", now=NOW + dt.timedelta(seconds=60)) == 2


def test_many_senders_are_counted_at_once(db: Engine) -> None:
    with session_scope(db) as session:
        count(session=session, sender="a", now=NOW)
        count(session=session, sender="c", now=NOW - dt.timedelta(minutes=5))
    with session_scope(db) as session:
        got = count_many(session=session, senders={"a": 2, "b": 3, "c": 1}, now=NOW)
        assert count_many(session=session, senders={}, now=NOW) == {}
    assert got == {"a": 3, "b": 3, "c": 1}  # c's old minute does not count
    with session_scope(db) as session:
        assert count(session=session, sender="b", now=NOW) == 4


# ---------------------------------------------------------------- live locations and language


def live_edit(source_key: str = "tg:1:9", at: dt.datetime = NOW) -> Inbound:
    return message(
        "telegram",
        account=1,
        source_key=source_key,
        is_edit=True,
        edited_at=at,
        location=Location(27.3, 80.5, live=True, live_period_s=900),
    )


def test_only_live_location_edits_may_be_exempt() -> None:
    assert may_be_exempt(live_edit())
    assert not may_be_exempt(message("telegram", is_edit=True, text="25 20 40", source_key="x"))
    assert not may_be_exempt(message("telegram", location=Location(27.3, 80.5), source_key="x"))


def add_person(db: Engine, **fields: object) -> int:
    with session_scope(db) as session:
        person = Person(name="Sunita", phone="+917973321377", role="asha", **fields)  # type: ignore[arg-type]
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(PersonPhone(phone=person.phone, person_id=person.id))
        return person.id


def test_her_own_open_track_is_exempt_and_nothing_else(db: Engine) -> None:
    sunita = add_person(db)
    with session_scope(db) as session:
        other = Person(name="Usha", phone="+917285872429", role="supervisor")
        session.add(other)
        session.flush()
        assert other.id is not None
        other_id = other.id
        session.add(
            LiveTrack(
                track_key="tg:1:9",
                person_id=sunita,
                channel="telegram",
                chat_id="1",
                started_at=NOW,
                live_until=NOW + dt.timedelta(minutes=15),
            )
        )
    with session_scope(db) as session:
        assert exempt(session=session, inbound=live_edit(), person_id=sunita)
        late = NOW + dt.timedelta(minutes=15, seconds=30)  # within the grace after its end
        assert exempt(session=session, inbound=live_edit(at=late), person_id=sunita)
        assert not exempt(
            session=session, inbound=live_edit(at=NOW + dt.timedelta(minutes=17)), person_id=sunita
        )
        assert not exempt(session=session, inbound=live_edit(), person_id=other_id)
        assert not exempt(session=session, inbound=live_edit("tg:1:10"), person_id=sunita)


def test_a_refused_message_is_answered_in_the_senders_language(db: Engine) -> None:
    add_person(db, language="en", telegram_user_id=6021443871)
    with session_scope(db) as session:
        by_phone = message(phone="07973321377")
        by_telegram = message("telegram", account=6021443871)
        assert language_of(session=session, inbound=by_phone) == "en"
        assert language_of(session=session, inbound=by_telegram) == "en"
        assert language_of(session=session, inbound=message(phone="+919812345678")) == "hi"
        assert language_of(session=session, inbound=message(phone="garbage")) == "hi"

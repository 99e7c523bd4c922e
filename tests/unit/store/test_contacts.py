"""When and from which number a person last wrote (channel_contact): the latest write wins, and
WhatsApp's 24-hour window (less its safety margin) decides whether free text may go to her."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from bot.store.contacts import (
    WINDOW,
    WINDOW_MARGIN,
    contact,
    in_window,
    record_contact,
    wrote_last_on_whatsapp,
)
from bot.store.db import session_scope
from bot.store.people import person_by_phone
from models import InboundMessage, Person
from tests.conftest import SUNITA_PHONE

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
OWN = "+917973321377"
ALTERNATE = "+919934650561"


def sunita(engine: Engine) -> Person:
    with session_scope(engine) as session:
        person = person_by_phone(session=session, phone=SUNITA_PHONE)
        assert person is not None and person.id is not None
        return person


def write(engine: Engine, person_id: int, address: str, at: dt.datetime) -> None:
    with session_scope(engine) as session:
        record_contact(session=session, person_id=person_id, address=address, at=at)


def stored(engine: Engine, person_id: int) -> tuple[str, dt.datetime] | None:
    with session_scope(engine) as session:
        found = contact(session=session, person_id=person_id)
        return (found.address, found.last_inbound_at) if found else None


def test_no_contact_until_she_writes(district: Engine) -> None:
    person = sunita(district)
    assert person.id is not None
    assert stored(district, person.id) is None
    with session_scope(district) as session:
        assert not in_window(session=session, person_id=person.id, now=T0)


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ([(OWN, T0)], (OWN, T0)),
        ([(OWN, T0), (ALTERNATE, T0 + dt.timedelta(hours=1))], (ALTERNATE, T0 + dt.timedelta(hours=1))),
        # a message handled late (a retry, a slow process) does not take the window back
        ([(ALTERNATE, T0 + dt.timedelta(hours=1)), (OWN, T0)], (ALTERNATE, T0 + dt.timedelta(hours=1))),
        ([(OWN, T0), (ALTERNATE, T0)], (OWN, T0)),  # the same moment changes nothing
    ],
)
def test_the_latest_write_wins(
    district: Engine, writes: list[tuple[str, dt.datetime]], expected: tuple[str, dt.datetime]
) -> None:
    person = sunita(district)
    assert person.id is not None
    for address, at in writes:
        write(district, person.id, address, at)
    assert stored(district, person.id) == expected


def test_each_channel_is_its_own_contact(district: Engine) -> None:
    person = sunita(district)
    assert person.id is not None
    with session_scope(district) as session:
        record_contact(session=session, person_id=person.id, address=OWN, at=T0, channel="sms")
    assert stored(district, person.id) is None
    with session_scope(district) as session:
        assert contact(session=session, person_id=person.id, channel="sms") is not None


EDGE = WINDOW - WINDOW_MARGIN  # 23 h 50 min: a message handed over then may still reach her in time


@pytest.mark.parametrize(
    ("since", "open_"),
    [
        (dt.timedelta(0), True),
        (dt.timedelta(hours=23, minutes=49, seconds=59), True),
        (EDGE, False),
        (WINDOW - dt.timedelta(seconds=1), False),
        (WINDOW, False),
        (dt.timedelta(days=3), False),
    ],
)
def test_the_window_closes_ten_minutes_before_24_hours(
    district: Engine, since: dt.timedelta, open_: bool
) -> None:
    assert dt.timedelta(hours=23, minutes=50) == EDGE
    person = sunita(district)
    assert person.id is not None
    write(district, person.id, OWN, T0)
    with session_scope(district) as session:
        assert in_window(session=session, person_id=person.id, now=T0 + since) is open_


def telegram_message(engine: Engine, person_id: int, at: dt.datetime) -> None:
    with session_scope(engine) as session:
        session.add(
            InboundMessage(
                channel="telegram",
                dedup_key=f"tg:{at.isoformat()}",
                person_id=person_id,
                sent_at=at,
                received_at=at,
            )
        )


@pytest.mark.parametrize(
    ("whatsapp_at", "telegram_at", "whatsapp_last"),
    [
        (None, None, False),
        (None, T0, False),
        (T0, None, True),
        (T0 + dt.timedelta(minutes=5), T0, True),
        (T0, T0, True),
        (T0, T0 + dt.timedelta(minutes=5), False),
    ],
)
def test_which_channel_she_wrote_on_last(
    district: Engine,
    whatsapp_at: dt.datetime | None,
    telegram_at: dt.datetime | None,
    whatsapp_last: bool,
) -> None:
    person = sunita(district)
    assert person.id is not None
    if whatsapp_at is not None:
        write(district, person.id, OWN, whatsapp_at)
    if telegram_at is not None:
        telegram_message(district, person.id, telegram_at)
    with session_scope(district) as session:
        assert wrote_last_on_whatsapp(session=session, person=person) is whatsapp_last

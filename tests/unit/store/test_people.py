"""People as the store finds them: by any of their numbers or their Telegram account."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.db import session_scope
from bot.store.people import (
    link_telegram,
    person_by_phone,
    person_by_telegram,
    senders_by_phone,
    senders_by_telegram,
    set_language,
)
from models import Person

SUNITA = "+917973321377"
REKHA = "+917339325088"
REKHA_ALTERNATE = "+919934650561"
USHA = "+917285872429"
UNKNOWN = "+919812345678"


def named(session: Session, phone: str) -> Person:
    person = person_by_phone(session=session, phone=phone)
    assert person is not None
    return person


@pytest.mark.parametrize(
    ("phone", "name"),
    [
        (SUNITA, "Sunita Devi"),
        (REKHA, "Rekha Verma"),
        (REKHA_ALTERNATE, "Rekha Verma"),  # her second number finds her too
        (UNKNOWN, None),
        ("07973321377", None),  # the store takes numbers in E.164 only
    ],
)
def test_a_person_by_any_of_her_numbers(district: Engine, phone: str, name: str | None) -> None:
    with session_scope(district) as session:
        found = person_by_phone(session=session, phone=phone)
        assert (found.name if found else None) == name


def test_senders_in_one_lookup_match_the_single_lookup(district: Engine) -> None:
    with session_scope(district) as session:
        found = senders_by_phone(session=session, phones=[SUNITA, REKHA_ALTERNATE, UNKNOWN, SUNITA])
        sunita, usha = named(session, SUNITA), named(session, USHA)
        assert senders_by_phone(session=session, phones=[]) == {}
    assert set(found) == {SUNITA, REKHA_ALTERNATE}
    sender = found[SUNITA]
    assert (sender.id, sender.role, sender.language, sender.active) == (sunita.id, "asha", "hi", True)
    assert (sender.district_id, sender.block_id, sender.sector_id, sender.village_id) == (
        sunita.district_id,
        sunita.block_id,
        sunita.sector_id,
        sunita.village_id,
    )
    assert sender.is_field_worker
    with session_scope(district) as session:
        assert not senders_by_phone(session=session, phones=[USHA])[USHA].is_field_worker
    assert usha.id != sunita.id


def test_a_telegram_account_is_tied_and_found(district: Engine) -> None:
    with session_scope(district) as session:
        assert person_by_telegram(session=session, telegram_user_id=5001) is None
        link_telegram(session=session, person=named(session, SUNITA), user_id=5001, chat_id=5001)
    with session_scope(district) as session:
        found = person_by_telegram(session=session, telegram_user_id=5001)
        assert found is not None and found.name == "Sunita Devi"
        assert found.telegram_chat_id == 5001
        by_account = senders_by_telegram(session=session, user_ids=[5001, 5002])
        assert senders_by_telegram(session=session, user_ids=[]) == {}
    assert list(by_account) == [5001] and by_account[5001].id == found.id


def test_an_account_moves_to_whoever_links_it_last(district: Engine) -> None:
    with session_scope(district) as session:
        link_telegram(session=session, person=named(session, SUNITA), user_id=5001, chat_id=5001)
    with session_scope(district) as session:
        link_telegram(session=session, person=named(session, REKHA), user_id=5001, chat_id=5001)
    with session_scope(district) as session:
        found = person_by_telegram(session=session, telegram_user_id=5001)
        sunita = named(session, SUNITA)
    assert found is not None and found.name == "Rekha Verma"
    assert (sunita.telegram_user_id, sunita.telegram_chat_id) == (None, None)


def test_relinking_the_same_person_keeps_her_linked(district: Engine) -> None:
    for chat_id in (5001, 5001):
        with session_scope(district) as session:
            link_telegram(session=session, person=named(session, SUNITA), user_id=5001, chat_id=chat_id)
    with session_scope(district) as session:
        found = person_by_telegram(session=session, telegram_user_id=5001)
    assert found is not None and found.name == "Sunita Devi"


def test_her_language_is_kept(district: Engine) -> None:
    with session_scope(district) as session:
        set_language(session=session, person=named(session, SUNITA), language="en")
    with session_scope(district) as session:
        assert named(session, SUNITA).language == "en"
        assert senders_by_phone(session=session, phones=[SUNITA])[SUNITA].language == "en"

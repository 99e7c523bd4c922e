"""Who is writing: a sender by her number or her linked chat account, a stranger told why, and a
Telegram account linked by sharing her own contact."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.core.identity import Languages, by_phone, identify, lookup, nameless, senders
from bot.core.messages import Inbound, Reply
from bot.i18n import t
from bot.privacy import notice_text
from bot.store.db import session_scope
from bot.store.people import link_telegram, person_by_phone
from models import Person, PrivacyNotice

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
SUNITA = "+917973321377"
ACCOUNT = 6021443871


def message(channel: str = "simulator", **fields: object) -> Inbound:
    values: dict[str, object] = {"dedup_key": "k", "sent_at": NOW, "chat_id": str(ACCOUNT), **fields}
    return Inbound(channel=channel, **values)  # type: ignore[arg-type]


def telegram(**fields: object) -> Inbound:
    return message("telegram", account=ACCOUNT, **fields)


def welcome(_session: Session, person: Person, _settings: Settings) -> str:
    return f"welcome {person.name}"


def who(session: Session, inbound: Inbound, settings: Settings) -> str | list[Reply]:
    found = identify(session, inbound, settings, welcome)
    return found.name if isinstance(found, Person) else found


@pytest.mark.parametrize(
    ("inbound", "phone", "none"),
    [
        (message(phone=SUNITA), True, False),
        (message(), True, True),
        (telegram(), False, False),
        (telegram(phone=SUNITA), True, False),
    ],
)
def test_how_a_message_names_its_sender(inbound: Inbound, phone: bool, none: bool) -> None:
    assert by_phone(inbound) is phone
    assert nameless(inbound) is none


@pytest.mark.parametrize("written", ["07973321377", "+91 79733 21377", "917973321377", "७९७३३२१३७७"])
def test_a_number_written_any_way_is_her(district: Engine, settings: Settings, written: str) -> None:
    with session_scope(district) as session:
        assert who(session, message(phone=written), settings) == "Sunita Devi"


def test_her_second_number_is_her_too(district: Engine, settings: Settings) -> None:
    with session_scope(district) as session:
        assert who(session, message(phone="9934650561"), settings) == "Rekha Verma"


@pytest.mark.parametrize(
    ("phone", "reply"),
    [
        ("+919812345678", t("hi", "unknown_phone", phone="+919812345678")),
        ("hello", t("hi", "unknown_phone", phone="hello")),
        (None, t("hi", "unknown_phone", phone="?")),
        ("7622075049", t("hi", "inactive", name="Pushpa Rawat")),
    ],
    ids=["not on the roster", "no number", "nothing", "inactive"],
)
def test_someone_we_cannot_let_in_is_told_why(
    district: Engine, settings: Settings, phone: str | None, reply: str
) -> None:
    with session_scope(district) as session:
        assert who(session, message(phone=phone), settings) == [Reply(reply)]


def test_an_unlinked_account_is_asked_for_her_contact(district: Engine, settings: Settings) -> None:
    with session_scope(district) as session:
        assert who(session, telegram(text="25 20 40"), settings) == [
            Reply(t("hi", "share_contact"), request_contact=t("hi", "share_contact_button"))
        ]


def forget_notices(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(delete(PrivacyNotice))


def test_her_own_contact_links_her_account_and_she_is_welcomed(
    district: Engine, settings: Settings
) -> None:
    forget_notices(district)
    shared = telegram(contact_phone="+91 79733 21377", contact_account=ACCOUNT)
    with session_scope(district) as session:
        assert who(session, shared, settings) == [
            Reply("welcome Sunita Devi"),
            Reply(notice_text(settings, "hi")),
        ]
    with session_scope(district) as session:
        assert who(session, telegram(text="25"), settings) == "Sunita Devi"
        found = lookup(session, telegram())
        assert found is not None and found.telegram_chat_id == ACCOUNT
        # shared again: welcomed again, the notice is not repeated
        assert who(session, shared, settings) == [Reply("welcome Sunita Devi")]


@pytest.mark.parametrize(
    ("fields", "reply"),
    [
        (
            {"contact_phone": SUNITA, "contact_account": 42},
            Reply(t("hi", "contact_not_own"), request_contact=t("hi", "share_contact_button")),
        ),
        (
            {"contact_phone": "+919812345678", "contact_account": ACCOUNT},
            Reply(t("hi", "unknown_phone", phone="+919812345678")),
        ),
        (
            {"contact_phone": "7622075049", "contact_account": ACCOUNT},
            Reply(t("hi", "inactive", name="Pushpa Rawat")),
        ),
    ],
    ids=["someone else's contact", "not on the roster", "inactive"],
)
def test_a_contact_that_is_not_hers_to_link_links_nothing(
    district: Engine, settings: Settings, fields: dict[str, object], reply: Reply
) -> None:
    with session_scope(district) as session:
        assert who(session, telegram(**fields), settings) == [reply]
        assert lookup(session, telegram()) is None


def test_a_contact_shared_in_a_group_links_nothing(district: Engine, settings: Settings) -> None:
    group = telegram(contact_phone=SUNITA, contact_account=ACCOUNT, is_group=True, chat_id="-100")
    with session_scope(district) as session:
        assert isinstance(who(session, group, settings), list)
        assert lookup(session, telegram()) is None


def test_many_senders_are_found_as_one_by_one(district: Engine, settings: Settings) -> None:
    with session_scope(district) as session:
        rekha = person_by_phone(session=session, phone="+917339325088")
        assert rekha is not None
        link_telegram(session=session, person=rekha, user_id=ACCOUNT, chat_id=ACCOUNT)
    inbounds = [
        message(phone="07973321377"),
        telegram(),
        message(phone="+919812345678"),
        message(phone="garbage"),
        message("telegram", account=1),
        message(phone="7622075049"),
    ]
    with session_scope(district) as session:
        found = senders(session, inbounds)
        one_by_one = [lookup(session, m) for m in inbounds]
    assert [s.id if s else None for s in found] == [p.id if p else None for p in one_by_one]
    assert found[5] is not None and not found[5].active  # identify tells her she is inactive


def test_her_language_is_remembered_per_sender() -> None:
    languages = Languages()
    pooja = message(phone="+91 97697 57560")
    assert languages.of(pooja) == "hi"
    languages.remember(pooja, "en")
    assert languages.of(message(phone="9769757560")) == "en"  # the same number written otherwise
    assert languages.of(message("whatsapp", phone="+919769757560")) == "hi"  # another channel
    assert languages.of(telegram()) == "hi"

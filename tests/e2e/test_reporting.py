"""Reporting rules as a worker meets them: what is stored, what is refused, and what she reads back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.phones import normalize_phone
from bot.store import people, reports
from models import DailyReport, InboundMessage, Person, ReportChange, ReportValue
from tests.conftest import RAJESH, SUNITA, Chat, at


def values(engine: Engine, phone: str, day: dt.date) -> dict[str, int]:
    with Session(engine) as session:
        person = people.person_by_phone(session=session, phone=normalize_phone(phone))
        assert person is not None and person.id is not None
        return reports.report_values(session=session, person_id=person.id, day=day)


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


NOV23 = dt.date(2026, 11, 23)


def test_hindi_report_is_stored_and_echoed(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "आवेदन 25 कार्ड 20", at(23, 11))
    assert "✅" in reply and "दर्ज" in reply
    assert "आवेदन: 25" in reply and "कार्ड: 20" in reply
    assert "आज (23/11)" in reply  # names the day it counted for
    assert values(district, SUNITA, NOV23) == {"applications": 25, "cards": 20}


def test_english_worker_gets_english(chat: Chat) -> None:
    reply = chat.say("+91 97697 57560", "apps 25 cards 20", at(23))  # Pooja Shukla, language en
    assert "Report saved for today (23 Nov)" in reply
    assert "cards: 20" in reply


def test_rereport_replaces_named_values_and_shows_old_to_new(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "आवेदन 25 कार्ड 20", at(23, 11))
    reply = chat.say(SUNITA, "कार्ड 22", at(23, 15))
    assert "कार्ड: 20 → 22" in reply
    assert "आवेदन 25 · कार्ड 22" in reply  # the day's running totals
    assert values(district, SUNITA, NOV23) == {"applications": 25, "cards": 22}
    with Session(district) as session:
        trail = session.exec(select(ReportChange).order_by(col(ReportChange.id))).all()
    assert [(c.metric, c.old_value, c.new_value) for c in trail] == [
        ("applications", None, 25),
        ("cards", None, 20),
        ("cards", 20, 22),
    ]


def test_plus_adds_to_the_value(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23, 11))
    reply = chat.say(SUNITA, "कार्ड +5", at(23, 16))
    assert "कार्ड: 20 + 5 = 25" in reply
    assert values(district, SUNITA, NOV23)["cards"] == 25


def test_zero_counts_as_reported(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "कार्ड 0", at(23))
    missing = chat.say(RAJESH, "/missing", at(23, 19))
    assert "Sunita Devi" not in missing
    assert values(district, SUNITA, NOV23) == {"cards": 0}


def test_over_ceiling_is_refused_and_nothing_changes(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "कार्ड 20", at(23, 11))
    reply = chat.say(SUNITA, "आवेदन 30 कार्ड 250", at(23, 12))
    assert "अधिकतम 150" in reply and "कुछ दर्ज नहीं हुआ" in reply
    assert values(district, SUNITA, NOV23) == {"cards": 20}
    # an add that crosses the ceiling is refused too
    assert "अधिकतम 150" in chat.say(SUNITA, "कार्ड +140", at(23, 13))
    assert values(district, SUNITA, NOV23) == {"cards": 20}


def test_unknown_phone_is_refused_and_nothing_stored(chat: Chat, district: Engine) -> None:
    before = count(district, InboundMessage)
    reply = chat.say("9123456780", "आवेदन 25 कार्ड 20", at(23))
    assert "सुपरवाइजर" in reply and "+919123456780" in reply
    assert count(district, ReportValue) == 0
    assert count(district, InboundMessage) == before


def test_inactive_worker_is_refused_politely(chat: Chat, district: Engine) -> None:
    reply = chat.say("7622075049", "कार्ड 5", at(23))  # Pushpa Rawat, active=false
    assert "Pushpa Rawat" in reply and "सक्रिय" in reply
    assert count(district, ReportValue) == 0


def test_garbled_message_gets_an_example_and_changes_nothing(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "कार्ड आवेदन 25", at(23))
    assert "समझ नहीं" in reply and "आवेदन 25 कार्ड 20" in reply
    assert count(district, ReportValue) == 0


def test_a_greeting_gets_the_format_and_changes_nothing(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "नमस्ते मैडम", at(23))
    assert reply.startswith("माफ़ कीजिए, रिपोर्ट समझ नहीं आई।\n\n")
    assert "आवेदन 25 कार्ड 20" in reply
    assert count(district, ReportValue) == 0


def test_voice_note_gets_how_to_type(chat: Chat) -> None:
    reply = chat.say(SUNITA, None, at(23), unsupported="voice")
    assert "लिखकर" in reply


def test_day_is_when_the_message_was_written_in_ist(chat: Chat, district: Engine) -> None:
    # 23:50 IST on 21 Nov is 18:20 UTC; 18:40 UTC on 22 Nov is already 00:10 on 23 Nov in IST.
    chat.say(SUNITA, "कार्ड 7", at(21, 23, 50))
    chat.say(SUNITA, "कार्ड 9", dt.datetime(2026, 11, 22, 18, 40, tzinfo=dt.UTC))
    assert values(district, SUNITA, dt.date(2026, 11, 21)) == {"cards": 7}
    assert values(district, SUNITA, NOV23) == {"cards": 9}


def test_a_timestamp_in_the_future_counts_for_today(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "कार्ड 3", at(26, 10))  # the bot's clock says 23 Nov
    assert "आज (23/11)" in reply
    assert values(district, SUNITA, NOV23) == {"cards": 3}


def test_yesterday_and_dates_within_the_window(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "कल कार्ड 8", at(23))
    assert "कल (22/11)" in reply
    assert values(district, SUNITA, dt.date(2026, 11, 22)) == {"cards": 8}
    chat.say(SUNITA, "21/11 कार्ड 6", at(23))
    assert values(district, SUNITA, dt.date(2026, 11, 21)) == {"cards": 6}


def test_future_and_too_old_days_are_refused(chat: Chat, district: Engine) -> None:
    assert "आगे की तारीख" in chat.say(SUNITA, "25/11 कार्ड 6", at(23))
    reply = chat.say(SUNITA, "15/11 कार्ड 6", at(23))
    assert "पिछले 2 दिन" in reply
    assert count(district, ReportValue) == 0


def test_undo_reverts_the_last_message_whole(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "आवेदन 25 कार्ड 20", at(23, 11))
    chat.say(SUNITA, "आवेदन 30 कार्ड 22", at(23, 12))
    reply = chat.say(SUNITA, "/undo", at(23, 13))
    assert "कार्ड: 22 → 20" in reply and "आवेदन: 30 → 25" in reply
    assert values(district, SUNITA, NOV23) == {"applications": 25, "cards": 20}
    chat.say(SUNITA, "/undo", at(23, 13))
    assert values(district, SUNITA, NOV23) == {}
    assert "कोई बदलाव नहीं" in chat.say(SUNITA, "/undo", at(23, 14))
    # an undone first report means she shows as missing again
    assert "Sunita Devi" in chat.say(RAJESH, "/missing", at(23, 19))
    with Session(district) as session:
        kinds = session.exec(select(ReportChange.kind)).all()
    assert kinds.count("undo") == 4  # every change kept in the audit trail


def test_redelivery_changes_nothing_and_gets_the_same_answer(chat: Chat, district: Engine) -> None:
    first = chat.send(SUNITA, "कार्ड +5", at(23), key="twilio:SM123")
    again = chat.send(SUNITA, "कार्ड +5", at(23), key="twilio:SM123")
    assert first == again
    assert values(district, SUNITA, NOV23) == {"cards": 5}


def test_officer_sending_numbers_is_pointed_to_queries(chat: Chat, district: Engine) -> None:
    reply = chat.say(RAJESH, "कार्ड 20", at(23))
    assert "/status" in reply
    assert count(district, DailyReport) == 0


def test_alternate_phone_reaches_the_same_worker(chat: Chat, district: Engine) -> None:
    chat.say("9934650561", "कार्ड 4", at(23))  # Rekha Verma's second SIM
    assert values(district, "7339325088", NOV23) == {"cards": 4}


def test_edit_replaces_what_the_message_reported(chat: Chat, district: Engine) -> None:
    chat.send(SUNITA, "आवेदन 25 कार्ड 20", at(23, 11), key="tg:1:7:0")
    from bot.core.messages import Inbound

    edit = Inbound(
        channel="telegram-test",
        dedup_key="tg:1:7:99",
        source_key="tg:1:7:0",
        sent_at=at(23, 11),
        chat_id=SUNITA,
        phone=SUNITA,
        text="कार्ड 21",
        is_edit=True,
    )
    reply = "\n".join(r.text for r in chat.core.handle(edit))
    assert "कार्ड: 20 → 21" in reply
    # the edit no longer names applications, so what the message had set is taken back
    assert values(district, SUNITA, NOV23) == {"cards": 21}


def test_language_switch_sticks(chat: Chat, district: Engine) -> None:
    assert "English" in chat.say(SUNITA, "/lang en", at(23))
    assert "Report saved" in chat.say(SUNITA, "cards 3", at(23))
    with Session(district) as session:
        person = session.exec(select(Person).where(Person.name == "Sunita Devi")).one()
    assert person.language == "en"

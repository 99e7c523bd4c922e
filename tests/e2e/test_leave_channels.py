"""Leave and reports for someone else on Telegram, over real HTTP to the fake Bot API: the same
answers as everywhere, and "which Sunita?" as an inline keyboard whose press stores the report."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.store import reports
from models import Leave, Person
from tests.conftest import SUNITA_TG, at, import_csv, last_text, link_sunita
from tests.e2e.test_others import HEADER
from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    callback_query_update,
    contact_update,
    text_update,
)

USHA_TG = 5002
USHA_PHONE = "+917285872429"


def test_leave_on_telegram(polling: FakeTelegramAPI, district: Engine) -> None:
    link_sunita(polling)
    polling.push_update(text_update("छुट्टी 25/11 से 27/11", user_id=SUNITA_TG))
    assert "25/11 से 27/11 (3 दिन)" in last_text(polling, SUNITA_TG, 3)
    polling.push_update(text_update("/leave", user_id=SUNITA_TG))
    assert "छुट्टी दर्ज" in last_text(polling, SUNITA_TG, 4)
    polling.push_update(text_update("छुट्टी रद्द", user_id=SUNITA_TG))
    assert last_text(polling, SUNITA_TG, 5).startswith("✅ छुट्टी रद्द")
    with Session(district) as session:
        assert all(x.cancelled_at is not None for x in session.exec(select(Leave)))


def test_which_sunita_is_an_inline_keyboard_on_telegram(
    polling: FakeTelegramAPI, district: Engine, tmp_path: Path
) -> None:
    extra = tmp_path / f"more-{uuid.uuid4().hex[:6]}.csv"
    extra.write_text(
        HEADER
        + "Sunita Yadav,9000011111,asha,Hardoi,Sandila,Sandila-1,Kasimpur,,,hi,HRD-SDL-0099,,true\n",
        encoding="utf-8",
    )
    import_csv(district, extra)
    polling.push_update(text_update("/start", user_id=USHA_TG, first_name="Usha"))
    polling.wait_for("sendMessage", 1)
    polling.push_update(contact_update(USHA_PHONE, user_id=USHA_TG))
    polling.wait_for("sendMessage", 2)
    polling.push_update(text_update("सुनीता: कार्ड 7", user_id=USHA_TG))
    sent = polling.wait_for("sendMessage", 3)[-1]
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Sunita Devi (Atwa)", "Sunita Yadav (Kasimpur)"]
    message_id = polling.last_message_id(sent.params["text"])
    polling.push_update(
        callback_query_update(keyboard[1][0]["callback_data"], user_id=USHA_TG, message_id=message_id)
    )
    stored = polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert stored.startswith("📝 Sunita Yadav के लिए:")
    with Session(district) as session:
        yadav = session.exec(select(Person).where(Person.name == "Sunita Yadav")).one()
        assert yadav.id is not None
        day = at(23).date()
        assert reports.report_values(session=session, person_id=yadav.id, day=day) == {"cards": 7}

"""Reports entered for someone else: a supervisor or ANM reports for a worker of her own sector,
by name (either script), phone or worker id; stored as the worker's, audited with who entered it,
undone by either of them; the worker is told in one line; an ambiguous name is asked about."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import scheduler
from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.roster.read import ImportSummary, RosterInvalid
from bot.store import reports
from bot.store.db import session_scope
from bot.web import create_app
from models import Outbox, Person, ReportChange
from tests.conftest import RAJESH, SUNITA, USHA, Chat, at, import_csv
from tests.fakes.live import serving

NIRMALA = "8480346261"  # ANM, Hardoi/Sandila/Sandila-1
REKHA = "7339325088"  # ASHA, Hardoi/Sandila/Sandila-1
HEADER = "name,phone,role,district,block,sector,village,lat,lon,language,worker_id,alt_phones,active\n"


def person(engine: Engine, name: str) -> Person:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.name == name)).one()


def values(engine: Engine, name: str, day: int = 23) -> dict[str, int]:
    who = person(engine, name)
    assert who.id is not None
    with Session(engine) as session:
        return reports.report_values(session=session, person_id=who.id, day=dt.date(2026, 11, day))


def notices(engine: Engine, name: str) -> list[str]:
    who = person(engine, name)
    with Session(engine) as session:
        rows = session.exec(
            select(Outbox.text).where(Outbox.person_id == who.id, Outbox.job == "reported_for_you")
        ).all()
    return list(rows)


def test_a_supervisor_reports_for_a_worker_by_name_phone_or_id(chat: Chat, district: Engine) -> None:
    saved = chat.say(USHA, "सुनीता: आवेदन 12 कार्ड 10", at(23, 19))
    assert saved.startswith("📝 Sunita Devi के लिए:\n✅") and "कार्ड: 10" in saved
    assert values(district, "Sunita Devi") == {"applications": 12, "cards": 10}
    usha = person(district, "Usha Srivastava")
    with Session(district) as session:
        audit = session.exec(select(ReportChange)).all()
    assert {(c.metric, c.entered_by) for c in audit} == {("applications", usha.id), ("cards", usha.id)}
    (notice,) = notices(district, "Sunita Devi")
    assert "Usha Srivastava" in notice and "कार्ड 10" in notice and "\n" not in notice
    # A re-report by the same rules; by phone; by worker id; the English form.
    assert "कार्ड: 10 → 5" in chat.say(USHA, "/for Sunita Devi कार्ड 5", at(23, 19, 1))
    assert chat.say(USHA, "/for 73393 25088 कार्ड 3", at(23, 19, 2)).startswith("📝 Rekha Verma")
    assert chat.say(USHA, "/for HRD-SDL-0003 cards 4", at(23, 19, 3)).startswith("📝 Poonam Yadav")
    assert values(district, "Rekha Verma") == {"cards": 3}
    # The ANM of the sector may too; her own `कार्ड: 2` stays hers.
    assert chat.say(NIRMALA, "रेखा: घर 30", at(23, 19, 4)).startswith("📝 Rekha Verma")
    assert chat.say(NIRMALA, "कार्ड: 2", at(23, 19, 5)).startswith("✅")
    assert values(district, "Nirmala Gupta") == {"cards": 2}
    # The evening digest counts them.
    scheduler.run_job(district, chat.core.settings, "supervisor_digest", at(23, 18, 45))
    with Session(district) as session:
        (digest,) = session.exec(
            select(Outbox.text).where(Outbox.person_id == usha.id, Outbox.job == "supervisor_digest")
        ).all()
    assert "दूसरों के लिए दर्ज रिपोर्ट: 3" in digest.split("\n\n")[0]


def test_who_may_report_for_whom_and_the_same_rules(chat: Chat, district: Engine) -> None:
    assert "«Preeti»" in chat.say(USHA, "/for Preeti कार्ड 3", at(23, 19))  # Bilgram: not hers
    assert chat.say(RAJESH, "/for Sunita कार्ड 3", at(23, 19, 1)).startswith("किसी और की रिपोर्ट")
    assert chat.say(SUNITA, "/for Rekha कार्ड 3", at(23, 19, 2)).startswith("किसी और की रिपोर्ट")
    assert "अधिकतम 150" in chat.say(USHA, "/for Sunita कार्ड 500", at(23, 19, 3))
    assert chat.say(USHA, "/for Sunita", at(23, 19, 4)).startswith("किसी आशा की रिपोर्ट ऐसे")
    assert chat.say(USHA, "/for Sunita 30/11 कार्ड 3", at(23, 19, 5)) == t(
        "hi", "future_day", date="30/11"
    )
    assert values(district, "Sunita Devi") == {} and values(district, "Rekha Verma") == {}
    assert notices(district, "Sunita Devi") == []


def test_the_entrant_and_the_worker_may_undo(chat: Chat, district: Engine) -> None:
    chat.say(USHA, "सुनीता: कार्ड 10", at(23, 19))
    chat.say(USHA, "/for Rekha कार्ड 4", at(23, 19, 1))
    undone = chat.say(USHA, "/undo", at(23, 19, 2))
    assert undone.startswith("↩️ Rekha Verma की") and values(district, "Rekha Verma") == {}
    assert chat.say(USHA, "/undo", at(23, 19, 3)).startswith("↩️ Sunita Devi की")
    chat.say(USHA, "सुनीता: कार्ड 6", at(23, 19, 4))
    assert chat.say(SUNITA, "/undo", at(23, 19, 5)).startswith("↩️")
    assert values(district, "Sunita Devi") == {}
    assert chat.say(USHA, "/undo", at(23, 19, 6)) == t("hi", "nothing_to_undo")


def add_people(engine: Engine, folder: Path, rows: str) -> ImportSummary:
    path = folder / f"more-{uuid.uuid4().hex[:6]}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return import_csv(engine, path)


def ask(core: Fieldbot, phone: str, text: str, minute: int) -> list[Reply]:
    return core.handle(
        Inbound(
            channel="simulator",
            dedup_key=f"others:{uuid.uuid4().hex}",
            sent_at=at(23, 19, minute),
            chat_id=phone,
            phone=phone,
            text=text,
        )
    )


def test_an_ambiguous_name_is_asked_with_buttons_and_stores_nothing_before(
    core: Fieldbot, district: Engine, tmp_path: Path
) -> None:
    add_people(
        district,
        tmp_path,
        "Sunita Yadav,9000011111,asha,Hardoi,Sandila,Sandila-1,Kasimpur,,,hi,HRD-SDL-0099,,true\n",
    )
    (asked,) = ask(core, USHA, "सुनीता: कार्ड 7", 1)
    assert asked.text.startswith("«सुनीता» नाम की एक से ज़्यादा")
    assert list(asked.buttons) == ["Sunita Devi (Atwa)", "Sunita Yadav (Kasimpur)"]
    assert values(district, "Sunita Devi") == {} and values(district, "Sunita Yadav") == {}
    (stored,) = ask(core, USHA, "2", 2)
    assert stored.text.startswith("📝 Sunita Yadav के लिए:")
    assert values(district, "Sunita Yadav") == {"cards": 7} and values(district, "Sunita Devi") == {}
    # Leave by an ambiguous name is asked the same way.
    (asked,) = ask(core, USHA, "छुट्टी सुनीता कल", 3)
    assert asked.buttons and asked.text.startswith("«सुनीता»")
    (saved,) = ask(core, USHA, "Sunita Devi (Atwa)", 4)
    assert saved.text.startswith("🏖️ Sunita Devi की छुट्टी दर्ज: 24/11")
    # Any other message drops the question.
    ask(core, USHA, "सुनीता: कार्ड 9", 5)
    ask(core, USHA, "/status", 6)
    (after,) = ask(core, USHA, "1", 7)
    assert values(district, "Sunita Devi") == {} and "📝" not in after.text


def test_a_worker_without_a_phone_is_reported_for_by_her_worker_id(
    chat: Chat, district: Engine, tmp_path: Path
) -> None:
    add_people(
        district,
        tmp_path,
        "Lalita Devi,,asha,Hardoi,Sandila,Sandila-1,Atwa,,,hi,HRD-SDL-0100,,true\n",
    )
    with pytest.raises(RosterInvalid) as refused:
        add_people(district, tmp_path, "Kamla Devi,,asha,Hardoi,Sandila,Sandila-1,Atwa,,,hi,,,true\n")
    assert "needs a worker_id" in str(refused.value.errors[0])
    assert chat.say(USHA, "/for HRD-SDL-0100 कार्ड 2", at(23, 19)).startswith("📝 Lalita Devi")
    assert chat.say(USHA, "ललिता: आवेदन 3", at(23, 19, 1)).startswith("📝 Lalita Devi")
    assert values(district, "Lalita Devi") == {"cards": 2, "applications": 3}
    assert notices(district, "Lalita Devi") == []  # nothing can reach her
    scheduler.run_job(district, chat.core.settings, "start_message", at(24, 9))
    with Session(district) as session:
        lalita = person(district, "Lalita Devi")
        assert not session.exec(select(Outbox).where(Outbox.person_id == lalita.id)).all()


def test_the_simulator_shows_the_choice_as_buttons(
    district: Engine, settings: Settings, tmp_path: Path
) -> None:
    add_people(
        district,
        tmp_path,
        "Sunita Yadav,9000011111,asha,Hardoi,Sandila,Sandila-1,Kasimpur,,,hi,HRD-SDL-0099,,true\n",
    )
    core = build_core(settings, district, clock=lambda: at(23, 23, 59))
    with serving(create_app(core)) as base:

        def post(text: str) -> list[dict[str, object]]:
            body = {"phone": USHA, "text": text}
            answer = httpx.post(f"{base}/simulator/messages", json=body, timeout=10)
            assert answer.status_code == 200, answer.text
            return list(answer.json()["replies"])

        (reply,) = post("/for सुनीता कार्ड 8")
        assert reply["buttons"] == ["Sunita Devi (Atwa)", "Sunita Yadav (Kasimpur)"]
        (stored,) = post("Sunita Devi (Atwa)")
        assert str(stored["text"]).startswith("📝 Sunita Devi के लिए:")
    assert values(district, "Sunita Devi") == {"cards": 8}


def test_an_entry_kept_in_the_audit_names_the_entrant_on_both_databases(
    chat: Chat, district: Engine
) -> None:
    chat.say(USHA, "सुनीता: कार्ड 10", at(23, 19))
    with session_scope(district) as session:
        rows = session.exec(select(ReportChange).where(col(ReportChange.entered_by).is_not(None))).all()
        assert [r.kind for r in rows] == ["report"]


def test_an_edited_entry_for_someone_is_not_read_again(chat: Chat, district: Engine) -> None:
    chat.send(NIRMALA, "रेखा: कार्ड 10", at(23, 19), key="entry")
    edit = chat.say(
        NIRMALA, "रेखा: कार्ड 12", at(23, 19), key="entry:edit", source_key="entry", is_edit=True
    )
    assert edit == t("hi", "for_edit")
    assert values(district, "Rekha Verma") == {"cards": 10}
    assert values(district, "Nirmala Gupta") == {}  # never taken as the ANM's own
    # Her own report, edited, is read again as always.
    chat.send(NIRMALA, "कार्ड 3", at(23, 19, 1), key="own")
    chat.send(NIRMALA, "कार्ड 4", at(23, 19, 1), key="own:edit", source_key="own", is_edit=True)
    assert values(district, "Nirmala Gupta") == {"cards": 4}

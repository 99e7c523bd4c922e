"""District files sent in chat by an admin or district officer: a roster, villages or targets
file is checked whole and answered with the check and an import button; nothing changes before
the button. Told apart from the portal's counts by their headers."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import uuid
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from models import Person, UnitTarget, Village, VillageCentre
from tests.conftest import ADMIN, ROOT, SUNITA, VIVEK, Chat, at, greet_everyone, import_csv
from tests.e2e import test_whatsapp as wa
from tests.fakes.telegram_api import FakeTelegramAPI, callback_query_update
from tests.fakes.twilio_api import FakeTwilioAPI

# The fixtures of the WhatsApp tests: the real web app, signed Twilio posts, the fake Twilio API.
app, clock, twilio, twilio_api, wa_core = wa.app, wa.clock, wa.twilio, wa.twilio_api, wa.wa_core

HINDI_ROSTER = ROOT / "examples" / "roster_hindi.csv"
VILLAGES = ROOT / "examples" / "villages_hardoi.csv"
HEADER = "name,phone,role,district,block,sector,village,worker_id,active"
# Two new ASHAs of Sandila-1, Sunita Devi kept, Kiran Pal leaving.
HARDOI_ROSTER = "\n".join(
    [
        HEADER,
        "Meena Kumari,9811122233,asha,Hardoi,Sandila,Sandila-1,Atwa,HRD-SDL-0101,true",
        "Lata Devi,9811122244,asha,Hardoi,Sandila,Sandila-1,Naya Gaon,HRD-SDL-0102,true",
        "Sunita Devi,07973321377,asha,Hardoi,Sandila,Sandila-1,Atwa,HRD-SDL-0001,true",
        "Kiran Pal,6184653067,asha,Hardoi,Sandila,Sandila-1,Malhaura,HRD-SDL-0005,false",
    ]
)


def send_file(chat: Chat, phone: str, content: bytes, name: str, **extra: object) -> list[str]:
    return chat.send(phone, None, document=content, document_name=name, **extra)


IMPORT, CANCEL = "✅ दर्ज करें", "❌ रहने दें"


def handle(core: Fieldbot, phone: str, text: str | None = None, **extra: object) -> list[Reply]:
    """One simulator message through the core, answered with its replies, buttons and all."""
    key = f"test:{uuid.uuid4().hex}"
    inbound = Inbound(
        channel="simulator",
        dedup_key=key,
        source_key=key,
        sent_at=at(23, 19),
        chat_id=phone,
        phone=phone,
        text=text,
        **extra,  # type: ignore[arg-type]
    )
    return core.handle(inbound)


def people(engine: Engine) -> tuple[int, int]:
    """(people on the roster, of them active)."""
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Person)).one()
        active = session.exec(
            select(func.count()).select_from(Person).where(col(Person.active).is_(True))
        ).one()
    return int(total), int(active)


def kept(core: Fieldbot) -> list[Path]:
    folder = core.settings.resolve_path(core.settings.uploads.dir)
    return sorted(folder.glob("upload-*")) if folder.is_dir() else []


def test_a_district_officers_roster_is_checked_and_nothing_changes_before_the_button(
    chat: Chat, core: Fieldbot, district: Engine
) -> None:
    before = people(district)
    [answer] = send_file(chat, VIVEK, HARDOI_ROSTER.encode(), "asha_list.csv")
    lines = answer.splitlines()
    assert lines[0] == (
        "📋 asha_list.csv: रोस्टर जाँचा, हर पंक्ति सही है — 4 लोग: 2 नए, 2 पहले से (बदलेंगे), "
        "1 निष्क्रिय होंगे। अभी कुछ नहीं बदला।"
    )
    # A village no one had yet is named as new, so a typo shows before it is imported.
    assert lines[1].startswith("नई इकाइयाँ बनेंगी — जिले: 0, ब्लॉक: 0, सेक्टर: 0, गाँव: 1")
    assert lines[2].startswith("कॉलम: name -> name, phone -> phone, role -> role")
    assert people(district) == before
    # The file waits for the button, readable by the service alone.
    [path] = kept(core)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes() == HARDOI_ROSTER.encode()


def test_the_hindi_roster_as_the_nhm_office_sends_it_shows_how_its_header_was_read(
    chat: Chat, district: Engine
) -> None:
    before = people(district)
    [answer] = send_file(chat, ADMIN, HINDI_ROSTER.read_bytes(), "roster_hindi.csv")
    lines = answer.splitlines()
    assert lines[0].startswith("📋 roster_hindi.csv: रोस्टर जाँचा, हर पंक्ति सही है — 34 लोग: 34 नए")
    assert lines[2] == (
        "कॉलम: नाम -> name, मोबाइल नंबर -> phone, पद -> role, जनपद -> district, "
        "जनपद कोड -> district_lgd, विकासखंड -> block, सेक्टर -> sector, ग्राम -> village, "
        "कार्य क्षेत्र के ग्राम -> villages"
    )
    assert lines[3] == "छोड़े गए कॉलम (रोस्टर के नहीं): क्रम, अभ्युक्ति"
    assert people(district) == before


def test_a_district_officer_may_not_change_another_district_or_people_elsewhere(
    chat: Chat, core: Fieldbot, district: Engine
) -> None:
    roster = "\n".join(
        [
            HEADER,
            "Meena Kumari,9811122233,asha,Hardoi,Sandila,Sandila-1,Atwa,HRD-SDL-0101,true",
            "Asha Devi,9811122255,asha,Sitapur,Biswan,Biswan-1,Kunda,STP-0001,true",
            "Ankit Sharma,9901030882,asha,Hardoi,Sandila,Sandila-1,Atwa,,true",
            "New Admin,9811122266,admin,,,,,,true",
        ]
    )
    before = people(district)
    [answer] = send_file(chat, VIVEK, roster.encode(), "roster.csv")
    assert answer.splitlines() == [
        "❌ roster.csv: 3 गड़बड़ी — कुछ भी दर्ज नहीं हुआ। ठीक करके फ़ाइल दोबारा भेजें:",
        "पंक्ति 3: Sitapur आपके क्षेत्र (Hardoi) में नहीं है",
        "पंक्ति 4: Ankit Sharma रोस्टर पर आपके क्षेत्र (Hardoi) के बाहर दर्ज हैं; उन्हें एडमिन ही बदल सकते हैं",
        "पंक्ति 5: एडमिन को सिर्फ़ एडमिन जोड़ सकते हैं",
    ]
    assert people(district) == before and kept(core) == []


def test_every_bad_row_is_counted_and_the_ones_past_the_limit_come_as_a_file(
    core: Fieldbot, district: Engine
) -> None:
    from bot.web import create_app
    from tests.fakes.live import serving

    rows = [HEADER] + [
        f"Worker {n},98111{n:05d},asha,Hardoi,Sandila,Sandila-1,Atwa,,maybe" for n in range(25)
    ]
    body = {
        "phone": VIVEK,
        "document_base64": base64.b64encode("\n".join(rows).encode()).decode(),
        "document_name": "roster.csv",
        "at": "2026-11-23T19:00:00+05:30",
    }
    with serving(create_app(core)) as url:
        replies = httpx.post(f"{url}/simulator/messages", json=body, timeout=10).json()["replies"]
    first, sheet = replies
    lines = first["text"].splitlines()
    assert lines[0] == "❌ roster.csv: 25 गड़बड़ी — कुछ भी दर्ज नहीं हुआ। ठीक करके फ़ाइल दोबारा भेजें:"
    assert len(lines) == 1 + 20 + 1 and lines[-1] == "… और 5 गड़बड़ी"
    assert lines[1].startswith("पंक्ति 2: ") and "maybe" in lines[1]
    assert sheet["text"] == "📎 सारी 25 गड़बड़ियाँ इस फ़ाइल में हैं।"
    assert sheet["document"] == "roster-problems.csv"
    table = list(csv.reader(io.StringIO(base64.b64decode(sheet["document_base64"]).decode("utf-8-sig"))))
    assert table[0] == ["problem"] and len(table) == 26
    assert table[-1][0].startswith("पंक्ति 26: ")
    assert kept(core) == []


def test_a_file_that_is_none_of_the_four_is_explained(chat: Chat, core: Fieldbot) -> None:
    [answer] = send_file(chat, ADMIN, b"sno,remarks\n1,ok\n", "list.csv")
    assert answer.startswith("🙏 list.csv: पहली पंक्ति से समझ नहीं आया कि यह कौन-सी फ़ाइल है।")
    assert "रोस्टर: नाम, मोबाइल नंबर, पद" in answer
    assert kept(core) == []


def test_field_workers_and_groups_are_refused_politely(chat: Chat, core: Fieldbot) -> None:
    content = HARDOI_ROSTER.encode()
    [answer] = send_file(chat, SUNITA, content, "roster.csv")
    assert answer.startswith("🙏 रोस्टर, गाँवों, लक्ष्यों या पोर्टल के आँकड़ों की फ़ाइल सिर्फ़ जिला अधिकारी")
    assert send_file(chat, SUNITA, content, "roster.csv", is_group=True) == []
    [answer] = send_file(chat, VIVEK, content, "roster.csv", is_group=True)
    assert answer == "🙏 फ़ाइल बॉट को निजी चैट में भेजें, ग्रुप में नहीं।"
    assert kept(core) == []


def test_villages_and_targets_files_are_checked_too(
    chat: Chat, core: Fieldbot, district: Engine
) -> None:
    villages = (
        "district,block,village,lat,lon\n"
        "Hardoi,Sandila,Atwa,27.0957,80.4842\n"
        "Hardoi,Sandila,Naya Gaon,27.1,80.5\n"
    )
    [answer] = send_file(chat, VIVEK, villages.encode(), "gaon.csv")
    assert answer.splitlines()[0].startswith(
        "📋 gaon.csv: गाँवों की फ़ाइल जाँची, हर पंक्ति सही है — 2 गाँव: 2 नए, 0 बदलेंगे; रोस्टर के 1 गाँवों के "
    )
    targets = "level,district,block,sector,metric,daily,eligible\nblock,Hardoi,Sandila,,cards,120,5000\n"
    [answer] = send_file(chat, VIVEK, targets.encode(), "lakshya.csv")
    assert answer.splitlines()[0] == (
        "📋 lakshya.csv: लक्ष्यों की फ़ाइल जाँची, हर पंक्ति सही है — 1 पंक्तियाँ: 1 नए, 0 बदलेंगे, "
        "0 हटेंगे। अभी कुछ नहीं बदला।"
    )
    with Session(district) as session:
        assert session.exec(select(func.count()).select_from(VillageCentre)).one() == 0
        assert session.exec(select(func.count()).select_from(UnitTarget)).one() == 0
    # A district officer's targets are her districts'; the state's are an admin's.
    state = "level,district,block,sector,metric,daily\nstate,,,,cards,9000\n"
    [answer] = send_file(chat, VIVEK, state.encode(), "state.csv")
    assert answer.splitlines()[1].startswith("पंक्ति 2: ") and "आपके क्षेत्र (Hardoi) में नहीं है" in answer


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_on_whatsapp_an_officers_file_is_fetched_and_a_workers_is_not(
    app: str, twilio_api: FakeTwilioAPI, wa_core: Fieldbot, district: Engine
) -> None:
    url = twilio_api.add_media(HARDOI_ROSTER.encode(), "text/csv")
    answer = wa.say(twilio_api, "+919266836880", media=[(url, "text/csv")], message_type="document")
    assert answer.startswith("📋 file.csv: रोस्टर जाँचा, हर पंक्ति सही है — 4 लोग: 2 नए")
    assert len(twilio_api.downloads) >= 1
    # Once here, the file is deleted from Twilio: one copy, ours (kept privately until the button).
    assert twilio_api.wait_for_deletes(1) == [url.rsplit("/", 1)[1]]
    assert len(kept(wa_core)) == 1
    fetched = len(twilio_api.downloads)
    book = twilio_api.add_media(b"PK\x03\x04", XLSX_TYPE)
    answer = wa.say(twilio_api, "+917973321377", media=[(book, XLSX_TYPE)], message_type="document")
    assert "सिर्फ़ जिला अधिकारी या एडमिन" in answer
    assert len(twilio_api.downloads) == fetched


# ---------------------------------------------------------------- the import button


def person(engine: Engine, worker_id: str) -> Person | None:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.worker_id == worker_id)).first()


def test_the_button_imports_the_checked_roster_and_a_second_press_is_told_it_is_closed(
    core: Fieldbot, district: Engine
) -> None:
    total, active = people(district)
    [asked] = handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="asha_list.csv")
    assert asked.buttons == (IMPORT, CANCEL)
    assert people(district) == (total, active)
    [done] = handle(core, VIVEK, IMPORT)
    assert done.text == "✅ asha_list.csv: रोस्टर दर्ज हुआ — 4 लोग: 2 नए, 2 बदले, 1 निष्क्रिय।"
    assert done.buttons == ()
    assert people(district) == (total + 2, active + 1)
    kiran = person(district, "HRD-SDL-0005")
    assert kiran is not None and not kiran.active
    assert kept(core) == []  # answered: the kept file is gone
    [again] = handle(core, VIVEK, IMPORT)
    assert again.text.startswith("🙏 यह फ़ाइल अब दर्ज नहीं हो सकती")
    assert people(district) == (total + 2, active + 1)


def test_leaving_it_changes_nothing_and_removes_the_file(core: Fieldbot, district: Engine) -> None:
    before = people(district)
    handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="asha_list.csv")
    assert len(kept(core)) == 1
    [left] = handle(core, VIVEK, "नहीं")
    assert left.text == "ठीक है, asha_list.csv दर्ज नहीं की गई। कुछ नहीं बदला।"
    assert people(district) == before and kept(core) == []


def test_the_kept_file_is_checked_again_at_the_press(
    core: Fieldbot, district: Engine, tmp_path: Path
) -> None:
    total, active = people(district)
    handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="asha_list.csv")
    # Meanwhile the state's admin gives Meena's number to a new admin.
    other = tmp_path / "admin.csv"
    other.write_text("name,phone,role,district,block,sector,village\nMeera Rao,9811122233,admin,,,,\n")
    import_csv(district, other)
    [refused] = handle(core, VIVEK, "1")
    assert refused.text.splitlines() == [
        "❌ asha_list.csv: 1 गड़बड़ी — कुछ भी दर्ज नहीं हुआ। ठीक करके फ़ाइल दोबारा भेजें:",
        "पंक्ति 2: Meera Rao रोस्टर पर आपके क्षेत्र (Hardoi) के बाहर दर्ज हैं; उन्हें एडमिन ही बदल सकते हैं",
    ]
    assert people(district) == (total + 1, active + 1) and kept(core) == []


def test_an_expired_question_imports_nothing_and_its_file_is_removed(
    core: Fieldbot, district: Engine
) -> None:
    from scheduler import sweep_uploads

    before = people(district)
    handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="asha_list.csv")
    [path] = kept(core)
    ttl = core.settings.questions.ttl_minutes
    later = build_core(
        core.settings, district, clock=lambda: at(23, 23, 59) + dt.timedelta(minutes=ttl + 1)
    )
    [late] = handle(later, VIVEK, IMPORT)
    assert late.text.startswith("🙏 यह फ़ाइल अब दर्ज नहीं हो सकती")
    assert people(district) == before
    assert sweep_uploads(district, core.settings, later.clock()) == 1
    assert not path.exists()


def test_a_file_whose_question_was_dropped_is_swept_and_one_still_asked_is_kept(
    core: Fieldbot, district: Engine
) -> None:
    from scheduler import sweep_uploads

    handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="first.csv")
    handle(core, VIVEK, document=HARDOI_ROSTER.encode(), document_name="second.csv")
    first, second = sorted(kept(core), key=lambda p: p.stat().st_mtime_ns)
    soon = at(23, 23, 59) + dt.timedelta(minutes=15)
    assert sweep_uploads(district, core.settings, soon) == 1
    assert not first.exists() and second.exists()
    [done] = handle(build_core(core.settings, district, clock=lambda: soon), VIVEK, "दर्ज करें")
    assert done.text.startswith("✅ second.csv: रोस्टर दर्ज हुआ")


def test_the_hindi_roster_then_its_villages_file_give_everyone_coordinates(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    admin = tmp_path / "admin.csv"
    admin.write_text(
        "name,phone,role,district,block,sector,village\nAnkit Sharma,9901030882,admin,,,,\n"
    )
    import_csv(db, admin)
    greet_everyone(db)
    core = build_core(settings, db, clock=lambda: at(23, 23, 59))
    handle(core, ADMIN, document=HINDI_ROSTER.read_bytes(), document_name="roster_hindi.csv")
    [done] = handle(core, ADMIN, IMPORT)
    assert done.text == "✅ roster_hindi.csv: रोस्टर दर्ज हुआ — 34 लोग: 34 नए, 0 बदले, 0 निष्क्रिय।"
    greet_everyone(db)
    [asked] = handle(core, ADMIN, document=VILLAGES.read_bytes(), document_name="villages_hardoi.csv")
    assert asked.text.splitlines()[0] == (
        "📋 villages_hardoi.csv: गाँवों की फ़ाइल जाँची, हर पंक्ति सही है — 18 गाँव: 18 नए, 0 बदलेंगे; "
        "रोस्टर के 18 गाँवों के 30 लोगों को गाँव का केंद्र मिलेगा। अभी कुछ नहीं बदला।"
    )
    assert located(db) == 0
    [done] = handle(core, ADMIN, "हाँ")
    assert done.text.startswith("✅ villages_hardoi.csv: 18 गाँवों के केंद्र दर्ज हुए (18 नए, 0 बदले)")
    assert located(db) == 18


def located(engine: Engine) -> int:
    """Villages with a centre."""
    with Session(engine) as session:
        query = select(func.count()).select_from(Village).where(col(Village.lat).is_not(None))
        return int(session.exec(query).one())


def test_a_targets_file_is_imported_at_the_button(core: Fieldbot, district: Engine) -> None:
    targets = "level,district,block,sector,metric,daily,eligible\nblock,Hardoi,Sandila,,cards,120,5000\n"
    handle(core, VIVEK, document=targets.encode(), document_name="lakshya.csv")
    [done] = handle(core, VIVEK, IMPORT)
    assert done.text == "✅ lakshya.csv: लक्ष्य दर्ज हुए — 1 पंक्तियाँ: 1 नए, 0 बदले, 0 हटे।"
    with Session(district) as session:
        [row] = session.exec(select(UnitTarget)).all()
    assert (row.level, row.metric, row.daily, row.eligible) == ("block", "cards", 120, 5000)


def test_on_telegram_the_button_imports_and_a_second_press_is_closed(
    polling: FakeTelegramAPI, district: Engine
) -> None:
    from tests.e2e.test_official import VIVEK_PHONE, VIVEK_TG, link
    from tests.e2e.test_official import send_file as send_tg

    total, active = people(district)
    link(polling, VIVEK_TG, VIVEK_PHONE)
    send_tg(polling, VIVEK_TG, HARDOI_ROSTER.encode(), "asha_list.csv")
    sent = polling.wait_for("sendMessage", 3)[-1]
    assert sent.params["text"].startswith("📋 asha_list.csv: रोस्टर जाँचा, हर पंक्ति सही है — 4 लोग")
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [IMPORT, CANCEL]
    assert people(district) == (total, active)
    message_id = polling.last_message_id(sent.params["text"])
    press = keyboard[0][0]["callback_data"]
    polling.push_update(callback_query_update(press, user_id=VIVEK_TG, message_id=message_id))
    done = polling.wait_for("sendMessage", 4)[-1].params["text"]
    assert done == "✅ asha_list.csv: रोस्टर दर्ज हुआ — 4 लोग: 2 नए, 2 बदले, 1 निष्क्रिय।"
    assert polling.markup_of(VIVEK_TG, message_id) is None
    assert people(district) == (total + 2, active + 1)
    polling.push_update(callback_query_update(press, user_id=VIVEK_TG, message_id=message_id))
    assert "खुला नहीं" in polling.wait_for("sendMessage", 5)[-1].params["text"]
    assert len(polling.wait_for("answerCallbackQuery", 2)) == 2
    assert people(district) == (total + 2, active + 1)


def test_the_simulator_shows_the_buttons_and_a_label_answers(core: Fieldbot, district: Engine) -> None:
    from bot.web import create_app
    from tests.fakes.live import serving

    total, active = people(district)
    body = {
        "phone": VIVEK,
        "document_base64": base64.b64encode(HARDOI_ROSTER.encode()).decode(),
        "document_name": "asha_list.csv",
    }
    with serving(create_app(core)) as url:
        [asked] = httpx.post(f"{url}/simulator/messages", json=body, timeout=10).json()["replies"]
        assert asked["buttons"] == [IMPORT, CANCEL]
        answer = {"phone": VIVEK, "text": IMPORT}
        [done] = httpx.post(f"{url}/simulator/messages", json=answer, timeout=10).json()["replies"]
    assert done["text"].startswith("✅ asha_list.csv: रोस्टर दर्ज हुआ")
    assert people(district) == (total + 2, active + 1)


def test_on_whatsapp_the_buttons_are_numbered_lines_answered_by_number(
    app: str, twilio_api: FakeTwilioAPI, wa_core: Fieldbot, district: Engine
) -> None:
    total, active = people(district)
    url = twilio_api.add_media(HARDOI_ROSTER.encode(), "text/csv")
    asked = wa.say(twilio_api, "+919266836880", media=[(url, "text/csv")], message_type="document")
    assert asked.splitlines()[-2:] == [f"1. {IMPORT}", f"2. {CANCEL}"]
    done = wa.say(twilio_api, "+919266836880", "1")
    assert done == "✅ file.csv: रोस्टर दर्ज हुआ — 4 लोग: 2 नए, 2 बदले, 1 निष्क्रिय।"
    assert people(district) == (total + 2, active + 1) and kept(wa_core) == []


def test_bad_rows_are_explained_in_the_readers_language(chat: Chat, district: Engine) -> None:
    roster = "\n".join(
        [
            HEADER,
            ",9811122233,asha,Hardoi,Sandila,Sandila-1,Atwa,,true",
            "Lata Devi,12345,asha,Hardoi,Sandila,Sandila-1,Atwa,,true",
            "Meena Kumari,9811122255,आशा,Hardoi,Sandila,,Atwa,,true",
            "Rita Devi,9811122266,doctor,Hardoi,,,,,haan ji",
        ]
    )
    [answer] = send_file(chat, VIVEK, roster.encode(), "roster.csv")
    assert answer.splitlines()[1:] == [
        "पंक्ति 2: नाम खाली है",
        "पंक्ति 3: मोबाइल नंबर '12345' में 10 अंक नहीं हैं",
        "पंक्ति 4: सेक्टर खाली है (आशा के लिए ज़रूरी है)",
        "पंक्ति 5: पद 'doctor' समझ नहीं आया — आशा, एएनएम, सुपरवाइज़र, बीएमओ, जिला अधिकारी या एडमिन लिखें",
        "पंक्ति 5: active 'haan ji' समझ नहीं आया — हाँ या नहीं (true या false) लिखें",
    ]
    chat.say(VIVEK, "/lang en")
    [answer] = send_file(chat, VIVEK, roster.encode(), "roster.csv")
    assert answer.splitlines()[:3] == [
        "❌ roster.csv: 5 problem(s) — nothing was imported. Fix them and send the file again:",
        "row 2: name is empty",
        "row 3: phone '12345' does not have 10 digits after the country code",
    ]


def test_help_tells_officers_who_may_send_files_about_them(chat: Chat) -> None:
    assert "📄 रोस्टर, गाँवों या लक्ष्यों की फ़ाइल" in chat.say(VIVEK, "/help")
    assert "📄" not in chat.say("8124645116", "/help")  # a BMO may not send them

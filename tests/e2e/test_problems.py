"""Problems as people meet them: a worker tells of one in words (with her report beside it), her
supervisor's digest names it, the BMO's and district's count it, the code's recipients hear of it
once, an officer resolves it and the worker is told; the CSV and `status --json` show it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from bot.digests import bmo_digests, district_digests, supervisor_digests
from bot.i18n import t
from models import Outbox, Person, Problem, ProblemChange, ReportValue
from scheduler import run_job
from tests.conftest import NASREEN, RAJESH, SUNITA, USHA, VIVEK, Chat, at, child_url

GEETA = "6705414926"  # ASHA, Sandila-2
POOJA = "9769757560"  # ASHA, Sandila-2; reads English
MEENA = "9723569578"  # ASHA, Sandila-1
FIELDBOT = Path(sys.executable).parent / "fieldbot"


def problems(engine: Engine) -> list[Problem]:
    with Session(engine) as session:
        return list(session.exec(select(Problem).order_by(col(Problem.id))).all())


def person(engine: Engine, phone: str) -> Person:
    digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
    with Session(engine) as session:
        return session.exec(select(Person).where(col(Person.phone).endswith(digits))).one()


def cards(engine: Engine, phone: str) -> int | None:
    who = person(engine, phone)
    with Session(engine) as session:
        from models import DailyReport

        row = session.exec(
            select(ReportValue.value)
            .join(DailyReport, col(DailyReport.id) == col(ReportValue.report_id))
            .where(DailyReport.person_id == who.id, ReportValue.metric == "cards")
        ).first()
    return row


def test_a_problem_in_words_is_matched_to_its_code_and_kept_open(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद है")
    assert "समस्या दर्ज हुई" in reply and "ऑपरेटर आईडी बंद" in reply
    reply = chat.say(GEETA, "server down")
    assert "सर्वर डाउन" in reply
    found = problems(district)
    assert [(p.code, p.text, p.status) for p in found] == [
        ("operator_id_inactive", "ऑपरेटर आईडी बंद है", "open"),
        ("server_down", "server down", "open"),
    ]
    sunita = person(district, SUNITA)
    assert found[0].person_id == sunita.id and found[0].sector_id == sunita.sector_id
    assert found[0].day == dt.date(2026, 11, 23)
    with Session(district) as session:
        audit = session.exec(select(ProblemChange).order_by(col(ProblemChange.id))).all()
    assert [(a.problem_id, a.action, a.person_id) for a in audit] == [
        (found[0].id, "reported", sunita.id),
        (found[1].id, "reported", person(district, GEETA).id),
    ]
    # Told again the next day: the same problem, still open since the first day.
    again = chat.say(SUNITA, "समस्या operator id band", when=at(24, 10))
    assert f"#{found[0].id}" in again and "पहले से दर्ज" in again
    assert len(problems(district)) == 2


def test_other_keeps_her_words_and_english_readers_get_english(chat: Chat, district: Engine) -> None:
    assert "अन्य: गाड़ी नहीं मिली" in chat.say(SUNITA, "समस्या: गाड़ी नहीं मिली")
    reply = chat.say(POOJA, "/problem the camp room was locked")
    assert "Problem saved" in reply and "Other: the camp room was locked" in reply
    assert [(p.code, p.text) for p in problems(district)] == [
        ("other", "गाड़ी नहीं मिली"),
        ("other", "the camp room was locked"),
    ]


def test_a_report_and_a_problem_in_one_message(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "आवेदन 25 कार्ड 20 समस्या सर्वर डाउन")
    assert "कार्ड: 20" in reply and "सर्वर डाउन" in reply
    reply = chat.say(GEETA, "समस्या आधार otp नहीं आ रहा\nआवेदन 12 कार्ड 10")
    assert "कार्ड: 10" in reply and "आधार मेल नहीं" in reply
    reply = chat.say(MEENA, "कार्ड 8 घर 30 लाभार्थी घर पर नहीं मिले")
    assert "कार्ड: 8" in reply and "लाभार्थी घर पर नहीं" in reply
    assert (cards(district, SUNITA), cards(district, GEETA), cards(district, MEENA)) == (20, 10, 8)
    assert [p.code for p in problems(district)] == [
        "server_down",
        "aadhaar_mismatch",
        "beneficiaries_away",
    ]
    # All is well: the report counts, no problem is stored.
    reply = chat.say(POOJA, "apps 5 cards 4 koi samasya nahi")
    assert cards(district, POOJA) == 4 and len(problems(district)) == 3


def test_a_refused_report_does_not_lose_the_problem(chat: Chat, district: Engine) -> None:
    reply = chat.say(SUNITA, "कार्ड 5000 समस्या सर्वर डाउन")
    assert "समस्या दर्ज हुई" in reply and "रिपोर्ट दर्ज नहीं हुई" in reply
    assert cards(district, SUNITA) is None
    assert [p.code for p in problems(district)] == ["server_down"]


def ask(core: Fieldbot, phone: str, text: str) -> list[Reply]:
    inbound = Inbound(
        channel="simulator",
        dedup_key=f"test:{uuid.uuid4().hex}",
        sent_at=at(23),
        chat_id=phone,
        phone=phone,
        text=text,
    )
    return core.handle(inbound)


def test_samasya_alone_is_a_menu_answered_by_number_or_label(
    core: Fieldbot, chat: Chat, district: Engine
) -> None:
    (menu,) = ask(core, SUNITA, "/samasya")
    assert menu.buttons[0] == "ऑपरेटर आईडी बंद" and menu.buttons[-1] == "अन्य"
    assert len(menu.buttons) == 7 and menu.question is not None
    assert "सर्वर डाउन" in chat.say(SUNITA, "2")
    (menu,) = ask(core, POOJA, "problem")
    assert menu.buttons[2] == "Samagra data mismatch"
    assert "Problem saved" in chat.say(POOJA, "No network")
    (menu,) = ask(core, MEENA, "समस्या")
    assert "लिखकर भेजें" in chat.say(MEENA, "7")  # other: her words are asked for
    assert "समस्या दर्ज" in chat.say(MEENA, "समस्या 3")  # without a menu open, by its number
    assert [p.code for p in problems(district)] == ["server_down", "no_network", "samagra_mismatch"]
    # Any other message drops the menu: a later "2" is not a problem.
    ask(core, GEETA, "/samasya")
    chat.say(GEETA, "कार्ड 5")
    assert "समस्या दर्ज" not in chat.say(GEETA, "2")  # read as a report of bare numbers
    assert len(problems(district)) == 3


def test_an_officers_list_has_buttons_that_resolve(core: Fieldbot, chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद")
    chat.say(GEETA, "समस्या सर्वर डाउन")
    (listed,) = ask(core, RAJESH, "/samasya")
    first, second = problems(district)
    assert listed.buttons == (f"✅ हल: #{first.id} Sunita Devi", f"✅ हल: #{second.id} Geeta Rajput")
    replies = ask(core, RAJESH, "2")
    assert "हल दर्ज (1)" in replies[0].text and "Geeta" in replies[0].text
    assert replies[1].buttons == (f"✅ हल: #{first.id} Sunita Devi",)  # the list again, shorter
    assert [p.status for p in problems(district)] == ["open", "resolved"]


def test_officers_list_in_scope_and_resolve_and_the_worker_is_told(chat: Chat, district: Engine) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(21, 10))
    chat.say(GEETA, "समस्या सर्वर डाउन")
    chat.say(POOJA, "problem server down")
    sunita_problem, geeta_problem, pooja_problem = problems(district)

    listed = chat.say(RAJESH, "/samasya")
    assert "खुली समस्याएँ: 3" in listed
    assert f"#{sunita_problem.id} Sunita" in listed and "21/11 से (2 दिन)" in listed
    assert "सर्वर डाउन (2)" in listed
    assert "कोई खुली समस्या नहीं" in chat.say(NASREEN, "समस्या")  # BMO of Bilgram: none of hers
    assert "कोई खुली समस्या नहीं" in chat.say(RAJESH, "/samasya server_down Sandila-1")
    assert "Geeta" in chat.say(RAJESH, "/samasya server_down Sandila-2")

    # Another block's BMO cannot resolve it; a worker cannot either.
    assert "नहीं मिलीं" in chat.say(NASREEN, f"/hal {sunita_problem.id}")
    assert "सुपरवाइज़र या अधिकारी" in chat.say(SUNITA, f"/hal {sunita_problem.id}")

    done = chat.say(USHA, f"/hal {sunita_problem.id} आईडी फिर चालू")
    assert "हल दर्ज (1)" in done
    done = chat.say(RAJESH, "/hal server_down Sandila सर्वर ठीक")
    assert "हल दर्ज (2)" in done and "Pooja" in done
    assert {p.status for p in problems(district)} == {"resolved"}
    resolved = problems(district)[0]
    assert resolved.note == "आईडी फिर चालू" and resolved.resolved_by == person(district, USHA).id

    with Session(district) as session:
        notices = session.exec(
            select(Outbox).where(Outbox.job == "problem_resolved").order_by(col(Outbox.id))
        ).all()
        audit = session.exec(
            select(ProblemChange.action).where(ProblemChange.problem_id == sunita_problem.id)
        ).all()
    assert list(audit) == ["reported", "resolved"]
    assert [n.person_id for n in notices] == [
        sunita_problem.person_id,
        geeta_problem.person_id,
        pooja_problem.person_id,
    ]
    assert "ऑपरेटर आईडी बंद" in notices[0].text and "आईडी फिर चालू" in notices[0].text
    assert "has been resolved" in notices[2].text  # Pooja reads English
    assert "कोई खुली समस्या नहीं" in chat.say(RAJESH, "/samasya")
    assert "नहीं मिलीं" in chat.say(RAJESH, f"/hal {sunita_problem.id}")  # already resolved


def test_digests_name_count_and_escalate(chat: Chat, district: Engine, settings: Settings) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(18, 10))  # open for 5 days by the 23rd
    chat.say(GEETA, "समस्या ऑपरेटर आईडी बंद")
    chat.say(POOJA, "problem operator id")
    chat.say(MEENA, "समस्या: कैंप का कमरा बंद था")
    day = dt.date(2026, 11, 23)
    with Session(district) as session:
        sup = {m.person.name: m.text for m in supervisor_digests(session, settings, day)}
        bmo = {m.person.name: m.text for m in bmo_digests(session, settings, day)}
        dist = {m.person.name: m.text for m in district_digests(session, settings, day)}
    usha = sup["Usha Srivastava"]
    assert "आज की समस्याएँ (2):\n• ऑपरेटर आईडी बंद: Geeta Rajput, Pooja Shukla" in usha
    assert "आज की समस्याएँ (1):\n• अन्य: Meena Kumari (कैंप का कमरा बंद था)" in usha
    assert "पहले से खुली समस्याएँ: 1" in usha  # Sunita's, from the 18th
    rajesh = bmo["Dr. Rajesh Kumar Singh"]
    assert "• ऑपरेटर आईडी बंद: 3 आशा, 2 सेक्टर (आज 2 नई)" in rajesh
    assert "3 दिन से ज़्यादा खुली" in rajesh and "Sunita Devi (Sandila-1)" in rajesh
    assert "खुली समस्याएँ" not in bmo["Dr. Nasreen Fatima"]
    vivek = dist["Vivek Tripathi"]
    assert "• ऑपरेटर आईडी बंद: 3 आशा, 1 ब्लॉक" in vivek
    assert "दिन से ज़्यादा खुली" not in vivek  # 5 days is not past the district's 7


def test_each_code_recipients_hear_once_a_day(chat: Chat, district: Engine, settings: Settings) -> None:
    data = settings.model_dump(exclude={"base_dir"})
    it_manager = "+919811122233"  # not on the roster
    for code in data["problems"]["codes"]:
        if code["key"] == "operator_id_inactive":
            code["notify"] = {
                "roles": ["district_officer"],
                "phones": [],
                "district_phones": {"Hardoi": [it_manager]},
            }
        elif code["key"] == "server_down":
            code["notify"] = {"roles": ["bmo"], "phones": [], "district_phones": {}}
    cfg = Settings.model_validate({**data, "base_dir": settings.base_dir})
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद")
    chat.say(GEETA, "समस्या सर्वर डाउन")
    chat.say(MEENA, "समस्या नेटवर्क नहीं")  # no one is named for it
    assert run_job(district, cfg, "problem_notice", at(23, 17, 30)) == 3
    with Session(district) as session:
        rows = session.exec(select(Outbox).where(Outbox.job == "problem_notice")).all()
    by_who = {(r.person_id, r.address): r.text for r in rows}
    vivek, rajesh = person(district, VIVEK), person(district, RAJESH)
    assert "Sunita" in by_who[(vivek.id, vivek.phone)] and "Geeta" not in by_who[(vivek.id, vivek.phone)]
    assert "Geeta" in by_who[(rajesh.id, rajesh.phone)]
    assert "Sunita" in by_who[(None, it_manager)] and "79733 21377" in by_who[(None, it_manager)]
    # The next day only what is new since.
    chat.say(POOJA, "problem server down", when=at(24, 10))
    assert run_job(district, cfg, "problem_notice", at(24, 17, 30)) == 1
    with Session(district) as session:
        latest = session.exec(
            select(Outbox).where(Outbox.job == "problem_notice", Outbox.day == dt.date(2026, 11, 24))
        ).one()
    assert latest.person_id == rajesh.id and "Pooja" in latest.text and "Geeta" not in latest.text


def _config(tmp_path: Path, engine: Engine, settings: Settings) -> Path:
    data = settings.model_dump(mode="json", exclude={"base_dir"})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cli(engine: Engine, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "FIELDBOT_"))
    }
    env["FIELDBOT_DATABASE_URL"] = child_url(engine)
    return subprocess.run(
        [str(FIELDBOT), "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_problems_csv_and_status_json(
    core: Fieldbot, district: Engine, settings: Settings, tmp_path: Path
) -> None:
    chat = Chat(core)
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(22, 10, 5))
    chat.say(GEETA, "समस्या: गाड़ी नहीं मिली, कैंप देर से")
    chat.say(POOJA, "problem no network", when=at(20, 9))
    number = problems(district)[0].id
    chat.say(RAJESH, f"/hal {number} नई आईडी दी")
    config = _config(tmp_path, district, settings)
    out = tmp_path / "problems.csv"
    done = _cli(
        district, config, "problems", "--from", "2026-11-21", "--to", "2026-11-23", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 2 problems (1 still open)" in done.stdout
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == [
        "date", "time", "district", "block", "sector", "worker", "phone", "code", "text",
        "status", "resolved_by", "resolved_at", "note",
    ]  # fmt: skip
    assert rows[1][:10] == [
        "2026-11-22", "10:05", "Hardoi", "Sandila", "Sandila-1", "Sunita Devi", "'+917973321377",
        "operator_id_inactive", "ऑपरेटर आईडी बंद", "resolved",
    ]  # fmt: skip
    assert rows[1][10] == "Dr. Rajesh Kumar Singh" and rows[1][12] == "नई आईडी दी"
    assert rows[2][7:10] == ["other", "गाड़ी नहीं मिली, कैंप देर से", "open"]
    assert rows[2][10:] == ["", "", ""]

    status = _cli(district, config, "status", "Sandila", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["problems_open"] == 2  # Geeta's and Pooja's
    status = _cli(district, config, "status", "Bilgram", "--json")
    assert json.loads(status.stdout)["problems_open"] == 0
    bad = _cli(
        district, config, "problems", "--from", "2026-11-23", "--to", "2026-11-21", "--out", str(out)
    )
    assert bad.returncode == 2 and "--to is before --from" in bad.stderr


def test_help_tells_of_problems(chat: Chat) -> None:
    assert t("hi", "help_problems_worker") in chat.say(SUNITA, "/help")
    assert t("hi", "help_problems_officer") in chat.say(RAJESH, "/help")


@pytest.mark.parametrize("text", ["समस्या ", "problem"])
def test_an_officer_writing_the_word_gets_the_list(chat: Chat, text: str) -> None:
    assert "कोई खुली समस्या नहीं" in chat.say(VIVEK, text)


def test_access_lists_her_problems_and_forget_erases_her_words(
    chat: Chat, district: Engine, settings: Settings, tmp_path: Path
) -> None:
    chat.say(SUNITA, "समस्या: सुनीता देवी का फ़ोन खराब, 97233 नंबर पर कॉल करें")
    chat.say(RAJESH, f"/hal {problems(district)[0].id} Sunita Devi को नया फ़ोन मिला")
    config = _config(tmp_path, district, settings)
    out = tmp_path / "access.json"
    done = _cli(district, config, "access", SUNITA, "--out", str(out))
    assert done.returncode == 0, done.stderr
    held = json.loads(out.read_text(encoding="utf-8"))
    assert [p["code"] for p in held["problems"]] == ["other"]
    assert "फ़ोन खराब" in held["problems"][0]["text"]
    done = _cli(district, config, "forget", SUNITA, "--yes")
    assert done.returncode == 0, done.stderr
    (problem,) = problems(district)
    assert (problem.code, problem.status, problem.text, problem.note) == ("other", "resolved", "", "")
    with Session(district) as session:
        notes = session.exec(select(ProblemChange.note)).all()
    assert set(notes) == {""}

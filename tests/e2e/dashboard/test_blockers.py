"""The unit pages' open problems and who is off today, over HTTP on SQLite and PostgreSQL: counted
as the digests count them, named at sector and block level, gone once resolved, only in scope,
without phone numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import main as cli_main
from bot.core.service import Fieldbot
from bot.store.db import session_scope
from bot.web import create_app
from models import Person, Problem
from tests.conftest import NASREEN, RAJESH, SUNITA, USHA, VIVEK, Chat, at, child_url
from tests.e2e.dashboard.common import client_for, sign_in
from tests.fakes.live import serving

GEETA = "6705414926"  # ASHA, Sandila-2
MEENA = "9723569578"  # ASHA, Sandila-1


@pytest.fixture()
def app(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def section(html: str, name: str) -> str:
    start = html.index(f'<section class="card" id="{name}">')
    return html[start : html.index("</section>", start)]


def open_problems(engine: Engine) -> list[Problem]:
    with Session(engine) as session:
        return list(
            session.exec(select(Problem).where(Problem.status == "open").order_by(col(Problem.id))).all()
        )


def test_a_problem_shows_on_her_sector_and_block_and_goes_once_resolved(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(19, 10))
    chat.say(GEETA, "समस्या ऑपरेटर आईडी बंद", when=at(23, 9))
    chat.say(MEENA, "समस्या: गाड़ी नहीं मिली", when=at(23, 10))
    bmo = client_for(app)
    sign_in(bmo, core, RAJESH)
    block = section(bmo.get("/dashboard/Hardoi/Sandila").text, "problems")
    assert "खुली समस्याएँ — 3" in block
    operator = block[block.index("ऑपरेटर आईडी बंद") :]
    assert operator.startswith("ऑपरेटर आईडी बंद</span> <span>2 आशा, 2 सेक्टर")
    assert "अन्य</span> <span>1 आशा, 1 सेक्टर" in block
    # Sunita's has waited four days, past the three after which it is escalated.
    assert "🔺 3 दिन से ज़्यादा खुली: 1" in operator.split("</li>")[0]
    assert "Sunita Devi</b> · Sandila-1 · 19/11 · ऑपरेटर आईडी बंद" in block
    assert "🔺 4 दिन से खुली" in block
    assert "गाड़ी नहीं मिली" in block and "Geeta" in block
    assert not re.search(r"tel:|\d{5} \d{5}|7973321377|6705414926", block)

    sector = section(bmo.get("/dashboard/Hardoi/Sandila/Sandila-1").text, "problems")
    assert "खुली समस्याएँ — 2" in sector and "Geeta" not in sector
    assert "ऑपरेटर आईडी बंद</span> <span>1 आशा, 1 सेक्टर" in sector
    assert "Sunita Devi" in sector and "Meena" in sector

    # The district officer sees the counts by block, without names.
    officer = client_for(app)
    sign_in(officer, core, VIVEK)
    hardoi = section(officer.get("/dashboard/Hardoi").text, "problems")
    assert "ऑपरेटर आईडी बंद</span> <span>2 आशा, 1 ब्लॉक" in hardoi
    assert "Sunita" not in hardoi and "🔺" not in hardoi  # not yet past the district's seven days

    sunita = open_problems(district)[0]
    assert "हल दर्ज" in chat.say(USHA, f"/hal {sunita.id} आईडी फिर चालू")
    block = section(bmo.get("/dashboard/Hardoi/Sandila").text, "problems")
    assert "खुली समस्याएँ — 2" in block and "Sunita" not in block and "🔺" not in block
    assert "ऑपरेटर आईडी बंद</span> <span>1 आशा, 1 सेक्टर" in block
    for left in open_problems(district):
        chat.say(USHA, f"/hal {left.id}")
    sector = section(bmo.get("/dashboard/Hardoi/Sandila/Sandila-1").text, "problems")
    assert "कोई खुली समस्या नहीं" in sector and "Meena" not in sector


def test_another_blocks_officer_sees_neither_the_page_nor_its_problems(
    core: Fieldbot, app: str, chat: Chat
) -> None:
    chat.say(SUNITA, "समस्या सर्वर डाउन", when=at(23, 10))
    client = client_for(app)
    own = section(sign_in(client, core, NASREEN).text, "problems")  # BMO Bilgram
    assert "कोई खुली समस्या नहीं" in own and "Sunita" not in own
    for outside in ("/dashboard/Hardoi/Sandila", "/dashboard/Hardoi/Sandila/Sandila-1"):
        page = client.get(outside)
        assert page.status_code == 404 and "Sunita" not in page.text and "सर्वर डाउन" not in page.text


def test_leave_by_name_in_the_sector_and_as_a_count_in_the_district(
    core: Fieldbot, app: str, chat: Chat
) -> None:
    chat.say(SUNITA, "छुट्टी", at(23, 8))
    supervisor = client_for(app)
    sign_in(supervisor, core, USHA)
    sector = section(supervisor.get("/dashboard/Hardoi/Sandila/Sandila-1").text, "leave")
    assert "आज छुट्टी पर" in sector and "Sunita Devi" in sector
    other = section(supervisor.get("/dashboard/Hardoi/Sandila/Sandila-2").text, "leave")
    assert "आज कोई छुट्टी पर नहीं" in other and "Sunita" not in other
    officer = client_for(app)
    sign_in(officer, core, VIVEK)
    hardoi = section(officer.get("/dashboard/Hardoi").text, "leave")
    assert "आज छुट्टी पर — 1 आशा" in hardoi and "Sunita" not in hardoi


def test_todays_holiday_is_named(
    core: Fieldbot,
    app: str,
    district: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holidays = tmp_path / "holidays.csv"
    holidays.write_text("date,district,block,name\n2026-11-23,Hardoi,Sandila,गुरु नानक जयंती\n", "utf-8")
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", child_url(district))
    assert cli_main(["holidays", "import", str(holidays)]) == 0
    client = client_for(app)
    block = section(sign_in(client, core, RAJESH).text, "leave")
    assert "आज अवकाश है: गुरु नानक जयंती" in block
    officer = client_for(app)
    sign_in(officer, core, VIVEK)
    assert "गुरु नानक जयंती" not in section(officer.get("/dashboard/Hardoi").text, "leave")


def test_the_projector_shows_problems_and_leave_without_phone_numbers(
    core: Fieldbot, app: str, chat: Chat
) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(23, 9))
    chat.say(MEENA, "छुट्टी", at(23, 8))
    client = client_for(app)
    sign_in(client, core, USHA)
    projector = client.get("/dashboard/Hardoi/Sandila/Sandila-1?refresh=60").text
    assert "Sunita Devi</b>" in section(projector, "problems")
    assert "Meena" in section(projector, "leave")
    assert not re.search(r"tel:|\d{5} \d{5}|7973321377|9723569578", projector)


def test_an_officer_who_reads_english_gets_the_sections_in_english(
    core: Fieldbot, app: str, chat: Chat, district: Engine
) -> None:
    chat.say(SUNITA, "समस्या ऑपरेटर आईडी बंद", when=at(23, 9))
    with session_scope(district) as session:
        rajesh = session.exec(select(Person).where(col(Person.phone).endswith(RAJESH))).one()
        rajesh.language = "en"
        session.add(rajesh)
    client = client_for(app)
    page = sign_in(client, core, RAJESH).text
    problems = section(page, "problems")
    assert "Open problems — 1" in problems
    assert "Operator ID inactive</span> <span>workers: 1, sectors: 1" in problems
    assert "days open: 0" in problems and "23 Nov" in problems
    assert "Nobody is on leave today" in section(page, "leave")
    assert "खुली समस्याएँ" not in page

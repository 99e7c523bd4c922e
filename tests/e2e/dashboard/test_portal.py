"""The official portal's counts on the dashboard, over HTTP on SQLite and PostgreSQL: the chart's
second line where the portal has figures (none where it has not), and the portal file uploaded by a
district officer with the CLI's checks and row-numbered problems."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.service import Fieldbot
from bot.web import create_app
from models import OfficialCount
from tests.conftest import ADMIN, NASREEN, RAJESH, SUNITA, VIVEK, Chat, at
from tests.e2e.dashboard.common import client_for, csrf_of, sign_in
from tests.e2e.test_official import MESSY, load_portal_day, wide_xlsx
from tests.fakes.live import serving

POINT = re.compile(
    r'<circle class="portal-point" cx="([\d.]+)" cy="([\d.]+)" r="4" '
    r'data-day="([\d-]+)" data-value="(\d+)"><title>([^<]*)</title>'
)


@pytest.fixture()
def app(core: Fieldbot) -> Iterator[str]:
    with serving(create_app(core)) as url:
        yield url


def metric_chart(page: str) -> str:
    """The first chart of a unit page (the primary metric per day), as served."""
    charts = page[page.index('<section class="charts">') :]
    return charts[: charts.index("</svg>") + len("</svg>")]


def reported_chart(page: str) -> str:
    charts = page[page.index('<section class="charts">') :]
    first = charts.index("</svg>") + len("</svg>")
    return charts[first : charts.index("</svg>", first) + len("</svg>")]


def portal_points(svg: str) -> dict[str, tuple[int, float, str]]:
    """The portal line's points: day → (value, height on the chart, the point's label)."""
    return {day: (int(value), float(cy), label) for _, cy, day, value, label in POINT.findall(svg)}


def portal_card(page: str) -> str:
    """The figure beside the cards that gives the portal's count against the self-reported."""
    card = page[page.index('<div class="figure" id="portal">') :]
    return card[: card.index("</div></div>")]


def bar_top(svg: str, label: str) -> float:
    """The top edge of the bar whose tooltip starts with `label` (e.g. `23/11: 2,830`)."""
    found = re.search(r'<rect class="bar[^"]*" x="[\d.]+" y="([\d.]+)"[^>]*><title>' + label, svg)
    assert found, f"no bar {label}"
    return float(found.group(1))


# ---------------------------------------------------------------- the chart's second line


def test_the_chart_draws_the_portal_count_as_a_second_line(
    core: Fieldbot, app: str, chat: Chat, tmp_path: Path
) -> None:
    load_portal_day(chat, core.settings, tmp_path)  # Sandila: 2,830 said, 2,681 on the portal
    client = client_for(app)
    svg = metric_chart(sign_in(client, core, RAJESH).text)  # BMO Sandila, today
    points = portal_points(svg)
    assert list(points) == ["2026-11-23"]  # the one day the portal has a figure for
    value, height, label = points["2026-11-23"]
    assert (value, label) == (2681, "23/11: पोर्टल 2,681")
    # On the bars' scale: the portal's 2,681 sits a little below the top of the 2,830 bar.
    assert bar_top(svg, "23/11: 2,830") < height < bar_top(svg, "23/11: 2,830") + 20
    legend = svg[svg.index('<g class="legend">') :]
    assert "कार्ड (स्व-रिपोर्ट)" in legend and ">पोर्टल</text>" in legend
    assert "रोज़ का लक्ष्य" in legend  # the daily target's line is named there too
    assert "portal" not in reported_chart(client.get("/dashboard").text)
    # Beside the figures, the portal's line as /status gives it.
    [line] = [x for x in chat.say(RAJESH, "/status", at(23, 19)).splitlines() if "पोर्टल" in x]
    assert line == "पोर्टल: 2,681 · स्व-रिपोर्ट 2,830 (+5.6%)"
    assert line in portal_card(client.get("/dashboard").text)

    # The district over the week: Bilgram's 22nd and Sandila's 23rd, its blocks added up.
    officer = client_for(app)
    sign_in(officer, core, VIVEK)
    week_page = officer.get("/dashboard/Hardoi?period=week").text
    week = metric_chart(week_page)
    assert {day: value for day, (value, _, _) in portal_points(week).items()} == {
        "2026-11-22": 500,
        "2026-11-23": 2681,
    }
    assert "पोर्टल: 3,181 · स्व-रिपोर्ट 2,830 (-11.0%)" in portal_card(week_page)
    # Two days in a row: one stretch of line through both points.
    assert week.count('<polyline class="portal-line"') == 1
    bilgram = metric_chart(officer.get("/dashboard/Hardoi/Bilgram").text)
    assert {d: v for d, (v, _, _) in portal_points(bilgram).items()} == {"2026-11-22": 500}
    # The portal counts no sector: no second line there.
    sector_page = officer.get("/dashboard/Hardoi/Sandila/Sandila-1").text
    sector = metric_chart(sector_page)
    assert 'class="portal' not in sector and 'class="legend"' not in sector
    assert 'id="portal"' not in sector_page

    chat.say(RAJESH, "/lang en", at(23, 19))
    english = client_for(app)
    svg = metric_chart(sign_in(english, core, RAJESH).text)
    assert "cards (self-reported)" in svg and ">Portal</text>" in svg
    assert portal_points(svg)["2026-11-23"][2] == "23/11: Portal 2,681"


def test_without_portal_figures_the_chart_has_one_series(core: Fieldbot, app: str, chat: Chat) -> None:
    chat.say(SUNITA, "कार्ड 12", at(23, 12))
    client = client_for(app)
    for phone, path in ((VIVEK, "/dashboard/Hardoi?period=week"), (NASREEN, "/dashboard")):
        sign_in(client, core, phone)
        svg = metric_chart(client.get(path).text)
        assert "<rect" in svg and "portal" not in svg and 'class="legend"' not in svg
        assert 'class="goal-label"' in svg  # the daily target is named on its line instead
        assert 'id="portal"' not in client.get(path).text


# ---------------------------------------------------------------- the portal file uploaded


def upload(
    client: httpx.Client, page: str, name: str, data: bytes, action: str, **extra: str
) -> httpx.Response:
    return client.post(
        "/dashboard/-/upload",
        data={
            "csrf": csrf_of(page),
            "kind": "official",
            "action": action,
            "back": "/dashboard",
            **extra,
        },
        files={"file": (name, data, "application/octet-stream")},
    )


def stored(engine: Engine) -> list[tuple[str, str, int | None]]:
    with Session(engine) as session:
        rows = session.exec(select(OfficialCount)).all()
        return sorted((r.day.isoformat(), r.level, r.value) for r in rows)


def text_of(response: httpx.Response) -> str:
    return response.text.replace("&#39;", "'")


def test_a_district_officer_uploads_a_messy_portal_export(
    core: Fieldbot, app: str, district: Engine, tmp_path: Path
) -> None:
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    assert 'id="upload-official"' in page and 'name="skip_unknown"' in page
    # A real-looking export: extra columns, totals rows, names in other cases and in Hindi.
    messy = [
        [1, "HARDOI", " sandila ", "23/11/2026", "2,681", 3347, "CSC-12", "ok"],
        [2, "हरदोई", "बिलग्राम", "22/11/2026", 500, "600", "", "camp at CHC"],
        [3, "Hardoi", "Mallawan", "23/11/2026", 10, 12, "", ""],
        [4, "Hardoi", "Bilgram", "32/11/2026", 10, 12, "", ""],
        MESSY[3],  # a totals row
    ]
    bad = wide_xlsx(tmp_path, messy).read_bytes()
    answer = upload(client, page, "Ayushman_Hardoi.xlsx", bad, "import")
    assert answer.status_code == 422
    assert "कुछ भी दर्ज नहीं हुआ: Ayushman_Hardoi.xlsx में 2 दिक्कतें" in answer.text
    assert "पंक्ति 4: ब्लॉक 'Mallawan' जिला Hardoi में रोस्टर पर नहीं है" in text_of(answer)
    assert "पंक्ति 5: तारीख '32/11/2026' समझ नहीं आई" in text_of(answer)
    assert stored(district) == []

    fixed = wide_xlsx(tmp_path, [messy[0], messy[1], messy[4]], "fixed.xlsx").read_bytes()
    checked = upload(client, page, "fixed.xlsx", fixed, "check")
    assert checked.status_code == 200
    assert "fixed.xlsx: पोर्टल के 4 आँकड़े, हर पंक्ति सही है — इकाइयाँ: 2, दिन: 22/11, 23/11" in (checked.text)
    assert "कुल (total) की 1 पंक्तियाँ छोड़ी गईं।" in checked.text
    assert stored(district) == []  # checked only

    imported = upload(client, page, "fixed.xlsx", fixed, "import")
    assert "✅ fixed.xlsx: पोर्टल के 4 आँकड़े दर्ज हुए — इकाइयाँ: 2, दिन: 22/11, 23/11।" in imported.text
    assert stored(district) == [
        ("2026-11-22", "block", 500),
        ("2026-11-22", "block", 600),
        ("2026-11-23", "block", 2681),
        ("2026-11-23", "block", 3347),
    ]
    week = metric_chart(client.get("/dashboard/Hardoi?period=week").text)
    assert {d: v for d, (v, _, _) in portal_points(week).items()} == {
        "2026-11-22": 500,
        "2026-11-23": 2681,
    }
    # The same day again replaces it, and the page says so before and after.
    again = wide_xlsx(tmp_path, [[1, "Hardoi", "Sandila", "23/11/2026", 2700, 3400]], "b.xlsx")
    checked = upload(client, page, "b.xlsx", again.read_bytes(), "check")
    assert "दर्ज करने पर उन दिनों के पहले के 2 आँकड़े बदल जाएँगे।" in checked.text
    imported = upload(client, page, "b.xlsx", again.read_bytes(), "import")
    assert "उन दिनों के पहले के 2 आँकड़े बदल दिए गए।" in imported.text
    assert stored(district) == [  # the 22nd, not in the file, is left alone
        ("2026-11-22", "block", 500),
        ("2026-11-22", "block", 600),
        ("2026-11-23", "block", 2700),
        ("2026-11-23", "block", 3400),
    ]


def test_unknown_names_may_be_left_out_as_skip_unknown_does(
    core: Fieldbot, app: str, district: Engine
) -> None:
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    csv = (
        b"date,level,district,block,metric,value\n"
        b"2026-11-23,block,Hardoi,Sandila,cards,40\n"
        b"2026-11-23,block,Hardoi,Mallawan,cards,9\n"
    )
    assert upload(client, page, "p.csv", csv, "import").status_code == 422
    assert stored(district) == []
    answer = upload(client, page, "p.csv", csv, "import", skip_unknown="1")
    assert answer.status_code == 200
    assert "✅ p.csv: पोर्टल के 1 आँकड़े दर्ज हुए" in answer.text
    notes = text_of(answer)[text_of(answer).index('class="notes"') :]
    assert "अनजान नाम वाली 1 पंक्तियाँ छोड़ी गईं:" in notes
    assert "पंक्ति 3: ब्लॉक 'Mallawan' जिला Hardoi में रोस्टर पर नहीं है" in notes
    assert stored(district) == [("2026-11-23", "block", 40)]


def test_the_portal_upload_is_for_officers_of_the_district_only(
    core: Fieldbot, app: str, district: Engine
) -> None:
    csv = b"date,level,district,block,metric,value\n2026-11-23,block,Hardoi,Sandila,cards,40\n"
    bmo = client_for(app)
    page = sign_in(bmo, core, RAJESH).text
    assert 'id="upload-official"' not in page
    assert upload(bmo, page, "p.csv", csv, "import").status_code == 404
    # The admin brings a second district onto the roster, from the dashboard too.
    admin = client_for(app)
    page = sign_in(admin, core, ADMIN).text
    roster = (
        b"name,phone,role,district,block,sector,village,lat,lon,language\n"
        b"Nayi Asha,9811122233,asha,Sultanpur,Kadipur,K-1,Gaon,26.2,82.1,hi\n"
    )
    answer = admin.post(
        "/dashboard/-/upload",
        data={"csrf": csrf_of(page), "kind": "roster", "action": "import", "back": "/dashboard"},
        files={"file": ("r.csv", roster, "text/csv")},
    )
    assert "1 लोग दर्ज: 1 नए" in answer.text
    officer = client_for(app)
    page = sign_in(officer, core, VIVEK).text
    both = csv + b"2026-11-23,block,Sultanpur,Kadipur,cards,5\n"
    answer = upload(officer, page, "p.csv", both, "import")
    assert "पंक्ति 3: Sultanpur/Kadipur आपके क्षेत्र (Hardoi) में नहीं है" in answer.text
    assert stored(district) == []
    # The admin imports the whole state's file.
    assert (
        "✅ p.csv: पोर्टल के 2 आँकड़े दर्ज हुए" in upload(admin, page_of(admin), "p.csv", both, "import").text
    )
    assert stored(district) == [("2026-11-23", "block", 5), ("2026-11-23", "block", 40)]


def page_of(client: httpx.Client) -> str:
    return client.get("/dashboard").text


def test_a_portal_file_over_the_chat_limit_is_refused_unread(
    core: Fieldbot, app: str, district: Engine
) -> None:
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    limit = int(core.settings.official.max_file_mb * 1024 * 1024)
    header = b"date,level,district,block,metric,value\n"
    big = header + b"2026-11-23,block,Hardoi,Sandila,cards,40\n" * (limit // 40)
    assert len(big) > limit
    answer = upload(client, page, "p.csv", big, "import")
    assert answer.status_code == 413 and "फ़ाइल बहुत बड़ी है (5 MB तक)।" in answer.text
    assert stored(district) == []


def test_a_district_roster_larger_than_a_form_is_read(core: Fieldbot, app: str) -> None:
    """A district's roster runs to hundreds of kilobytes: the page takes it (and answers about it)."""
    client = client_for(app)
    page = sign_in(client, core, VIVEK).text
    lines = [b"name,phone,role,district,block,sector,village,lat,lon,language"]
    lines += [
        f"Asha {n},98111{n:05d},asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi".encode()
        for n in range(1500)
    ]
    roster = b"\n".join(lines) + b"\n"
    assert len(roster) > 100 * 1024
    answer = client.post(
        "/dashboard/-/upload",
        data={"csrf": csrf_of(page), "kind": "roster", "action": "check", "back": "/dashboard"},
        files={"file": ("roster.csv", roster, "text/csv")},
    )
    assert answer.status_code == 200
    assert "roster.csv: 1500 लोग, हर पंक्ति सही है (सिर्फ़ जाँच: कुछ दर्ज नहीं हुआ)" in answer.text

"""The official portal's counts as the district office releases them: a messy wide export or the
long form, every bad row listed, nothing imported if one is bad, a day imported again replaced,
and the gap between what workers said and what the portal counted shown everywhere."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_core
from bot.cli import main
from bot.config import Settings
from bot.core.service import Fieldbot
from bot.official.counts import import_official, official_series
from bot.official.read import OfficialInvalid
from bot.roster.apply import import_roster
from bot.store.db import session_scope
from bot.store.units import resolve_units
from models import OfficialCount
from tests.conftest import (
    NASREEN,
    RAJESH,
    SUNITA_TG,
    USHA,
    VIVEK,
    Chat,
    at,
    child_url,
    greet_everyone,
    link_sunita,
    load_once,
)
from tests.e2e.test_telegram_presence import GROUP, wait_texts
from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    contact_update,
    document_update,
    text_update,
)
from tests.small_state import load_reports, load_small_state, nov, small_settings

TODAY = dt.date(2026, 11, 30)
ALIASES = {"हरदोई": "Hardoi", "संडीला": "Sandila", "Bilgram CHC": "Bilgram"}
LONG = "date,level,district,block,metric,value"


@pytest.fixture()
def state(db: Engine, tmp_path: Path) -> Engine:
    load_once(db, "small_state", lambda: load_small_state(db, tmp_path))
    return db


def portal_settings(base: Settings, **official: object) -> Settings:
    return small_settings(base, official={"aliases": ALIASES, **official})


@pytest.fixture()
def cfg(base_settings: Settings) -> Settings:
    return portal_settings(base_settings)


def wide_xlsx(folder: Path, rows: list[list[object]], name: str = "portal.xlsx") -> Path:
    """A portal report as the district office exports it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["S.No.", "District Name", "Block Name", "Report Date", "Cards Approved",
         "Beneficiaries Verified", "Operator", "Remarks"]
    )  # fmt: skip
    for row in rows:
        sheet.append(row)
    path = folder / name
    book.save(path)
    return path


def write(folder: Path, *lines: str, header: str = LONG, name: str = "portal.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def load(engine: Engine, cfg: Settings, path: Path, **kwargs: bool) -> object:
    with session_scope(engine) as session:
        return import_official(session=session, settings=cfg, path=path, today=TODAY, **kwargs)


def problems(engine: Engine, cfg: Settings, path: Path, **kwargs: bool) -> list[str]:
    with pytest.raises(OfficialInvalid) as caught:
        load(engine, cfg, path, **kwargs)
    return [str(p) for p in caught.value.problems]


def series(engine: Engine, cfg: Settings, unit: str, metric: str = "cards") -> dict[int, int]:
    with Session(engine) as session:
        found = resolve_units(session, unit, cfg.state)[0]
        days = official_series(session=session, unit=found, start=nov(1), end=nov(30), metric=metric)
    assert days is not None
    return {day.day: value for day, value in sorted(days.items())}


def stored(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(OfficialCount)).all())


MESSY = [
    [1, "HARDOI", " sandila ", "24/11/2026", "1,234", 1500, "CSC-12", "ok"],
    [2, "हरदोई", "Bilgram CHC", dt.datetime(2026, 11, 24), 800, "900", "", ""],
    [3, "hardoi", None, "2026-11-24", 2681, 3347, "", "district as released"],
    ["Total", None, None, None, 4715, 5747, None, None],
    [4, "Sultanpur ", "KADIPUR", "24/11/2026", 50, None, "", "verification pending"],
    [None, "कुल योग", None, None, 4765, 5747, None, None],
]


def test_a_messy_wide_portal_export_is_read_as_released(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    summary = load(state, cfg, wide_xlsx(tmp_path, MESSY))
    assert summary.totals_skipped == 2  # type: ignore[attr-defined]
    assert series(state, cfg, "Hardoi") == {24: 2681}  # its own row, not its blocks added up
    assert series(state, cfg, "Hardoi", "applications") == {24: 3347}
    assert series(state, cfg, "Hardoi/Sandila") == {24: 1234}
    assert series(state, cfg, "Hardoi/Bilgram", "applications") == {24: 900}
    assert series(state, cfg, "Sultanpur") == {24: 50}  # no district row: its blocks added up
    assert series(state, cfg, "Sultanpur", "applications") == {}  # an empty cell is no figure
    assert stored(state) == 7


def test_the_long_form_in_any_grouping_and_metric_name(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        '2026-11-23,district,Hardoi,,cards,"1,23,456"',
        "23/11/2026,Block,hardoi,SANDILA,कार्ड,40",
        "23/11/2026,block,Hardoi,Bilgram,applications,55",
        "24/11/2026,block,Hardoi,Bilgram,Cards Approved,7",
    )
    load(state, cfg, path)
    assert series(state, cfg, "Hardoi") == {23: 123456, 24: 7}
    assert series(state, cfg, "Hardoi/Sandila") == {23: 40}
    with Session(state) as session:
        state_unit = resolve_units(session, "Uttar Pradesh", cfg.state)
    assert state_unit  # the state adds up its districts
    assert series(state, cfg, "Uttar Pradesh") == {23: 123456, 24: 7}


def test_a_bad_file_lists_every_bad_row_and_imports_nothing(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "2026-11-23,district,Hardoi,,cards,100",
        "31/11/2026,district,Hardoi,,cards,100",
        "2026-12-05,district,Hardoi,,cards,100",
        "2026-11-23,tehsil,Hardoi,,cards,100",
        "2026-11-23,block,Hardoi,Sandila,laddoos,12",
        "2026-11-23,block,Hardoi,Sandila,cards,-4",
        "2026-11-23,block,Hardoi,Sandila,applications,twelve",
        "2026-11-23,block,Lucknow,Sandila,cards,1",
        "2026-11-23,block,Hardoi,Mallawan,cards,1",
        "2026-11-23,district,Hardoi,,cards,200",
    )
    assert problems(state, cfg, path) == [
        "row 3: date '31/11/2026' is not a date like 2026-11-24 or 24/11/2026",
        "row 4: date 2026-12-05 is in the future",
        "row 5: level 'tehsil' is not district or block",
        "row 6: metric 'laddoos' is not a configured metric "
        "(applications, cards, households, elderly_cards, rejected)",
        "row 7: value '-4' is negative",
        "row 8: value 'twelve' is not a whole number",
        "row 9: no district 'Lucknow' on the roster (another spelling? add it to official.aliases)",
        "row 10: no block 'Mallawan' in district Hardoi on the roster "
        "(another spelling? add it to official.aliases)",
        "row 11: Hardoi cards is already given in row 2",
    ]
    assert stored(state) == 0


def test_unknown_names_are_listed_and_skip_unknown_imports_the_rest(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "2026-11-23,block,Hardoi,Sandila,cards,40",
        "2026-11-23,block,Hardoi,Mallawan,cards,9",
        "2026-11-23,district,Lakhimpur,,cards,9",
    )
    assert len(problems(state, cfg, path)) == 2 and stored(state) == 0
    summary = load(state, cfg, path, skip_unknown=True)
    assert [str(p) for p in summary.unknown_skipped] == [  # type: ignore[attr-defined]
        "row 3: no block 'Mallawan' in district Hardoi on the roster "
        "(another spelling? add it to official.aliases)",
        "row 4: no district 'Lakhimpur' on the roster (another spelling? add it to official.aliases)",
    ]
    assert series(state, cfg, "Hardoi/Sandila") == {23: 40} and stored(state) == 1


def test_importing_a_day_again_replaces_that_day_of_its_districts(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    load(
        state,
        cfg,
        write(
            tmp_path,
            "2026-11-23,block,Hardoi,Sandila,cards,40",
            "2026-11-23,block,Hardoi,Bilgram,cards,30",
            "2026-11-24,block,Hardoi,Sandila,cards,41",
            "2026-11-23,block,Sultanpur,Kadipur,cards,5",
        ),
    )
    corrected = write(tmp_path, "2026-11-23,block,Hardoi,Sandila,cards,45", name="again.csv")
    summary = load(state, cfg, corrected)
    assert summary.replaced == 2  # type: ignore[attr-defined]
    assert series(state, cfg, "Hardoi/Sandila") == {23: 45, 24: 41}
    assert series(state, cfg, "Hardoi/Bilgram") == {}  # the corrected day has no Bilgram row
    assert series(state, cfg, "Sultanpur") == {23: 5}  # another district's day is left alone


def test_cumulative_reports_become_day_counts(
    state: Engine, base_settings: Settings, tmp_path: Path
) -> None:
    cfg = portal_settings(base_settings, cumulative=True)
    first = wide_xlsx(
        tmp_path,
        [
            [1, "Hardoi", "Sandila", "23/11/2026", 100, 150, "", ""],
            [2, "Hardoi", "Sandila", "24/11/2026", 160, 200, "", ""],
        ],
    )
    summary = load(state, cfg, first)
    assert summary.first_days == 2  # type: ignore[attr-defined]  # the 23rd: nothing before it
    assert series(state, cfg, "Hardoi/Sandila") == {24: 60}
    load(state, cfg, wide_xlsx(tmp_path, [[1, "Hardoi", "Sandila", "25/11/2026", 200, 250]], "b.xlsx"))
    assert series(state, cfg, "Hardoi/Sandila") == {24: 60, 25: 40}
    # The 24th corrected: its count and the 25th's, taken from it, change.
    load(state, cfg, wide_xlsx(tmp_path, [[1, "Hardoi", "Sandila", "24/11/2026", 150, 200]], "c.xlsx"))
    assert series(state, cfg, "Hardoi/Sandila") == {24: 50, 25: 50}
    falling = wide_xlsx(tmp_path, [[1, "Hardoi", "Sandila", "26/11/2026", 190, 260]], "d.xlsx")
    assert problems(state, cfg, falling) == [
        "row 2: Hardoi/Sandila cards to 2026-11-26 is 190, below 200 to 2026-11-25 "
        "(the figures are to date)"
    ]


def _cli_config(tmp_path: Path, engine: Engine, cfg: Settings) -> Path:
    data = cfg.model_dump(mode="json", exclude={"base_dir"})
    data["database_url"] = child_url(engine)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_cli_official_import_dry_run_skip_unknown_and_status_json(
    state: Engine, cfg: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_reports(state)
    config = _cli_config(tmp_path, state, cfg)
    path = write(
        tmp_path,
        "2026-11-20,block,Hardoi,Sandila,cards,36",
        "2026-11-20,block,Hardoi,Mallawan,cards,9",
        "2026-11-14,block,Hardoi,Bilgram,cards,30",
    )
    assert main(["--config", str(config), "official", "import", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"nothing imported: 1 problem(s) in {path}"
    args = ["--config", str(config), "official", "import", str(path), "--skip-unknown"]
    assert main([*args, "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out and stored(state) == 0
    assert main(args) == 0
    out = capsys.readouterr()
    assert out.out.startswith("imported 2 official figures: 2 unit(s), 2026-11-14, 2026-11-20")
    assert "skipped: row 3: no block 'Mallawan'" in out.err
    status = ["--config", str(config), "status", "--from", "2026-11-10", "--to", "2026-11-20"]
    assert main([*status, "Hardoi/Sandila", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    # Self-reported on the portal's day (20/11) only: 15 + 0 + 25 cards; the 10th and 18th are
    # not portal days.
    assert (fig["official"], fig["official_gap"], fig["official_gap_pct"]) == (36, 4, 11.1)
    assert main([*status, "Hardoi", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    # Hardoi: Sandila's 20th (40) and Bilgram's 14th (40) against 36 + 30.
    assert (fig["official"], fig["official_gap"], fig["official_gap_pct"]) == (66, 14, 21.2)
    assert main([*status, "Hardoi/Sandila"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  portal (cards): 36, self-reported 40 over the portal's days through 2026-11-20, "
        "gap +4 (11.1%)"
    )
    assert main([*status, "Hardoi/Sandila/S1", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert (fig["official"], fig["official_gap"], fig["official_gap_pct"]) == (None, None, None)
    assert main([*status, "Sultanpur", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert fig["official"] is None  # nothing imported for it


# ---------------------------------------------------------------- the gap where people read it


def sandila_workers() -> list[str]:
    from bot.roster.read import read_table
    from tests.conftest import SAMPLE

    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    return [
        row["phone"]
        for _, row in table
        if row["block"] == "Sandila" and row["role"] in ("asha", "anm") and row["active"] == "true"
    ]


@pytest.fixture()
def portal_day(chat: Chat, settings: Settings, tmp_path: Path) -> Settings:
    return load_portal_day(chat, settings, tmp_path)


def load_portal_day(chat: Chat, settings: Settings, tmp_path: Path) -> Settings:
    """Sandila's workers say 2,830 cards on 23/11, the portal approved 2,681; Bilgram's portal
    figure (500) is of 22/11, when its workers reported nothing."""
    phones = sandila_workers()
    each, extra = divmod(2830, len(phones))
    for index, phone in enumerate(phones):
        chat.say(phone, f"कार्ड {each + (1 if index < extra else 0)}", at(23, 11))
    path = write(
        tmp_path,
        '23/11/2026,block,Hardoi,Sandila,cards,"2,681"',
        "22/11/2026,block,हरदोई,BILGRAM,cards,500",
    )
    cfg = settings.model_copy(update={"official": portal_settings(settings).official})
    with session_scope(chat.core.engine) as session:
        import_official(session=session, settings=cfg, path=path, today=nov(23))
    return cfg


def test_status_shows_the_portal_against_self_reported_in_hindi(
    chat: Chat, portal_day: Settings
) -> None:
    reply = chat.say(RAJESH, "/status", at(23, 19))
    assert "कार्ड 2,830" in reply
    assert "पोर्टल: 2,681 · स्व-रिपोर्ट 2,830 (+5.6%)" in reply.splitlines()
    # Bilgram's portal figure is of the 22nd: a week's status counts only that day, and says so.
    week = chat.say(NASREEN, "/status week", at(23, 19))
    assert "पोर्टल: 500 · स्व-रिपोर्ट 0 (-100.0%) — पोर्टल: 22/11 तक" in week.splitlines()
    assert "पोर्टल" not in chat.say(NASREEN, "/status", at(23, 19))  # nothing for today
    district = chat.say(VIVEK, "/status week", at(23, 19))
    assert "पोर्टल: 3,181 · स्व-रिपोर्ट 2,830 (-11.0%)" in district.splitlines()
    assert "पोर्टल" not in chat.say(USHA, "/status", at(23, 19))  # the portal has no sectors
    chat.say(RAJESH, "/lang en", at(23, 19))
    assert "Portal: 2,681 · self-reported 2,830 (+5.6%)" in chat.say(RAJESH, "/status", at(23, 19))


def test_digests_carry_the_gap_and_flag_blocks_over_the_share(chat: Chat, portal_day: Settings) -> None:
    from bot.digests import bmo_digests, district_digests

    with Session(chat.core.engine) as session:
        bmo = {m.person.name: m.text for m in bmo_digests(session, portal_day, nov(23))}
        officer = district_digests(session, portal_day, nov(23))[0].text
        official = portal_day.official.model_copy(update={"gap_share": 0.05})
        strict = portal_day.model_copy(update={"official": official})
        flagged = district_digests(session, strict, nov(23))[0].text
    assert "पोर्टल: 2,681 · स्व-रिपोर्ट 2,830 (+5.6%)" in bmo["Dr. Rajesh Kumar Singh"]
    assert "पोर्टल: 500 · स्व-रिपोर्ट 0 (-100.0%) — पोर्टल: 22/11 तक" in bmo["Dr. Nasreen Fatima"]
    assert "पोर्टल: 3,181 · स्व-रिपोर्ट 2,830 (-11.0%)" in officer
    assert "जाँचें" not in officer  # 5.6% over is within the default 10%
    lines = flagged.splitlines()
    head = lines.index("⚠️ इन ब्लॉकों के आँकड़े जाँचें — पिछले 7 दिन में स्व-रिपोर्ट पोर्टल से 5.0% से ज़्यादा:")
    assert lines[head + 1] == "• Sandila: स्व-रिपोर्ट 2,830 · पोर्टल 2,681 (+5.6%)"
    assert "Bilgram: स्व-रिपोर्ट" not in flagged  # below the portal is not flagged


def test_export_gains_official_columns_where_the_portal_has_figures(
    chat: Chat, settings: Settings, tmp_path: Path
) -> None:
    from bot.rollups.export_table import export_rows

    def table(level: str) -> tuple[list[str], list[list[object]]]:
        with Session(chat.core.engine) as session:
            return export_rows(
                session=session, settings=settings, level=level, start=nov(22), end=nov(23)
            )

    header, _ = table("block")
    assert header[-2:] == ["target", "achievement_pct"]  # nothing imported: no portal columns
    load_portal_day(chat, settings, tmp_path)
    header, rows = table("block")
    assert header[-2:] == ["official", "official_gap"]
    cells = {(r[0], r[2]): (r[header.index("cards")], r[-2], r[-1]) for r in rows}
    assert cells[("2026-11-23", "Sandila")] == (2830, 2681, 149)
    assert cells[("2026-11-22", "Bilgram")] == (0, 500, -500)
    assert cells[("2026-11-22", "Sandila")] == (0, "", "")
    header, rows = table("district")
    assert [r[-2:] for r in rows] == [[500, -500], [2681, 149]]
    header, rows = table("sector")
    assert header[-2:] == ["official", "official_gap"] and {tuple(r[-2:]) for r in rows} == {("", "")}


def test_top_portal_ranks_by_the_portal_counts(chat: Chat, portal_day: Settings) -> None:
    reply = chat.say(VIVEK, "/top portal", at(23, 19))
    lines = reply.splitlines()
    assert lines == [
        "🏆 Uttar Pradesh — अभियान (01/11–23/11), पोर्टल के कार्ड के हिसाब से:",
        "1. Hardoi — 3,181 ◀ आपका",
        "🏆 Hardoi — अभियान (01/11–23/11), पोर्टल के कार्ड के हिसाब से:",
        "1. Sandila — 2,681",
        "2. Bilgram — 500",
    ]
    assert "1. Sandila — 2,681" in lines and "2. Bilgram — 500" in lines
    assert "1. Hardoi — 3,181 ◀ आपका" in lines  # among the state's districts
    bmo = chat.say(RAJESH, "रैंक पोर्टल", at(23, 19))
    assert "1. Sandila — 2,681 ◀ आपका" in bmo.splitlines()
    today = chat.say(NASREEN, "/top portal today", at(23, 19)).splitlines()
    assert "1. Sandila — 2,681" in today and "पोर्टल के आँकड़े नहीं: Bilgram" in today


# ---------------------------------------------------------------- the file sent in chat

VIVEK_TG = 5077
VIVEK_PHONE = "+919266836880"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def link(api: FakeTelegramAPI, user_id: int, phone: str) -> None:
    api.push_update(text_update("/start", user_id=user_id, first_name="Vivek"))
    wait_texts(api, user_id, 1)
    api.push_update(contact_update(phone, user_id=user_id, first_name="Vivek"))
    wait_texts(api, user_id, 2)


def send_file(api: FakeTelegramAPI, user_id: int, content: bytes, name: str, **extra: Any) -> None:
    file_id = f"BQAC{uuid.uuid4().hex}"
    api.add_file(file_id, content)
    api.push_update(
        document_update(
            file_id,
            user_id=user_id,
            file_name=name,
            mime_type=XLSX_TYPE if name.endswith(".xlsx") else "text/csv",
            file_size=extra.pop("file_size", len(content)),
            first_name="Vivek",
            **extra,
        )
    )


def test_a_district_officer_sends_the_portal_file_in_a_private_chat(
    polling: FakeTelegramAPI, district: Engine, tmp_path: Path
) -> None:
    link(polling, VIVEK_TG, VIVEK_PHONE)
    bad = wide_xlsx(
        tmp_path,
        [
            [1, "HARDOI", "sandila", "23/11/2026", "2,681", 3347, "", ""],
            [2, "Hardoi", "Mallawan", "23/11/2026", 10, 12, "", ""],
            [3, "Hardoi", "Bilgram", "32/11/2026", 10, 12, "", ""],
            ["Total", None, None, None, 2701, 3371, None, None],
        ],
    )
    send_file(polling, VIVEK_TG, bad.read_bytes(), "Ayushman_Hardoi_23-11.xlsx")
    answer = wait_texts(polling, VIVEK_TG, 3)[-1]
    assert answer.splitlines() == [
        "❌ Ayushman_Hardoi_23-11.xlsx: 2 गड़बड़ी — कुछ भी दर्ज नहीं हुआ। ठीक करके फ़ाइल दोबारा भेजें:",
        "पंक्ति 3: ब्लॉक 'Mallawan' जिला Hardoi में रोस्टर पर नहीं है "
        "(दूसरी वर्तनी हो तो config में official.aliases में जोड़ें)",
        "पंक्ति 4: तारीख '32/11/2026' समझ नहीं आई (2026-11-24 या 24/11/2026 लिखें)",
    ]
    assert stored(district) == 0
    good = wide_xlsx(
        tmp_path, [[1, "HARDOI", "sandila", "23/11/2026", "2,681", 3347, "", ""], MESSY[3]], "g.xlsx"
    )
    send_file(polling, VIVEK_TG, good.read_bytes(), "Ayushman_Hardoi_23-11.xlsx")
    answer = wait_texts(polling, VIVEK_TG, 4)[-1]
    assert answer.splitlines() == [
        "✅ Ayushman_Hardoi_23-11.xlsx: पोर्टल के 2 आँकड़े दर्ज हुए — इकाइयाँ: 1, दिन: 23/11।",
        "कुल (total) की 1 पंक्तियाँ छोड़ी गईं।",
    ]
    assert stored(district) == 2
    polling.push_update(text_update("/status Sandila", user_id=VIVEK_TG, first_name="Vivek"))
    assert "पोर्टल: 2,681 · स्व-रिपोर्ट 0 (-100.0%)" in wait_texts(polling, VIVEK_TG, 5)[-1]


def test_a_long_list_of_problems_is_cut_with_a_count(polling: FakeTelegramAPI, district: Engine) -> None:
    link(polling, VIVEK_TG, VIVEK_PHONE)
    lines = [LONG] + [f"2026-11-23,block,Hardoi,Block {n},cards,{n}" for n in range(25)]
    send_file(polling, VIVEK_TG, "\n".join(lines).encode(), "portal.csv")
    answer = wait_texts(polling, VIVEK_TG, 3)[-1].splitlines()
    assert answer[0].startswith("❌ portal.csv: 25 गड़बड़ी")
    assert len(answer) == 1 + 20 + 1 and answer[-1] == "… और 5 गड़बड़ी"
    assert answer[1].startswith("पंक्ति 2: ब्लॉक 'Block 0'")


def test_field_workers_groups_and_large_files_are_refused_politely(
    polling: FakeTelegramAPI, district: Engine, tmp_path: Path
) -> None:
    content = wide_xlsx(tmp_path, MESSY[:1]).read_bytes()
    link_sunita(polling)
    send_file(polling, SUNITA_TG, content, "portal.xlsx")
    assert "सिर्फ़ जिला अधिकारी या एडमिन" in wait_texts(polling, SUNITA_TG, 3)[-1]
    link(polling, VIVEK_TG, VIVEK_PHONE)
    send_file(polling, VIVEK_TG, content, "portal.xlsx", file_size=6 * 1024 * 1024)
    assert "ज़्यादा से ज़्यादा 5 MB" in wait_texts(polling, VIVEK_TG, 3)[-1]
    send_file(polling, VIVEK_TG, content, "portal.xlsx", chat_id=GROUP)
    assert "निजी चैट में भेजें" in wait_texts(polling, GROUP, 1)[-1]
    # An ASHA sharing a sheet with her group is not answered there.
    send_file(polling, SUNITA_TG, content, "list.xlsx", chat_id=GROUP)
    polling.push_update(text_update("/help", user_id=VIVEK_TG, chat_id=GROUP, first_name="Vivek"))
    assert len(wait_texts(polling, GROUP, 2)) == 2
    assert "निजी चैट" not in wait_texts(polling, GROUP, 2)[-1]
    # Every refused file was left where it was, unfetched, and none was imported.
    assert polling.calls_for("getFile") == [] and stored(district) == 0


def test_the_simulator_takes_the_portal_file_too(
    core: Fieldbot, district: Engine, tmp_path: Path
) -> None:
    import base64

    import httpx

    from bot.web import create_app
    from tests.fakes.live import serving

    content = wide_xlsx(tmp_path, [[1, "Hardoi", "Bilgram", "22/11/2026", 500, 600, "", ""]])
    body = {
        "phone": VIVEK,
        "document_base64": base64.b64encode(content.read_bytes()).decode(),
        "document_name": "portal.xlsx",
        "at": "2026-11-23T19:00:00+05:30",
    }
    with serving(create_app(core)) as url:
        reply = httpx.post(f"{url}/simulator/messages", json=body, timeout=10).json()
        assert reply["replies"][0]["text"].startswith("✅ portal.xlsx: पोर्टल के 2 आँकड़े दर्ज हुए")
        nameless = httpx.post(
            f"{url}/simulator/messages", json={**body, "document_name": ""}, timeout=10
        )
        assert nameless.status_code == 400
        page = httpx.get(url, timeout=10).text
    assert 'id="sheetfile" accept=".xlsx,.csv"' in page
    assert series(district, core.settings, "Hardoi/Bilgram") == {22: 500}


def test_the_sample_portal_file_imports_into_the_sample_district(
    district: Engine, settings: Settings
) -> None:
    from tests.conftest import ROOT

    path = ROOT / "examples" / "sample_portal.csv"
    with session_scope(district) as session:
        summary = import_official(session=session, settings=settings, path=path, today=nov(23))
    assert (summary.rows, summary.totals_skipped) == (6, 1)
    assert series(district, settings, "Hardoi") == {22: 1476}
    assert series(district, settings, "Hardoi/Bilgram", "applications") == {22: 731}


def test_a_district_officer_imports_her_own_districts_only(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    with Session(state) as session:
        [hardoi] = resolve_units(session, "Hardoi", cfg.state)
    path = write(
        tmp_path,
        "2026-11-23,block,Hardoi,Sandila,cards,40",
        "2026-11-23,block,Sultanpur,Kadipur,cards,5",
    )
    with pytest.raises(OfficialInvalid) as caught, session_scope(state) as session:
        import_official(
            session=session,
            settings=cfg,
            path=path,
            today=TODAY,
            districts={hardoi.district_id or 0},
        )
    assert [p.text("hi") for p in caught.value.problems] == [
        "पंक्ति 3: Sultanpur/Kadipur आपके क्षेत्र (Hardoi) में नहीं है"
    ]
    assert stored(state) == 0
    assert problems(state, cfg, tmp_path / "missing.csv") == [
        f"no such file: {tmp_path / 'missing.csv'}"
    ]


def test_a_workbook_that_unpacks_too_far_or_a_file_too_long_is_refused_unread(
    state: Engine, cfg: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.official.read

    path = wide_xlsx(tmp_path, MESSY)
    monkeypatch.setattr(bot.official.read, "MAX_UNPACKED_BYTES", 2 * 2**20)
    big = tmp_path / "big.xlsx"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (3 * 2**20))  # packs to a few KiB
    assert big.stat().st_size < 50_000
    assert problems(state, cfg, big) == ["the workbook unpacks to 3 MiB; at most 2 MiB"]
    monkeypatch.setattr(bot.official.read, "MAX_ROWS", 3)
    assert problems(state, cfg, path)[-1] == (
        "row 5: the file has more than 3 rows; rows after it were not checked"
    )
    assert stored(state) == 0


# ---------------------------------------------------------------- LGD codes

# A roster as an NHM office writes it: Hindi headers, the district in Devanagari, LGD codes.
CODED_ROSTER = """नाम,मोबाइल नंबर,पद,जनपद,जनपद कोड,विकासखंड,ब्लॉक कोड,सेक्टर,ग्राम
Officer Hardoi,9000000002,जिला अधिकारी,हरदोई,134,,,,
BMO Sandila,9000000004,MOIC,हरदोई,134,Sandila,938,,
Asha One,9100000001,आशा,हरदोई,134,Sandila,938,S1,V1
Asha Five,9100000005,आशा,हरदोई,134,बिलग्राम,925,B1,V4
Asha Seven,9100000007,आशा,Sultanpur,178,Kadipur,1110,K1,V5
Asha Eight,9100000008,आशा,सुल्तानपुर,178,Kadipur,1110,K1,V5
"""
CODED_LONG = "date,level,district,district_lgd,block,block_lgd,metric,value"


@pytest.fixture()
def coded(db: Engine, base_settings: Settings, tmp_path: Path) -> Engine:
    def roster() -> None:
        path = tmp_path / "coded_roster.csv"
        path.write_text(CODED_ROSTER, encoding="utf-8")
        with session_scope(db) as session:
            import_roster(session, path, progress=False, aliases=base_settings.roster)

    load_once(db, "coded_roster", roster)
    return db


def test_lgd_codes_match_a_unit_whatever_the_spelling(
    coded: Engine, cfg: Settings, tmp_path: Path
) -> None:
    by_name = write(tmp_path, "2026-11-23,district,HARDOI,,cards,100", name="names.csv")
    assert problems(coded, cfg, by_name) == [
        "row 2: no district 'HARDOI' on the roster (another spelling? add it to official.aliases)"
    ]
    path = write(
        tmp_path,
        "2026-11-23,district,HARDOI,134,,,cards,100",
        "2026-11-23,block,Hardoi,134,SANDILA,,cards,40",
        "2026-11-23,block,हरदोई,,Bilgram,925,cards,30",
        "2026-11-23,district,,178,,,cards,5",
        "2026-11-24,district,सुल्तानपुर,,,,cards,6",  # Sultanpur's Hindi name, from the roster
        header=CODED_LONG,
    )
    summary = load(coded, cfg, path)
    assert summary.unknown_skipped == [] and stored(coded) == 5  # type: ignore[attr-defined]
    assert series(coded, cfg, "हरदोई") == {23: 100}
    assert series(coded, cfg, "हरदोई/Sandila") == {23: 40}
    assert series(coded, cfg, "हरदोई/बिलग्राम") == {23: 30}
    assert series(coded, cfg, "Sultanpur") == {23: 5, 24: 6}


def test_a_roster_without_codes_is_matched_by_name(state: Engine, cfg: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "2026-11-23,block,Hardoi,134,Sandila,938,cards,40", header=CODED_LONG)
    load(state, cfg, path)
    assert series(state, cfg, "Hardoi/Sandila") == {23: 40}


def test_a_code_that_disagrees_with_the_name_is_refused_on_its_row(
    coded: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "2026-11-23,district,हरदोई,134,,,cards,100",
        "2026-11-23,district,Sultanpur,134,,,cards,5",
        "2026-11-23,block,Sultanpur,178,Sandila,938,cards,1",
        "2026-11-23,block,हरदोई,134,Sandila,925,cards,2",
        "2026-11-23,district,Sultanpur,999,,,cards,3",
        "2026-11-24,district,हरदोई,13x4,,,cards,4",
        "2026-11-24,district,हरदोई,,,938,cards,4",
        header=CODED_LONG,
    )
    found = problems(coded, cfg, path, skip_unknown=True)
    assert found == [
        "row 3: district 'Sultanpur' is Sultanpur on the roster, but LGD code 134 is हरदोई",
        "row 4: block LGD code 938 is हरदोई/Sandila, not in district Sultanpur",
        "row 5: block 'Sandila' is हरदोई/Sandila on the roster, but LGD code 925 is हरदोई/बिलग्राम",
        "row 6: district Sultanpur has LGD code 178 on the roster, not 999",
        "row 7: district_lgd '13x4' is not an LGD code (a whole number)",
        "row 8: a district row names no block (found '938')",
    ]
    with pytest.raises(OfficialInvalid) as caught:
        load(coded, cfg, path)
    assert caught.value.problems[0].text("hi") == (
        "पंक्ति 3: जिला 'Sultanpur' रोस्टर में Sultanpur है, पर LGD कोड 134 हरदोई का है"
    )
    assert stored(coded) == 0


def test_a_code_matching_no_unit_is_an_unknown_unit(
    coded: Engine, cfg: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _cli_config(tmp_path, coded, cfg)
    path = write(
        tmp_path,
        "2026-11-23,block,HARDOI,134,Sandila,938,cards,40",
        "2026-11-23,district,Lakhimpur,139,,,cards,9",
        "2026-11-23,block,हरदोई,134,Mallawan,940,cards,3",
        header=CODED_LONG,
    )
    args = ["--config", str(config), "official", "import", str(path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "row 3: no district with LGD code 139 on the roster (the file names it Lakhimpur)" in err
    assert "row 4: no block with LGD code 940 on the roster (the file names it Mallawan)" in err
    assert stored(coded) == 0
    assert main([*args, "--skip-unknown"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("imported 1 official figures: 1 unit(s), 2026-11-23")
    assert "skipped: row 3: no district with LGD code 139" in out.err
    assert series(coded, cfg, "हरदोई/Sandila") == {23: 40} and stored(coded) == 1


def test_a_portal_report_with_lgd_code_columns(coded: Engine, cfg: Settings, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["S.No.", "District Name", "District LGD Code", "Block Name", "LGD Code", "Report Date",
         "Cards Approved"]
    )  # fmt: skip
    for row in (
        [1, "HARDOI", 134, "SANDILA", 938, "24/11/2026", 40],
        [2, "HARDOI", 134, "Bilgram CHC", 925, "24/11/2026", 30],  # बिलग्राम by its code
        [3, "HARDOI", 134, None, None, "24/11/2026", 75],
        ["Total", None, None, None, None, None, 145],
    ):
        sheet.append(row)
    path = tmp_path / "blocks.xlsx"
    book.save(path)
    load(coded, cfg, path)
    assert series(coded, cfg, "हरदोई") == {24: 75}
    assert series(coded, cfg, "हरदोई/Sandila") == {24: 40}
    assert series(coded, cfg, "हरदोई/बिलग्राम") == {24: 30}
    # A district-wise report: its bare LGD Code column is each district's.
    districts = tmp_path / "districts.csv"
    districts.write_text(
        "District,LGD Code,Date,Cards Approved\nHARDOI,134,25/11/2026,80\nसुल्तानपुर,178,25/11/2026,6\n"
        "सुल्तानपुर,0178,26/11/2026,7\n",
        encoding="utf-8",
    )
    load(coded, cfg, districts)
    assert series(coded, cfg, "हरदोई") == {24: 75, 25: 80}
    assert series(coded, cfg, "Sultanpur") == {25: 6, 26: 7}


def test_a_district_officer_sends_a_coded_portal_file_in_chat(
    coded: Engine, settings: Settings, tmp_path: Path
) -> None:
    import base64

    import httpx

    from bot.web import create_app
    from tests.fakes.live import serving

    greet_everyone(coded)
    core = build_core(settings, coded, clock=lambda: at(23, 23, 59))
    clash = write(
        tmp_path,
        "2026-11-22,district,HARDOI,134,,,cards,100",
        "2026-11-22,block,हरदोई,134,Sandila,925,cards,2",
        header=CODED_LONG,
    )
    body = {"phone": "9000000002", "document_name": "portal.csv", "at": "2026-11-23T19:00:00+05:30"}
    with serving(create_app(core)) as url:

        def send(path: Path) -> str:
            data = {**body, "document_base64": base64.b64encode(path.read_bytes()).decode()}
            reply = httpx.post(f"{url}/simulator/messages", json=data, timeout=10).json()
            return str(reply["replies"][0]["text"])

        assert send(clash).splitlines()[1:] == [
            "पंक्ति 3: ब्लॉक 'Sandila' रोस्टर में हरदोई/Sandila है, पर LGD कोड 925 हरदोई/बिलग्राम का है"
        ]
        assert stored(coded) == 0
        clean = write(tmp_path, "2026-11-22,district,HARDOI,134,,,cards,100", header=CODED_LONG)
        assert send(clean).startswith("✅ portal.csv: पोर्टल के 1 आँकड़े दर्ज हुए")
    assert series(coded, settings, "हरदोई") == {22: 100}

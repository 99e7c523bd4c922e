"""Figures, pace, coverage, rankings and the export on a small state, worked out by hand; the
aggregates agree with the reports after any sequence of reports, edits, undos and moves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Inbound
from bot.export import csv_bytes, xlsx_bytes
from bot.rollups.export_table import export_rows
from bot.rollups.figures import Figures, status_view
from bot.rollups.figures import figures as rollup_figures
from bot.rollups.ranking import breakdown
from bot.rollups.scope import RAW
from bot.rollups.sums import reported_count, unit_totals
from bot.store import reports, totals
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.units import Unit, resolve_units, state_unit
from bot.targets import import_targets
from models import (
    Block,
    DailyReport,
    ReportChange,
    ReportingDays,
    ReportValue,
    Sector,
    UnitDayReported,
    UnitDayTotal,
)
from tests.conftest import IST, POSTGRES_URL, _postgres_engine, load_once
from tests.small_state import (
    ADMIN,
    BMO_SANDILA,
    OFFICER_HARDOI,
    OFFICER_SULTANPUR,
    load_reports,
    load_small_state,
    nov,
    person,
    report,
    small_settings,
)


@pytest.fixture()
def state(db: Engine, tmp_path: Path) -> Engine:
    load_once(db, "small_state", lambda: load_small_state(db, tmp_path))
    return db


@pytest.fixture()
def cfg(base_settings: Settings) -> Settings:
    return small_settings(base_settings)


@pytest.fixture()
def reported(state: Engine) -> Engine:
    load_reports(state)
    return state


def unit(engine: Engine, path: str, cfg: Settings) -> Unit:
    with Session(engine) as session:
        found = resolve_units(session, path, cfg.state)
    assert len(found) == 1, found
    return found[0]


def figures(engine: Engine, cfg: Settings, path: str, start: dt.date, end: dt.date) -> Figures:
    where = state_unit(cfg.state) if path == cfg.state else unit(engine, path, cfg)
    with Session(engine) as session:
        return rollup_figures(session=session, settings=cfg, unit=where, start=start, end=end)


def write_targets(engine: Engine, cfg: Settings, folder: Path, body: str) -> None:
    path = folder / f"targets-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("level,district,block,sector,metric,daily,campaign_total,eligible,baseline\n" + body)
    with session_scope(engine) as session:
        import_targets(session=session, settings=cfg, path=path)


# ---------------------------------------------------------------- figures by hand


def test_district_day_against_target_campaign_pace_and_rank(reported: Engine, cfg: Settings) -> None:
    fig = figures(reported, cfg, "Hardoi", nov(20), nov(20))
    assert fig.to_json() == {
        "unit": "Hardoi",
        "level": "district",
        "from": "2026-11-20",
        "to": "2026-11-20",
        "primary_metric": "cards",
        "workers": 5,  # Asha Three is inactive
        "reported": 3,  # One, Two (her 0 counts) and Four
        "totals": {"applications": 0, "cards": 40, "households": 30, "elderly_cards": 0, "rejected": 0},
        "target": 100,
        "achievement_pct": 40.0,
        "coverage_pct": None,  # no eligible population given
        # Campaign so far 10 + 20 + 15 + 5 + 25 + 40 + 100 = 215 of 2,000; 1,785 left over the
        # 10 days 21-30 Nov.
        "required_daily": 179,
        # Last 7 days (14-20 Nov): 20 + 15 + 5 + 25 + 40 = 105, 15 a day: 1,785 / 15 = 119 days.
        "projected_finish": "2027-03-19",
        "rank": 2,  # Sultanpur made 60
        "of": 2,
        "official": None,  # no portal counts imported
        "official_gap": None,
        "official_gap_pct": None,
        "on_leave": 0,  # nobody on leave or on a holiday
    }
    assert (fig.campaign_done, fig.campaign_days, fig.campaign_target) == (215, 20, 2000)
    assert fig.campaign_achievement_pct == 10.8  # 10.75, halves rounded up
    assert (fig.week_done, fig.rate_days, fig.rate, fig.days_left) == (105, 7, 15.0, 10)


def test_block_over_a_week_with_coverage_added_up_from_its_sectors(
    reported: Engine, cfg: Settings, tmp_path: Path
) -> None:
    write_targets(
        reported,
        cfg,
        tmp_path,
        "sector,Hardoi,Sandila,S1,cards,,,500,100\nsector,Hardoi,Sandila,S2,cards,,,300,\n",
    )
    fig = figures(reported, cfg, "Hardoi/Sandila", nov(14), nov(20))
    assert fig.totals["cards"] == 65  # One 20 + 15, Two 5 + 0, Four 25
    assert (fig.workers, fig.reported) == (3, 3)
    assert (fig.target, fig.achievement_pct) == (280, 23.2)  # 40 a day for 7 days
    assert (fig.campaign_done, fig.campaign_target, fig.campaign_achievement_pct) == (75, 800, 9.4)
    assert (fig.required_daily, fig.projected_finish) == (None, None)  # no campaign total
    # Eligible 500 + 300, baseline 100: (100 + 75) / 800 = 21.875%.
    assert (fig.eligible, fig.covered, fig.coverage_pct) == (800, 175, 21.9)
    assert (fig.rank, fig.of) == (1, 2)  # Bilgram made 40 that week


def test_state_figures_add_up_the_districts(reported: Engine, cfg: Settings, tmp_path: Path) -> None:
    fig = figures(reported, cfg, cfg.state, nov(20), nov(20))
    assert (fig.workers, fig.reported, fig.totals["cards"]) == (6, 4, 100)
    assert (fig.target, fig.achievement_pct) == (150, 66.7)
    # 275 of 4,000 so far: 3,725 left over 10 days; 165 in the last 7 days.
    assert (fig.campaign_done, fig.required_daily, fig.week_done) == (275, 373, 165)
    assert fig.projected_finish == dt.date(2027, 4, 28)  # 3,725 / (165 / 7) = 158.03 -> 159 days
    assert (fig.rank, fig.of, fig.coverage_pct) == (None, None, None)
    # Coverage of the state once every district has an eligible population.
    write_targets(reported, cfg, tmp_path, "district,Hardoi,,,cards,,,10000,2000\n")
    assert figures(reported, cfg, cfg.state, nov(20), nov(20)).coverage_pct is None
    write_targets(reported, cfg, tmp_path, "district,Sultanpur,,,cards,,,5000,\n")
    fig = figures(reported, cfg, cfg.state, nov(20), nov(20))
    assert (fig.eligible, fig.covered, fig.coverage_pct) == (15000, 2275, 15.2)  # 2,000 + 275


def test_unit_rows_override_the_config_defaults_value_by_value(
    reported: Engine, cfg: Settings, tmp_path: Path
) -> None:
    write_targets(reported, cfg, tmp_path, "district,Hardoi,,,cards,,3000,10000,2000\n")
    fig = figures(reported, cfg, "Hardoi", nov(20), nov(20))
    assert fig.target == 100  # daily left empty: the default stays
    assert fig.campaign_total == 3000
    assert fig.required_daily == 279  # (3,000 - 215) / 10 = 278.5
    assert fig.coverage_pct == 22.2  # (2,000 + 215) / 10,000 = 22.15%
    assert figures(reported, cfg, "Sultanpur", nov(20), nov(20)).campaign_total == 2000


def test_total_reached_gives_the_day_it_was_reached(
    reported: Engine, cfg: Settings, tmp_path: Path
) -> None:
    write_targets(reported, cfg, tmp_path, "sector,Hardoi,Bilgram,B1,cards,,120,,\n")
    fig = figures(reported, cfg, "Hardoi/Bilgram/B1", nov(20), nov(20))
    # Six made 100 on 13 Nov, Five 40 on 14 Nov: 140 passes 120 on the 14th.
    assert (fig.reached_on, fig.projected_finish, fig.required_daily) == (nov(14), nov(14), 0)


def test_first_days_of_the_campaign_pace_on_the_days_so_far(state: Engine, cfg: Settings) -> None:
    report(state, "W5", nov(1), {"cards": 30})
    report(state, "W5", nov(3), {"cards": 0})
    fig = figures(state, cfg, "Hardoi", nov(3), nov(3))
    assert (fig.week_done, fig.rate_days, fig.rate) == (30, 3, 10.0)  # 1-3 Nov, not 7 days
    assert fig.required_daily == 73  # 1,970 over 4-30 Nov (27 days) = 72.96
    assert fig.projected_finish == dt.date(2027, 5, 19)  # 1,970 / 10 = 197 days after 3 Nov


def test_before_the_campaign_there_is_no_target_and_no_pace(reported: Engine, cfg: Settings) -> None:
    fig = figures(reported, cfg, "Hardoi", dt.date(2026, 10, 30), dt.date(2026, 10, 31))
    assert (fig.target, fig.achievement_pct, fig.campaign_done) == (None, None, 0)
    assert fig.required_daily == 67  # 2,000 over all 30 days of November
    assert fig.projected_finish is None
    # On the campaign's last day nothing is left to spread the rest over.
    last = figures(reported, cfg, "Hardoi", nov(30), nov(30))
    assert (last.days_left, last.required_daily) == (0, None)
    assert (last.week_done, last.projected_finish) == (0, None)  # nothing made 24-30 Nov


def test_without_campaign_dates_pace_and_coverage_have_no_basis(
    reported: Engine, base_settings: Settings
) -> None:
    plain = small_settings(base_settings, campaign={"name": "open"})
    fig = figures(reported, plain, "Hardoi", nov(20), nov(20))
    assert (fig.target, fig.achievement_pct) == (100, 40.0)
    assert (fig.required_daily, fig.projected_finish, fig.coverage_pct) == (None, None, None)


# ---------------------------------------------------------------- rankings


def ranking(engine: Engine, cfg: Settings, path: str, start: dt.date, end: dt.date) -> list[Any]:
    where = state_unit(cfg.state) if path == cfg.state else unit(engine, path, cfg)
    with Session(engine) as session:
        rows = breakdown(
            session=session,
            unit=where,
            start=start,
            end=end,
            metric="cards",
            settings=cfg,
        )
    return [(r.rank, r.name, r.value, r.target, r.achievement_pct, r.pct_rank) for r in rows]


def test_districts_ranked_by_cards_and_by_achievement_with_ties(
    reported: Engine, cfg: Settings, tmp_path: Path
) -> None:
    assert ranking(reported, cfg, cfg.state, nov(20), nov(20)) == [
        (1, "Sultanpur", 60, 100, 60.0, 1),
        (2, "Hardoi", 40, 100, 40.0, 2),
    ]
    write_targets(reported, cfg, tmp_path, "district,Sultanpur,,,cards,150,,,\n")
    rows = ranking(reported, cfg, cfg.state, nov(20), nov(20))
    assert rows == [(1, "Sultanpur", 60, 150, 40.0, 1), (2, "Hardoi", 40, 100, 40.0, 1)]


def test_equal_counts_share_a_place_and_are_listed_by_name(reported: Engine, cfg: Settings) -> None:
    report(reported, "W4", nov(18), {"cards": 20})
    assert ranking(reported, cfg, "Hardoi/Sandila", nov(18), nov(18)) == [
        (1, "S1", 20, 20, 100.0, 1),
        (1, "S2", 20, 20, 100.0, 1),
    ]
    # A sector's workers against the worker target of 10 a day.
    assert ranking(reported, cfg, "Hardoi/Sandila/S1", nov(20), nov(20)) == [
        (1, "Asha One", 15, 10, 150.0, 1),
        (2, "Asha Two", 0, 10, 0.0, 2),
    ]


def test_blocks_over_the_campaign(reported: Engine, cfg: Settings) -> None:
    # Sandila: 45 + 5 + 25 = 75; Bilgram: 140. The block target is 40 a day for 20 days.
    assert ranking(reported, cfg, "Hardoi", nov(1), nov(20)) == [
        (1, "Bilgram", 140, 800, 17.5, 1),
        (2, "Sandila", 75, 800, 9.4, 2),
    ]


# ---------------------------------------------------------------- chat


class SmallChat:
    def __init__(self, engine: Engine, cfg: Settings, day: int):
        clock = dt.datetime(2026, 11, day, 23, 59, tzinfo=IST)
        self.core = build_core(cfg, engine, clock=lambda: clock)
        self.day = day

    def ask(self, phone: str, text: str) -> list[Any]:
        inbound = Inbound(
            channel="simulator",
            dedup_key=f"t:{uuid.uuid4().hex}",
            sent_at=dt.datetime(2026, 11, self.day, 19, 0, tzinfo=IST),
            chat_id=phone,
            phone=phone,
            text=text,
        )
        # The one-time privacy notice of a first contact is not what these tests are about.
        return [r for r in self.core.handle(inbound) if not r.text.startswith("🔒")]

    def say(self, phone: str, text: str) -> str:
        return "\n".join(r.text for r in self.ask(phone, text))


def test_district_officer_reads_shortfall_pace_coverage_and_rank(
    reported: Engine, cfg: Settings, tmp_path: Path
) -> None:
    write_targets(reported, cfg, tmp_path, "district,Hardoi,,,cards,,,10000,2000\n")
    reply = SmallChat(reported, cfg, 20).say(OFFICER_HARDOI, "/status")
    lines = reply.splitlines()
    assert lines[0] == "📊 Hardoi — आज (20/11)"
    for line in [
        "रिपोर्ट भेजी: 3/5 कार्यकर्ता",
        "लक्ष्य (कार्ड): 40/100 = 40.0% — 60 कम",
        "अभियान में अब तक (कार्ड): 215 — 20 दिन का लक्ष्य 2,000 = 10.8% — 1,785 कम",
        "कुल लक्ष्य 2,000 में से 215 (10.8%) — बाकी 10 दिन में रोज़ 179 चाहिए",
        "पिछले 7 दिन की रफ़्तार (15/दिन) से कुल लक्ष्य पूरा होगा: 19/03/2027"
        " ⚠️ अभियान की आख़िरी तारीख़ (30/11) के बाद",
        "कवरेज (कार्ड): 10,000 पात्र में से 2,215 = 22.2% (अभियान से पहले 2,000 + अभियान में 215)",
        "प्रदेश के जिलों में स्थान: 2/2",
        "1. Sandila — कार्ड 40 (3/3) · 100.0%",
        "2. Bilgram — कार्ड 0 (0/2) · 0.0%",
    ]:
        assert line in lines, (line, reply)


def test_english_reply_and_a_named_unit_in_scope(reported: Engine, cfg: Settings) -> None:
    chat = SmallChat(reported, cfg, 20)
    chat.say(OFFICER_HARDOI, "/lang en")
    reply = chat.say(OFFICER_HARDOI, "/status Sandila week")
    assert "📊 Hardoi/Sandila — last 7 days (14 Nov–20 Nov)" in reply
    assert "Target (cards): 65/280 = 23.2% — 215 short" in reply
    assert "Campaign so far (cards): 75 — target for 20 days 800 = 9.4% — 725 short" in reply
    assert "Place among the district's blocks: 1 of 2" in reply


def test_unit_outside_the_askers_scope_is_refused(reported: Engine, cfg: Settings) -> None:
    chat = SmallChat(reported, cfg, 20)
    for command in ("/status Kadipur", "/top Sultanpur", "/export Sultanpur"):
        reply = chat.say(BMO_SANDILA, command)
        assert "सिर्फ़ अपने क्षेत्र" in reply and "60" not in reply, command
    assert "Kadipur" in chat.say(ADMIN, "/status Kadipur")


def test_top_marks_the_own_district_in_the_state_ranking(reported: Engine, cfg: Settings) -> None:
    chat = SmallChat(reported, cfg, 20)
    by_cards = chat.ask(OFFICER_HARDOI, "/top")
    assert by_cards[0].text.splitlines() == [
        "🏆 Uttar Pradesh — आज (20/11), कार्ड के हिसाब से:",
        "1. Sultanpur — 60 · 60.0%",
        "2. Hardoi — 40 · 40.0% ◀ आपका",
    ]
    assert "1. Sandila — 40 · 100.0%" in by_cards[1].text
    assert "/top %" in by_cards[-1].text
    by_pct = chat.ask(OFFICER_SULTANPUR, "रैंक %")[0].text.splitlines()
    assert by_pct[0] == "🏆 Uttar Pradesh — आज (20/11), कार्ड लक्ष्य के प्रतिशत के हिसाब से:"
    assert by_pct[1:] == ["1. Sultanpur — 60.0% (60/100) ◀ आपका", "2. Hardoi — 40.0% (40/100)"]


def test_missing_counts_per_block_at_district_level(reported: Engine, cfg: Settings) -> None:
    reply = SmallChat(reported, cfg, 20).say(OFFICER_HARDOI, "/missing")
    assert "⏳ Hardoi — 20/11: 2 कार्यकर्ताओं की रिपोर्ट बाकी है (3/5 ने भेजी)" in reply
    assert "• Bilgram: 2" in reply and "• Sandila: 0" in reply


def test_export_in_chat_is_a_workbook_of_the_askers_units(reported: Engine, cfg: Settings) -> None:
    replies = SmallChat(reported, cfg, 20).ask(OFFICER_HARDOI, "/export today")
    document = replies[0].document
    assert document is not None and document.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["district", "block", "sector", "worker"]
    worker = [list(r) for r in book["worker"].iter_rows(values_only=True)]
    head = worker[0]
    one = next(r for r in worker if r[head.index("worker")] == "Asha One")
    assert one[: head.index("cards") + 1] == [
        "2026-11-20",
        "Hardoi",
        "Sandila",
        "S1",
        "Asha One",
        "+919100000001",
        1,
        1,
        0,
        15,
    ]
    assert one[head.index("target") :] == [10, 150]
    assert all(r[1] == "Hardoi" for r in worker[1:])
    district = [list(r) for r in book["district"].iter_rows(values_only=True)]
    assert district[1][:10] == ["2026-11-20", "Hardoi", None, None, None, None, 5, 3, 0, 40]


# ---------------------------------------------------------------- export


def test_export_tables_by_hand_and_formulas_neutralised(reported: Engine, cfg: Settings) -> None:
    hostile = {
        "W2": '=HYPERLINK("http://x.example","click")',
        "W4": "+91 trick",
        "W5": "-2+3",
        "W6": "@SUM(A1)",
    }
    with session_scope(reported) as session:
        for worker_id, name in hostile.items():
            who = person(session, worker_id)
            who.name = name
            session.add(who)
    hardoi = unit(reported, "Hardoi", cfg)
    with Session(reported) as session:
        header, blocks = export_rows(
            session=session, settings=cfg, level="block", start=nov(19), end=nov(20), within=hardoi
        )
        _, workers = export_rows(
            session=session, settings=cfg, level="worker", start=nov(20), end=nov(20), within=hardoi
        )
        _, whole = export_rows(session=session, settings=cfg, level="state", start=nov(20), end=nov(20))
    rows = {(r[0], r[2]): dict(zip(header, r, strict=True)) for r in blocks}
    sandila = rows[("2026-11-20", "Sandila")]
    assert (sandila["workers"], sandila["reported"], sandila["cards"], sandila["households"]) == (
        3,
        3,
        40,
        30,
    )
    assert (sandila["target"], sandila["achievement_pct"]) == (40, 100.0)
    assert rows[("2026-11-19", "Sandila")]["cards"] == 5
    assert rows[("2026-11-20", "Bilgram")]["reported"] == 0
    state_row = dict(zip(header, whole[0], strict=True))
    assert (state_row["cards"], state_row["reported"], state_row["target"]) == (100, 4, 150)
    assert state_row["achievement_pct"] == 66.7
    # Every active worker of the district, and none from elsewhere; Asha Three is inactive.
    assert sorted(r[4] for r in workers) == sorted(["Asha One", *hostile.values()])

    text_out = csv_bytes(header, workers).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text_out)) for c in row]
    for name in hostile.values():
        assert "'" + name in cells and name not in cells
    assert "'+919100000001" in cells  # a phone too starts with +

    book = load_workbook(io.BytesIO(xlsx_bytes([("worker", header, workers)])))
    sheet = book["worker"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("1F4E78")
    names = {c.value: c for c in sheet["E"][1:]}
    for name in hostile.values():
        cell = names[name]  # the very text, kept as text: nothing runs, nothing is added
        assert cell.data_type == "s" and cell.quotePrefix, name


# ---------------------------------------------------------------- aggregates against reports


def compare_sources(engine: Engine, cfg: Settings, ranges: list[tuple[dt.date, dt.date]]) -> None:
    """Every figure, ranking and export table reads the same from the aggregates and the reports."""
    with Session(engine) as session:
        units = [state_unit(cfg.state)]
        for path in ("Hardoi", "Sultanpur", "Hardoi/Sandila", "Hardoi/Bilgram", "Sultanpur/Kadipur"):
            units.append(resolve_units(session, path, cfg.state)[0])
        for path in ("S1", "S2", "B1", "K1"):
            units.append(resolve_units(session, path, cfg.state)[0])
        for start, end in ranges:
            for where in units:
                a = rollup_figures(session=session, settings=cfg, unit=where, start=start, end=end)
                r = rollup_figures(
                    session=session, settings=cfg, unit=where, start=start, end=end, source=RAW
                )
                assert a == r, (where.path, start, end)
                shared, _ = status_view(session=session, settings=cfg, unit=where, start=start, end=end)
                assert shared == a, (where.path, start, end)
                rows_a = breakdown(
                    session=session, unit=where, start=start, end=end, metric="cards", settings=cfg
                )
                rows_r = breakdown(
                    session=session,
                    unit=where,
                    start=start,
                    end=end,
                    metric="cards",
                    settings=cfg,
                    source=RAW,
                )
                assert rows_a == rows_r, (where.path, start, end)
            for level in ("worker", "sector", "block", "district", "state"):
                for within in (None, units[1]) if level != "worker" else (units[1],):
                    got = export_rows(
                        session=session, settings=cfg, level=level, start=start, end=end, within=within
                    )
                    want = export_rows(
                        session=session,
                        settings=cfg,
                        level=level,
                        start=start,
                        end=end,
                        within=within,
                        source=RAW,
                    )
                    assert got == want, (level, start, end)


RANGES = [
    (nov(20), nov(20)),
    (nov(19), nov(26)),  # 25 Nov starts a new reporting_days bucket
    (nov(1), nov(30)),
    (dt.date(2026, 10, 28), nov(30)),
    (dt.date(2026, 9, 20), nov(30)),  # the whole of bucket 39 (23 Sep - 24 Nov) and parts of two
]


def test_hand_worked_reports_read_the_same_both_ways(reported: Engine, cfg: Settings) -> None:
    compare_sources(reported, cfg, RANGES)


def test_bucket_masks_split_a_range_at_the_bucket_edge() -> None:
    # 25 Nov 2026 is day 2,520 = 40 x 63 since 1 Jan 2020.
    assert totals.day_bit(nov(25)) == (40, 1)
    assert totals.day_bit(nov(24)) == (39, 1 << 62)
    assert totals.bucket_masks(nov(23), nov(26)) == {39: (1 << 62) | (1 << 61), 40: 0b11}
    assert totals.bucket_masks(nov(25), nov(25)) == {40: 1}


WORKERS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
DAYS = [dt.date(2026, 10, 29) + dt.timedelta(days=i) for i in range(33)]  # 29 Oct - 30 Nov
METRICS = ["applications", "cards", "households"]

operation = st.one_of(
    st.tuples(
        st.just("report"),
        st.sampled_from(WORKERS),
        st.sampled_from(DAYS),
        st.dictionaries(st.sampled_from(METRICS), st.integers(0, 150), min_size=1, max_size=3),
        st.booleans(),
    ),
    st.tuples(st.just("undo"), st.sampled_from(WORKERS)),
    st.tuples(st.just("edit"), st.sampled_from(WORKERS), st.integers(0, 150)),
    st.tuples(st.just("move"), st.sampled_from(WORKERS), st.sampled_from(["S1", "S2", "B1", "K1"])),
)


def _clear_reports(engine: Engine) -> None:
    with engine.begin() as conn:
        for model in (
            ReportChange,
            ReportValue,
            DailyReport,
            UnitDayTotal,
            UnitDayReported,
            ReportingDays,
        ):
            conn.execute(delete(model))


def _apply(engine: Engine, op: tuple[Any, ...], sources: dict[str, list[str]]) -> None:
    kind, worker_id = op[0], op[1]
    with session_scope(engine) as session:
        who = person(session, worker_id)
        if kind == "report":
            _, _, day, values, add = op
            current = reports.lock_for_report(session=session, person=who, day=day)
            changes = reports.plan_changes(current, ((m, v, add) for m, v in values.items()), day)
            key = uuid.uuid4().hex
            sources.setdefault(worker_id, []).append(key)
            reports.apply_changes(
                session=session, person=who, changes=changes, kind="report", channel="t", source_key=key
            )
        elif kind == "undo":
            reports.undo_last(session=session, person=who, channel="t")
        elif kind == "edit" and sources.get(worker_id):
            # As an edited message is handled: take back what it reported, then the new text.
            key = sources[worker_id][-1]
            earlier = reports.changes_from_source(session=session, source_key=key)
            revert = reports.revert_plan(session=session, person=who, earlier=earlier)
            for change in revert:
                reports.lock_for_report(session=session, person=who, day=change.day)
            if revert:
                reports.apply_changes(
                    session=session, person=who, changes=revert, kind="edit", channel="t", source_key=key
                )
            session.flush()
            day = earlier[-1].day if earlier else DAYS[-1]
            current = reports.lock_for_report(session=session, person=who, day=day)
            changes = reports.plan_changes(current, [("cards", op[2], False)], day)
            reports.apply_changes(
                session=session, person=who, changes=changes, kind="edit", channel="t", source_key=key
            )
        elif kind == "move":
            # A roster change: later reports count where she is now, earlier ones stay put.
            sector = session.exec(select(Sector).where(Sector.name == op[2])).one()
            block = session.get_one(Block, sector.block_id)
            who.sector_id, who.block_id, who.district_id = sector.id, block.id, block.district_id
            session.add(who)


def _oracle(engine: Engine) -> dict[tuple[str, dt.date], tuple[int, int]]:
    """(sector name, day) -> (cards, workers who reported), straight from the report rows."""
    with Session(engine) as session:
        rows = session.exec(
            select(
                Sector.name,
                DailyReport.day,
                DailyReport.person_id,
                ReportValue.metric,
                ReportValue.value,
            )
            .join(DailyReport, DailyReport.sector_id == Sector.id)
            .join(ReportValue, ReportValue.report_id == DailyReport.id)
        ).all()
    cards: dict[tuple[str, dt.date], int] = {}
    people: dict[tuple[str, dt.date], set[int]] = {}
    for sector, day, person_id, metric, value in rows:
        people.setdefault((sector, day), set()).add(person_id)
        if metric == "cards":
            cards[(sector, day)] = cards.get((sector, day), 0) + value
    return {k: (cards.get(k, 0), len(v)) for k, v in people.items()}


@hyp_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_aggregates_agree_with_reports_after_any_edits_and_undos(
    state: Engine, cfg: Settings, ops: list[tuple[Any, ...]]
) -> None:
    _clear_reports(state)
    with session_scope(state) as session:  # everyone back home
        for worker_id, sector_name in zip(
            WORKERS, ["S1", "S1", "S1", "S2", "B1", "B1", "K1"], strict=True
        ):
            who = person(session, worker_id)
            sector = session.exec(select(Sector).where(Sector.name == sector_name)).one()
            block = session.get_one(Block, sector.block_id)
            who.sector_id, who.block_id, who.district_id = sector.id, block.id, block.district_id
            session.add(who)
    sources: dict[str, list[str]] = {}
    for op in ops:
        _apply(state, op, sources)
    compare_sources(state, cfg, RANGES[1:])
    with Session(state) as session:  # and both agree with the report rows counted by hand
        sectors = {s.name: s for s in session.exec(select(Sector))}
        for (name, day), (cards, people) in _oracle(state).items():
            where = resolve_units(session, name, cfg.state)[0]
            assert unit_totals(session=session, unit=where, start=day, end=day).get("cards", 0) == cards
            assert reported_count(session=session, unit=where, start=day, end=day) == people, (
                name,
                day,
                sectors[name].id,
            )


def test_rebuild_recounts_the_aggregates_from_the_reports(reported: Engine, cfg: Settings) -> None:
    with session_scope(reported) as session:
        before = session.exec(select(UnitDayTotal)).all()
        snapshot = sorted((r.level, r.unit_id, r.day, r.metric, r.value) for r in before if r.value)
        session.execute(delete(UnitDayTotal))
        session.execute(delete(ReportingDays))
    with session_scope(reported) as session:
        totals.rebuild_totals(session=session)
    with Session(reported) as session:
        after = session.exec(select(UnitDayTotal)).all()
        assert (
            sorted((r.level, r.unit_id, r.day, r.metric, r.value) for r in after if r.value) == snapshot
        )
    compare_sources(reported, cfg, RANGES[:2])


def test_refused_message_leaves_no_aggregate_behind(reported: Engine, cfg: Settings) -> None:
    chat = SmallChat(reported, cfg, 20)
    assert "बहुत ज़्यादा" in chat.say("9100000004", "कार्ड 30 घर 999")
    with Session(reported) as session:
        where = unit(reported, "S2", cfg)
        assert unit_totals(session=session, unit=where, start=nov(20), end=nov(20)) == {"cards": 25}
    compare_sources(reported, cfg, RANGES[:1])


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    from bot.store.db import _alembic_config

    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_migration_counts_reports_made_before_it(tmp_path: Path, base_settings: Settings) -> None:
    """An upgraded database reads its old reports right at once (SQLite and PostgreSQL)."""
    engines: list[tuple[Engine, str | None]] = [(make_engine(f"sqlite:///{tmp_path}/old.db"), None)]
    if POSTGRES_URL:
        engines.append(_postgres_engine())
    cfg = small_settings(base_settings)
    for engine, schema in engines:
        try:
            # Today's roster import needs today's tables: load the roster, then go back to 0004.
            upgrade(engine)
            load_small_state(engine, tmp_path)
            _downgrade(engine, "0004")
            with session_scope(engine) as session:  # rows as the code before 0005 wrote them
                for worker_id, day, values in [
                    ("W1", nov(20), {"cards": 15, "households": 30}),
                    ("W2", nov(20), {"cards": 0}),
                    ("W7", nov(24), {"cards": 60}),
                    ("W7", nov(26), {"cards": 6}),
                ]:
                    who = person(session, worker_id)
                    assert who.id and who.sector_id and who.block_id and who.district_id
                    row = DailyReport(
                        person_id=who.id,
                        day=day,
                        district_id=who.district_id,
                        block_id=who.block_id,
                        sector_id=who.sector_id,
                    )
                    session.add(row)
                    session.flush()
                    assert row.id is not None
                    for metric, value in values.items():
                        session.add(ReportValue(report_id=row.id, metric=metric, value=value))
            upgrade(engine)
            assert figures(engine, cfg, "Hardoi", nov(20), nov(20)).reported == 2
            assert figures(engine, cfg, "Sultanpur", nov(20), nov(26)).totals["cards"] == 66
            assert figures(engine, cfg, "Sultanpur", nov(20), nov(26)).reported == 1
            compare_sources(engine, cfg, RANGES)
        finally:
            engine.dispose()
            if schema:
                admin = make_engine(POSTGRES_URL or "")
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="FIELDBOT_TEST_POSTGRES_URL is not set")
def test_simultaneous_reports_keep_the_aggregates_right_on_postgres(
    state: Engine, cfg: Settings
) -> None:
    if state.dialect.name != "postgresql":
        pytest.skip("the concurrent writers test runs on PostgreSQL")
    phones = [f"91000000{i:02d}" for i in (1, 2, 4, 5, 6, 7)]
    core = build_core(cfg, state, clock=lambda: dt.datetime(2026, 11, 20, 23, 59, tzinfo=IST))

    def send(args: tuple[str, int]) -> str:
        phone, n = args
        prefix = "कल " if n % 3 == 0 else ""
        inbound = Inbound(
            channel="simulator",
            dedup_key=f"c:{uuid.uuid4().hex}",
            sent_at=dt.datetime(2026, 11, 20, 18, 0, tzinfo=IST),
            chat_id=phone,
            phone=phone,
            text=f"{prefix}आवेदन {n % 50} कार्ड +{n % 7} घर {n % 11}" if n % 5 else "/undo",
        )
        return core.handle(inbound)[0].text

    work = [(phone, n) for n in range(20) for phone in phones]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, work))
    assert not [a for a in answers if "तकनीकी दिक्कत" in a]
    compare_sources(state, cfg, [(nov(19), nov(20)), (nov(1), nov(30))])


# ---------------------------------------------------------------- the newspaper reports


def _seed_roster(folder: Path) -> Path:
    lines = [
        "name,phone,role,district,block,sector,village,lat,lon,language,worker_id,alt_phones,active"
    ]
    officers = {"Darbhanga": "9300000001", "Hardoi": "9300000002", "Sultanpur": "9300000003"}
    officers["Saran"] = "9300000004"
    for district, phone in officers.items():
        lines.append(f"DM {district},{phone},district_officer,{district},,,,,,hi,,,true")
    for district, workers in {"Darbhanga": 10, "Hardoi": 23, "Sultanpur": 15, "Saran": 1}.items():
        for n in range(1, workers + 1):
            code = f"{district[:3].upper()}{n:02d}"
            phone = f"94{list(officers).index(district)}{n:07d}"
            place = f"{district},{district} Sadar,{district}-1,Gaon"
            lines.append(f"ASHA {code},{phone},asha,{place},,,hi,{code},,true")
    path = folder / "seeds.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_figures_district_officers_read_in_the_papers(
    db: Engine, base_settings: Settings, tmp_path: Path
) -> None:
    """Darbhanga: 14,919 cards in 11 days against 10,000 a day. Hardoi first in the state on
    day one with 2,681 cards, Sultanpur second. Saran: 8,88,228 of 28,95,434 eligible covered."""
    from tests.conftest import import_csv

    import_csv(db, _seed_roster(tmp_path))
    campaign = {"name": "seeds", "start": nov(22), "end": dt.date(2026, 12, 31)}
    district_default = {"district": {"cards": {"daily": 1000}}}
    cfg = small_settings(base_settings, campaign=campaign, targets=district_default)
    write_targets(
        db,
        cfg,
        tmp_path,
        'district,Darbhanga,,,cards,10000,,,\ndistrict,Saran,,,cards,,,"28,95,434","8,88,228"\n',
    )
    days = [nov(22) + dt.timedelta(days=i) for i in range(11)]  # 22 Nov - 2 Dec
    worker_days = [(f"DAR{n:02d}", day) for day in days for n in range(1, 11)]
    for index, (worker_id, day) in enumerate(worker_days):  # 109 x 136 + 95 = 14,919
        report(db, worker_id, day, {"cards": 136 if index < 109 else 95})
    for n in range(1, 24):  # Hardoi on day one: 3,347 applications, 2,681 cards
        values = {"applications": 146 if n <= 12 else 145, "cards": 117 if n <= 21 else 112}
        report(db, f"HAR{n:02d}", nov(22), values)
    for n in range(1, 16):
        report(db, f"SUL{n:02d}", nov(22), {"cards": 100})

    class SeedChat(SmallChat):
        def __init__(self, when: dt.date):
            clock = dt.datetime(when.year, when.month, when.day, 23, 59, tzinfo=IST)
            self.core = build_core(cfg, db, clock=lambda: clock)
            self.when = when

        def ask(self, phone: str, text: str) -> list[Any]:
            inbound = Inbound(
                channel="simulator",
                dedup_key=f"s:{uuid.uuid4().hex}",
                sent_at=dt.datetime(self.when.year, self.when.month, self.when.day, 20, tzinfo=IST),
                chat_id=phone,
                phone=phone,
                text=text,
            )
            return [r for r in self.core.handle(inbound) if not r.text.startswith("🔒")]

    darbhanga = SeedChat(dt.date(2026, 12, 2)).say("9300000001", "/status अभियान")
    assert "📊 Darbhanga — अभियान (22/11–02/12)" in darbhanga
    assert "लक्ष्य (कार्ड): 14,919/1,10,000 = 13.6% — 95,081 कम" in darbhanga

    first_day = SeedChat(nov(22)).ask("9300000002", "/top")[0].text.splitlines()
    assert first_day[1:3] == ["1. Hardoi — 2,681 · 268.1% ◀ आपका", "2. Sultanpur — 1,500 · 150.0%"]

    saran = SeedChat(nov(22)).say("9300000004", "/status")
    assert "कवरेज (कार्ड): 28,95,434 पात्र में से 8,88,228 = 30.7%" in saran

"""The targets file as a DPC fills it in: every bad row named with its number and reason, nothing
imported if any row is bad; good rows override the config defaults for their unit."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.config import Settings
from bot.store.db import session_scope, upgrade
from bot.store.units import resolve_units
from bot.targets import TargetsInvalid, goal_for, import_targets, parse_number
from models import UnitTarget
from tests.conftest import load_once
from tests.e2e.test_cli import _site
from tests.small_state import load_small_state, small_settings

HEADER = "level,district,block,sector,metric,daily,campaign_total,eligible,baseline"


@pytest.fixture()
def state(db: Engine, tmp_path: Path) -> Engine:
    load_once(db, "small_state", lambda: load_small_state(db, tmp_path))
    return db


@pytest.fixture()
def cfg(base_settings: Settings) -> Settings:
    return small_settings(base_settings)


def write(folder: Path, *lines: str, header: str = HEADER, name: str = "targets.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def load(engine: Engine, cfg: Settings, path: Path, *, dry_run: bool = False) -> object:
    with session_scope(engine) as session:
        return import_targets(session=session, settings=cfg, path=path, dry_run=dry_run)


def errors(engine: Engine, cfg: Settings, path: Path) -> list[str]:
    with pytest.raises(TargetsInvalid) as caught:
        load(engine, cfg, path)
    return [str(e) for e in caught.value.errors]


def rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(UnitTarget)).one())


def goal(engine: Engine, cfg: Settings, path: str) -> tuple[int | None, ...]:
    with Session(engine) as session:
        unit = resolve_units(session, path, cfg.state)[0]
        g = goal_for(session=session, settings=cfg, unit=unit, metric="cards")
    return g.daily, g.campaign_total, g.eligible, g.baseline


def test_each_level_overrides_its_unit_and_leaves_the_rest_to_the_defaults(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        'district,Hardoi,,,cards,"10,000","6,00,000","28,95,434","8,88,228"',
        "block,Hardoi,Sandila,,कार्ड,300,,,",  # the metric by its Hindi name
        "sector,hardoi,SANDILA,s1,Cards,,,500,100",  # names in any case
        "state,,,,cards,,9000,,",
    )
    load(state, cfg, path)
    assert goal(state, cfg, "Hardoi") == (10000, 600000, 2895434, 888228)
    assert goal(state, cfg, "Hardoi/Sandila") == (300, None, None, None)  # S2 has no eligible
    assert goal(state, cfg, "S1") == (20, None, 500, 100)
    assert goal(state, cfg, "Hardoi/Bilgram") == (40, None, None, None)  # no row: the defaults
    assert goal(state, cfg, "Sultanpur") == (100, 2000, None, None)
    assert goal(state, cfg, "Uttar Pradesh") == (150, 9000, None, None)


def test_reimport_updates_and_an_empty_row_clears(state: Engine, cfg: Settings, tmp_path: Path) -> None:
    load(
        state, cfg, write(tmp_path, "district,Hardoi,,,cards,500,,,", "district,Sultanpur,,,cards,70,,,")
    )
    load(state, cfg, write(tmp_path, "district,Hardoi,,,cards,600,,,", "district,Sultanpur,,,cards,,,,"))
    assert goal(state, cfg, "Hardoi")[0] == 600
    assert goal(state, cfg, "Sultanpur")[0] == 100  # cleared: the default again
    assert rows(state) == 1


def test_dry_run_checks_and_writes_nothing(state: Engine, cfg: Settings, tmp_path: Path) -> None:
    summary = load(state, cfg, write(tmp_path, "district,Hardoi,,,cards,500,,,"), dry_run=True)
    assert getattr(summary, "created", None) == 1
    assert rows(state) == 0


def test_every_bad_row_is_listed_and_nothing_is_imported(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "district,Hardoi,,,cards,500,,,",  # row 2: good
        "district,Lucknow,,,cards,500,,,",
        "block,Hardoi,Sandila,S1,cards,10,,,",
        "sector,Hardoi,Sandila,,cards,10,,,",
        "tehsil,Hardoi,,,cards,10,,,",
        "district,Hardoi,,,visits,10,,,",
        "district,Sultanpur,,,cards,-5,12.5,1e6,",
        "district,Sultanpur,,,applications,,,100,200",
        "district,Sultanpur,,,cards,,,,7",
        "block,Hardoi,Nowhere,,cards,1,,,",
        "sector,Hardoi,Sandila,S9,cards,1,,,",
        "district,Hardoi,,,cards,700,,,",  # the same unit and metric again
        "district,Sultanpur,,,rejected,1,,,,extra",
    )
    assert errors(state, cfg, path) == [
        "row 3: no district 'Lucknow' on the roster",
        "row 4: a block row names no sector (found 'S1')",
        "row 5: a sector row needs sector",
        "row 6: level 'tehsil' is not one of state, district, block, sector",
        "row 7: metric 'visits' is not a configured metric "
        "(applications, cards, elderly_cards, households, rejected)",
        "row 8: daily '-5' is negative",
        "row 8: campaign_total '12.5' is not a whole number",
        "row 8: eligible '1e6' is not a whole number",
        "row 9: baseline 200 is more than eligible 100",
        "row 10: baseline is given without eligible",
        "row 11: no block 'Nowhere' in district Hardoi on the roster",
        "row 12: no sector 'S9' in block Hardoi/Sandila on the roster",
        "row 13: Hardoi cards is already given in row 2",
        "row 14: text past the last column (a comma inside a name? quote it)",
    ]
    assert rows(state) == 0


def test_header_problems_are_row_1(state: Engine, cfg: Settings, tmp_path: Path) -> None:
    bad = write(tmp_path, "district,Hardoi,cards,5", header="level,district,metrics,daily")
    assert errors(state, cfg, bad) == [
        "row 1: header lacks column(s): metric",
        "row 1: unknown column(s): metrics; expected "
        + HEADER
        + " (and optionally district_lgd,block_lgd)",
    ]
    none = write(tmp_path, "district,Hardoi,cards", header="level,district,metric")
    assert errors(state, cfg, none) == [
        "row 1: header has none of daily, campaign_total, eligible, baseline"
    ]
    assert errors(state, cfg, write(tmp_path, header="level,metric,daily")) == [
        "row 2: the file has no rows below the header"
    ]


def test_only_the_columns_needed_and_blank_lines_keep_row_numbers(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "", "Hardoi,district,cards,12", "", "Lucknow,district,cards,1",
                 header="district,level,metric,daily")  # fmt: skip
    assert errors(state, cfg, path) == ["row 5: no district 'Lucknow' on the roster"]


def test_windows_encoded_file_is_refused_with_advice(
    state: Engine, cfg: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "targets.csv"
    text = HEADER + "\nblock,Hardoi,Sandila,,cards,5,,,\nblock,Hardoi,Sändila,,cards,5,,,\n"
    path.write_bytes(text.encode("cp1252"))
    [message] = errors(state, cfg, path)
    assert message.startswith("row 3:") and "CSV UTF-8" in message


def test_xlsx_with_numbers_typed_as_numbers(state: Engine, cfg: Settings, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(["district", "Hardoi", None, None, "cards", 10000, 600000.0, 2895434, 888228])
    sheet.append(["district", "Sultanpur", None, None, "cards", 10.5, None, None, None])
    path = tmp_path / "targets.xlsx"
    book.save(path)
    assert errors(state, cfg, path) == ["row 3: daily '10.5' is not a whole number"]
    sheet.delete_rows(3)
    book.save(path)
    load(state, cfg, path)
    assert goal(state, cfg, "Hardoi") == (10000, 600000, 2895434, 888228)


@pytest.mark.parametrize(
    ("text", "value"),
    [("28,95,434", 2895434), ("2,895,434", 2895434), ("1,00,000", 100000), (" 7 ", 7), ("", None)],
)
def test_numbers_as_people_write_them(text: str, value: int | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["12,34", "1.5", "ten", "-1", "99999999999"])
def test_numbers_that_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_cli_targets_import_lists_bad_rows_then_imports(tmp_path: Path) -> None:
    from tests.small_state import ROSTER

    with _site("sqlite", tmp_path) as site:
        upgrade(site.engine())
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER, encoding="utf-8")
        assert site.run("roster", "import", str(roster)).returncode == 0
        bad = write(tmp_path, "district,Hardoi,,,cards,10000,,,", "district,Lucknow,,,cards,1,,,")
        result = site.run("targets", "import", str(bad))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.splitlines() == [
            "row 3: no district 'Lucknow' on the roster",
            f"nothing imported: 1 problem(s) in {bad}",
        ]
        good = write(tmp_path, "district,Hardoi,,,cards,10000,,2895434,888228", name="good.csv")
        dry = site.run("targets", "import", str(good), "--dry-run")
        assert dry.returncode == 0 and "dry run" in dry.stdout
        assert site.run("targets", "import", str(good)).stdout.strip() == (
            "imported 1 target rows: 1 new, 0 updated"
        )
        status = site.run("status", "Hardoi", "--from", "2026-11-01", "--to", "2026-11-01", "--json")
        assert '"target": 10000' in status.stdout and '"coverage_pct": 30.7' in status.stdout
        missing = site.run("targets", "import", str(tmp_path / "nope.csv"))
        assert missing.returncode == 1 and "no such file" in missing.stderr.splitlines()[0]

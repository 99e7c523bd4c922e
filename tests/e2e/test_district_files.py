"""Rosters and villages files as a district's NHM office really sends them: Hindi or ad-hoc English
headers, a serial column, roles as people write them, no coordinates (they come from the villages
file), several villages for an ANM or supervisor, and LGD codes that make `Hardoi`, `HARDOI` and
`हरदोई` one district in every file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_core
from bot.config import ConfigError, Settings, parse_settings
from bot.roster.read import RosterInvalid
from bot.store.db import session_scope, upgrade
from bot.targets import TargetsInvalid, import_targets
from bot.villages import import_villages
from models import Block, District, Person, PersonVillage, Proof, Village, VillageCentre
from tests.conftest import ROOT, Chat, at, greet_everyone
from tests.e2e.test_cli import BACKENDS as CLI_BACKENDS
from tests.e2e.test_cli import _site
from tests.e2e.test_presence import send_proof
from tests.e2e.test_roster import snapshot
from tests.images import photo

HINDI_HEADER = ["क्रम", "नाम", "मोबाइल नंबर", "पद", "जनपद", "विकासखंड", "सेक्टर", "ग्राम"]
# Villages of Hardoi/Kachhauna with their centres (invented near the real block).
BALAMAU = (27.1412, 80.4903)
PATSENI = (27.1702, 80.5311)  # about 5 km from Balamau
MADARPUR = (27.1105, 80.4620)


def hindi_rows() -> list[list[Any]]:
    """An NHM sheet: serial numbers, Hindi roles, phones typed as numbers, no coordinates."""
    return [
        [1, "डॉ. विनोद कुमार", 9415123401, "MOIC", "हरदोई", "कछौना", "", ""],
        [2, "कुसुम पाल", "०९४१५१२३४०२", "आशा संगिनी", "हरदोई", "कछौना", "कछौना-1", ""],
        [None, None, None, None, None, None, None, None],  # the blank row merged cells leave
        ["", None, None, None, None, None, None, None],
        [3, None, None, None, None, None, None, None],  # a serial number alone: a spacer
        [3, "सरिता देवी", "+91 94151 23403", "ए.एन.एम.", "हरदोई", "कछौना", "कछौना-1", "बालामऊ"],
        [4, "मीना यादव", "94151-23404", "आशा", "हरदोई", "कछौना", "कछौना-1", "बालामऊ"],
        [5, "रीता मौर्य", "9415123405", "ASHA", "हरदोई", "कछौना", "कछौना-1", "पतसेनी"],
        [6, "डॉ. अनिल सिंह", "9415123406", "मुख्य चिकित्सा अधिकारी", "हरदोई", "", "", ""],
    ]


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def roster(engine: Engine, settings: Settings, path: Path, **kwargs: bool) -> Any:
    from bot.roster.apply import import_roster

    with session_scope(engine) as session:
        return import_roster(session, path, progress=False, aliases=settings.roster, **kwargs)


def villages(engine: Engine, settings: Settings, path: Path, **kwargs: bool) -> Any:
    with session_scope(engine) as session:
        return import_villages(session, path, aliases=settings.roster, **kwargs)


def refused(engine: Engine, call: Any, *args: Any) -> dict[int, list[str]]:
    before = snapshot(engine)
    with pytest.raises((RosterInvalid, TargetsInvalid)) as caught:
        call(engine, *args)
    assert snapshot(engine) == before, "a refused file changed the database"
    found: dict[int, list[str]] = {}
    for error in caught.value.errors:
        found.setdefault(error.row, []).append(error.message)
    return found


def everyone(engine: Engine) -> dict[str, Person]:
    with Session(engine) as session:
        return {p.name: p for p in session.exec(select(Person))}


def centre_of(engine: Engine, name: str) -> tuple[float | None, float | None]:
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.name == name)).one()
        village = session.get_one(Village, person.village_id)
        return village.lat, village.lon


VILLAGES_HEADER = ["district", "block", "village", "lat", "lon"]
KACHHAUNA_VILLAGES = [
    ["हरदोई", "कछौना", "बालामऊ", *BALAMAU],
    ["हरदोई", "कछौना", "पतसेनी", *PATSENI],
    ["हरदोई", "कछौना", "मदारपुर", *MADARPUR],
]


# ---------------------------------------------------------------- headers and roles


def test_nhm_sheet_with_hindi_headers_serial_column_and_hindi_roles_imports(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "asha.xlsx", HINDI_HEADER, hindi_rows())
    summary = roster(db, settings, path)
    assert summary.columns == [
        ("नाम", "name"),
        ("मोबाइल नंबर", "phone"),
        ("पद", "role"),
        ("जनपद", "district"),
        ("विकासखंड", "block"),
        ("सेक्टर", "sector"),
        ("ग्राम", "village"),
    ]
    assert summary.ignored == ["क्रम"]
    found = {name: (p.role, p.phone, p.language) for name, p in everyone(db).items()}
    assert found == {
        "डॉ. विनोद कुमार": ("bmo", "+919415123401", "hi"),
        "कुसुम पाल": ("supervisor", "+919415123402", "hi"),
        "सरिता देवी": ("anm", "+919415123403", "hi"),
        "मीना यादव": ("asha", "+919415123404", "hi"),
        "रीता मौर्य": ("asha", "+919415123405", "hi"),
        "डॉ. अनिल सिंह": ("district_officer", "+919415123406", "hi"),
    }
    assert centre_of(db, "मीना यादव") == (None, None)


def test_ad_hoc_english_headers_are_read_whatever_their_case_dots_and_slashes(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    header = [
        "S.No.",
        "NAME OF ASHA",
        "Mobile No.",
        "Designation",
        "District",
        "Block/CHC",
        "Sub Centre",
        "Village Name",
        "Remarks",
    ]
    rows = [[1, "Sunita Devi", "9876543210", "ASHA", "Hardoi", "Sandila", "Sandila-1", "Atwa", "new"]]
    path = write_csv(tmp_path / "roster.csv", header, rows)
    with pytest.raises(RosterInvalid) as caught:  # `Block/CHC` is no name of the block column
        roster(db, settings, path)
    assert [str(e) for e in caught.value.errors] == [
        "row 1: header lacks column(s): block",
        "row 1: ignored column(s), not roster fields: S.No., Block/CHC, Remarks",
    ]
    data = settings.model_dump(exclude={"base_dir"})
    data["roster"]["columns"]["block"].append("block / chc")  # a deployment extends the table
    extended = Settings.model_validate({**data, "base_dir": ROOT})
    summary = roster(db, extended, path)
    assert ("Block/CHC", "block") in summary.columns and ("Mobile No.", "phone") in summary.columns
    assert summary.ignored == ["S.No.", "Remarks"]
    assert everyone(db)["Sunita Devi"].role == "asha"


@pytest.mark.parametrize(
    ("written", "role"),
    [
        ("आशा", "asha"),
        ("ASHA", "asha"),
        ("एएनएम", "anm"),
        ("ए.एन.एम.", "anm"),
        ("ANM", "anm"),
        ("सुपरवाइज़र", "supervisor"),
        ("पर्यवेक्षक", "supervisor"),
        ("Supervisor", "supervisor"),
        ("LHV", "supervisor"),
        ("बीएमओ", "bmo"),
        ("MOIC", "bmo"),
        ("M.O.I.C.", "bmo"),
        ("चिकित्सा अधीक्षक", "bmo"),
        ("BMO", "bmo"),
        ("जिला अधिकारी", "district_officer"),
        ("DPM", "district_officer"),
        ("CMO", "district_officer"),
        ("DM", "district_officer"),
        ("District Officer", "district_officer"),
    ],
)
def test_role_values_as_people_write_them(
    db: Engine, settings: Settings, tmp_path: Path, written: str, role: str
) -> None:
    cells = {
        "asha": ["Sandila", "Sandila-1", "Atwa"],
        "anm": ["Sandila", "Sandila-1", "Atwa"],
        "supervisor": ["Sandila", "Sandila-1", ""],
        "bmo": ["Sandila", "", ""],
        "district_officer": ["", "", ""],
    }[role]
    path = write_csv(
        tmp_path / "r.csv", HINDI_HEADER, [[1, "Kamla", "9876543210", written, "Hardoi", *cells]]
    )
    roster(db, settings, path)
    assert everyone(db)["Kamla"].role == role


def test_an_unknown_role_is_refused_on_its_row(db: Engine, settings: Settings, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv", HINDI_HEADER, [[1, "Kamla", "9876543210", "चौकीदार", "Hardoi", "", "", ""]]
    )
    assert refused(db, roster, settings, path) == {
        2: ["role 'चौकीदार' is not one of asha, anm, supervisor, bmo, district_officer, admin"]
    }


def test_a_heading_given_two_meanings_in_config_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"(?i)mobile.*already means phone"):
        parse_settings(
            {
                "state": "UP",
                "metrics": [{"key": "cards", "hi": "कार्ड", "en": "cards", "max_per_day": 9}],
                "roster": {"columns": {"phone": ["mobile"], "alt_phones": ["Mobile"]}},
            },
            ROOT,
        )


# ---------------------------------------------------------------- villages file


def test_villages_file_gives_everyone_of_the_village_its_centre(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    roster(db, settings, write_xlsx(tmp_path / "asha.xlsx", HINDI_HEADER, hindi_rows()))
    path = write_csv(tmp_path / "villages.csv", VILLAGES_HEADER, KACHHAUNA_VILLAGES)
    dry = villages(db, settings, path, dry_run=True)
    assert (dry.villages, dry.located, dry.people) == (3, 2, 3)
    assert centre_of(db, "मीना यादव") == (None, None)
    summary = villages(db, settings, path)
    assert (summary.created, summary.located, summary.people) == (3, 2, 3)
    assert centre_of(db, "मीना यादव") == BALAMAU
    assert centre_of(db, "सरिता देवी") == BALAMAU
    assert centre_of(db, "रीता मौर्य") == PATSENI
    # Madarpur has no one yet: an ASHA added there later gets its centre from the file.
    later = [*hindi_rows(), [7, "नीलम रावत", "9415123407", "आशा", "हरदोई", "कछौना", "कछौना-2", "मदारपुर"]]
    roster(db, settings, write_xlsx(tmp_path / "asha2.xlsx", HINDI_HEADER, later))
    assert centre_of(db, "नीलम रावत") == MADARPUR


def test_a_roster_centre_is_kept_until_the_villages_file_gives_one(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    header = [*HINDI_HEADER, "lat", "lon"]
    rows = [[1, "मीना यादव", "9415123404", "आशा", "हरदोई", "कछौना", "कछौना-1", "बालामऊ", 27.15, 80.49]]
    roster(db, settings, write_csv(tmp_path / "r.csv", header, rows))
    assert centre_of(db, "मीना यादव") == (27.15, 80.49)
    villages(db, settings, write_csv(tmp_path / "v.csv", VILLAGES_HEADER, KACHHAUNA_VILLAGES))
    assert centre_of(db, "मीना यादव") == BALAMAU


def test_bad_villages_rows_are_listed_by_row_and_nothing_is_imported(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    roster(db, settings, write_xlsx(tmp_path / "asha.xlsx", HINDI_HEADER, hindi_rows()))
    rows = [
        ["हरदोई", "कछौना", "बालामऊ", *BALAMAU],
        ["हरदोई", "कछौना", "पतसेनी", 51.5, -0.12],  # London
        ["हरदोई", "कछौना", "मदारपुर", 80.46, 27.11],  # lat and lon swapped
        ["हरदोई", "कछौना", "बालामऊ", *BALAMAU],
        ["हरदोई", "संडीला", "अटवा", 27.09, 80.48],
        ["हरदोई", "कछौना", "", "27.1", "x"],
    ]
    path = write_csv(tmp_path / "villages.csv", VILLAGES_HEADER, rows)
    assert refused(db, villages, settings, path) == {
        3: ["lat 51.5, lon -0.12 is outside India"],
        4: ["lat 80.46, lon 27.11 is outside India (lat and lon look swapped)"],
        5: ["village बालामऊ of हरदोई/कछौना is already on row 2"],
        6: ["no block 'संडीला' in district हरदोई on the roster"],
        7: ["village is empty", "lon 'x' is not a decimal number"],
    }
    with Session(db) as session:
        assert session.exec(select(VillageCentre)).all() == []


def test_villages_file_header_needs_the_centre(db: Engine, settings: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "v.csv", ["district", "block", "village"], [["a", "b", "c"]])
    assert refused(db, villages, settings, path) == {1: ["header lacks column(s): lat, lon"]}


# ---------------------------------------------------------------- field presence


@pytest.fixture()
def kachhauna(db: Engine, settings: Settings, tmp_path: Path) -> Chat:
    rows = [
        *hindi_rows(),
        [7, "गीता पाल", "9415123408", "एएनएम", "हरदोई", "कछौना", "कछौना-1", "बालामऊ", "बालामऊ;पतसेनी"],
        [8, "कुसुम पाल", "०९४१५१२३४०२", "आशा संगिनी", "हरदोई", "कछौना", "कछौना-1", "", "पतसेनी;मदारपुर"],
    ]
    del rows[1]  # Kusum's row again, now with her villages
    header = [*HINDI_HEADER, "कार्य क्षेत्र के ग्राम"]
    roster(
        db, settings, write_xlsx(tmp_path / "asha.xlsx", header, [[*r, ""][: len(header)] for r in rows])
    )
    greet_everyone(db)
    return Chat(build_core(settings, db, clock=lambda: at(23, 23, 59)))


def proofs(engine: Engine) -> list[Proof]:
    with Session(engine) as session:
        return list(session.exec(select(Proof).order_by(Proof.id)).all())  # type: ignore[arg-type]


def test_no_coordinates_then_villages_file_then_proofs_measure_the_distance(
    kachhauna: Chat, db: Engine, settings: Settings, tmp_path: Path
) -> None:
    near_balamau = (BALAMAU[0] + 0.0005, BALAMAU[1])  # about 55 m
    reply = send_proof(kachhauna, "9415123404", at(23, 10), near_balamau, photo(31))
    assert "रोस्टर में आपके गाँव की लोकेशन नहीं है" in reply
    villages(db, settings, write_csv(tmp_path / "v.csv", VILLAGES_HEADER, KACHHAUNA_VILLAGES))
    reply = send_proof(kachhauna, "9415123404", at(23, 11), near_balamau, photo(32))
    first, second = proofs(db)
    assert first.reasons == "no_village_location" and first.distance_m is None
    assert second.verdict == "verified" and second.distance_m is not None
    assert 40 < second.distance_m < 70
    assert "बालामऊ" in reply


def test_an_anm_with_several_villages_is_measured_to_the_nearest(
    kachhauna: Chat, db: Engine, settings: Settings, tmp_path: Path
) -> None:
    villages(db, settings, write_csv(tmp_path / "v.csv", VILLAGES_HEADER, KACHHAUNA_VILLAGES))
    near_patseni = (PATSENI[0], PATSENI[1] + 0.001)  # about 100 m from Patseni, 5 km from Balamau
    reply = send_proof(kachhauna, "9415123408", at(23, 10), near_patseni, photo(33))
    [proof] = proofs(db)
    assert proof.verdict == "verified" and proof.distance_m is not None and proof.distance_m < 150
    with Session(db) as session:
        assert session.get_one(Village, proof.village_id).name == "पतसेनी"
    assert "पतसेनी" in reply
    # The ASHA of Balamau alone is far from her one village at the same spot.
    send_proof(kachhauna, "9415123404", at(23, 11), near_patseni, photo(34))
    assert proofs(db)[1].reasons == "far_from_village"


def test_a_supervisor_with_villages_is_measured_to_the_nearest(
    kachhauna: Chat, db: Engine, settings: Settings, tmp_path: Path
) -> None:
    with Session(db) as session:
        kusum = session.exec(select(Person).where(Person.name == "कुसुम पाल")).one()
        covered = session.exec(select(PersonVillage).where(PersonVillage.person_id == kusum.id)).all()
        assert len(covered) == 2
    villages(db, settings, write_csv(tmp_path / "v.csv", VILLAGES_HEADER, KACHHAUNA_VILLAGES))
    send_proof(kachhauna, "9415123402", at(23, 10), MADARPUR, photo(35))
    [proof] = proofs(db)
    assert proof.verdict == "verified" and proof.distance_m == pytest.approx(0, abs=1)


def test_villages_are_only_for_field_workers_and_supervisors(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    header = [*HINDI_HEADER, "villages"]
    rows = [[1, "डॉ. विनोद", "9415123401", "MOIC", "हरदोई", "कछौना", "", "", "बालामऊ"]]
    assert refused(db, roster, settings, write_csv(tmp_path / "r.csv", header, rows)) == {
        2: ["villages are for ASHAs, ANMs and supervisors, not a bmo"]
    }


# ---------------------------------------------------------------- LGD codes


LGD_HEADER = [
    "name",
    "phone",
    "role",
    "district",
    "district_lgd",
    "block",
    "block_lgd",
    "sector",
    "village",
]


def test_lgd_codes_make_spellings_one_unit_across_the_files(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["Meena", "9415123404", "asha", "Hardoi", 134, "Kachhauna", 903, "Kachhauna-1", "Balamau"],
        ["Reeta", "9415123405", "asha", "HARDOI", 134, "kachhauna", "903", "Kachhauna-1", "Patseni"],
        ["Geeta", "9415123408", "asha", "हरदोई", "१३४", "कछौना", 903, "Kachhauna-2", "Madarpur"],
        ["Vinod", "9415123401", "bmo", "हरदोई", 134, "KACHHAUNA", 903, "", ""],
    ]
    roster(db, settings, write_csv(tmp_path / "r.csv", LGD_HEADER, rows))
    with Session(db) as session:
        assert [(d.name, d.name_hi, d.lgd_code) for d in session.exec(select(District))] == [
            ("Hardoi", "हरदोई", 134)
        ]
        assert [(b.name, b.name_hi, b.lgd_code) for b in session.exec(select(Block))] == [
            ("Kachhauna", "कछौना", 903)
        ]
    header = ["district", "district_lgd", "block", "block_lgd", "village", "lgd_code", "lat", "lon"]
    rows = [["हरदोई", 134, "KACHHAUNA", 903, "balamau", 150107, *BALAMAU]]
    villages(db, settings, write_csv(tmp_path / "v.csv", header, rows))
    assert centre_of(db, "Meena") == BALAMAU
    with Session(db) as session:
        assert session.exec(select(Village).where(Village.name == "Balamau")).one().lgd_code == 150107
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "level,district,district_lgd,block,block_lgd,sector,metric,daily\n"
        "district,हरदोई,134,,,,cards,500\n"
        "block,,134,Kachhauna Block,903,,cards,90\n",
        encoding="utf-8",
    )
    with session_scope(db) as session:
        done = import_targets(session=session, settings=settings, path=targets)
    assert done.created == 2


def test_lgd_codes_that_disagree_are_refused_on_their_rows(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    first = [["Meena", "9415123404", "asha", "Hardoi", 134, "Kachhauna", 903, "Kachhauna-1", "Balamau"]]
    roster(db, settings, write_csv(tmp_path / "r.csv", LGD_HEADER, first))
    rows = [
        *first,
        ["Reeta", "9415123405", "asha", "Hardoi", 135, "Kachhauna", 903, "Kachhauna-1", "Patseni"],
        ["Geeta", "9415123408", "asha", "Unnao", 200, "Bighapur", 903, "Bighapur-1", "Kursi"],
        ["Asha", "9415123410", "asha", "Hardoee", 134, "Kachhauna", 903, "Kachhauna-1", "Kursi"],
        ["Kamla", "9415123409", "asha", "Hardoi", "13x", "Kachhauna", "", "Kachhauna-1", "Kursi"],
    ]
    assert refused(db, roster, settings, write_csv(tmp_path / "r2.csv", LGD_HEADER, rows)) == {
        3: ["district Hardoi has LGD code 134, not 135"],
        4: ["block LGD code 903 is Hardoi/Kachhauna, not in Unnao"],
        6: ["district_lgd '13x' is not an LGD code (a whole number)"],
    }
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "level,district,district_lgd,metric,daily\ndistrict,Lucknow,164,cards,9\n", encoding="utf-8"
    )
    assert refused(db, _targets, settings, targets) == {2: ["no district 'Lucknow' on the roster"]}


def _targets(engine: Engine, settings: Settings, path: Path) -> None:
    with session_scope(engine) as session:
        import_targets(session=session, settings=settings, path=path)


# ---------------------------------------------------------------- replies in the reader's language


def test_replies_name_units_in_devanagari_for_hindi_readers(
    db: Engine, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["Vinod", "9415123401", "bmo", "Hardoi", 134, "Kachhauna", 903, "", ""],
        ["Meena", "9415123404", "asha", "हरदोई", 134, "कछौना", 903, "Kachhauna-1", "Balamau"],
    ]
    header = [*LGD_HEADER, "language"]
    rows = [[*rows[0], "hi"], [*rows[1], "hi"]]
    roster(db, settings, write_csv(tmp_path / "r.csv", header, rows))
    greet_everyone(db)
    chat = Chat(build_core(settings, db, clock=lambda: at(23, 23, 59)))
    assert "हरदोई/कछौना" in chat.say("9415123401", "/status")
    assert "Hardoi/Kachhauna" in chat.say("9415123401", "/lang en") + chat.say("9415123401", "/status")


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("kind", CLI_BACKENDS)
def test_cli_dry_run_shows_the_mapping_and_warns_once_then_villages_place_everyone(
    tmp_path: Path, kind: str
) -> None:
    examples = ROOT / "examples"
    with _site(kind, tmp_path) as site:
        upgrade(site.engine())
        dry = site.run("roster", "import", str(examples / "roster_hindi.csv"), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.splitlines()[0] == (
            "columns: नाम -> name, मोबाइल नंबर -> phone, पद -> role, जनपद -> district, "
            "जनपद कोड -> district_lgd, विकासखंड -> block, सेक्टर -> sector, ग्राम -> village, "
            "कार्य क्षेत्र के ग्राम -> villages"
        )
        assert "every row is valid (dry run: nothing written)" in dry.stdout
        assert dry.stderr.splitlines() == ["ignored column(s), not roster fields: क्रम, अभ्युक्ति"]
        done = site.run("roster", "import", str(examples / "roster_hindi.csv"))
        assert done.returncode == 0 and done.stdout.startswith("imported 34 people: 34 new")
        places = site.run("villages", "import", str(examples / "villages_hardoi.csv"))
        assert places.returncode == 0, places.stderr
        assert places.stdout.strip() == (
            "imported 18 village centres: 18 new, 0 updated; 18 roster village(s), 30 people now "
            "have their centre"
        )
        with Session(site.engine()) as session:
            field = [p for p in session.exec(select(Person)) if p.is_field_worker]
            assert field and all(session.get_one(Village, p.village_id).lat is not None for p in field)
            assert session.exec(select(District)).one().name_hi == "हरदोई"
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "district,block,village,lat,lon\nHardoi,अहिरोरी,कुरसेली,27.4,180\n", encoding="utf-8"
        )
        refused_run = site.run("villages", "import", str(bad))
        assert refused_run.returncode == 1
        assert refused_run.stderr.splitlines() == [
            "row 2: lat 27.4, lon 180.0 is outside India",
            f"nothing imported: 1 problem(s) in {bad}",
        ]

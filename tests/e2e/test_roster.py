"""Roster import as an operator meets it: the sample district, bad files, re-imports, XLSX and
hostile input. Every refusal names the row (the header is row 1) and leaves the database as it was."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.roster.read import RosterInvalid
from models import Block, District, Person, PersonPhone, Post, Sector, Village
from tests.conftest import SAMPLE, import_csv

HEADER = [
    "name",
    "phone",
    "role",
    "district",
    "block",
    "sector",
    "village",
    "lat",
    "lon",
    "language",
    "worker_id",
    "alt_phones",
    "active",
]
E164 = re.compile(r"^\+91[6-9]\d{9}$")


def person(**cells: Any) -> dict[str, Any]:
    """One roster row: a valid ASHA of Hardoi/Sandila/Sandila-1 unless told otherwise."""
    row: dict[str, Any] = {
        "name": "Sunita Devi",
        "phone": "9876543210",
        "role": "asha",
        "district": "Hardoi",
        "block": "Sandila",
        "sector": "Sandila-1",
        "village": "Atwa",
        "lat": "27.095652",
        "lon": "80.484237",
        "language": "hi",
        "worker_id": "",
        "alt_phones": "",
        "active": "true",
    }
    row.update(cells)
    return row


def officer(role: str, **cells: Any) -> dict[str, Any]:
    return person(role=role, village="", lat="", lon="", **cells)


def write_csv(
    path: Path, rows: list[dict[str, Any]], header: list[str] | None = None, encoding: str = "utf-8"
) -> Path:
    header = header or HEADER
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused import changed nothing."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(r) for r in conn.execute(sa_select(table))), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def refused(engine: Engine, path: Path, **kwargs: bool) -> dict[int, list[str]]:
    """Import a file that must be refused: its problems by row; asserts nothing was written."""
    before = snapshot(engine)
    with pytest.raises(RosterInvalid) as caught:
        import_csv(engine, path, **kwargs)
    assert snapshot(engine) == before, "a refused roster changed the database"
    assert caught.value.errors, "refused without saying why"
    by_row: dict[int, list[str]] = {}
    for error in caught.value.errors:
        assert str(error).startswith(f"row {error.row}: ")
        by_row.setdefault(error.row, []).append(error.message)
    return by_row


def people(engine: Engine) -> dict[str, Person]:
    with Session(engine) as session:
        return {p.name: p for p in session.exec(select(Person))}


def phones_of(engine: Engine, name: str) -> set[str]:
    with Session(engine) as session:
        found = session.exec(select(Person).where(Person.name == name)).one()
        return set(session.exec(select(PersonPhone.phone).where(PersonPhone.person_id == found.id)))


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


# --- the sample district --------------------------------------------------------------------


def test_sample_district_imports_everyone_by_role(db: Engine) -> None:
    summary = import_csv(db, SAMPLE)
    assert (summary.people, summary.created, summary.updated) == (47, 47, 0)
    roles: dict[str, int] = {}
    for p in people(db).values():
        roles[p.role] = roles.get(p.role, 0) + 1
    assert roles == {"asha": 34, "anm": 6, "supervisor": 3, "bmo": 2, "district_officer": 1, "admin": 1}
    assert count(db, Person) == 47


def test_sample_district_builds_the_hierarchy(db: Engine) -> None:
    summary = import_csv(db, SAMPLE)
    assert dict(summary.units_created) == {"district": 1, "block": 2, "sector": 4, "village": 22}
    with Session(db) as session:
        (hardoi,) = session.exec(select(District)).all()
        assert hardoi.name == "Hardoi"
        blocks = {b.name: b for b in session.exec(select(Block))}
        assert set(blocks) == {"Sandila", "Bilgram"}
        assert {b.district_id for b in blocks.values()} == {hardoi.id}
        sectors = {(s.name, s.block_id) for s in session.exec(select(Sector))}
        assert sectors == {
            ("Sandila-1", blocks["Sandila"].id),
            ("Sandila-2", blocks["Sandila"].id),
            ("Bilgram-1", blocks["Bilgram"].id),
            ("Bilgram-2", blocks["Bilgram"].id),
        }
        sunita = session.exec(select(Person).where(Person.name == "Sunita Devi")).one()
        atwa = session.get(Village, sunita.village_id)
        assert atwa is not None and atwa.name == "Atwa"
        assert (atwa.lat, atwa.lon) == pytest.approx((27.095652, 80.484237))
        sector = session.get(Sector, sunita.sector_id)
        assert sector is not None and sector.name == "Sandila-1"
        assert (sunita.block_id, sunita.district_id) == (blocks["Sandila"].id, hardoi.id)


@pytest.mark.parametrize(
    ("name", "written", "stored"),
    [
        ("Ankit Sharma", "9901030882", "+919901030882"),
        ("Sunita Devi", "07973321377", "+917973321377"),
        ("Vivek Tripathi", "+91 92668 36880", "+919266836880"),
        ("Archana Dubey", "91-86869-85558", "+918686985558"),
        ("Kusum Lata", "+918347525964", "+918347525964"),
    ],
)
def test_sample_phones_are_stored_as_e164(db: Engine, name: str, written: str, stored: str) -> None:
    import_csv(db, SAMPLE)
    assert people(db)[name].phone == stored
    assert stored in phones_of(db, name)


def test_every_sample_phone_is_e164_and_reaches_its_person(db: Engine) -> None:
    import_csv(db, SAMPLE)
    everyone = people(db).values()
    assert all(E164.match(p.phone) for p in everyone)
    with Session(db) as session:
        owner = dict(session.exec(select(PersonPhone.phone, PersonPhone.person_id)).all())
    assert all(owner[p.phone] == p.id for p in everyone)
    assert all(E164.match(phone) for phone in owner)


def test_sample_alt_phones_are_extra_numbers_of_the_same_person(db: Engine) -> None:
    import_csv(db, SAMPLE)
    assert phones_of(db, "Rekha Verma") == {"+917339325088", "+919934650561"}
    assert phones_of(db, "Hasina Bano") == {"+918756193902", "+916248335156"}
    assert people(db)["Rekha Verma"].phone == "+917339325088"  # the primary stays the primary
    assert count(db, PersonPhone) == 47 + 4


def test_sample_supervisor_with_two_rows_is_one_person_with_two_posts(db: Engine) -> None:
    import_csv(db, SAMPLE)
    with Session(db) as session:
        ushas = session.exec(select(Person).where(Person.name == "Usha Srivastava")).all()
        assert len(ushas) == 1
        posts = session.exec(select(Post).where(Post.person_id == ushas[0].id)).all()
        held = {
            session.get(Sector, p.sector_id).name
            for p in posts  # type: ignore[union-attr]
            if p.sector_id
        }
        assert len(posts) == 2 and held == {"Sandila-1", "Sandila-2"}
        bmo = session.exec(select(Person).where(Person.name == "Dr. Nasreen Fatima")).one()
        (post,) = session.exec(select(Post).where(Post.person_id == bmo.id)).all()
        block = session.get(Block, post.block_id)
        assert block is not None and block.name == "Bilgram" and post.sector_id is None


def test_sample_inactive_asha_is_inactive_and_the_rest_active(db: Engine) -> None:
    import_csv(db, SAMPLE)
    everyone = people(db)
    assert everyone["Pushpa Rawat"].active is False
    assert [n for n, p in everyone.items() if not p.active] == ["Pushpa Rawat"]
    assert everyone["Pooja Shukla"].language == "en"
    assert everyone["Sunita Devi"].language == "hi"


# --- bad rows: every one listed, nothing imported --------------------------------------------


def bad_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "roster.csv",
        [
            person(name="Good One", phone="9876500001"),  # row 2
            person(name="Bad Phone", phone="98765"),  # row 3
            person(name="Odd Role", phone="9876500003", role="nurse"),  # row 4
            person(name="No Sector", phone="9876500004", sector=""),  # row 5
            person(name="Swapped", phone="9876500005", lat="80.48", lon="27.09"),  # row 6
            person(name="French", phone="9876500006", language="fr"),  # row 7
            person(name="Unsure", phone="9876500007", active="maybe"),  # row 8
            person(name="Same Phone", phone="09876500001"),  # row 9
            person(name="Good Two", phone="9876500009"),  # row 10
        ],
    )


def test_every_bad_row_is_listed_with_its_row_and_reason(db: Engine, tmp_path: Path) -> None:
    problems = refused(db, bad_file(tmp_path))
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9]
    expected = {
        3: "10 digits",
        4: "role 'nurse'",
        5: "sector is empty",
        6: "swapped",
        7: "language 'fr'",
        8: "active 'maybe'",
        9: "row 2",
    }
    for row, reason in expected.items():
        assert any(reason in message for message in problems[row]), (row, problems[row])
    assert any("only once" in message for message in problems[9])


def test_bad_rows_import_nothing_even_beside_good_rows(db: Engine, tmp_path: Path) -> None:
    refused(db, bad_file(tmp_path))
    assert count(db, Person) == count(db, District) == count(db, PersonPhone) == 0


def test_bad_rows_leave_a_loaded_district_untouched(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    path = write_csv(
        tmp_path / "update.csv",
        [
            person(name="Sunita Devi Renamed", phone="07973321377", worker_id="HRD-SDL-0001"),
            person(name="New Block Asha", phone="9876500011", block="Mallawan", sector="Mallawan-1"),
            person(name="Broken", phone="9876500012", language="fr"),
        ],
    )
    assert sorted(refused(db, path)) == [4]
    assert "Sunita Devi" in people(db)
    with Session(db) as session:
        assert session.exec(select(Block).where(Block.name == "Mallawan")).first() is None


def test_one_row_with_several_problems_lists_each(db: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        [
            person(phone="12", language="fr", active="maybe", village=""),
        ],
    )
    problems = refused(db, path)[2]
    assert len(problems) == 4
    assert {"phone", "language", "active", "village"} == {
        word
        for word in ("phone", "language", "active", "village")
        if any(word in message for message in problems)
    }


def test_blank_lines_keep_the_row_numbers_the_operator_sees(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Sunita Devi,9876543210,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,\n"
        + ",,,,,,,,,,,,\n"
        + "\n"
        + "Rekha,9876543211,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,fr,,,\n",
        encoding="utf-8",
    )
    assert sorted(refused(db, path)) == [5]


def test_bad_alt_phone_is_named(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(alt_phones="9934650561;12345")])
    (message,) = refused(db, path)[2]
    assert "alt_phones" in message and "12345" in message


def test_village_far_from_its_first_position_is_refused(db: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        [
            person(phone="9876500001"),
            person(name="Rekha", phone="9876500002", lat="27.5", lon="80.484237"),
        ],
    )
    (message,) = refused(db, path)[3]
    assert "Atwa" in message and "row 2" in message


def test_supervisor_phone_with_two_names_is_refused(db: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        [
            officer("supervisor", name="Usha", phone="7285872429"),
            officer("supervisor", name="Asha Rani", phone="7285872429", sector="Sandila-2"),
        ],
    )
    (message,) = refused(db, path)[3]
    assert "one phone, one person" in message


# --- header --------------------------------------------------------------------------------


def test_missing_column_is_reported_on_row_1(db: Engine, tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "village"]
    path = write_csv(tmp_path / "roster.csv", [person()], header=header)
    problems = refused(db, path)
    assert list(problems) == [1]
    assert any("village" in m and "lacks" in m for m in problems[1])


def test_unknown_column_is_ignored_and_named(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(email="x@example.org")], header=[*HEADER, "email"])
    summary = import_csv(db, path)
    assert summary.ignored == ["email"]
    assert people(db)["Sunita Devi"].phone == "+919876543210"


def test_column_named_twice_is_reported_on_row_1(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person()], header=[*HEADER, "phone"])
    assert any("twice" in m and "phone" in m for m in refused(db, path)[1])


def test_header_in_other_case_and_order_without_optional_columns(db: Engine, tmp_path: Path) -> None:
    header = [
        "Phone",
        " Name ",
        "ROLE",
        "District",
        "Block",
        "Sector",
        "Village",
        "Lat",
        "Lon",
        "Language",
    ]
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(header)
        + "\n"
        + "9876543210,Sunita Devi,ASHA,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,\n",
        encoding="utf-8",
    )
    import_csv(db, path)
    sunita = people(db)["Sunita Devi"]
    assert (sunita.phone, sunita.role, sunita.active, sunita.language) == (
        "+919876543210",
        "asha",
        True,
        "hi",
    )


# --- re-import: upserts --------------------------------------------------------------------


def test_reimporting_the_same_file_creates_nothing(db: Engine) -> None:
    import_csv(db, SAMPLE)
    before = {n: (p.id, p.phone, p.active) for n, p in people(db).items()}
    posts, phones = count(db, Post), count(db, PersonPhone)
    summary = import_csv(db, SAMPLE)
    assert summary.created == 0 and summary.updated == 47
    assert dict(summary.units_created) == {}
    assert {n: (p.id, p.phone, p.active) for n, p in people(db).items()} == before
    assert (count(db, Post), count(db, PersonPhone)) == (posts, phones)
    assert (count(db, District), count(db, Block), count(db, Sector), count(db, Village)) == (
        1,
        2,
        4,
        22,
    )


def test_same_phone_updates_name_and_village_of_the_same_person(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "a.csv", [person(phone="09876543210")]))
    (first,) = people(db).values()
    summary = import_csv(
        db,
        write_csv(
            tmp_path / "b.csv",
            [
                person(
                    name="Sunita  Kumari",
                    phone="+91 98765 43210",
                    village="Kasimpur",
                    lat="27.109137",
                    lon="80.495441",
                )
            ],
        ),
    )
    assert (summary.created, summary.updated) == (0, 1)
    (again,) = people(db).values()
    assert again.id == first.id and again.name == "Sunita Kumari"
    with Session(db) as session:
        village = session.get(Village, again.village_id)
        assert village is not None and village.name == "Kasimpur"


def test_worker_id_keeps_the_person_when_the_phone_changes(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "a.csv", [person(worker_id="HRD-1")]))
    (first,) = people(db).values()
    summary = import_csv(
        db, write_csv(tmp_path / "b.csv", [person(worker_id="HRD-1", phone="8123456789")])
    )
    assert (summary.created, summary.updated) == (0, 1)
    (again,) = people(db).values()
    assert again.id == first.id and again.phone == "+918123456789"
    assert phones_of(db, "Sunita Devi") == {"+918123456789"}  # the old SIM no longer reaches her


def test_sample_worker_moves_sector_by_worker_id(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    before = people(db)["Sunita Devi"]
    import_csv(
        db,
        write_csv(
            tmp_path / "move.csv",
            [
                person(
                    phone="07973321377",
                    worker_id="HRD-SDL-0001",
                    sector="Sandila-2",
                    village="Gaundwa",
                    lat="27.059773",
                    lon="80.546603",
                )
            ],
        ),
    )
    after = people(db)["Sunita Devi"]
    assert after.id == before.id and after.sector_id != before.sector_id
    with Session(db) as session:
        sector = session.get(Sector, after.sector_id)
        assert sector is not None and sector.name == "Sandila-2"
    assert count(db, Person) == 47


def test_worker_ids_added_to_a_roster_first_imported_without(db: Engine, tmp_path: Path) -> None:
    rows = [person(), person(name="Rekha Verma", phone="7339325088", alt_phones="9934650561")]
    import_csv(db, write_csv(tmp_path / "a.csv", rows))
    ids = {n: p.id for n, p in people(db).items()}
    rows[0]["worker_id"], rows[1]["worker_id"] = "HRD-1", "HRD-2"
    summary = import_csv(db, write_csv(tmp_path / "b.csv", rows))
    assert (summary.created, summary.updated) == (0, 2)
    after = people(db)
    assert {n: p.id for n, p in after.items()} == ids
    assert (after["Sunita Devi"].worker_id, after["Rekha Verma"].worker_id) == ("HRD-1", "HRD-2")


def test_file_without_worker_ids_updates_people_who_have_them(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    path = write_csv(
        tmp_path / "quick.csv", [person(name="Sunita Devi", phone="07973321377", language="en")]
    )
    summary = import_csv(db, path)
    assert (summary.created, summary.updated) == (0, 1)
    sunita = people(db)["Sunita Devi"]
    assert (sunita.language, sunita.worker_id) == ("en", "HRD-SDL-0001")
    assert count(db, Person) == 47


def test_two_workers_may_swap_phones_by_worker_id(db: Engine, tmp_path: Path) -> None:
    import_csv(
        db,
        write_csv(
            tmp_path / "a.csv",
            [
                person(worker_id="W1", phone="9876500001"),
                person(name="Rekha", worker_id="W2", phone="9876500002"),
            ],
        ),
    )
    import_csv(
        db,
        write_csv(
            tmp_path / "b.csv",
            [
                person(worker_id="W1", phone="9876500002"),
                person(name="Rekha", worker_id="W2", phone="9876500001"),
            ],
        ),
    )
    assert phones_of(db, "Sunita Devi") == {"+919876500002"}
    assert phones_of(db, "Rekha") == {"+919876500001"}


def test_reimport_corrects_a_village_centre(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "a.csv", [person()]))
    import_csv(db, write_csv(tmp_path / "b.csv", [person(lat="27.1", lon="80.5")]))
    with Session(db) as session:
        (atwa,) = session.exec(select(Village)).all()
        assert (atwa.lat, atwa.lon) == pytest.approx((27.1, 80.5))


def test_old_sim_handed_to_a_new_worker_in_the_same_file(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    summary = import_csv(
        db,
        write_csv(
            tmp_path / "sim.csv",
            [
                person(name="Nayi Asha", phone="07973321377", worker_id="HRD-SDL-0101"),
                person(name="Sunita Devi", phone="9876500001", worker_id="HRD-SDL-0001"),
            ],
        ),
    )
    assert (summary.created, summary.updated) == (1, 1)
    assert phones_of(db, "Nayi Asha") == {"+917973321377"}
    assert phones_of(db, "Sunita Devi") == {"+919876500001"}
    assert count(db, Person) == 48


def test_same_unit_names_in_other_case_reuse_the_units(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    import_csv(
        db,
        write_csv(
            tmp_path / "new.csv",
            [
                person(
                    name="New Asha",
                    phone="9876500001",
                    district="HARDOI",
                    block="sandila",
                    sector="SANDILA-1",
                    village="atwa",
                )
            ],
        ),
    )
    assert (count(db, District), count(db, Block), count(db, Sector), count(db, Village)) == (
        1,
        2,
        4,
        22,
    )
    assert people(db)["New Asha"].village_id == people(db)["Sunita Devi"].village_id


def test_block_names_repeat_across_districts(db: Engine, tmp_path: Path) -> None:
    summary = import_csv(
        db,
        write_csv(
            tmp_path / "two.csv",
            [
                person(phone="9876500001", block="Sadar", sector="Sadar-1"),
                person(
                    name="Kamla",
                    phone="9876500002",
                    district="Sitapur",
                    block="Sadar",
                    sector="Sadar-1",
                    lat="27.56",
                    lon="80.68",
                ),
            ],
        ),
    )
    assert dict(summary.units_created) == {"district": 2, "block": 2, "sector": 2, "village": 2}
    everyone = people(db)
    assert everyone["Sunita Devi"].block_id != everyone["Kamla"].block_id


# --- dry run, deactivate missing -----------------------------------------------------------


def test_dry_run_checks_but_writes_nothing(db: Engine) -> None:
    summary = import_csv(db, SAMPLE, dry_run=True)
    assert summary.people == 47
    assert count(db, Person) == count(db, District) == count(db, PersonPhone) == 0


def test_dry_run_on_a_loaded_district_changes_nothing(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    before = snapshot(db)
    path = write_csv(
        tmp_path / "change.csv",
        [
            person(name="Renamed", phone="07973321377", worker_id="HRD-SDL-0001"),
            person(name="Brand New", phone="9876500001", block="Mallawan", sector="Mallawan-1"),
        ],
    )
    import_csv(db, path, dry_run=True, deactivate_missing=True)
    assert snapshot(db) == before


def test_dry_run_still_lists_bad_rows(db: Engine, tmp_path: Path) -> None:
    assert sorted(refused(db, bad_file(tmp_path), dry_run=True)) == [3, 4, 5, 6, 7, 8, 9]


def test_deactivate_missing_marks_absent_people_inactive_and_keeps_them(
    db: Engine, tmp_path: Path
) -> None:
    import_csv(db, SAMPLE)
    path = write_csv(
        tmp_path / "short.csv",
        [
            person(phone="07973321377", worker_id="HRD-SDL-0001"),
            officer("supervisor", name="Usha Srivastava", phone="7285872429"),
        ],
    )
    summary = import_csv(db, path, deactivate_missing=True)
    assert summary.deactivated == 46 - 2  # Pushpa Rawat was inactive already
    everyone = people(db)
    assert len(everyone) == 47
    assert sorted(n for n, p in everyone.items() if p.active) == ["Sunita Devi", "Usha Srivastava"]
    assert phones_of(db, "Rekha Verma") == {"+917339325088", "+919934650561"}


def test_without_deactivate_missing_absent_people_stay_active(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    summary = import_csv(
        db, write_csv(tmp_path / "one.csv", [person(phone="07973321377", worker_id="HRD-SDL-0001")])
    )
    assert summary.deactivated == 0
    assert sum(p.active for p in people(db).values()) == 46


def test_active_false_then_true_brings_a_worker_back(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "a.csv", [person(active="false")]))
    assert people(db)["Sunita Devi"].active is False
    import_csv(db, write_csv(tmp_path / "b.csv", [person(active="")]))
    assert people(db)["Sunita Devi"].active is True


# --- XLSX ----------------------------------------------------------------------------------


def test_xlsx_with_phones_typed_as_numbers(db: Engine, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            [
                "Sunita Devi",
                9876543210,
                "asha",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                "Atwa",
                27.095652,
                80.484237,
                "hi",
                "HRD-1",
                None,
                True,
            ],
            [
                "Rekha Verma",
                917339325088.0,
                "asha",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                "Atwa",
                27.095652,
                80.484237,
                "en",
                1002,
                9934650561,
                False,
            ],
            [
                "Usha Srivastava",
                "+91 72858 72429",
                "supervisor",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                None,
                None,
                None,
                "hi",
                None,
                None,
                None,
            ],
        ],
    )
    summary = import_csv(db, path)
    assert (summary.people, summary.created) == (3, 3)
    everyone = people(db)
    assert everyone["Sunita Devi"].phone == "+919876543210"
    assert everyone["Rekha Verma"].phone == "+917339325088"
    assert everyone["Rekha Verma"].worker_id == "1002"
    assert (everyone["Rekha Verma"].active, everyone["Rekha Verma"].language) == (False, "en")
    assert phones_of(db, "Rekha Verma") == {"+917339325088", "+919934650561"}
    assert everyone["Usha Srivastava"].phone == "+917285872429"


def test_xlsx_phone_number_cell_written_in_exponent_form(db: Engine, tmp_path: Path) -> None:
    """Some spreadsheet programs store a number cell as 9.87654321E9, which reads back a float."""
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            [
                "Sunita Devi",
                9876543210,
                "asha",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                "Atwa",
                27.095652,
                80.484237,
                "hi",
                None,
                None,
                None,
            ]
        ],
    )
    rewritten = tmp_path / "exponent.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>9876543210</v>" in data
                data = data.replace(b"<v>9876543210</v>", b"<v>9.87654321E9</v>")
            target.writestr(item, data)
    import_csv(db, rewritten)
    assert people(db)["Sunita Devi"].phone == "+919876543210"


def test_sample_district_as_xlsx_imports_the_same(db: Engine, tmp_path: Path) -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    summary = import_csv(db, write_xlsx(tmp_path / "sample.xlsx", rows, header=header))
    assert (summary.people, summary.created) == (47, 47)
    assert dict(summary.units_created) == {"district": 1, "block": 2, "sector": 4, "village": 22}
    assert import_csv(db, SAMPLE).created == 0  # the CSV finds the same people


def test_xlsx_bad_rows_carry_sheet_row_numbers(db: Engine, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            [
                "Sunita Devi",
                9876543210,
                "asha",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                "Atwa",
                27.095652,
                80.484237,
                "hi",
                None,
                None,
                None,
            ],
            [
                "Rekha Verma",
                12345,
                "asha",
                "Hardoi",
                "Sandila",
                "Sandila-1",
                "Atwa",
                27.095652,
                80.484237,
                "hi",
                None,
                None,
                None,
            ],
            [
                "Usha",
                7285872429,
                "supervisor",
                "Hardoi",
                "Sandila",
                None,
                None,
                None,
                None,
                "hi",
                None,
                None,
                None,
            ],
        ],
    )
    problems = refused(db, path)
    assert sorted(problems) == [3, 4]
    assert any("sector is empty" in m for m in problems[4])


def test_xlsx_missing_column_on_row_1(db: Engine, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [["Sunita", 9876543210]], header=["name", "phone"])
    assert list(refused(db, path)) == [1]


def test_file_named_xlsx_that_is_not_a_workbook(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    (messages,) = refused(db, path).values()
    assert any("workbook" in m for m in messages)


# --- hostile input -------------------------------------------------------------------------


def test_windows_1252_csv_is_refused_with_its_row(db: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        [
            person(phone="9876500001"),
            person(name="José Müller", phone="9876500002"),
        ],
        encoding="cp1252",
    )
    problems = refused(db, path)
    assert list(problems) == [3]
    assert "UTF-8" in problems[3][0]


def test_utf8_bom_file_imports_fine(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(name="सुनीता देवी")], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_csv(db, path).created == 1
    assert people(db)["सुनीता देवी"].phone == "+919876543210"


def test_bare_cr_line_ends_of_old_mac_excel_import_fine(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(), person(name="Rekha", phone="9876500002")])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    assert import_csv(db, path).created == 2


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","Sunita")', "@SUM(A1)", "+Sunita", "-Sunita"])
def test_name_that_a_spreadsheet_would_run_is_refused(db: Engine, tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(), person(name=name, phone="9876500002")])
    (message,) = refused(db, path)[3]
    assert "formula" in message


def test_long_cell_is_refused_on_its_row(db: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster.csv", [person(), person(name="Rekha", phone="9876500002", village="V" * 5000)]
    )
    problems = refused(db, path)
    assert list(problems) == [3]
    assert any("village" in m and "longer than" in m for m in problems[3])
    assert all(len(m) < 1000 for m in problems[3])  # the message does not echo the cell


def test_huge_cell_beyond_the_csv_reader_limit_is_a_row_error(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(), person(name="X" * 300_000, phone="9876500002")])
    problems = refused(db, path)
    assert list(problems) == [3]
    assert all(len(m) < 1000 for m in problems[3])


def test_unclosed_quote_is_a_row_error(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Sunita Devi,9876543210,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,\n"
        + '"Rekha,9876500002,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,\n',
        encoding="utf-8",
    )
    assert list(refused(db, path)) == [3]


def test_empty_file(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"")
    problems = refused(db, path)
    assert list(problems) == [1] and "empty" in problems[1][0]


def test_header_only_file(db: Engine, tmp_path: Path) -> None:
    problems = refused(db, write_csv(tmp_path / "roster.csv", []))
    assert list(problems) == [2] and "no people" in problems[2][0]


def test_pdf_is_refused_without_reading_it(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.pdf"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    (messages,) = refused(db, path).values()
    assert any(".csv" in m and ".xlsx" in m for m in messages)


def test_missing_file_is_named(db: Engine, tmp_path: Path) -> None:
    (messages,) = refused(db, tmp_path / "nowhere.csv").values()
    assert any("nowhere.csv" in m for m in messages)


def test_row_with_more_cells_than_the_header(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Sunita Devi,9876543210,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,\n"
        + "Devi, Rekha,9876500002,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,\n"
        + "Devi, Kamla,9876500003,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,"
        + "true\n",
        encoding="utf-8",
    )
    problems = refused(db, path)
    assert sorted(problems) == [3, 4]
    # The unquoted comma is named first, even when the shifted cells at the end were empty.
    assert "more cells" in problems[3][0] and "quotes" in problems[3][0]
    assert problems[4] == ["more cells than header columns (a comma inside a name needs quotes)"]


def test_trailing_comma_on_a_good_row_is_harmless(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(HEADER)
        + "\n"
        + "Sunita Devi,9876543210,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,,\n",
        encoding="utf-8",
    )
    assert import_csv(db, path).created == 1


def test_quoted_comma_in_a_name_is_fine(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "roster.csv", [person(name="Devi, Rekha")]))
    assert "Devi, Rekha" in people(db)


# --- phones already held in the database ---------------------------------------------------


def test_phone_of_a_stored_person_not_in_the_file_is_refused(db: Engine, tmp_path: Path) -> None:
    import_csv(db, SAMPLE)
    path = write_csv(
        tmp_path / "new.csv",
        [
            person(name="New Asha", phone="9876500001", worker_id="HRD-SDL-0101"),
            person(name="Taker", phone="+91 79733 21377", worker_id="HRD-SDL-0099"),
        ],
    )
    (message,) = refused(db, path)[3]
    assert "Sunita Devi" in message and "+917973321377" in message
    assert phones_of(db, "Sunita Devi") == {"+917973321377"}


def test_alt_phone_of_a_stored_person_not_in_the_file_is_refused(db: Engine, tmp_path: Path) -> None:
    import_csv(db, write_csv(tmp_path / "a.csv", [person(alt_phones="9934650561")]))
    path = write_csv(
        tmp_path / "b.csv", [person(name="Rekha Verma", phone="7339325088", alt_phones="09934650561")]
    )
    (message,) = refused(db, path)[2]
    assert "Sunita Devi" in message
    assert phones_of(db, "Sunita Devi") == {"+919876543210", "+919934650561"}


def test_old_phone_of_a_worker_in_the_file_cannot_name_a_second_person(
    db: Engine, tmp_path: Path
) -> None:
    import_csv(db, SAMPLE)
    path = write_csv(
        tmp_path / "b.csv",
        [
            person(name="Sunita Devi", phone="9876500001", worker_id="HRD-SDL-0001"),
            person(name="Someone Else", phone="07973321377"),
        ],
    )
    (message,) = refused(db, path)[3]
    assert "Sunita Devi" in message and "row 2" in message


def test_a_departed_workers_number_can_go_to_a_new_worker(db: Engine, tmp_path: Path) -> None:
    """SIMs are reused: the number of an inactive worker is given to the ASHA who replaced her."""
    header = "name,phone,role,district,block,sector,village,lat,lon,language,worker_id,active\n"
    first = tmp_path / "first.csv"
    first.write_text(
        header + "Pushpa Rawat,7622075049,asha,Hardoi,Sandila,Sandila-1,Atwa,"
        "27.09,80.48,hi,HRD-1,false\n",
        encoding="utf-8",
    )
    import_csv(db, first)
    second = tmp_path / "second.csv"
    second.write_text(
        header + "Meena Kumari,7622075049,asha,Hardoi,Sandila,Sandila-1,Atwa,"
        "27.09,80.48,hi,HRD-2,true\n",
        encoding="utf-8",
    )
    import_csv(db, second)
    with Session(db) as session:
        holder = session.get(PersonPhone, "+917622075049")
        assert holder is not None
        assert session.get_one(Person, holder.person_id).name == "Meena Kumari"


def test_devanagari_phone_is_stored_as_ascii_e164(db: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", [person(phone="९८७६5४३२१०", alt_phones="०९४१५ ०००००१")])
    import_csv(db, path)
    assert people(db)["Sunita Devi"].phone == "+919876543210"
    assert phones_of(db, "Sunita Devi") == {"+919876543210", "+919415000001"}

"""Places in the hierarchy and who may see which: an officer's scope, names resolved to units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.db import session_scope
from bot.store.units import Unit, home_units, resolve_units, scope_units, state_unit, unit_for
from models import Block, District, Person, Post, Sector

STATE = "Uttar Pradesh"


@dataclass
class Places:
    hardoi: int
    unnao: int
    sandila: int
    bilgram: int
    sandila_1: int
    sandila_2: int
    bilgram_1: int
    unnao_sandila: int  # a block of the same name in another district


def add_places(session: Session) -> Places:
    hardoi = District(name="Hardoi", name_hi="हरदोई")
    unnao = District(name="Unnao")
    session.add_all([hardoi, unnao])
    session.flush()
    assert hardoi.id and unnao.id
    sandila = Block(district_id=hardoi.id, name="Sandila", name_hi="संडीला")
    bilgram = Block(district_id=hardoi.id, name="Bilgram")
    other = Block(district_id=unnao.id, name="Sandila")
    session.add_all([sandila, bilgram, other])
    session.flush()
    assert sandila.id and bilgram.id and other.id
    s1 = Sector(block_id=sandila.id, name="Sandila-1", name_hi="संडीला-1")
    s2 = Sector(block_id=sandila.id, name="Sandila-2")
    b1 = Sector(block_id=bilgram.id, name="Bilgram-1")
    session.add_all([s1, s2, b1])
    session.flush()
    assert s1.id and s2.id and b1.id
    return Places(hardoi.id, unnao.id, sandila.id, bilgram.id, s1.id, s2.id, b1.id, other.id)


def person(
    session: Session, role: str, posts: Sequence[dict[str, int]] = (), **fields: object
) -> Person:
    made = Person(name=role, phone=f"+9190000{len(role):05d}", role=role, **fields)  # type: ignore[arg-type]
    session.add(made)
    session.flush()
    assert made.id is not None
    for post in posts:
        session.add(Post(person_id=made.id, **post))
    session.flush()
    return made


@pytest.fixture()
def places(db: Engine) -> Places:
    with session_scope(db) as session:
        return add_places(session)


def paths(units: list[Unit]) -> list[str]:
    return [u.path for u in units]


def test_an_officer_sees_the_units_she_holds_in_the_order_given(db: Engine, places: Places) -> None:
    with session_scope(db) as session:
        bmo = person(session, "bmo", [{"block_id": places.bilgram}, {"block_id": places.sandila}])
        dio = person(session, "district_officer", [{"district_id": places.hardoi}])
        supervisor = person(
            session, "supervisor", [{"sector_id": places.sandila_1}, {"sector_id": places.sandila_2}]
        )
        assert paths(scope_units(session, bmo, STATE)) == ["Hardoi/Bilgram", "Hardoi/Sandila"]
        assert paths(scope_units(session, dio, STATE)) == ["Hardoi"]
        assert paths(scope_units(session, supervisor, STATE)) == [
            "Hardoi/Sandila/Sandila-1",
            "Hardoi/Sandila/Sandila-2",
        ]


def test_an_admin_sees_the_state_and_a_field_worker_only_herself(db: Engine, places: Places) -> None:
    with session_scope(db) as session:
        admin = person(session, "admin")
        asha = person(
            session,
            "asha",
            sector_id=places.sandila_1,
            block_id=places.sandila,
            district_id=places.hardoi,
        )
        assert scope_units(session, admin, STATE) == [state_unit(STATE)]
        assert scope_units(session, asha, STATE) == []
        assert paths(home_units(session, asha, STATE)) == ["Hardoi/Sandila/Sandila-1"]
        assert home_units(session, admin, STATE) == [state_unit(STATE)]


def test_a_unit_knows_everything_above_it(db: Engine, places: Places) -> None:
    with session_scope(db) as session:
        sector = unit_for(
            session, district_id=None, block_id=None, sector_id=places.sandila_1, state_name=STATE
        )
        block = unit_for(
            session, district_id=None, block_id=places.sandila, sector_id=None, state_name=STATE
        )
        state = unit_for(session, district_id=None, block_id=None, sector_id=None, state_name=STATE)
    assert (sector.level, sector.district_id, sector.block_id, sector.id) == (
        "sector",
        places.hardoi,
        places.sandila,
        places.sandila_1,
    )
    assert (block.level, block.id, block.path) == ("block", places.sandila, "Hardoi/Sandila")
    assert (state.level, state.path, state.id) == ("state", STATE, None)
    assert sector.path_in("hi") == "हरदोई/संडीला/संडीला-1"
    assert sector.path_in("en") == "Hardoi/Sandila/Sandila-1"


def test_hindi_readers_get_english_names_where_no_hindi_is_known(db: Engine, places: Places) -> None:
    with session_scope(db) as session:
        bilgram = unit_for(
            session, district_id=None, block_id=places.bilgram, sector_id=None, state_name=STATE
        )
        unnao = unit_for(
            session, district_id=places.unnao, block_id=None, sector_id=None, state_name=STATE
        )
    assert bilgram.path_in("hi") == "हरदोई/Bilgram"
    assert unnao.path_in("hi") == "Unnao"


def test_which_units_contain_which(db: Engine, places: Places) -> None:
    with session_scope(db) as session:

        def block(block_id: int) -> Unit:
            return unit_for(
                session, district_id=None, block_id=block_id, sector_id=None, state_name=STATE
            )

        def sector(sector_id: int) -> Unit:
            return unit_for(
                session, district_id=None, block_id=None, sector_id=sector_id, state_name=STATE
            )

        hardoi = unit_for(
            session, district_id=places.hardoi, block_id=None, sector_id=None, state_name=STATE
        )
        sandila, s1, b1 = block(places.sandila), sector(places.sandila_1), sector(places.bilgram_1)
        unnao_sandila = block(places.unnao_sandila)
    assert state_unit(STATE).contains(hardoi) and hardoi.contains(s1) and sandila.contains(s1)
    assert not sandila.contains(b1) and not hardoi.contains(unnao_sandila)
    assert not s1.contains(sandila) and not sandila.contains(hardoi)
    assert s1.contains(s1)
    assert sandila.holds(places.hardoi, places.sandila, places.sandila_2)
    assert not sandila.holds(places.hardoi, places.bilgram, places.bilgram_1)
    assert hardoi.holds(places.hardoi, None, None) and state_unit(STATE).holds(None, None, None)


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("Hardoi", ["Hardoi"]),
        ("hardoi/sandila", ["Hardoi/Sandila"]),
        ("sandila-1", ["Hardoi/Sandila/Sandila-1"]),
        (" SANDILA-2 ", ["Hardoi/Sandila/Sandila-2"]),
        ("Sandila", ["Hardoi/Sandila", "Unnao/Sandila"]),  # two blocks of that name: both
        ("Unnao/Sandila", ["Unnao/Sandila"]),
        ("Uttar Pradesh/Hardoi/Bilgram", ["Hardoi/Bilgram"]),
        ("Uttar Pradesh", ["Uttar Pradesh"]),
        ("Lucknow", []),
        ("Bilgram/Sandila-1", []),
        ("/", []),
    ],
)
def test_a_written_name_or_path_means_these_units(
    db: Engine, places: Places, written: str, found: list[str]
) -> None:
    with session_scope(db) as session:
        assert sorted(paths(resolve_units(session, written, STATE))) == found

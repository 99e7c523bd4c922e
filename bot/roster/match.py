"""Which stored person a roster row is (its worker_id, else its phone) and which units it names."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.places import Places, Spot
from bot.roster.read import RosterRow
from models import Person, PersonPhone


class Known:
    """The people already stored, and which of them a person of the file is: the worker_id when
    the row has one, else whoever holds the row's phone (check_rows and apply agree on this)."""

    def __init__(self, session: Session):
        self.worker_of: dict[int, str | None] = {}
        self.names: dict[int, str] = {}
        self.by_worker_id: dict[str, int] = {}
        self.active: dict[int, bool] = {}
        rows = session.exec(select(Person.id, Person.worker_id, Person.name, Person.active))
        for person_id, worker_id, name, active in rows:
            assert person_id is not None
            self.worker_of[person_id], self.names[person_id] = worker_id, name
            self.active[person_id] = active
            if worker_id:
                self.by_worker_id[worker_id] = person_id
        self.phone_owner: dict[str, int] = dict(
            session.exec(select(PersonPhone.phone, PersonPhone.person_id)).all()
        )

    def match(self, first: RosterRow) -> int | None:
        if first.worker_id and first.worker_id in self.by_worker_id:
            return self.by_worker_id[first.worker_id]
        holder = self.phone_owner.get(first.phone)
        if holder is not None and (not first.worker_id or self.worker_of[holder] is None):
            return holder  # a stored person without a worker_id may be given one
        return None

    def who(self, person_id: int) -> str:
        return f"{self.names[person_id]} (worker_id {self.worker_of[person_id] or '-'})"


@dataclass
class RowPlace:
    """A row's units as Places has them; sector, village and villages only where the role has them."""

    district: Spot | None = None
    block: Spot | None = None
    sector: Spot | None = None
    village: Spot | None = None
    villages: list[Spot] = field(default_factory=list)


def row_place(places: Places, row: RosterRow) -> RowPlace | str:
    """The units a row names, matched by LGD code where it gives one (planned where new)."""
    found = RowPlace()
    if not row.district:
        return found
    district = places.get("district", None, row.district, row.lgd.get("district_lgd"))
    if isinstance(district, str):
        return district
    found.district = district
    if not row.block:
        return found
    block = places.get("block", district, row.block, row.lgd.get("block_lgd"))
    if isinstance(block, str):
        return block
    found.block = block
    if not row.sector:
        return found
    sector = places.get("sector", block, row.sector, None)
    assert not isinstance(sector, str)  # sectors have no codes: a name always matches or is new
    found.sector = sector
    if row.village:
        village = places.get("village", sector, row.village, row.lgd.get("village_lgd"))
        if isinstance(village, str):
            return village
        found.village = village
    for name in row.villages:
        more = places.get("village", sector, name, None)
        assert not isinstance(more, str)
        found.villages.append(more)
    return found


def place_problems(places: Places, row: RosterRow) -> list[str]:
    found = row_place(places, row)
    return [found] if isinstance(found, str) else []

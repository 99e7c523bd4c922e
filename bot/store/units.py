"""Places in the hierarchy (worker -> sector -> block -> district -> state) and who may see which."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from models import Block, District, Person, Post, Sector

CHILD_LEVEL = {"state": "district", "district": "block", "block": "sector", "sector": "worker"}


@dataclass(frozen=True)
class Unit:
    """A sector, block, district or the state, with the ids of everything above it."""

    level: str
    name: str
    path: str
    district_id: int | None = None
    block_id: int | None = None
    sector_id: int | None = None
    path_hi: str | None = None  # the path in Devanagari names where known, for Hindi readers

    def path_in(self, language: str) -> str:
        """The path in the reader's language: each unit's Devanagari name for Hindi, where known."""
        return (self.path_hi or self.path) if language == "hi" else self.path

    @property
    def id(self) -> int | None:
        return {"district": self.district_id, "block": self.block_id, "sector": self.sector_id}.get(
            self.level
        )

    def holds(self, district_id: int | None, block_id: int | None, sector_id: int | None) -> bool:
        """Whether a place given by its ids lies in this unit."""
        if self.level == "state":
            return True
        if self.level == "district":
            return district_id == self.district_id
        if self.level == "block":
            return block_id == self.block_id
        return sector_id == self.sector_id

    def contains(self, other: Unit) -> bool:
        if self.level == "state":
            return True
        if self.level == "district":
            return other.district_id == self.district_id
        if self.level == "block":
            return other.block_id == self.block_id and other.level in ("block", "sector")
        return other.level == "sector" and other.sector_id == self.sector_id


def state_unit(state_name: str) -> Unit:
    return Unit("state", state_name, state_name)


def _hindi(*units: District | Block | Sector) -> str | None:
    if not any(u.name_hi for u in units):
        return None
    return "/".join(u.label("hi") for u in units)


def district_unit(district: District) -> Unit:
    return Unit(
        "district", district.name, district.name, district_id=district.id, path_hi=_hindi(district)
    )


def block_unit(block: Block, district: District) -> Unit:
    return Unit(
        "block",
        block.name,
        f"{district.name}/{block.name}",
        district_id=district.id,
        block_id=block.id,
        path_hi=_hindi(district, block),
    )


def sector_unit(sector: Sector, block: Block, district: District) -> Unit:
    return Unit(
        "sector",
        sector.name,
        f"{district.name}/{block.name}/{sector.name}",
        district_id=district.id,
        block_id=block.id,
        sector_id=sector.id,
        path_hi=_hindi(district, block, sector),
    )


def unit_for(
    session: Session,
    *,
    district_id: int | None,
    block_id: int | None,
    sector_id: int | None,
    state_name: str,
) -> Unit:
    # One read for the unit and everything above it (this runs for every officer's query).
    if sector_id is not None:
        sector, block, district = session.exec(
            select(Sector, Block, District)
            .join(Block, col(Block.id) == col(Sector.block_id))
            .join(District, col(District.id) == col(Block.district_id))
            .where(Sector.id == sector_id)
        ).one()
        return sector_unit(sector, block, district)
    if block_id is not None:
        block, district = session.exec(
            select(Block, District)
            .join(District, col(District.id) == col(Block.district_id))
            .where(Block.id == block_id)
        ).one()
        return block_unit(block, district)
    if district_id is not None:
        return district_unit(session.get_one(District, district_id))
    return state_unit(state_name)


def scope_units(session: Session, person: Person, state_name: str) -> list[Unit]:
    """The units an officer holds; empty for a field worker (she sees only herself)."""
    if person.role == "admin":
        return [state_unit(state_name)]
    posts = session.exec(select(Post).where(Post.person_id == person.id).order_by(col(Post.id))).all()
    units = [
        unit_for(
            session,
            district_id=p.district_id,
            block_id=p.block_id,
            sector_id=p.sector_id,
            state_name=state_name,
        )
        for p in posts
    ]
    return units


def resolve_units(session: Session, text: str, state_name: str) -> list[Unit]:
    """Every unit a written name or path (`Hardoi/Sandila`, `sandila-1`) may mean."""
    parts = [p.strip().casefold() for p in text.strip().strip("/").split("/") if p.strip()]
    if not parts:
        return []
    if len(parts) == 1 and parts[0] == state_name.casefold():
        return [state_unit(state_name)]
    if parts and parts[0] == state_name.casefold() and len(parts) > 1:
        parts = parts[1:]
    # Only units whose own name is the last part can match: a state has thousands of sectors.
    last = parts[-1]
    districts = session.exec(select(District).where(func.lower(District.name) == last)).all()
    blocks = session.exec(
        select(Block, District).join(District).where(func.lower(Block.name) == last)
    ).all()
    rows = session.exec(
        select(Sector, Block, District)
        .join(Block, col(Sector.block_id) == col(Block.id))
        .join(District, col(Block.district_id) == col(District.id))
        .where(func.lower(Sector.name) == last)
    ).all()
    candidates: list[Unit] = [district_unit(d) for d in districts]
    candidates += [block_unit(b, d) for b, d in blocks]
    candidates += [sector_unit(s, b, d) for s, b, d in rows]
    if not candidates and not last.isascii():
        candidates = _every_unit(session)  # lower() in SQLite folds only ASCII letters
    found: list[Unit] = []
    for unit in candidates:
        segments = unit.path.casefold().split("/")
        if segments[-len(parts) :] == parts and len(parts) <= len(segments):
            found.append(unit)
    # An exact full path wins over suffix matches.
    exact = [u for u in found if u.path.casefold().split("/") == parts]
    return exact or found


def _every_unit(session: Session) -> list[Unit]:
    rows = session.exec(
        select(Sector, Block, District)
        .join(Block, col(Sector.block_id) == col(Block.id))
        .join(District, col(Block.district_id) == col(District.id))
    ).all()
    units: list[Unit] = [district_unit(d) for d in session.exec(select(District)).all()]
    units += [block_unit(b, d) for b, d in session.exec(select(Block, District).join(District)).all()]
    units += [sector_unit(s, b, d) for s, b, d in rows]
    return units


ROLE_ORDER = ("asha", "anm", "supervisor", "bmo", "district_officer", "admin")


def home_units(session: Session, person: Person, state_name: str) -> list[Unit]:
    """Where a person belongs: a field worker's sector, or the units an officer holds."""
    if person.is_field_worker:
        return [
            unit_for(
                session,
                district_id=person.district_id,
                block_id=person.block_id,
                sector_id=person.sector_id,
                state_name=state_name,
            )
        ]
    return scope_units(session, person, state_name)


def district_ids(session: Session) -> list[int]:
    """Every district's id."""
    return list(session.exec(select(District.id)).all())  # type: ignore[arg-type]


def children(
    session: Session, kind: str, *, district_id: int | None = None, block_id: int | None = None
) -> list[tuple[int | None, int]]:
    """(id, parent id) of every block ("block") or sector ("sector"), within a district or block."""
    if kind == "sector":
        sectors = select(Sector.id, Sector.block_id).join(Block, col(Block.id) == col(Sector.block_id))
        if district_id is not None:
            sectors = sectors.where(Block.district_id == district_id)
        if block_id is not None:
            sectors = sectors.where(Sector.block_id == block_id)
        return list(session.exec(sectors).all())
    blocks = select(Block.id, Block.district_id)
    if district_id is not None:
        blocks = blocks.where(Block.district_id == district_id)
    if block_id is not None:
        blocks = blocks.where(Block.id == block_id)
    return list(session.exec(blocks).all())

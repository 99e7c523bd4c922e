"""Writing a checked roster: each person created or updated (matched by worker_id, else phone),
with their phones, posts and villages, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlmodel import Session, col, delete, select
from tqdm import tqdm

from bot.config_sections import RosterAliases
from bot.delivery.wa_limits import set_opt_in
from bot.places import Places, Spot, name_key
from bot.roster.check import load
from bot.roster.match import Known, row_place
from bot.roster.read import ImportSummary, RosterRow, RowError
from models import Person, PersonPhone, PersonVillage, Post, Role, Village, VillageCentre, utcnow


class _Centres:
    """Village centres from the villages file, by block: by LGD code, else by name."""

    def __init__(self, session: Session):
        self.by_name: dict[tuple[int, str], VillageCentre] = {}
        self.by_code: dict[tuple[int, int], VillageCentre] = {}
        for centre in session.exec(select(VillageCentre)):
            self.by_name[(centre.block_id, name_key(centre.name))] = centre
            if centre.lgd_code is not None:
                self.by_code[(centre.block_id, centre.lgd_code)] = centre

    def of(self, block_id: int, village: Spot) -> VillageCentre | None:
        if village.lgd is not None and (block_id, village.lgd) in self.by_code:
            return self.by_code[(block_id, village.lgd)]
        for name in (village.name, village.name_hi):
            if name and (block_id, name_key(name)) in self.by_name:
                return self.by_name[(block_id, name_key(name))]
        return None


def _locate(
    session: Session,
    places: Places,
    centres: _Centres,
    village: Spot,
    row: RosterRow | None,
    summary: ImportSummary,
) -> int:
    """Store the village; its centre is the row's lat/lon if given, else the villages file's."""
    village_id = places.save(session, village)
    assert village.parent is not None and village.parent.id is not None
    block_id = village.parent.parent.id if village.parent.parent else None
    stored = session.get_one(Village, village_id)
    where: tuple[float, float] | None = None
    if row is not None and row.lat is not None and row.lon is not None:
        where = (row.lat, row.lon)
    elif stored.lat is None and block_id is not None:
        centre = centres.of(block_id, village)
        if centre is not None:
            where = (centre.lat, centre.lon)
            summary.located += 1
    if where is not None and (stored.lat, stored.lon) != where:
        stored.lat, stored.lon = where
        session.add(stored)
    return village_id


def apply(
    session: Session,
    rows: list[RosterRow],
    *,
    deactivate_missing: bool = False,
    progress: bool = True,
) -> ImportSummary:
    """Write checked rows: create or update each person, their phones and their posts."""
    summary = ImportSummary()
    places, centres = Places(session), _Centres(session)
    people: dict[str, list[RosterRow]] = defaultdict(list)
    for row in rows:
        people[row.key].append(row)
    known = Known(session)
    phone_owner = dict(known.phone_owner)  # kept current as phones move below
    seen: set[int] = set()
    now = utcnow()
    bar = tqdm(
        total=len(rows), unit="row", desc="roster", disable=not progress or len(rows) < 500, leave=False
    )
    for group in people.values():
        first = group[0]
        match = known.match(first)
        person = session.get(Person, match) if match is not None else None
        if person is None:
            person = Person(name=first.name, phone=first.phone, role=first.role)
            summary.created += 1
        else:
            summary.updated += 1
        person.name, person.phone, person.role = first.name, first.phone, first.role
        person.language, person.active, person.updated_at = first.language, first.active, now
        person.worker_id = first.worker_id or person.worker_id
        person.village_id = person.sector_id = person.block_id = person.district_id = None
        covered: set[int] = set()
        if first.role in ("asha", "anm"):
            place = row_place(places, first)
            assert not isinstance(place, str), place  # check_rows found every such row
            assert place.sector is not None and place.village is not None
            person.village_id = _locate(session, places, centres, place.village, first, summary)
            person.sector_id = places.save(session, place.sector)
            person.block_id, person.district_id = place.sector.parent.id, place.district.id  # type: ignore[union-attr]
            covered.update(_locate(session, places, centres, v, None, summary) for v in place.villages)
        session.add(person)
        session.flush()
        assert person.id is not None
        seen.add(person.id)
        if first.whatsapp_opt_in is not None:
            set_opt_in(
                session=session,
                person_id=person.id,
                opted_in=first.whatsapp_opt_in,
                source="roster",
                now=now,
            )
        phones = {first.phone} - {""}
        for row in group:
            phones.update(row.alt_phones)
        session.execute(
            delete(PersonPhone).where(
                col(PersonPhone.person_id) == person.id, col(PersonPhone.phone).not_in(phones)
            )
        )
        for phone in phones:
            if phone_owner.get(phone) != person.id:
                if phone in phone_owner:
                    session.execute(delete(PersonPhone).where(col(PersonPhone.phone) == phone))
                session.add(PersonPhone(phone=phone, person_id=person.id))
                phone_owner[phone] = person.id
        session.execute(delete(Post).where(col(Post.person_id) == person.id))
        if first.role not in ("asha", "anm"):
            for row in group:
                post = Post(person_id=person.id)
                place = row_place(places, row)
                assert not isinstance(place, str), place
                for level in ("district", "block", "sector"):
                    spot = getattr(place, level)
                    if spot is not None:
                        setattr(post, f"{level}_id", places.save(session, spot))
                covered.update(
                    _locate(session, places, centres, v, None, summary) for v in place.villages
                )
                if first.role != Role.admin or post.district_id is not None:
                    session.add(post)
        session.execute(delete(PersonVillage).where(col(PersonVillage.person_id) == person.id))
        for village_id in sorted(covered - {person.village_id}):
            session.add(PersonVillage(person_id=person.id, village_id=village_id))
        bar.update(len(group))
    bar.close()
    summary.people = len(people)
    for level, count in places.created.items():
        summary.units_created[level] += count
    if deactivate_missing:
        for person in session.exec(select(Person).where(col(Person.active).is_(True))):
            if person.id not in seen:
                person.active = False
                person.updated_at = now
                session.add(person)
                summary.deactivated += 1
    session.flush()
    return summary


def import_roster(
    session: Session,
    path: Path,
    *,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    progress: bool = True,
    aliases: RosterAliases | None = None,
) -> ImportSummary:
    """Check the whole file, then write it in the caller's transaction (nothing on dry run)."""
    header = ImportSummary()
    rows = load(path, session, aliases, header)
    if dry_run:
        summary = ImportSummary(people=len({r.key for r in rows}))
    else:
        summary = apply(session, rows, deactivate_missing=deactivate_missing, progress=progress)
    summary.columns, summary.ignored = header.columns, header.ignored
    return summary


def iter_errors(errors: Iterable[RowError]) -> Iterator[str]:
    for error in errors:
        yield str(error)

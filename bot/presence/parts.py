"""Pairing a photo with a location: who the person is and where her village is, the waiting
halves (`presence_part`), live locations (`live_track`, `track_point`), the proof made from a
pair, and the expiry of halves whose other half never came.

Everything here reads or writes the tables, keyword-only and session-first, inside the
transaction of the message that caused it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.config import Settings
from bot.geo import distance_m
from bot.photos import PhotoFacts, hash_distance
from bot.presence.rules import MAX_LIVE_SECONDS, PROVING_ROLES, Fix, Reuse, Rules, judge
from models import (
    Block,
    LiveTrack,
    Person,
    PersonVillage,
    Post,
    PresencePart,
    Proof,
    Sector,
    TrackPoint,
    Village,
)

# ---------------------------------------------------------------- who and where


@dataclass(frozen=True)
class Place:
    """Where a proof is filed: the person's unit, and her village centre if the roster has it."""

    district_id: int
    block_id: int
    sector_id: int
    village_id: int | None
    village_name: str | None
    centre: tuple[float, float] | None
    # The other villages she covers (roster `villages`) that have a centre: (id, name, centre).
    others: tuple[tuple[int, str, tuple[float, float]], ...] = ()

    def nearest(self, lat: float, lon: float) -> Place:
        """The place with, as its village, whichever of her villages is nearest to the point."""
        best = self
        if self.others:
            choices = [(self.village_id, self.village_name, self.centre)] if self.centre else []
            choices += [(i, n, c) for i, n, c in self.others]
            village_id, name, centre = min(choices, key=lambda v: distance_m(v[2], (lat, lon)))
            best = Place(self.district_id, self.block_id, self.sector_id, village_id, name, centre)
        return best


def _covered(session: Session, person: Person) -> tuple[tuple[int, str, tuple[float, float]], ...]:
    rows = session.exec(
        select(Village)
        .join(PersonVillage, col(PersonVillage.village_id) == col(Village.id))
        .where(PersonVillage.person_id == person.id)
        .order_by(col(Village.id))
    ).all()
    return tuple(
        (v.id, v.name, (v.lat, v.lon))
        for v in rows
        if v.id is not None and v.lat is not None and v.lon is not None
    )


def place_of(*, session: Session, person: Person) -> Place | None:
    """A field worker's village and sector, or a supervisor's first sector; None for others.

    An ANM or a supervisor who covers several villages is measured to the nearest of them."""
    if person.role not in PROVING_ROLES:
        return None
    if person.is_field_worker:
        if person.sector_id is None or person.block_id is None or person.district_id is None:
            return None
        village = session.get(Village, person.village_id) if person.village_id else None
        centre = None
        if village is not None and village.lat is not None and village.lon is not None:
            centre = (village.lat, village.lon)
        return Place(
            person.district_id,
            person.block_id,
            person.sector_id,
            village.id if village else None,
            village.name if village else None,
            centre,
            _covered(session, person),
        )
    post = session.exec(
        select(Post)
        .where(Post.person_id == person.id, col(Post.sector_id).is_not(None))
        .order_by(col(Post.id))
    ).first()
    if post is None or post.sector_id is None:
        return None
    sector = session.get_one(Sector, post.sector_id)
    block = session.get_one(Block, sector.block_id)
    covered = _covered(session, person)
    if covered:
        village_id, name, centre = covered[0]
        return Place(
            block.district_id, block.id or 0, sector.id or 0, village_id, name, centre, covered[1:]
        )
    return Place(block.district_id, block.id or 0, sector.id or 0, None, None, None)


def lock_person(*, session: Session, person: Person) -> None:
    """Serialise one person's photos and locations, so two halves never both wait unseen."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(Person.id).where(Person.id == person.id).with_for_update()).one()


# ---------------------------------------------------------------- pairing


def nearest_fix(
    *, session: Session, person_id: int, at: dt.datetime, window: dt.timedelta
) -> Fix | None:
    """The location nearest in time to `at`, within the window: a static pin or a live-track point."""
    candidates: list[Fix] = []
    pins = session.exec(
        select(PresencePart).where(
            PresencePart.person_id == person_id,
            PresencePart.kind == "location",
            col(PresencePart.status).in_(("open", "paired")),
            col(PresencePart.sent_at) >= at - window,
            col(PresencePart.sent_at) <= at + window,
        )
    ).all()
    for pin in pins:
        assert pin.lat is not None and pin.lon is not None
        candidates.append(
            Fix(
                pin.lat,
                pin.lon,
                pin.sent_at,
                pin.accuracy_m,
                False,
                part_id=pin.id,
                forwarded=pin.forwarded,
            )
        )
    # A live track counts while it is live: a phone standing still sends no new points.
    tracks = select(LiveTrack.track_key).where(
        LiveTrack.person_id == person_id,
        col(LiveTrack.started_at) <= at + window,
        col(LiveTrack.live_until) >= at - window,
    )
    for point in _points_around(session, tracks, at):
        candidates.append(Fix(point.lat, point.lon, point.at, point.accuracy_m, True, point_id=point.id))
    if not candidates:
        return None
    return min(candidates, key=lambda fix: (abs((fix.at - at).total_seconds()), not fix.live))


def _points_around(
    session: Session, tracks: SelectOfScalar[str], at: dt.datetime
) -> Iterator[TrackPoint]:
    """Of the given tracks' points, the last one at or before `at` and the first one after."""
    base = select(TrackPoint).where(col(TrackPoint.track_key).in_(tracks))
    yield from session.exec(
        base.where(col(TrackPoint.at) <= at).order_by(col(TrackPoint.at).desc()).limit(1)
    )
    yield from session.exec(base.where(col(TrackPoint.at) > at).order_by(col(TrackPoint.at)).limit(1))


def open_photos(
    *, session: Session, person_id: int, at: dt.datetime, window: dt.timedelta
) -> list[PresencePart]:
    """Photos of the person still waiting for a location sent within the window of `at`."""
    return list(
        session.exec(
            select(PresencePart)
            .where(
                PresencePart.person_id == person_id,
                PresencePart.kind == "photo",
                PresencePart.status == "open",
                col(PresencePart.sent_at) >= at - window,
                col(PresencePart.sent_at) <= at + window,
            )
            .order_by(col(PresencePart.sent_at))
        ).all()
    )


def add_track_point(
    *,
    session: Session,
    track_key: str,
    person: Person,
    channel: str,
    chat_id: str,
    is_group: bool,
    at: dt.datetime,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    live_period_s: int | None,
) -> TrackPoint | None:
    """Extend a live track (created on its first point); a point already recorded is not added twice."""
    track = session.get(LiveTrack, track_key)
    if track is None:
        assert person.id is not None
        # Telegram's "until I stop" is 0x7FFFFFFF seconds; a day is as long as field work lasts.
        period = dt.timedelta(seconds=min(live_period_s or 0, MAX_LIVE_SECONDS))
        track = LiveTrack(
            track_key=track_key,
            person_id=person.id,
            channel=channel,
            chat_id=chat_id,
            is_group=is_group,
            started_at=at,
            live_until=at + period,
        )
        session.add(track)
        session.flush()
    exists = session.exec(
        select(TrackPoint.id).where(TrackPoint.track_key == track_key, TrackPoint.at == at)
    ).first()
    if exists is not None:
        return None
    point = TrackPoint(track_key=track_key, at=at, lat=lat, lon=lon, accuracy_m=accuracy_m)
    session.add(point)
    session.flush()
    return point


def find_reuse(*, session: Session, facts: PhotoFacts, max_bits: int) -> Reuse | None:
    """The earliest proof whose photo is this one: the same bytes, or a near perceptual hash."""
    same = session.exec(
        select(Proof.id).where(Proof.photo_sha256 == facts.sha256).order_by(col(Proof.id)).limit(1)
    ).first()
    if same is not None:
        return Reuse(same, 0)
    best: Reuse | None = None
    rows = session.exec(select(Proof.id, Proof.photo_phash).order_by(col(Proof.id))).yield_per(5000)
    for proof_id, phash in rows:
        assert proof_id is not None
        bits = hash_distance(facts.phash, phash)
        if bits <= max_bits and (best is None or bits < best.bits):
            best = Reuse(proof_id, bits)
            if bits == 0:
                break
    return best


@dataclass
class Arrival:
    """A photo or location as it arrived, with where it came from."""

    person: Person
    channel: str
    chat_id: str
    is_group: bool
    sent_at: dt.datetime


@dataclass
class PhotoPart:
    facts: PhotoFacts
    path: Path | None
    photo_file: bool
    extra: dict[str, object] = field(default_factory=dict)
    forwarded: bool = False


def _save_part(
    session: Session, arrival: Arrival, kind: str, expires_at: dt.datetime, **half: Any
) -> PresencePart:
    """Keep one half of a proof (`kind` photo or location) until its other half or its expiry."""
    assert arrival.person.id is not None
    part = PresencePart(
        person_id=arrival.person.id,
        kind=kind,
        channel=arrival.channel,
        chat_id=arrival.chat_id,
        is_group=arrival.is_group,
        sent_at=arrival.sent_at,
        expires_at=expires_at,
        **half,
    )
    session.add(part)
    session.flush()
    return part


def save_photo_part(
    *, session: Session, arrival: Arrival, photo: PhotoPart, expires_at: dt.datetime
) -> PresencePart:
    return _save_part(
        session,
        arrival,
        "photo",
        expires_at,
        photo_sha256=photo.facts.sha256,
        photo_phash=photo.facts.phash,
        photo_path=str(photo.path) if photo.path else None,
        photo_file=photo.photo_file,
        exif_lat=photo.facts.exif_lat,
        exif_lon=photo.facts.exif_lon,
        exif_taken_at=photo.facts.exif_taken_at,
        forwarded=photo.forwarded,
    )


def save_location_part(
    *,
    session: Session,
    arrival: Arrival,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    expires_at: dt.datetime,
    forwarded: bool = False,
) -> PresencePart:
    return _save_part(
        session,
        arrival,
        "location",
        expires_at,
        lat=lat,
        lon=lon,
        accuracy_m=accuracy_m,
        forwarded=forwarded,
    )


def photo_facts_of(part: PresencePart) -> PhotoFacts:
    """The facts a waiting photo part carries, for judging it once its location arrives."""
    assert part.photo_sha256 is not None and part.photo_phash is not None
    return PhotoFacts(
        sha256=part.photo_sha256,
        phash=part.photo_phash,
        extension=Path(part.photo_path or "x.jpg").suffix.lstrip("."),
        width=0,
        height=0,
        exif_lat=part.exif_lat,
        exif_lon=part.exif_lon,
        exif_taken_at=part.exif_taken_at,
    )


def make_proof(
    *,
    session: Session,
    settings: Settings,
    person: Person,
    place: Place,
    channel: str,
    chat_id: str,
    taken_at: dt.datetime,
    facts: PhotoFacts,
    photo_path: str | None,
    photo_file: bool,
    fix: Fix,
    photo_forwarded: bool = False,
) -> Proof:
    """Judge a photo with its location and store the proof, marking what it used."""
    assert person.id is not None
    rules = Rules.of(settings)
    reuse = find_reuse(session=session, facts=facts, max_bits=settings.presence.reuse_max_bits)
    place = place.nearest(fix.lat, fix.lon)
    judgement = judge(
        rules=rules,
        village=place.centre,
        fix=fix,
        taken_at=taken_at,
        photo=facts,
        photo_file=photo_file,
        reuse=reuse,
        photo_forwarded=photo_forwarded,
    )
    proof = Proof(
        person_id=person.id,
        day=taken_at.astimezone(settings.tz).date(),
        taken_at=taken_at,
        district_id=place.district_id,
        block_id=place.block_id,
        sector_id=place.sector_id,
        village_id=place.village_id,
        channel=channel,
        chat_id=chat_id,
        photo_sha256=facts.sha256,
        photo_phash=facts.phash,
        photo_path=photo_path,
        photo_file=photo_file,
        lat=fix.lat,
        lon=fix.lon,
        accuracy_m=fix.accuracy_m,
        live=fix.live,
        located_at=fix.at,
        distance_m=judgement.distance_m,
        radius_m=rules.radius_m,
        exif_lat=facts.exif_lat if photo_file else None,
        exif_lon=facts.exif_lon if photo_file else None,
        exif_taken_at=facts.exif_taken_at if photo_file else None,
        exif_distance_m=judgement.exif_distance_m,
        exif_minutes=judgement.exif_minutes,
        reused_proof_id=reuse.proof_id if reuse else None,
        reuse_bits=reuse.bits if reuse else None,
        verdict=judgement.verdict,
        reasons=";".join(judgement.reasons),
    )
    session.add(proof)
    session.flush()
    if fix.part_id is not None:
        session.execute(
            update(PresencePart)
            .where(col(PresencePart.id) == fix.part_id, col(PresencePart.status) == "open")
            .values(status="paired", proof_id=proof.id)
        )
    if fix.point_id is not None:
        session.execute(update(TrackPoint).where(col(TrackPoint.id) == fix.point_id).values(kept=True))
    return proof


# ---------------------------------------------------------------- expiry


def expire_parts(*, session: Session, now: dt.datetime) -> list[PresencePart]:
    """Halves whose other half never came: marked expired and returned, for a reminder each."""
    query = select(PresencePart).where(PresencePart.status == "open", col(PresencePart.expires_at) < now)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    parts = list(session.exec(query.order_by(col(PresencePart.id))).all())
    for part in parts:
        part.status = "expired"
        session.add(part)
    return parts


def photo_in_use(*, session: Session, sha256: str) -> bool:
    """Whether any proof or waiting part still needs the stored file."""
    proof = session.exec(select(Proof.id).where(Proof.photo_sha256 == sha256).limit(1)).first()
    part = session.exec(
        select(PresencePart.id)
        .where(PresencePart.photo_sha256 == sha256, PresencePart.status == "open")
        .limit(1)
    ).first()
    return proof is not None or part is not None

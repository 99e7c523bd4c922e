"""The checks on a field-presence proof: plain functions of numbers (`judge`), and the reason
codes (`REASONS`) in the order a reply and the proofs table list them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.config_sections import FieldHours
from bot.geo import distance_m
from bot.photos import PhotoFacts
from models import Role

# Reason codes, in the order a reply and the proofs table list them.
REASONS = (
    "no_village_location",
    "far_from_village",
    "outside_field_hours",
    "reused_photo",
    "exif_mismatch",
    "low_accuracy",
    "forwarded",
    "no_accuracy",
)
MAX_LIVE_SECONDS = 24 * 3600
PROVING_ROLES = (Role.asha.value, Role.anm.value, Role.supervisor.value)


@dataclass(frozen=True)
class Fix:
    """A point where the person said she was, and when."""

    lat: float
    lon: float
    at: dt.datetime
    accuracy_m: float | None
    live: bool
    part_id: int | None = None  # a static location waiting as a part
    point_id: int | None = None  # a point of a live track
    forwarded: bool = False  # forwarded from another chat: not a fix of hers, not a fresh one


@dataclass(frozen=True)
class Reuse:
    proof_id: int
    bits: int


@dataclass(frozen=True)
class Judgement:
    """The verdict and every number it rests on."""

    reasons: tuple[str, ...]
    distance_m: float | None
    exif_distance_m: float | None = None
    exif_minutes: float | None = None

    @property
    def verdict(self) -> str:
        return "needs_review" if self.reasons else "verified"


@dataclass(frozen=True)
class Rules:
    radius_m: float
    max_accuracy_m: float
    hours: FieldHours
    tz: ZoneInfo
    exif_max_distance_m: float
    exif_max_minutes: float
    flag_no_accuracy: bool = True

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        presence = settings.presence
        return cls(
            radius_m=presence.radius_m,
            max_accuracy_m=presence.max_accuracy_m,
            hours=settings.field_hours,
            tz=settings.tz,
            exif_max_distance_m=presence.exif_max_distance_m,
            exif_max_minutes=presence.exif_max_minutes,
            flag_no_accuracy=presence.flag_no_accuracy,
        )


def judge(
    *,
    rules: Rules,
    village: tuple[float, float] | None,
    fix: Fix,
    taken_at: dt.datetime,
    photo: PhotoFacts,
    photo_file: bool,
    reuse: Reuse | None,
    photo_forwarded: bool = False,
) -> Judgement:
    """Check one photo-and-location pair against the village, the hours, earlier photos and EXIF."""
    reasons: list[str] = []
    where = (fix.lat, fix.lon)
    distance = distance_m(village, where) if village is not None else None
    if distance is None:
        reasons.append("no_village_location")
    elif distance > rules.radius_m:
        reasons.append("far_from_village")
    local = taken_at.astimezone(rules.tz).time()
    if not rules.hours.start <= local < rules.hours.end:
        reasons.append("outside_field_hours")
    if reuse is not None:
        reasons.append("reused_photo")
    exif_distance = exif_minutes = None
    if photo_file:
        if photo.exif_lat is not None and photo.exif_lon is not None:
            exif_distance = distance_m((photo.exif_lat, photo.exif_lon), where)
        if photo.exif_taken_at is not None:
            exif_minutes = abs((photo.exif_taken_at - taken_at).total_seconds()) / 60
        off_place = exif_distance is not None and exif_distance > rules.exif_max_distance_m
        off_time = exif_minutes is not None and exif_minutes > rules.exif_max_minutes
        if off_place or off_time:
            reasons.append("exif_mismatch")
    if fix.accuracy_m is not None and fix.accuracy_m > rules.max_accuracy_m:
        reasons.append("low_accuracy")
    if fix.forwarded or photo_forwarded:
        reasons.append("forwarded")
    if fix.accuracy_m is None and rules.flag_no_accuracy:
        reasons.append("no_accuracy")  # picked on a map: it can be dropped anywhere
    return Judgement(tuple(reasons), distance, exif_distance, exif_minutes)

"""What the field reports and what it is measured against: daily reports, their values and audit
trail, the aggregates kept with them, targets and the official portal's counts; field-presence
proofs; problems; leave and holidays. Every change comes with an Alembic migration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, timestamp


# One worker's report for one day, in the unit where she was when she made it.
class DailyReport(SQLModel, table=True):
    __tablename__ = "daily_report"
    __table_args__ = (
        UniqueConstraint("person_id", "day"),
        Index("ix_daily_report_sector_day", "sector_id", "day"),
        Index("ix_daily_report_block_day", "block_id", "day"),
        Index("ix_daily_report_district_day", "district_id", "day"),
        Index("ix_daily_report_day", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    day: dt.date
    district_id: int = Field(foreign_key="district.id")
    block_id: int = Field(foreign_key="block.id")
    sector_id: int = Field(foreign_key="sector.id")
    village_id: int | None = Field(default=None, foreign_key="village.id")
    created_at: dt.datetime = timestamp()
    updated_at: dt.datetime = timestamp()


# The current value of one metric in a daily report.
class ReportValue(SQLModel, table=True):
    __tablename__ = "report_value"
    report_id: int = Field(foreign_key="daily_report.id", primary_key=True)
    metric: str = Field(primary_key=True)
    value: int


# The audit trail: every change to a report value, grouped per message, reversible by /undo.
class ReportChange(SQLModel, table=True):
    __tablename__ = "report_change"
    __table_args__ = (
        Index("ix_report_change_person_changed", "person_id", "id"),
        Index("ix_report_change_group", "change_group"),
    )
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="daily_report.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    day: dt.date
    metric: str
    old_value: int | None = None
    new_value: int | None = None
    kind: str  # report | edit | undo
    change_group: str
    source_key: str | None = Field(default=None, index=True)
    channel: str
    changed_at: dt.datetime = timestamp()
    # Who wrote it when it was not the worker herself (her supervisor or ANM reporting for her).
    entered_by: int | None = Field(default=None, foreign_key="person.id")
    undone: bool = False


# The sum of one metric per unit (sector, block, district) and day, kept by bot/store/totals.py in the
# transaction that changes a report, so rollups never add up raw reports over a range.
class UnitDayTotal(SQLModel, table=True):
    __tablename__ = "unit_day_total"
    # Covering both ways, so sums are read from an index alone: all metrics of a few days, and
    # one metric over the whole campaign (rankings, pace).
    __table_args__ = (
        Index("ix_unit_day_total_day", "level", "unit_id", "day", "metric", "value"),
        Index("ix_unit_day_total_metric_day", "level", "unit_id", "metric", "day", "value"),
    )
    level: str = Field(primary_key=True)
    unit_id: int = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)
    metric: str = Field(primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)


# How many workers reported (at least one value) per unit and day, kept like UnitDayTotal.
class UnitDayReported(SQLModel, table=True):
    __tablename__ = "unit_day_reported"
    level: str = Field(primary_key=True)
    unit_id: int = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)
    reported: int = 0


# Which days each worker reported from a sector, one bit per day in 63-day buckets, packed one
# row per sector and bucket: distinct reporters over any range read a few rows, not the reports.
class ReportingDays(SQLModel, table=True):
    __tablename__ = "reporting_days"
    __table_args__ = (
        Index("ix_reporting_days_block", "block_id", "bucket"),
        Index("ix_reporting_days_district", "district_id", "bucket"),
    )
    sector_id: int = Field(primary_key=True)
    bucket: int = Field(primary_key=True)  # days since 2020-01-01, divided by 63
    block_id: int
    district_id: int
    # "person:bits person:bits ...", bit n set: day 63 * bucket + n was reported
    workers: str = Field(default="", sa_column=Column(Text, nullable=False))


# A unit's own targets and eligible population for one metric, from `fieldbot targets import`;
# where a value is missing the config default for the level applies. unit_id is 0 for the state.
class UnitTarget(SQLModel, table=True):
    __tablename__ = "unit_target"
    __table_args__ = (Index("ix_unit_target_district", "district_id", "level"),)
    level: str = Field(primary_key=True)  # state | district | block | sector
    unit_id: int = Field(primary_key=True)
    metric: str = Field(primary_key=True)
    district_id: int | None = None  # the district the unit lies in, to find a district's rows
    block_id: int | None = None
    daily: int | None = Field(default=None, sa_type=BigInteger)
    campaign_total: int | None = Field(default=None, sa_type=BigInteger)
    eligible: int | None = Field(default=None, sa_type=BigInteger)
    baseline: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: dt.datetime = timestamp()


# The official portal's count of one metric for a district or block and day, from
# `fieldbot official import`; importing a day again replaces that day's rows of the district.
# `value` is the day's count; a cumulative report also keeps its to-date figure, and its first
# day (nothing before it to take the difference from) has no day's count.
class OfficialCount(SQLModel, table=True):
    __tablename__ = "official_count"
    __table_args__ = (
        Index("ix_official_count_district_day", "district_id", "day"),
        Index("ix_official_count_unit", "level", "unit_id", "metric", "day"),
    )
    day: dt.date = Field(primary_key=True)
    level: str = Field(primary_key=True)  # district | block
    unit_id: int = Field(primary_key=True)
    metric: str = Field(primary_key=True)
    district_id: int
    block_id: int | None = None
    value: int | None = Field(default=None, sa_type=BigInteger)
    cumulative: int | None = Field(default=None, sa_type=BigInteger)
    imported_at: dt.datetime = timestamp()


# Field presence. A photo and a location from the same person, sent within the configured minutes
# of each other, make one proof. Until its other half arrives, each waits here as a part.
class PresencePart(SQLModel, table=True):
    __tablename__ = "presence_part"
    __table_args__ = (Index("ix_presence_part_open", "status", "person_id", "sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str  # photo | location
    channel: str
    chat_id: str
    is_group: bool = False
    sent_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    status: str = "open"  # open | paired | expired
    proof_id: int | None = Field(default=None, foreign_key="proof.id")
    photo_sha256: str | None = None
    photo_phash: str | None = None
    photo_path: str | None = None
    photo_file: bool = False  # sent as a file, so its EXIF survived
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    forwarded: bool = False  # forwarded from another chat: not her own, not fresh


# A Telegram live location: one message whose edits keep moving the point while it is live.
class LiveTrack(SQLModel, table=True):
    __tablename__ = "live_track"
    track_key: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str
    chat_id: str
    is_group: bool = False
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    live_until: dt.datetime = Field(sa_type=UTCDateTime)


# One point of a live track.
class TrackPoint(SQLModel, table=True):
    __tablename__ = "track_point"
    __table_args__ = (UniqueConstraint("track_key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    track_key: str = Field(foreign_key="live_track.track_key")
    at: dt.datetime = Field(sa_type=UTCDateTime)
    lat: float
    lon: float
    accuracy_m: float | None = None
    kept: bool = False  # matched to a proof: outlives the track's retention, as long as the photo


# A checked field-presence proof, with every number its verdict rests on.
class Proof(SQLModel, table=True):
    __table_args__ = (
        Index("ix_proof_sector_day", "sector_id", "day"),
        Index("ix_proof_block_day", "block_id", "day"),
        Index("ix_proof_district_day", "district_id", "day"),
        Index("ix_proof_person_day", "person_id", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    day: dt.date
    taken_at: dt.datetime = Field(sa_type=UTCDateTime)  # when the photo was sent
    district_id: int = Field(foreign_key="district.id")
    block_id: int = Field(foreign_key="block.id")
    sector_id: int = Field(foreign_key="sector.id")
    village_id: int | None = Field(default=None, foreign_key="village.id")
    channel: str
    chat_id: str
    photo_sha256: str = Field(index=True)
    photo_phash: str
    photo_path: str | None = None
    photo_file: bool = False
    lat: float | None = None  # None once the retention period has passed
    lon: float | None = None
    accuracy_m: float | None = None
    live: bool = False
    located_at: dt.datetime = Field(sa_type=UTCDateTime)
    distance_m: float | None = None
    radius_m: float
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    exif_distance_m: float | None = None
    exif_minutes: float | None = None
    reused_proof_id: int | None = Field(default=None, foreign_key="proof.id")
    reuse_bits: int | None = None  # perceptual-hash distance to the earlier photo; 0 is identical
    verdict: str  # verified | needs_review
    reasons: str = ""  # ;-joined reason codes
    created_at: dt.datetime = timestamp()


# A supervisor's or BMO's decision on a proof that needed review; one per proof.
class ProofReview(SQLModel, table=True):
    __tablename__ = "proof_review"
    proof_id: int = Field(foreign_key="proof.id", primary_key=True)
    reviewer_id: int = Field(foreign_key="person.id")
    decision: str  # accepted | rejected
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_at: dt.datetime = timestamp()


# A problem a field worker reported (`/samasya`): who, where she was, the day, the code and her
# words; open until an officer resolves it. `notified_at`: when the code's recipients heard of it.
class Problem(SQLModel, table=True):
    __table_args__ = (
        Index("ix_problem_sector_status", "sector_id", "status"),
        Index("ix_problem_block_status", "block_id", "status"),
        Index("ix_problem_district_status", "district_id", "status"),
        Index("ix_problem_person_status", "person_id", "status"),
        Index("ix_problem_day", "day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    day: dt.date
    reported_at: dt.datetime = timestamp()
    district_id: int = Field(foreign_key="district.id")
    block_id: int = Field(foreign_key="block.id")
    sector_id: int = Field(foreign_key="sector.id")
    village_id: int | None = Field(default=None, foreign_key="village.id")
    code: str
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel: str
    status: str = "open"  # open | resolved
    resolved_by: int | None = Field(default=None, foreign_key="person.id")
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    notified_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


# The audit trail of problems: every report, resolution and reopening, by whom and when.
class ProblemChange(SQLModel, table=True):
    __tablename__ = "problem_change"
    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    person_id: int = Field(foreign_key="person.id")  # who made the change
    action: str  # reported | resolved
    status: str  # the problem's status after it
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel: str
    changed_at: dt.datetime = timestamp()


# A worker's days off (`छुट्टी`), entered by herself or by her supervisor; cancelled ones stay,
# with who cancelled them, so the record shows what was planned.
class Leave(SQLModel, table=True):
    __tablename__ = "leave"
    __table_args__ = (Index("ix_leave_person_days", "person_id", "last_day"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    first_day: dt.date
    last_day: dt.date
    entered_by: int = Field(foreign_key="person.id")
    created_at: dt.datetime = timestamp()
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by: int | None = Field(default=None, foreign_key="person.id")


# A holiday from `fieldbot holidays import`: for the whole state (no district), a district (no
# block) or one block. Holidays in config.yaml are read from there and are not stored.
class Holiday(SQLModel, table=True):
    __tablename__ = "holiday"
    __table_args__ = (Index("ix_holiday_day", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    day: dt.date
    district_id: int | None = Field(default=None, foreign_key="district.id")
    block_id: int | None = Field(default=None, foreign_key="block.id")
    name: str
    imported_at: dt.datetime = timestamp()

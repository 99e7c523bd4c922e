"""The database tables. Every change to them comes with an Alembic migration."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Role(enum.StrEnum):
    asha = "asha"
    anm = "anm"
    supervisor = "supervisor"
    bmo = "bmo"
    district_officer = "district_officer"
    admin = "admin"

    @property
    def is_field_worker(self) -> bool:
        return self in (Role.asha, Role.anm)


FIELD_ROLES = (Role.asha.value, Role.anm.value)


def _ts(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column defaulting to now."""
    return Field(default_factory=utcnow, sa_column_kwargs=kwargs, sa_type=UTCDateTime)


# Units carry the name they were first written with and, where a file gave it, their Devanagari
# name (`name_hi`, shown to Hindi readers) and their code in India's Local Government Directory
# (`lgd_code`), by which files match them whatever the spelling.


# A district of the state; the top unit a district officer manages.
class District(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    name_hi: str | None = None
    lgd_code: int | None = Field(default=None, unique=True, index=True)

    def label(self, language: str) -> str:
        return (self.name_hi or self.name) if language == "hi" else self.name


# A block (community health centre area) inside a district, run by a BMO.
class Block(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="district.id", index=True)
    name: str
    name_hi: str | None = None
    lgd_code: int | None = Field(default=None, unique=True, index=True)

    def label(self, language: str) -> str:
        return (self.name_hi or self.name) if language == "hi" else self.name


# A supervisor's sector: a group of villages inside a block (the LGD has no sectors).
class Sector(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("block_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="block.id", index=True)
    name: str
    name_hi: str | None = None

    def label(self, language: str) -> str:
        return (self.name_hi or self.name) if language == "hi" else self.name


# A village with its centre, against which field-presence photos are checked.
class Village(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("sector_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    sector_id: int = Field(foreign_key="sector.id", index=True)
    name: str
    name_hi: str | None = None
    lgd_code: int | None = Field(default=None, index=True)
    lat: float | None = None
    lon: float | None = None


# A village centre from `fieldbot villages import`, by block: the roster's villages of that name
# (or LGD code) take it, now and whenever the roster adds one later.
class VillageCentre(SQLModel, table=True):
    __tablename__ = "village_centre"
    __table_args__ = (UniqueConstraint("block_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="block.id", index=True)
    name: str
    lgd_code: int | None = Field(default=None, index=True)
    lat: float
    lon: float
    updated_at: dt.datetime = _ts()


# A person on the roster. Field workers carry their current unit (denormalised for rollups);
# officers hold their units through Post rows.
class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str | None = Field(default=None, unique=True)
    name: str
    phone: str = Field(index=True)
    role: str = Field(index=True)
    language: str = "hi"
    active: bool = True
    village_id: int | None = Field(default=None, foreign_key="village.id")
    sector_id: int | None = Field(default=None, foreign_key="sector.id", index=True)
    block_id: int | None = Field(default=None, foreign_key="block.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    telegram_user_id: int | None = Field(
        default=None, sa_column_kwargs={"unique": True}, sa_type=BigInteger
    )
    telegram_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()

    @property
    def is_field_worker(self) -> bool:
        return self.role in FIELD_ROLES


# Every number a person may write from (primary and alternates); how an inbound sender is found.
class PersonPhone(SQLModel, table=True):
    __tablename__ = "person_phone"
    phone: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)


# The villages an ANM or a supervisor covers besides her own (roster column `villages`); a
# field-presence photo is measured to the nearest of them.
class PersonVillage(SQLModel, table=True):
    __tablename__ = "person_village"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    village_id: int = Field(foreign_key="village.id", primary_key=True, index=True)


# A unit an officer holds: a supervisor's sector, a BMO's block, a district officer's district.
class Post(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    block_id: int | None = Field(default=None, foreign_key="block.id")
    sector_id: int | None = Field(default=None, foreign_key="sector.id")


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
    created_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()


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
    changed_at: dt.datetime = _ts()
    # Who wrote it when it was not the worker herself (her supervisor or ANM reporting for her).
    entered_by: int | None = Field(default=None, foreign_key="person.id")
    undone: bool = False


# Inbound messages already processed, so a redelivery changes nothing and gets the same answer.
class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    dedup_key: str = Field(unique=True)
    source_key: str | None = Field(default=None, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    sent_at: dt.datetime = Field(sa_type=UTCDateTime)
    received_at: dt.datetime = _ts()
    replies: str = Field(default="[]", sa_column=Column(Text, nullable=False))


# Small facts the processes share: when the scheduler last ran, and the like.
class ServiceState(SQLModel, table=True):
    __tablename__ = "service_state"
    key: str = Field(primary_key=True)
    value: str
    updated_at: dt.datetime = _ts()


# Every message the bot decides to send on its own (reminders, digests), written in the same
# transaction as the decision and drained by one sender. The key makes each decision happen once.
class Outbox(SQLModel, table=True):
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lane_due", "status", "lane", "priority", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    job: str
    day: dt.date
    channel: str  # telegram | whatsapp | simulator
    address: str | None = None  # the chat to send to on that channel
    text: str = Field(sa_column=Column(Text, nullable=False))
    attachment: bytes | None = Field(default=None, sa_type=LargeBinary)
    attachment_name: str | None = None
    status: str = "pending"  # pending | sending | sent | failed | undeliverable
    attempts: int = 0
    next_attempt_at: dt.datetime = _ts()
    claimed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None  # the sender process (its lease holder id) that claimed it
    # How many parts of a split message have gone out: a retry resumes at the first unsent one.
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: dt.datetime = _ts()
    # What the provider said after taking the message (WhatsApp: delivered, read, undelivered...).
    delivery_status: str | None = None
    error_code: int | None = None  # the provider's error code, e.g. Twilio's 63016
    # Which sender carries it: `telegram` (the one bot), `telegram:<bot>`, `whatsapp`, `simulator`.
    lane: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # 0 replies and reminders, 1 digests, 2 start messages: lower goes first within a lane.
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # WhatsApp: it opened a conversation (a template outside her 24-hour window), which Meta counts.
    opened_conversation: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


# A named lock with an expiry, held by one process at a time (the scheduler, the sender).
class Lease(SQLModel, table=True):
    name: str = Field(primary_key=True)
    holder: str
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    acquired_at: dt.datetime = _ts()


# Which scheduled job has run for which day: a job fires once per day whatever restarts.
class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    job: str = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)
    ran_at: dt.datetime = _ts()
    messages: int = 0


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
    created_at: dt.datetime = _ts()


# Where and when a person last wrote on a channel: WhatsApp's 24-hour window, and her number there.
class ChannelContact(SQLModel, table=True):
    __tablename__ = "channel_contact"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    channel: str = Field(primary_key=True)
    address: str  # WhatsApp: the E.164 number she wrote from (it may be one of her alternates)
    last_inbound_at: dt.datetime = Field(sa_type=UTCDateTime)


# One message handed to a provider (a Twilio SID), so its status callbacks find their outbox row.
class ProviderMessage(SQLModel, table=True):
    __tablename__ = "provider_message"
    sid: str = Field(primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    channel: str
    status: str  # queued | sent | delivered | read | failed | undelivered
    error_code: int | None = None
    created_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()


# A file the bot sends over WhatsApp: Twilio fetches it once from a signed, expiring link.
class MediaFile(SQLModel, table=True):
    __tablename__ = "media_file"
    id: int | None = Field(default=None, primary_key=True)
    filename: str
    mime_type: str
    content: bytes = Field(sa_type=LargeBinary)
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


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
    updated_at: dt.datetime = _ts()


# The sum of one metric per unit (sector, block, district) and day, kept by bot.crud in the
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


# When a person was shown the privacy notice on a channel: once per channel, at first contact.
class PrivacyNotice(SQLModel, table=True):
    __tablename__ = "privacy_notice"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    channel: str = Field(primary_key=True)
    shown_at: dt.datetime = _ts()


# How many messages a sender wrote in the current minute, for the flood limit every process shares;
# one row per sender, keyed by a hash of channel and sender so no phone number is kept here.
class SenderRate(SQLModel, table=True):
    __tablename__ = "sender_rate"
    sender: str = Field(primary_key=True)
    minute: int = Field(sa_type=BigInteger)  # the current minute, counted from 1970-01-01 UTC
    count: int = 0


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
    imported_at: dt.datetime = _ts()


# A one-use link to the officers' dashboard, sent by `/web`; only its hash is kept.
class LoginLink(SQLModel, table=True):
    __tablename__ = "login_link"
    __table_args__ = (Index("ix_login_link_person_created", "person_id", "created_at"),)
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


# A signed-in dashboard session (the cookie holds the token, the table only its hash), so any
# web process serves it.
class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


# A supervisor's or BMO's decision on a proof that needed review; one per proof.
class ProofReview(SQLModel, table=True):
    __tablename__ = "proof_review"
    proof_id: int = Field(foreign_key="proof.id", primary_key=True)
    reviewer_id: int = Field(foreign_key="person.id")
    decision: str  # accepted | rejected
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_at: dt.datetime = _ts()


# Who saw or downloaded phone numbers on the dashboard, what and when (PRIVACY.md).
class PhoneView(SQLModel, table=True):
    __tablename__ = "phone_view"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    what: str  # missing | workers | proofs | export | proofs_csv
    unit: str
    viewed_at: dt.datetime = _ts()


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
    reported_at: dt.datetime = _ts()
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
    changed_at: dt.datetime = _ts()


# ---------------------------------------------------------------- leave, holidays, entries for others


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
    created_at: dt.datetime = _ts()
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
    imported_at: dt.datetime = _ts()


# What the bot is waiting for a person to answer (the ask-back on a report, a menu, a choice of
# names): at most one per person, asked again it is replaced. In the database, so any web process
# may receive the answer. `payload` is the kind's own JSON, `labels` the answers' JSON list.
class PendingQuestion(SQLModel, table=True):
    __tablename__ = "pending_question"
    # Ids are never used again (on SQLite too), so a button of a closed question never answers a
    # later one.
    __table_args__ = {"sqlite_autoincrement": True}
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    channel: str
    kind: str
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    labels: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


# Which Telegram bots a person has started (a bot may write only to those who started it).
class TelegramBotChat(SQLModel, table=True):
    __tablename__ = "telegram_bot_chat"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    bot: str = Field(primary_key=True)
    started_at: dt.datetime = _ts()
    last_seen_at: dt.datetime = _ts()


# WhatsApp opt-in: business-initiated templates go only to people who opted in.
class WhatsAppOptIn(SQLModel, table=True):
    __tablename__ = "whatsapp_opt_in"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    opted_in: bool
    source: str  # wrote | roster | stop | start
    updated_at: dt.datetime = _ts()


@event.listens_for(Outbox, "before_insert")
def _outbox_lane(mapper: Any, connection: Any, target: Outbox) -> None:
    """A row queued without a lane goes by its channel (the one bot's lane is `telegram`)."""
    if not target.lane:
        target.lane = target.channel

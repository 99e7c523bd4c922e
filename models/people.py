"""The state's units and the people on the roster: districts to villages, people, their numbers,
villages and posts; and what each person was given or shown: dashboard links and sessions, the
phone numbers an officer saw, the privacy notice. Every change comes with an Alembic migration."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, timestamp


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
    updated_at: dt.datetime = timestamp()


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
    created_at: dt.datetime = timestamp()
    updated_at: dt.datetime = timestamp()

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


# When a person was shown the privacy notice on a channel: once per channel, at first contact.
class PrivacyNotice(SQLModel, table=True):
    __tablename__ = "privacy_notice"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    channel: str = Field(primary_key=True)
    shown_at: dt.datetime = timestamp()


# A one-use link to the officers' dashboard, sent by `/web`; only its hash is kept.
class LoginLink(SQLModel, table=True):
    __tablename__ = "login_link"
    __table_args__ = (Index("ix_login_link_person_created", "person_id", "created_at"),)
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    created_at: dt.datetime = timestamp()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


# A signed-in dashboard session (the cookie holds the token, the table only its hash), so any
# web process serves it.
class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str
    created_at: dt.datetime = timestamp()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


# Who saw or downloaded phone numbers on the dashboard, what and when (PRIVACY.md).
class PhoneView(SQLModel, table=True):
    __tablename__ = "phone_view"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    what: str  # missing | workers | proofs | export | proofs_csv
    unit: str
    viewed_at: dt.datetime = timestamp()

"""Messages in and out and the processes that carry them: inbound messages already processed, the
question a person is asked, each channel's contacts and opt-ins, the flood counts, the outbox and
its provider messages and media files, leases, job runs and shared service state. Every change
comes with an Alembic migration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, event
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, timestamp


# Inbound messages already processed, so a redelivery changes nothing and gets the same answer.
class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    dedup_key: str = Field(unique=True)
    source_key: str | None = Field(default=None, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    sent_at: dt.datetime = Field(sa_type=UTCDateTime)
    received_at: dt.datetime = timestamp()
    replies: str = Field(default="[]", sa_column=Column(Text, nullable=False))


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
    created_at: dt.datetime = timestamp()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


# Where and when a person last wrote on a channel: WhatsApp's 24-hour window, and her number there.
class ChannelContact(SQLModel, table=True):
    __tablename__ = "channel_contact"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    channel: str = Field(primary_key=True)
    address: str  # WhatsApp: the E.164 number she wrote from (it may be one of her alternates)
    last_inbound_at: dt.datetime = Field(sa_type=UTCDateTime)
    # WhatsApp: the business's E.164 number she wrote to (its 24-hour window is the open one).
    business_number: str | None = None


# Which Telegram bots a person has started (a bot may write only to those who started it).
class TelegramBotChat(SQLModel, table=True):
    __tablename__ = "telegram_bot_chat"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    bot: str = Field(primary_key=True)
    started_at: dt.datetime = timestamp()
    last_seen_at: dt.datetime = timestamp()


# WhatsApp opt-in: business-initiated templates go only to people who opted in.
class WhatsAppOptIn(SQLModel, table=True):
    __tablename__ = "whatsapp_opt_in"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    opted_in: bool
    source: str  # wrote | roster | stop | start
    updated_at: dt.datetime = timestamp()


# How many messages a sender wrote in the current minute, for the flood limit every process shares;
# one row per sender, keyed by a hash of channel and sender so no phone number is kept here.
class SenderRate(SQLModel, table=True):
    __tablename__ = "sender_rate"
    sender: str = Field(primary_key=True)
    minute: int = Field(sa_type=BigInteger)  # the current minute, counted from 1970-01-01 UTC
    count: int = 0


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
    next_attempt_at: dt.datetime = timestamp()
    claimed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None  # the sender process (its lease holder id) that claimed it
    # How many parts of a split message have gone out: a retry resumes at the first unsent one.
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: dt.datetime = timestamp()
    # What the provider said after taking the message (WhatsApp: delivered, read, undelivered...).
    delivery_status: str | None = None
    error_code: int | None = None  # the provider's error code, e.g. Twilio's 63016
    # Which sender carries it: `telegram` (the one bot), `telegram:<bot>`, `whatsapp`, `simulator`.
    lane: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # 0 replies and reminders, 1 digests, 2 start messages: lower goes first within a lane.
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # WhatsApp: it opened a conversation (a template outside her 24-hour window), which Meta counts.
    opened_conversation: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


@event.listens_for(Outbox, "before_insert")
def _outbox_lane(mapper: Any, connection: Any, target: Outbox) -> None:
    """A row queued without a lane goes by its channel (the one bot's lane is `telegram`)."""
    if not target.lane:
        target.lane = target.channel


# One message handed to a provider (a Twilio SID), so its status callbacks find their outbox row.
class ProviderMessage(SQLModel, table=True):
    __tablename__ = "provider_message"
    sid: str = Field(primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    channel: str
    status: str  # queued | sent | delivered | read | failed | undelivered
    error_code: int | None = None
    created_at: dt.datetime = timestamp()
    updated_at: dt.datetime = timestamp()


# A file the bot sends over WhatsApp: Twilio fetches it once from a signed, expiring link.
class MediaFile(SQLModel, table=True):
    __tablename__ = "media_file"
    id: int | None = Field(default=None, primary_key=True)
    filename: str
    mime_type: str
    content: bytes = Field(sa_type=LargeBinary)
    created_at: dt.datetime = timestamp()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


# A named lock with an expiry, held by one process at a time (the scheduler, the sender).
class Lease(SQLModel, table=True):
    name: str = Field(primary_key=True)
    holder: str
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    acquired_at: dt.datetime = timestamp()


# Which scheduled job has run for which day: a job fires once per day whatever restarts.
class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    job: str = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)
    ran_at: dt.datetime = timestamp()
    messages: int = 0


# Small facts the processes share: when the scheduler last ran, and the like.
class ServiceState(SQLModel, table=True):
    __tablename__ = "service_state"
    key: str = Field(primary_key=True)
    value: str
    updated_at: dt.datetime = timestamp()

"""The per-sender flood limit: a count per sender and minute in the database every process shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, case, select
from sqlmodel import Session

from bot.core.messages import Inbound
from bot.store.insert import dialect_insert, insert_many
from models import LiveTrack, SenderRate

RATE: Table = SenderRate.__table__  # type: ignore[attr-defined]


# How long after a live track's end its last updates may still arrive.
LIVE_GRACE = dt.timedelta(minutes=1)


def may_be_exempt(inbound: Inbound) -> bool:
    """Whether a message is a live-location update, the one kind the limit may let through."""
    return inbound.is_edit and inbound.location is not None and bool(inbound.source_key)


def exempt(*, session: Session, inbound: Inbound, person_id: int) -> bool:
    """A known person's live location keeps arriving as edits on its own: that is the phone.

    Only while her own track of that message is open; anyone else's edits count like messages.
    """
    if not may_be_exempt(inbound) or inbound.source_key is None:
        return False
    track = session.get(LiveTrack, inbound.source_key)
    moment = inbound.edited_at or inbound.sent_at
    return (
        track is not None
        and track.person_id == person_id
        and track.started_at <= moment <= track.live_until + LIVE_GRACE
    )


def minute_of(now: dt.datetime) -> int:
    """The minute `now` falls in, counted from 1970 (UTC)."""
    return int(now.timestamp() // 60)


def count(*, session: Session, sender: str, now: dt.datetime) -> int:
    """Add one message to the sender's count for this minute and return the new count.

    One upsert on the sender's row: concurrent messages in several processes each get their own
    number, and the first message of a new minute starts the count again at 1.
    """
    stmt = dialect_insert(session, RATE).values(sender=sender, minute=minute_of(now), count=1)
    same_minute = RATE.c["minute"] == stmt.excluded["minute"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["sender"],
        set_={
            "count": case((same_minute, RATE.c["count"] + 1), else_=1),
            "minute": stmt.excluded["minute"],
        },
    ).returning(RATE.c["count"])
    return int(session.execute(stmt).scalar_one())


def count_many(*, session: Session, senders: Mapping[str, int], now: dt.datetime) -> dict[str, int]:
    """`count` for many senders at once: add each one's messages and return the new counts.

    The upsert leaves each sender's row locked until the transaction ends, so the counts read back
    are this transaction's own, as `count`'s RETURNING would give them.
    """
    if not senders:
        return {}

    def adding(stmt: Any) -> Any:
        same_minute = RATE.c["minute"] == stmt.excluded["minute"]
        return stmt.on_conflict_do_update(
            index_elements=["sender"],
            set_={
                "count": case(
                    (same_minute, RATE.c["count"] + stmt.excluded["count"]),
                    else_=stmt.excluded["count"],
                ),
                "minute": stmt.excluded["minute"],
            },
        )

    minute = minute_of(now)
    rows = [{"sender": s, "minute": minute, "count": n} for s, n in sorted(senders.items())]
    insert_many(session, RATE, rows, adding, name="sender_rate.add")
    counts = session.execute(
        select(RATE.c["sender"], RATE.c["count"]).where(RATE.c["sender"].in_(list(senders)))
    ).all()
    return {sender: int(total) for sender, total in counts}

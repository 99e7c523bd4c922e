"""Messages already processed and the replies they were given (the "already processed" mark)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.store.insert import insert_many
from models import InboundMessage, utcnow


def processed_replies(*, session: Session, dedup_key: str) -> list[Reply] | None:
    """The replies already given to this message, if it was processed before."""
    row = session.exec(select(InboundMessage).where(InboundMessage.dedup_key == dedup_key)).first()
    if row is None:
        return None
    return [Reply.from_json(item) for item in json.loads(row.replies)]


def record_inbound(
    *,
    session: Session,
    channel: str,
    dedup_key: str,
    source_key: str | None,
    person_id: int | None,
    sent_at: dt.datetime,
    replies: Sequence[Reply],
) -> None:
    """Mark a message processed, in the same transaction as what it changed."""
    session.add(
        InboundMessage(
            channel=channel,
            dedup_key=dedup_key,
            source_key=source_key,
            person_id=person_id,
            sent_at=sent_at,
            replies=json.dumps([r.to_json() for r in replies], ensure_ascii=False),
        )
    )
    session.flush()


def replies_for(*, session: Session, dedup_keys: Iterable[str]) -> dict[str, list[Reply]]:
    """The replies already given to those of these messages that were processed before."""
    keys = sorted(set(dedup_keys))
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(table.c.dedup_key, table.c.replies).where(table.c.dedup_key.in_(keys))
    ).all()
    return {key: [Reply.from_json(item) for item in json.loads(replies)] for key, replies in rows}


def record_inbound_many(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """`record_inbound` for many messages: each row has its Inbound's keys, person and replies."""
    if not rows:
        return
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    now = utcnow()
    insert_many(
        session,
        table,
        [
            {
                **{k: v for k, v in row.items() if k != "replies"},
                "received_at": now,
                "replies": json.dumps([r.to_json() for r in row["replies"]], ensure_ascii=False),
            }
            for row in rows
        ],
    )


def is_duplicate_error(exc: IntegrityError) -> bool:
    return "dedup_key" in str(exc.orig) or "inbound_message" in str(exc.orig)


def last_received(
    *, session: Session, person_ids: Sequence[int], channel: str
) -> dict[int, dt.datetime]:
    """When each of these people's latest message on the channel arrived, for those who wrote."""
    rows = session.exec(
        select(InboundMessage.person_id, func.max(InboundMessage.received_at))
        .where(col(InboundMessage.person_id).in_(person_ids), InboundMessage.channel == channel)
        .group_by(col(InboundMessage.person_id))
    ).all()
    return {pid: last for pid, last in rows if pid is not None and last is not None}

"""When and from which number a person last wrote on a channel (channel_contact), and what follows
from it: which channel reaches her, whether WhatsApp's 24-hour window is open."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, select

from bot.store.insert import dialect_insert
from models import ChannelContact, InboundMessage, Person

WHATSAPP = "whatsapp"
WINDOW = dt.timedelta(hours=24)
# A message handed to Twilio just before the window closes may reach WhatsApp just after it.
WINDOW_MARGIN = dt.timedelta(minutes=10)


def record_contact(
    *,
    session: Session,
    person_id: int,
    address: str,
    at: dt.datetime,
    channel: str = WHATSAPP,
    business_number: str | None = None,
) -> None:
    """Remember that a person wrote on a channel at `at`, from `address`, to `business_number`
    (WhatsApp: which of the business's numbers, E.164; None: not known); the latest time wins."""
    table = ChannelContact.__table__  # type: ignore[attr-defined]
    insert = dialect_insert(session, table)
    excluded = insert.excluded
    number = business_number.removeprefix("whatsapp:") if business_number else None
    session.execute(
        insert.values(
            person_id=person_id,
            channel=channel,
            address=address,
            last_inbound_at=at,
            business_number=number,
        ).on_conflict_do_update(
            index_elements=["person_id", "channel"],
            set_={
                "address": excluded.address,
                "last_inbound_at": excluded.last_inbound_at,
                "business_number": func.coalesce(excluded.business_number, table.c.business_number),
            },
            where=table.c.last_inbound_at < excluded.last_inbound_at,
        )
    )


def contact(*, session: Session, person_id: int, channel: str = WHATSAPP) -> ChannelContact | None:
    return session.get(ChannelContact, (person_id, channel))


def wrote_last_on_whatsapp(*, session: Session, person: Person) -> bool:
    """Whether the person's latest message came by WhatsApp rather than Telegram."""
    found = contact(session=session, person_id=person.id or 0)
    if found is None:
        return False
    telegram_last = session.exec(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.person_id == person.id, InboundMessage.channel == "telegram"
        )
    ).one()
    if telegram_last is None:
        return True
    if telegram_last.tzinfo is None:  # SQLite hands an aggregate back without the column's type
        telegram_last = telegram_last.replace(tzinfo=dt.UTC)
    return bool(found.last_inbound_at >= telegram_last)


def in_window(*, session: Session, person_id: int, now: dt.datetime) -> bool:
    """Whether free text may go to the person now: she wrote on WhatsApp within 24 hours."""
    found = contact(session=session, person_id=person_id)
    return found is not None and now - found.last_inbound_at < WINDOW - WINDOW_MARGIN

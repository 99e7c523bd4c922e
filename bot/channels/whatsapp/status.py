"""What became of a message the bot sent: Twilio's SIDs for it and its delivery status callbacks."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.channels.whatsapp.settings import CHANNEL
from models import Outbox, ProviderMessage

# Delivery states in the order a message goes through them; a late callback never moves one back.
PROGRESS = {"accepted": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
FAILED = frozenset({"failed", "undelivered"})
# Twilio's error codes a supervisor is most likely to meet, in plain words for the outbox log.
ERROR_MEANINGS = {
    63016: "outside WhatsApp's 24-hour window and not sent as a template",
    63003: "the number is not on WhatsApp",
    63024: "not a valid WhatsApp recipient",
    63018: "WhatsApp's rate limit was exceeded",
    63049: "WhatsApp chose not to deliver it",
    30003: "the phone is unreachable",
    30005: "unknown number",
    30006: "landline or unreachable carrier",
    30008: "unknown error",
    21610: "the person has opted out (STOP)",
}


def record_sent(*, session: Session, outbox_id: int | None, sids: list[str], now: dt.datetime) -> None:
    """The SIDs Twilio gave the parts of a message, so status callbacks find it."""
    for sid in sids:
        session.merge(
            ProviderMessage(
                sid=sid,
                outbox_id=outbox_id,
                channel=CHANNEL,
                status="queued",
                created_at=now,
                updated_at=now,
            )
        )
    if outbox_id is not None:
        row = session.get(Outbox, outbox_id)
        if row is not None:
            row.delivery_status, row.error_code = "queued", None
            session.add(row)


def _advances(old: str, new: str) -> bool:
    if old in FAILED:
        return False
    if new in FAILED:
        return old not in ("delivered", "read")
    return PROGRESS.get(new, -1) > PROGRESS.get(old, -1)


def describe_error(code: int | None) -> str:
    if code is None:
        return "no error code"
    meaning = ERROR_MEANINGS.get(code)
    return f"{code}: {meaning}" if meaning else str(code)


def record_status(
    *, session: Session, sid: str, status: str, error_code: int | None, now: dt.datetime
) -> ProviderMessage | None:
    """A status callback: note it on the message and on its outbox row; None for an unknown SID.

    A failed part fails the outbox row, so the supervisor digest names who could not be reached.
    """
    message = session.get(ProviderMessage, sid)
    if message is None:
        return None
    if not _advances(message.status, status):
        return message
    message.status, message.updated_at = status, now
    if status in FAILED:
        message.error_code = error_code
    session.add(message)
    if message.outbox_id is None:
        return message
    row = session.get(Outbox, message.outbox_id)
    if row is None:
        return message
    parts = session.exec(
        select(ProviderMessage).where(ProviderMessage.outbox_id == message.outbox_id)
    ).all()
    failed = [p for p in parts if p.status in FAILED]
    if failed:
        row.delivery_status, row.error_code = failed[0].status, failed[0].error_code
        row.last_error = f"whatsapp {failed[0].status} ({describe_error(failed[0].error_code)})"
        if row.status == "sent":
            row.status = "failed"
        # A row still "sending" is finished by the sender, which sees delivery_status and keeps it.
    else:
        row.delivery_status = min(parts, key=lambda p: PROGRESS.get(p.status, -1)).status
    session.add(row)
    return message

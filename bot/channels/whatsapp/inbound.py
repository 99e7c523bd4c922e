"""Twilio's webhook form -> Inbound, and the attachment still to be fetched (Media).

No business rules live here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.channels.whatsapp.settings import CHANNEL
from bot.core.messages import Inbound, Location

PHOTO_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})
# A district file (roster, villages, targets, portal counts) sent as a document, by its type:
# Twilio gives no file name, so it is read by the name these give it.
TABLE_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "file.xlsx",
    "text/csv": "file.csv",
    "text/comma-separated-values": "file.csv",
}


@dataclass(frozen=True)
class Media:
    """The first attachment of an inbound message, still at Twilio."""

    url: str
    content_type: str


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and number == number else None  # NaN is not a coordinate


def to_inbound(form: Mapping[str, str], received_at: dt.datetime) -> tuple[Inbound, Media | None] | None:
    """The neutral message for Twilio's webhook form (photo not yet fetched); None if it is not one.

    Text, a location pin, a photo (as a photo or as a file), other media and WhatsApp's live
    location (which reaches a business number as a message with nothing in it) each map to the
    same Inbound fields the other channels fill.
    """
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    sender = form.get("From", "")
    phone = sender.removeprefix("whatsapp:") or (f"+{form['WaId']}" if form.get("WaId") else "")
    if not sid or not phone:
        return None
    body = form.get("Body") or None
    kind = (form.get("MessageType") or "").lower()
    location = None
    lat, lon = _float(form.get("Latitude")), _float(form.get("Longitude"))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        location = Location(lat, lon, None, live=False)
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    media = None
    unsupported = photo_refused = None
    photo_file = False
    if count > 0:
        content_type = (form.get("MediaContentType0") or "").split(";")[0].strip().lower()
        url = form.get("MediaUrl0") or ""
        if kind == "sticker":
            unsupported = "sticker"
        elif content_type.startswith("audio/"):
            unsupported = "voice"
        elif content_type.startswith("video/"):
            unsupported = "video"
        elif content_type in PHOTO_TYPES and url:
            media = Media(url, content_type)
            photo_file = kind == "document"
        elif content_type in TABLE_TYPES and url:
            media = Media(url, content_type)  # fetched only for an officer who may send one
        else:
            photo_refused, photo_file = "not_image", True
    elif body is None and location is None:
        # Nothing in it: WhatsApp's live location (or anything else it does not pass on).
        known = kind in ("", "text", "unknown", "unsupported", "location")
        unsupported = "live_location" if known else kind
    table = TABLE_TYPES.get(media.content_type) if media is not None else None
    inbound = Inbound(
        channel=CHANNEL,
        dedup_key=f"wa:{sid}",
        source_key=f"wa:{sid}",
        sent_at=received_at,
        chat_id=sender or f"whatsapp:{phone}",
        text=body,
        phone=phone,
        location=location,
        photo_file=photo_file,
        photo_refused=photo_refused,
        unsupported=unsupported,
        display_name=form.get("ProfileName") or None,
        forwarded=(form.get("Forwarded") or "").strip().lower() == "true",
        document_name=table,
    )
    return inbound, media

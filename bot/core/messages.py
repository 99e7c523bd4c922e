"""The one inbound and one outbound message type every channel translates to and from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    accuracy_m: float | None = None
    live: bool = False
    live_period_s: int | None = None  # how long a live location stays live, from its first message


@dataclass(frozen=True)
class Inbound:
    """One message from a person, whatever channel it came by.

    `dedup_key` is the same for a redelivery of the same message and differs for an edit;
    `source_key` names the message itself, so an edit can find what the original reported.
    """

    channel: str
    dedup_key: str
    sent_at: dt.datetime
    chat_id: str
    text: str | None = None
    phone: str | None = None
    # The sender's chat account where the channel names her by one rather than by a phone number
    # (Telegram's user id); a shared contact names the account it belongs to.
    account: int | None = None
    source_key: str | None = None
    is_edit: bool = False
    edited_at: dt.datetime | None = None
    is_group: bool = False
    contact_phone: str | None = None
    contact_account: int | None = None
    location: Location | None = None
    photo: bytes | None = None
    photo_file: bool = False  # sent as a file (document), so EXIF is intact
    photo_refused: str | None = None  # "too_large" | "not_image": the channel would not fetch it
    unsupported: str | None = None  # "voice", "sticker", ...: a kind the bot cannot read
    document: bytes | None = None  # a table file (.xlsx, .csv): the official portal's counts
    document_name: str | None = None
    document_refused: str | None = None  # "too_large" | "unavailable": the channel did not fetch it
    display_name: str | None = None
    forwarded: bool = False  # forwarded from elsewhere (Telegram's forward_origin, Twilio's Forwarded)
    # A press of one of the bot's buttons (Telegram's inline keyboard): (question id, label index).
    pressed: tuple[int, int] | None = None
    via: str | None = None  # which of the deployment's bots carried it, when several are configured


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """One message back. Channels split long texts themselves."""

    text: str
    document: Document | None = None
    request_contact: str | None = None  # label of a share-my-number button, Telegram only
    extra: dict[str, str] = field(default_factory=dict)
    preview: bool = True  # False: a link in it gets no preview (a sign-in link must not be fetched)
    # Answers to a pending question (bot/questions.py), in order; `question` is its id.
    buttons: tuple[str, ...] = ()
    question: int | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "text": self.text,
            "document": self.document.filename if self.document else None,
            "request_contact": self.request_contact,
        }
        if not self.preview:
            out["preview"] = False
        if self.buttons:
            out["buttons"] = list(self.buttons)
            out["question"] = self.question
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reply:
        label = data.get("request_contact")
        buttons = data.get("buttons")
        question = data.get("question")
        return cls(
            text=str(data["text"]),
            request_contact=str(label) if label else None,
            preview=data.get("preview", True) is not False,
            buttons=tuple(str(b) for b in buttons) if isinstance(buttons, list) else (),
            question=question if isinstance(question, int) else None,
        )

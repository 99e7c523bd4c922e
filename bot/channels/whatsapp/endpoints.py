"""WhatsApp through Twilio: webhook form -> Inbound, Reply -> TwiML, scheduled messages by REST.

No business rules live here. What is WhatsApp's own lives here: the signature Twilio puts on every
request, the 24-hour window (free text inside it, an approved template outside it), media that must
be fetched with the account's credentials, files that Twilio fetches from a signed link, and a
1,500-character limit per message.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import requests
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.telegram.adapter import split_text
from bot.config import ConfigError, Settings
from bot.core import identity
from bot.core.batch import Batcher, batchable
from bot.core.messages import Document, Inbound, Location, Reply
from bot.core.service import Fieldbot
from bot.delivery.sender import SendFailed
from bot.delivery.wa_limits import keyword, opens_conversation
from bot.i18n import short_date, t
from bot.numbers import indian
from bot.phones import mask_phone, normalize_phone
from bot.store import crud
from bot.store.db import session_scope
from models import ChannelContact, InboundMessage, MediaFile, Outbox, Person, ProviderMessage, utcnow

log = logging.getLogger("fieldbot.whatsapp")

CHANNEL = "whatsapp"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
ENV_NAMES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM")
MAX_TEXT = 1500  # longer messages are split
WINDOW = dt.timedelta(hours=24)
# A message handed to Twilio just before the window closes may reach WhatsApp just after it.
WINDOW_MARGIN = dt.timedelta(minutes=10)
TEMPLATE_TEXT_MAX = 700  # a template's whole body may not pass 1,024 characters
PHOTO_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})
# A district file (roster, villages, targets, portal counts) sent as a document, by its type:
# Twilio gives no file name, so it is read by the name these give it.
TABLE_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "file.xlsx",
    "text/csv": "file.csv",
    "text/comma-separated-values": "file.csv",
}
STATUS_CALLBACK_PATH = "/twilio/status"
MEDIA_PATH = "/media"
MEDIA_KEY_LABEL = b"fieldbot media links v1"
PURGE_AFTER = dt.timedelta(days=1)
MAX_REDIRECTS = 3

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


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio credentials and addresses, from the environment (never from config.yaml)."""

    account_sid: str
    auth_token: str
    whatsapp_from: str  # `whatsapp:+14155238886`
    api_base_url: str
    public_url: str  # the https origin Twilio calls, without a trailing slash

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings | None:
        """The settings when WhatsApp is on; None when no TWILIO_* variable is set.

        Raises ConfigError (one line naming the variable) when it is set up halfway.
        """
        env = os.environ if environ is None else environ
        present = [name for name in ENV_NAMES if env.get(name)]
        if not present:
            return None
        missing = [name for name in ENV_NAMES if not env.get(name)]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} not set: WhatsApp needs all of {', '.join(ENV_NAMES)}"
            )
        public = (env.get("FIELDBOT_PUBLIC_URL") or "").rstrip("/")
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(
                "FIELDBOT_PUBLIC_URL must be the public origin Twilio calls, like "
                "https://fieldbot.example.org: WhatsApp needs it to check Twilio's signatures "
                "and for status callbacks and file links"
            )
        sender = env["TWILIO_WHATSAPP_FROM"].strip()
        number = sender.removeprefix("whatsapp:")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
            raise ConfigError(
                f"TWILIO_WHATSAPP_FROM {sender!r} is not a WhatsApp sender like whatsapp:+14155238886"
            )
        base = (env.get("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            raise ConfigError(f"TWILIO_API_BASE_URL {base!r} is not an http(s) URL")
        return cls(
            account_sid=env["TWILIO_ACCOUNT_SID"].strip(),
            auth_token=env["TWILIO_AUTH_TOKEN"].strip(),
            whatsapp_from=f"whatsapp:{number}",
            api_base_url=base,
            public_url=public,
        )

    @property
    def status_callback_url(self) -> str:
        return self.public_url + STATUS_CALLBACK_PATH

    @property
    def media_key(self) -> bytes:
        """The key of file links, derived from the auth token, so every process can check a link."""
        return hmac.new(self.auth_token.encode(), MEDIA_KEY_LABEL, hashlib.sha256).digest()


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether WhatsApp is on in this process: every TWILIO_* variable it needs is set."""
    env = os.environ if environ is None else environ
    return all(env.get(name) for name in ENV_NAMES)


def missing_templates(settings: Settings) -> list[str]:
    """The scheduled jobs that are on but name no approved template yet."""
    jobs = ("start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest")
    missing = []
    for job in jobs:
        if getattr(settings.schedule, job) is None:
            continue
        template = settings.whatsapp.template(job)
        if template is None or not template.content_sid:
            missing.append(job)
    return missing


def check_templates(settings: Settings) -> None:
    """With WhatsApp on, every scheduled job that is on must name its approved template."""
    missing = missing_templates(settings)
    if missing:
        job = missing[0]
        raise ConfigError(
            f"config: whatsapp.templates.{job}.content_sid is missing: WhatsApp is on "
            f"(TWILIO_* set), and outside the 24-hour window a {job} can only go as an "
            "approved template"
        )


def make_client(twilio: TwilioSettings, timeout: float = 20.0) -> Client:
    """The twilio REST client, talking to TWILIO_API_BASE_URL."""
    client = Client(
        twilio.account_sid,
        twilio.auth_token,
        http_client=TwilioHttpClient(timeout=timeout),
        # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host of the base URL.
        environment={},
    )
    client.api.base_url = twilio.api_base_url
    return client


# ---------------------------------------------------------------- queries


def record_contact(
    *, session: Session, person_id: int, address: str, at: dt.datetime, channel: str = CHANNEL
) -> None:
    """Remember that a person wrote on a channel at `at`, from `address`; the latest time wins."""
    table = ChannelContact.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    excluded = insert.excluded
    session.execute(
        insert.values(
            person_id=person_id, channel=channel, address=address, last_inbound_at=at
        ).on_conflict_do_update(
            index_elements=["person_id", "channel"],
            set_={"address": excluded.address, "last_inbound_at": excluded.last_inbound_at},
            where=table.c.last_inbound_at < excluded.last_inbound_at,
        )
    )


def contact(*, session: Session, person_id: int, channel: str = CHANNEL) -> ChannelContact | None:
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


def store_media(
    *, session: Session, document: Document, now: dt.datetime, ttl: dt.timedelta
) -> MediaFile:
    """Keep a file for Twilio to fetch until `now + ttl`; files long expired are dropped."""
    session.execute(delete(MediaFile).where(col(MediaFile.expires_at) < now - PURGE_AFTER))
    row = MediaFile(
        filename=document.filename,
        mime_type=document.mime_type,
        content=document.content,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return row


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


# ---------------------------------------------------------------- file links


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def media_token(key: bytes, file_id: int, expires_at: dt.datetime) -> str:
    """`<id>.<expiry>.<hmac>`: names one file until it expires; nobody can forge or extend it."""
    payload = f"{file_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def read_media_token(key: bytes, token: str, now: dt.datetime) -> tuple[int | None, bool]:
    """(file id, expired) for a genuine token; (None, False) for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None, False
    payload = f"{parts[0]}.{parts[1]}"
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        return None, False
    return int(parts[0]), now.timestamp() >= int(parts[1])


def media_url(twilio: TwilioSettings, row: MediaFile) -> str:
    assert row.id is not None
    return f"{twilio.public_url}{MEDIA_PATH}/{media_token(twilio.media_key, row.id, row.expires_at)}"


def _disposition(filename: str) -> str:
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


# ---------------------------------------------------------------- inbound


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


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def fetch_photo(
    twilio: TwilioSettings,
    media: Media,
    max_bytes: int,
    timeout: float = 10.0,
    types: frozenset[str] = PHOTO_TYPES,
) -> tuple[bytes | None, str | None]:
    """(bytes, None), or (None, refusal): the photo fetched with the account's credentials.

    The size is checked before the body is read, and again while it is read; the type Twilio
    serves must be a photo too. Credentials go only to Twilio's own API host: the redirect it
    answers with (to its CDN) is followed without them.
    """
    if not _same_origin(media.url, twilio.api_base_url):
        log.warning("media URL outside %s refused", twilio.api_base_url)
        return None, "unavailable"
    auth: tuple[str, str] | None = (twilio.account_sid, twilio.auth_token)
    url = media.url
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            for _ in range(MAX_REDIRECTS + 1):
                response = await client.send(client.build_request("GET", url), auth=auth, stream=True)
                if not response.is_redirect:
                    break
                await response.aclose()
                url, auth = str(response.url.join(response.headers.get("location", ""))), None
            else:
                log.warning("media fetch: too many redirects")
                return None, "unavailable"
            try:
                return await _read_photo(response, max_bytes, types)
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        log.warning("media fetch failed: %s", type(exc).__name__)
        return None, "unavailable"


TWILIO_MEDIA = re.compile(r"/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/?.]+)")


def delete_media(twilio: TwilioSettings, media: Media) -> bool:
    """Remove a person's photo from Twilio once it is here: it is kept in one place, ours."""
    match = TWILIO_MEDIA.search(urlsplit(media.url).path)
    if match is None:
        return False
    client = make_client(twilio)
    try:
        return bool(
            client.api.v2010.accounts(match.group(1))
            .messages(match.group(2))
            .media(match.group(3))
            .delete()
        )
    except TwilioException as exc:
        log.warning("media could not be deleted at Twilio: %s", type(exc).__name__)
        return False


async def _read_photo(
    response: httpx.Response, max_bytes: int, types: frozenset[str] = PHOTO_TYPES
) -> tuple[bytes | None, str | None]:
    if response.status_code != 200:
        log.warning("media fetch answered %s", response.status_code)
        return None, "unavailable"
    served = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if served not in types:
        return None, "not_image"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None, "too_large"
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > max_bytes:
            return None, "too_large"
    return bytes(data), None


# ---------------------------------------------------------------- replies as TwiML


def twiml(replies: list[Reply], link: Callable[[Document], str]) -> str:
    """The replies as TwiML <Message>s, split at 1,500 characters; a file goes as a link to it."""
    response = MessagingResponse()
    for reply in replies:
        text = with_numbered_answers(reply)
        pieces = split_text(text, MAX_TEXT) if text else []
        if reply.document is not None:
            message = response.message()
            if pieces:
                message.body(pieces.pop(0))
            message.media(link(reply.document))
        for piece in pieces:
            response.message(piece)
    return str(response)


def with_numbered_answers(reply: Reply) -> str:
    """A question's answers as numbered lines under its text (`1. ✅ हाँ, सही है`): WhatsApp has
    no buttons for a free-form reply, so she answers with the number or the words."""
    if not reply.buttons:
        return reply.text
    lines = "\n".join(f"{number}. {label}" for number, label in enumerate(reply.buttons, 1))
    return f"{reply.text}\n\n{lines}"


def one_line(text: str, limit: int = TEMPLATE_TEXT_MAX) -> str:
    """A message as one template variable: lines joined by ` · `, cut at a join if too long."""
    lines = [re.sub(r"\s+", " ", line).strip().lstrip("•").strip() for line in text.splitlines()]
    joined = " · ".join(line for line in lines if line)
    if len(joined) <= limit:
        return joined
    cut = joined[: limit - 1]
    at = cut.rfind(" · ")
    return (cut[:at] if at > limit // 2 else cut).rstrip() + " …"


# ---------------------------------------------------------------- web endpoints


def _no_file(document: Document) -> str:
    raise AssertionError(f"{document.filename}: a file needs a stored link")


class Form(dict[str, str]):
    """Twilio's form fields, the first value of each; `getlist` has them all, for the signature."""

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__()
        self._all: dict[str, list[str]] = {}
        for key, value in pairs:
            self._all.setdefault(key, []).append(value)
            # The signature covers what was sent; what is read never holds NUL (PostgreSQL refuses it).
            self.setdefault(key, value.replace("\x00", ""))

    def getlist(self, key: str) -> list[str]:
        return list(self._all.get(key, []))


@dataclass(frozen=True)
class _Sender:
    """What the webhook knows of the writer before the core runs."""

    person_id: int
    language: str
    active: bool
    role: str = ""


class WhatsAppEndpoints:
    """`POST /twilio/whatsapp`, `POST /twilio/status` and `GET /media/{token}`."""

    def __init__(self, core: Fieldbot, twilio: TwilioSettings):
        self.core = core
        self.twilio = twilio
        self.validator = RequestValidator(twilio.auth_token)
        self.max_photo_bytes = int(core.settings.presence.max_photo_mb * 1024 * 1024)
        self.link_ttl = dt.timedelta(minutes=core.settings.whatsapp.media_link_minutes)
        self.batcher = Batcher(core.handle_many)

    def routes(self) -> list[Route]:
        return [
            Route("/twilio/whatsapp", self.inbound, methods=["POST"]),
            Route(STATUS_CALLBACK_PATH, self.status, methods=["POST"]),
            Route(MEDIA_PATH + "/{token}", self.media, methods=["GET"]),
        ]

    def signed_url(self, request: Request) -> str:
        """The URL Twilio called: the public origin, not the address a proxy forwarded to."""
        query = request.url.query
        return f"{self.twilio.public_url}{request.url.path}{'?' + query if query else ''}"

    async def _signed_form(self, request: Request) -> Form | Response:
        body = await request.body()  # bot.limits caps it (http.twilio_form_kb) as it arrives
        form = Form(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.validator.validate(self.signed_url(request), form, signature):
            # Never the body: it is someone's message (or someone's forgery of one).
            log.warning(
                "twilio %s: %s signature from %s (MessageSid %s); refused",
                request.url.path,
                "wrong" if signature else "missing",
                request.client.host if request.client else "?",
                (form.get("MessageSid") or "?")[:40],
            )
            return PlainTextResponse("forbidden", status_code=403)
        return form

    def _who(self, inbound: Inbound) -> tuple[list[Reply] | None, _Sender | None]:
        """Replies already given to this MessageSid, and who the sender is on the roster."""
        with session_scope(self.core.engine) as session:
            stored = crud.processed_replies(session=session, dedup_key=inbound.dedup_key)
            person = identity.lookup(session, inbound)
            sender = (
                _Sender(person.id, person.language, person.active, person.role)
                if person is not None and person.id is not None
                else None
            )
        return stored, sender

    def _who_retried(self, inbound: Inbound) -> tuple[list[Reply] | None, _Sender | None] | None:
        """`_who`, retried like `Fieldbot.handle` while the database connection is lost; None if
        the database stays away."""
        for pause in (*self.core.retry_pauses, None):
            try:
                return self._who(inbound)
            except DBAPIError as exc:
                if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
                    raise
                if pause is None:
                    break
                log.warning(
                    "database unavailable (%s) for message %s; retrying in %.2f s",
                    type(exc.orig or exc).__name__,
                    inbound.dedup_key,
                    pause,
                )
                time.sleep(pause)
        log.error("database unavailable; message %s answered with a resend", inbound.dedup_key)
        return None

    def _remember(self, inbound: Inbound, sender: _Sender) -> None:
        """Open her 24-hour window, note the number she uses on WhatsApp; she has opted in."""
        from bot.delivery.wa_limits import record_wrote

        try:
            with session_scope(self.core.engine) as session:
                record_contact(
                    session=session,
                    person_id=sender.person_id,
                    address=normalize_phone(inbound.phone or ""),
                    at=inbound.sent_at,
                )
                record_wrote(session=session, person_id=sender.person_id, now=inbound.sent_at)
        except DBAPIError as exc:
            # Her message is stored and answered; the window opens with her next one.
            log.warning("whatsapp contact of %s not noted: %s", inbound.dedup_key, type(exc).__name__)

    def _opt(self, inbound: Inbound, sender: _Sender) -> list[Reply]:
        from bot.delivery.wa_limits import set_opt_in

        choice = keyword(inbound.text)
        with session_scope(self.core.engine) as session:
            set_opt_in(
                session=session,
                person_id=sender.person_id,
                opted_in=choice == "start",
                source=choice or "stop",
                now=inbound.sent_at,
            )
        return [
            Reply(t(sender.language, "whatsapp_started" if choice == "start" else "whatsapp_stopped"))
        ]

    def _answer(self, replies: list[Reply]) -> str:
        if not any(reply.document is not None for reply in replies):
            return twiml(replies, _no_file)
        now = self.core.clock()
        with session_scope(self.core.engine) as session:

            def link(document: Document) -> str:
                stored = store_media(session=session, document=document, now=now, ttl=self.link_ttl)
                return media_url(self.twilio, stored)

            return twiml(replies, link)

    async def inbound(self, request: Request) -> Response:
        """One WhatsApp message: checked, translated, handled once, answered as TwiML."""
        form = await self._signed_form(request)
        if isinstance(form, Response):
            return form
        translated = to_inbound(form, self.core.clock())
        if translated is None:
            return PlainTextResponse("MessageSid and From are required", status_code=400)
        inbound, media = translated
        fetched: Media | None = None
        known = await asyncio.to_thread(self._who_retried, inbound)
        if known is None:
            # Nothing of it was stored: she is told so in her language, as on every channel.
            answer = [Reply(t(self.core.language_of(inbound), "internal_error"))]
            return Response(twiml(answer, _no_file), media_type="application/xml")
        stored, sender = known
        if stored is not None:
            # Twilio retried: the same answer, and nothing changes.
            replies = stored
        elif sender is not None and sender.active and keyword(inbound.text) is not None:
            # STOP / बंद / START: her choice about messages the business starts, noted here.
            replies = await asyncio.to_thread(self._opt, inbound, sender)
            await asyncio.to_thread(self._remember, inbound, sender)
        elif sender is not None and sender.active and inbound.unsupported == "live_location":
            # WhatsApp's own limitation, answered here: the core never sees an empty message.
            replies = [Reply(t(sender.language, "wa_live_location"))]
            await asyncio.to_thread(self._remember, inbound, sender)
        else:
            if inbound.document_name is not None:
                # A table file is fetched only from an officer who may send one.
                inbound = await self._document(inbound, media, sender)
                if inbound.document is not None:
                    fetched = media  # Twilio's copy goes once it is here, as a photo's does
                media = None
            if media is not None and sender is not None and sender.active:
                photo, refused = await fetch_photo(self.twilio, media, self.max_photo_bytes)
                inbound = dataclasses.replace(inbound, photo=photo, photo_refused=refused)
                if refused != "unavailable":
                    fetched = media
            elif media is not None:
                # Nobody we may let in: nothing is fetched, and the core answers the refusal.
                inbound = dataclasses.replace(inbound, photo_refused="unavailable")
            if batchable(self.core, inbound):
                replies = await self.batcher.submit(inbound)  # stored with the reports in flight
            else:
                replies = await asyncio.to_thread(self.core.handle, inbound)
            if sender is not None:
                await asyncio.to_thread(self._remember, inbound, sender)
        body = await asyncio.to_thread(self._answer, replies)
        # After the answer: the photo is stored here (or refused), so Twilio's copy goes.
        later = (
            BackgroundTask(asyncio.to_thread, delete_media, self.twilio, fetched) if fetched else None
        )
        return Response(body, media_type="application/xml", background=later)

    async def _document(self, inbound: Inbound, media: Media | None, sender: _Sender | None) -> Inbound:
        from bot.official import UPLOADERS

        if media is None or sender is None or not sender.active or sender.role not in UPLOADERS:
            return inbound  # the core answers from the name alone: nothing is fetched
        limit = int(self.core.settings.official.max_file_mb * 1024 * 1024)
        types = frozenset(TABLE_TYPES) | {"application/octet-stream"}
        data, refused = await fetch_photo(self.twilio, media, limit, types=types)
        if refused is not None:
            return dataclasses.replace(
                inbound, document_refused="too_large" if refused == "too_large" else "unavailable"
            )
        return dataclasses.replace(inbound, document=data)

    async def status(self, request: Request) -> Response:
        """Twilio's delivery report for a message the bot sent."""
        form = await self._signed_form(request)
        if isinstance(form, Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or not status:
            return PlainTextResponse("MessageSid and MessageStatus are required", status_code=400)
        code_text = form.get("ErrorCode") or ""
        code = int(code_text) if code_text.isdigit() else None

        def store() -> ProviderMessage | None:
            with session_scope(self.core.engine) as session:
                return record_status(
                    session=session, sid=sid, status=status, error_code=code, now=self.core.clock()
                )

        message = await asyncio.to_thread(store)
        if message is None:
            log.debug("status %s for a message not from the outbox (%s)", status, sid)
        elif status in FAILED:
            log.warning("whatsapp message %s %s (%s)", sid, status, describe_error(code))
        return Response(status_code=200)

    async def media(self, request: Request) -> Response:
        """A file the bot sent, for Twilio to fetch while its link is valid."""
        file_id, expired = read_media_token(
            self.twilio.media_key, request.path_params["token"], self.core.clock()
        )
        if file_id is None:
            return PlainTextResponse("not found", status_code=404)
        if expired:
            return PlainTextResponse("this link has expired", status_code=410)

        def load() -> tuple[bytes, str, str] | None:
            with session_scope(self.core.engine) as session:
                row = session.get(MediaFile, file_id)
                return (row.content, row.mime_type, row.filename) if row is not None else None

        found = await asyncio.to_thread(load)
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        content, mime_type, filename = found
        return Response(
            content,
            media_type=mime_type,
            headers={"Content-Disposition": _disposition(filename), "Cache-Control": "no-store"},
        )


# ---------------------------------------------------------------- scheduled messages


@dataclass(frozen=True)
class _Part:
    """One Twilio message: free text (maybe with a file), or a template with its variables."""

    body: str | None = None
    media_url: str | None = None
    content_sid: str | None = None
    content_variables: str | None = None


def template_values(settings: Settings, person: Person | None, row: Outbox) -> dict[str, str]:
    """What a template variable may be filled with, for this person (None: a listed number that
    is not on the roster) and message."""
    lang = person.language if person is not None else "hi"
    target = settings.targets.get("worker", {}).get(settings.primary_metric)
    label = settings.metric(settings.primary_metric).label(lang)
    return {
        "name": person.name if person is not None else "—",
        "date": short_date(row.day, lang),
        "target": f"{label} {indian(target.daily)}" if target and target.daily else "—",
        "text": one_line(row.text) or "—",
    }


RECORD_TRIES = 10  # about 20 s of tries to note a part Twilio took, while the database is away
RECORD_RETRY = (0.1, 5.0)  # first and longest wait between tries


class WhatsAppChannel:
    """Sends outbox rows through Twilio: free text inside the 24-hour window, a template outside."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        twilio: TwilioSettings,
        client: Client | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.engine = engine
        self.settings = settings
        self.twilio = twilio
        self.client = client or make_client(twilio)
        self.clock = clock

    async def send(self, row: Outbox) -> None:
        # The REST client and the database block: both run in a worker thread.
        await asyncio.to_thread(self._send, row)

    def _plan(self, row: Outbox) -> list[_Part]:
        now = self.clock()
        with session_scope(self.engine) as session:
            person = session.get(Person, row.person_id) if row.person_id is not None else None
            if person is None and row.person_id is not None:
                raise SendFailed("no such person", permanent=True)
            # A number that is not on the roster (a problem code's listed phone) never wrote:
            # only a template reaches it.
            if person is not None and in_window(session=session, person_id=person.id or 0, now=now):
                pieces = split_text(row.text, MAX_TEXT) if row.text else []
                parts = [_Part(body=piece) for piece in pieces]
                if row.attachment is not None and row.parts_sent == 0:  # the file goes with part 1
                    name = row.attachment_name or "file"
                    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
                    ttl = dt.timedelta(minutes=self.settings.whatsapp.media_link_minutes)
                    stored = store_media(
                        session=session, document=Document(name, row.attachment, mime), now=now, ttl=ttl
                    )
                    first = parts[0] if parts else _Part()
                    parts[:1] = [dataclasses.replace(first, media_url=media_url(self.twilio, stored))]
                return parts
            template = self.settings.whatsapp.template(row.job)
            if template is None or not template.content_sid:
                raise SendFailed(
                    f"outside WhatsApp's 24-hour window and no template for {row.job}", permanent=True
                )
            # A listed number off the roster (a problem code's recipient) was named by the district
            # itself; a person on the roster must have opted in, within the messaging limit.
            refusal = (
                None
                if person is None
                else opens_conversation(
                    session=session, settings=self.settings, row=row, person=person, now=now
                )
            )
            if refusal is None:
                english = person is not None and person.language == "en"
                sid = template.content_sid_en if english else None
                values = template_values(self.settings, person, row)
                variables = {key: values[source] for key, source in template.variables.items()}
                return [
                    _Part(
                        content_sid=sid or template.content_sid,
                        content_variables=json.dumps(variables, ensure_ascii=False),
                    )
                ]
        raise refusal  # after the commit: the admins' notice stays queued

    def _create(self, to: str, part: _Part) -> str:
        kwargs: dict[str, Any] = {
            "from_": self.twilio.whatsapp_from,
            "to": to,
            "status_callback": self.twilio.status_callback_url,
        }
        if part.content_sid:
            kwargs["content_sid"] = part.content_sid
            kwargs["content_variables"] = part.content_variables
        else:
            if part.body:
                kwargs["body"] = part.body
            if part.media_url:
                kwargs["media_url"] = [part.media_url]
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioException as exc:
            status = int(getattr(exc, "status", 0) or 0)
            code = getattr(exc, "code", None)
            reason = f"twilio {status} {code}: {getattr(exc, 'msg', None) or getattr(exc, 'title', '')}"
            if status == 429:
                raise SendFailed(reason, retry_after=1.0) from None
            raise SendFailed(reason, permanent=400 <= status < 500) from None
        except requests.RequestException as exc:
            raise SendFailed(f"network: {type(exc).__name__}") from None
        return str(message.sid)

    def _send(self, row: Outbox) -> None:
        """Send the parts not yet sent, noting each one as it goes: a retry resumes where this stopped.

        A template is one message of its own; it is sent whole whatever went before it.
        """
        address = row.address or ""
        to = address if address.startswith("whatsapp:") else f"whatsapp:{address}"
        parts = self._plan(row)
        free_text = all(part.content_sid is None for part in parts)
        done = min(row.parts_sent, len(parts)) if free_text else 0
        for number, part in enumerate(parts[done:], start=done + 1):
            sid = self._create(to, part)
            self._record_part(row, sid, number)
        log.debug("whatsapp %s to %s: %d message(s)", row.job, mask_phone(address), len(parts) - done)

    def _record_part(self, row: Outbox, sid: str, number: int) -> None:
        """Note a part Twilio took; while the database is away, keep trying, as it went out."""
        wait = RECORD_RETRY[0]
        for attempt in range(RECORD_TRIES):
            try:
                with session_scope(self.engine) as session:
                    record_sent(session=session, outbox_id=row.id, sids=[sid], now=self.clock())
                    stored = session.get(Outbox, row.id) if row.id is not None else None
                    if stored is not None:
                        stored.parts_sent = number
                        session.add(stored)
                return
            except SQLAlchemyError:
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("cannot note WhatsApp part %d; trying again in %.1f s", number, wait)
                time.sleep(wait)
                wait = min(wait * 2, RECORD_RETRY[1])

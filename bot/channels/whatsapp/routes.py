"""`POST /twilio/whatsapp`, `POST /twilio/status` and `GET /media/{token}`: Twilio's requests, their
signature checked, each message handled once and answered as TwiML.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp.inbound import TABLE_TYPES, Media, to_inbound
from bot.channels.whatsapp.media import (
    content_disposition,
    delete_media,
    fetch_photo,
    media_url,
    read_media_token,
    store_media,
)
from bot.channels.whatsapp.settings import MEDIA_PATH, STATUS_CALLBACK_PATH, TwilioSettings
from bot.channels.whatsapp.status import FAILED, describe_error, record_status
from bot.channels.whatsapp.twiml import twiml
from bot.core import identity
from bot.core.batch import Batcher, batchable
from bot.core.messages import Document, Inbound, Reply
from bot.core.service import Fieldbot
from bot.delivery.wa_limits import keyword, record_wrote, set_opt_in
from bot.i18n import t
from bot.official.read import UPLOADERS
from bot.phones import normalize_phone
from bot.store import inbound as inbound_store
from bot.store.contacts import record_contact
from bot.store.db import session_scope
from models import MediaFile, ProviderMessage

log = logging.getLogger("fieldbot.whatsapp")


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
            stored = inbound_store.processed_replies(session=session, dedup_key=inbound.dedup_key)
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

    def _remember(self, inbound: Inbound, sender: _Sender, to: str | None) -> None:
        """Open her 24-hour window, note the number she uses on WhatsApp and the business number
        she wrote to (`To`); she has opted in."""
        try:
            with session_scope(self.core.engine) as session:
                record_contact(
                    session=session,
                    person_id=sender.person_id,
                    address=normalize_phone(inbound.phone or ""),
                    at=inbound.sent_at,
                    business_number=to or None,
                )
                record_wrote(session=session, person_id=sender.person_id, now=inbound.sent_at)
        except DBAPIError as exc:
            # Her message is stored and answered; the window opens with her next one.
            log.warning("whatsapp contact of %s not noted: %s", inbound.dedup_key, type(exc).__name__)

    def _opt(self, inbound: Inbound, sender: _Sender) -> list[Reply]:
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
            await asyncio.to_thread(self._remember, inbound, sender, form.get("To"))
        elif sender is not None and sender.active and inbound.unsupported == "live_location":
            # WhatsApp's own limitation, answered here: the core never sees an empty message.
            replies = [Reply(t(sender.language, "wa_live_location"))]
            await asyncio.to_thread(self._remember, inbound, sender, form.get("To"))
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
                await asyncio.to_thread(self._remember, inbound, sender, form.get("To"))
        body = await asyncio.to_thread(self._answer, replies)
        # After the answer: the photo is stored here (or refused), so Twilio's copy goes.
        later = (
            BackgroundTask(asyncio.to_thread, delete_media, self.twilio, fetched) if fetched else None
        )
        return Response(body, media_type="application/xml", background=later)

    async def _document(self, inbound: Inbound, media: Media | None, sender: _Sender | None) -> Inbound:
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
            headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"},
        )

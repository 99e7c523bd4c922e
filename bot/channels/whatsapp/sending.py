"""Scheduled messages by REST: free text inside the 24-hour window, an approved template outside it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from bot.channels.base import SendFailed, split_text
from bot.channels.whatsapp.media import media_url, store_media
from bot.channels.whatsapp.settings import MAX_TEXT, TwilioSettings, make_client
from bot.channels.whatsapp.status import record_sent
from bot.config import Settings
from bot.core.messages import Document
from bot.delivery.wa_limits import Seen, counting, opens_conversation
from bot.i18n import short_date
from bot.numbers import indian
from bot.phones import mask_phone
from bot.store.contacts import contact, in_window
from bot.store.db import session_scope
from models import Outbox, Person, utcnow

log = logging.getLogger("fieldbot.whatsapp")
TEMPLATE_TEXT_MAX = 700  # a template's whole body may not pass 1,024 characters


def one_line(text: str, limit: int = TEMPLATE_TEXT_MAX) -> str:
    """A message as one template variable: lines joined by ` · `, cut at a join if too long."""
    lines = [re.sub(r"\s+", " ", line).strip().lstrip("•").strip() for line in text.splitlines()]
    joined = " · ".join(line for line in lines if line)
    if len(joined) <= limit:
        return joined
    cut = joined[: limit - 1]
    at = cut.rfind(" · ")
    return (cut[:at] if at > limit // 2 else cut).rstrip() + " …"


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
    """Sends outbox rows through Twilio from one sender number (`sender`, default the first of
    TWILIO_WHATSAPP_FROM): free text inside her 24-hour window with that number, a template
    outside it."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        twilio: TwilioSettings,
        client: Client | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        sender: str | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.twilio = twilio
        self.client = client or make_client(twilio)
        self.clock = clock
        self.sender = f"whatsapp:{(sender or twilio.whatsapp_from).removeprefix('whatsapp:')}"
        self.seen = Seen()  # what this sender last saw of WhatsApp's messaging limit

    def _window_open(self, session: Session, person_id: int, now: dt.datetime) -> bool:
        """She wrote within 24 hours to this number (or, with one number, to the business)."""
        if not in_window(session=session, person_id=person_id, now=now):
            return False
        if len(self.twilio.senders) < 2:
            return True
        found = contact(session=session, person_id=person_id)
        wrote_to = found.business_number if found is not None else None
        # Not known (noted before the numbers were told apart): the first number, as before.
        mine = self.sender.removeprefix("whatsapp:")
        return wrote_to == mine or (wrote_to is None and self.sender == self.twilio.whatsapp_from)

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
            if person is not None and self._window_open(session, person.id or 0, now):
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
            english = person is not None and person.language == "en"
            sid = template.content_sid_en if english else None
            values = template_values(self.settings, person, row)
            variables = {key: values[source] for key, source in template.variables.items()}
            planned = [
                _Part(
                    content_sid=sid or template.content_sid,
                    content_variables=json.dumps(variables, ensure_ascii=False),
                )
            ]
        if person is None:
            # A listed number off the roster (a problem code's recipient) was named by the
            # district itself.
            return planned
        # A person on the roster must have opted in, within the messaging limit: counted one
        # send at a time across every sender number, for the limit is the business's.
        with counting(self.engine) as session:
            refusal = opens_conversation(
                session=session,
                settings=self.settings,
                row=row,
                person=person,
                now=now,
                seen=self.seen,
            )
        if refusal is not None:
            raise refusal  # after the commit: the admins' notice stays queued
        return planned

    def _create(self, to: str, part: _Part) -> str:
        kwargs: dict[str, Any] = {
            "from_": self.sender,
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

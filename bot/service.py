"""The core every channel calls: one inbound message in, replies out, one transaction per message."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import crud
from bot.config import Settings
from bot.db import session_scope
from bot.i18n import t
from bot.messages import Inbound, Reply
from bot.parser import ReportParser
from bot.phones import PhoneError, mask_phone, normalize_phone
from models import Person, utcnow

log = logging.getLogger("fieldbot")


class Refused(Exception):
    """A handler's answer that must leave the database as it was (over a ceiling, bad day...)."""

    def __init__(self, replies: list[Reply]):
        super().__init__("refused")
        self.replies = replies


@dataclass
class Context:
    """What a handler gets: the message, who sent it, and the open session."""

    session: Session
    settings: Settings
    parser: ReportParser
    inbound: Inbound
    person: Person
    today: dt.date  # the message's own day in the configured zone

    @property
    def lang(self) -> str:
        return self.person.language

    def say(self, key: str, **values: object) -> Reply:
        return Reply(t(self.lang, key, **values))


def make_parser(settings: Settings) -> ReportParser:
    return ReportParser([(m.key, [m.hi, m.en, *m.synonyms]) for m in settings.metrics])


class Fieldbot:
    """Turns inbound messages into stored facts and replies. Channels only translate."""

    def __init__(self, settings: Settings, engine: Engine, clock: Callable[[], dt.datetime] = utcnow):
        self.settings = settings
        self.engine = engine
        self.parser = make_parser(settings)
        self.clock = clock

    def message_day(self, inbound: Inbound) -> dt.date:
        """The day a message was written, in the configured zone; never later than now."""
        written = min(inbound.sent_at, self.clock())
        return written.astimezone(self.settings.tz).date()

    def handle(self, inbound: Inbound) -> list[Reply]:
        """Process one message exactly once and return what to answer."""
        try:
            return self._handle(inbound)
        except IntegrityError as exc:
            if crud.is_duplicate_error(exc):
                # The same delivery is being handled by another process: answer as it did.
                with session_scope(self.engine) as session:
                    stored = crud.processed_replies(session=session, dedup_key=inbound.dedup_key)
                if stored is not None:
                    return stored
            log.exception("storing message %s failed", inbound.dedup_key)
        except Exception:
            log.exception("handling message %s failed", inbound.dedup_key)
        return [Reply(t(self._language_guess(inbound), "internal_error"))]

    def _language_guess(self, inbound: Inbound) -> str:
        try:
            with session_scope(self.engine) as session:
                person = self._identify(session, inbound)
                return person.language if isinstance(person, Person) else "hi"
        except Exception:  # noqa: BLE001 - the database may be what failed
            return "hi"

    def _identify(self, session: Session, inbound: Inbound) -> Person | list[Reply]:
        """The roster person behind a message, or the replies for someone we cannot let in."""
        from handlers import account

        if inbound.channel == "telegram":
            if inbound.contact_phone is not None:
                return account.link_contact(session, inbound, self.settings)
            assert inbound.telegram_user_id is not None
            person = crud.person_by_telegram(session=session, telegram_user_id=inbound.telegram_user_id)
            if person is None:
                return account.ask_for_contact(inbound)
        else:
            try:
                phone = normalize_phone(inbound.phone or "")
            except PhoneError:
                return [Reply(t("hi", "unknown_phone", phone=inbound.phone or "?"))]
            person = crud.person_by_phone(session=session, phone=phone)
            if person is None:
                log.info("message from unknown phone %s", mask_phone(phone))
                return [Reply(t("hi", "unknown_phone", phone=phone))]
        if not person.active:
            return [Reply(t(person.language, "inactive", name=person.name))]
        return person

    def _handle(self, inbound: Inbound) -> list[Reply]:
        from handlers import route

        with session_scope(self.engine) as session:
            stored = crud.processed_replies(session=session, dedup_key=inbound.dedup_key)
            if stored is not None:
                return stored
            who = self._identify(session, inbound)
            if not isinstance(who, Person):
                return who  # nothing is stored for people we cannot let in
            ctx = Context(session, self.settings, self.parser, inbound, who, self.message_day(inbound))
            person_id = who.id
            try:
                replies = route(ctx)
            except Refused as refusal:
                session.rollback()
                replies = refusal.replies
            crud.record_inbound(
                session=session,
                channel=inbound.channel,
                dedup_key=inbound.dedup_key,
                source_key=inbound.source_key,
                person_id=person_id,
                sent_at=inbound.sent_at,
                replies=replies,
            )
        return replies

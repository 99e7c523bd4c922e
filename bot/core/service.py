"""The core every channel calls: one inbound message in, replies out, one transaction per message."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from bot import privacy
from bot.bots import gate
from bot.config import Settings
from bot.core import answering, floods, identity, questions
from bot.core.batch import handle_batch
from bot.core.contracts import Context, Refused, Route, Welcome
from bot.core.messages import Inbound, Reply
from bot.i18n import t
from bot.parser import ReportParser
from bot.store import inbound as inbound_store
from bot.store.db import session_scope
from bot.words import Words
from models import Person, utcnow

log = logging.getLogger("fieldbot")
# Pauses before retrying a message whose database connection failed (a server restarting, a
# failover); a retry is safe because a message already stored is found by its dedup key.
RETRY_PAUSES = (0.25, 0.5, 1.0, 2.0)


def make_parser(settings: Settings) -> ReportParser:
    words = Words(**{name: tuple(value) for name, value in settings.reading.model_dump().items()})
    return ReportParser([(m.key, [m.hi, m.en, *m.synonyms]) for m in settings.metrics], words)


class Fieldbot:
    """Turns inbound messages into stored facts and replies. Channels only translate.

    `route` is the route table (handlers.route) and `welcome` what a newly linked person is told
    (handlers.account.linked): both come from the composition root, bot/app.py.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        route: Route,
        welcome: Welcome,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.settings = settings
        self.engine = engine
        self.route = route
        self.welcome = welcome
        self.parser = make_parser(settings)
        self.clock = clock
        questions.set_default_ttl(dt.timedelta(minutes=settings.questions.ttl_minutes))
        self.retry_pauses: tuple[float, ...] = RETRY_PAUSES
        self.languages = identity.Languages()

    def message_day(self, inbound: Inbound) -> dt.date:
        """The day a message was written, in the configured zone; never later than now."""
        written = min(inbound.sent_at, self.clock())
        return written.astimezone(self.settings.tz).date()

    def handle_many(self, inbounds: Sequence[Inbound]) -> list[list[Reply]]:
        """`handle` for messages that arrived together: reports share one transaction."""
        return handle_batch(self, inbounds)

    def language_of(self, inbound: Inbound) -> str:
        """The sender's language as last seen by this process, without asking the database."""
        return self.languages.of(inbound)

    def remember_language(self, inbound: Inbound, language: str) -> None:
        self.languages.remember(inbound, language)

    def handle(self, inbound: Inbound) -> list[Reply]:
        """Process one message exactly once and return what to answer."""
        for pause in (*self.retry_pauses, None):
            try:
                return self._handle(inbound)
            except IntegrityError as exc:
                if inbound_store.is_duplicate_error(exc):
                    # The same delivery is being handled by another process: answer as it did.
                    with session_scope(self.engine) as session:
                        stored = inbound_store.processed_replies(
                            session=session, dedup_key=inbound.dedup_key
                        )
                    if stored is not None:
                        return stored
                log.exception("storing message %s failed", inbound.dedup_key)
            except DBAPIError as exc:
                if pause is not None and (
                    exc.connection_invalidated or isinstance(exc, OperationalError)
                ):
                    log.warning(
                        "database unavailable (%s) for message %s; retrying in %.2f s",
                        type(exc.orig or exc).__name__,
                        inbound.dedup_key,
                        pause,
                    )
                    time.sleep(pause)
                    continue
                log.exception("handling message %s failed", inbound.dedup_key)
            except Exception:
                log.exception("handling message %s failed", inbound.dedup_key)
            break
        # Nothing of it was stored: she is told so, and to send it again.
        return [Reply(t(self._language_guess(inbound), "internal_error"))]

    def knows(self, inbound: Inbound) -> bool:
        """Whether the sender is an active person on the roster (read only): her files may be fetched."""
        try:
            with session_scope(self.engine) as session:
                return isinstance(self._identify(session, inbound), Person)
        except DBAPIError:
            log.warning("could not look up the sender of %s; nothing fetched", inbound.dedup_key)
            return False

    def _language_guess(self, inbound: Inbound) -> str:
        try:
            with session_scope(self.engine) as session:
                person = self._identify(session, inbound)
                return person.language if isinstance(person, Person) else "hi"
        except Exception:  # noqa: BLE001 - the database may be what failed
            return self.language_of(inbound)

    def _identify(self, session: Session, inbound: Inbound) -> Person | list[Reply]:
        """The roster person behind a message, or the replies for someone we cannot let in."""
        return identity.identify(session, inbound, self.settings, self.welcome)

    def _flood_check(self, session: Session, inbound: Inbound) -> list[Reply] | None:
        """Count the message against its sender's limit; the replies if it is over, else None.

        The first message over the limit in a minute is told to slow down; later ones get nothing.
        """
        if floods.may_be_exempt(inbound):
            who = self._identify(session, inbound)
            person_id = who.id if isinstance(who, Person) else None
            if person_id is not None and floods.exempt(
                session=session, inbound=inbound, person_id=person_id
            ):
                return None
        limit = self.settings.floods.messages_per_minute
        seen = floods.count(session=session, sender=identity.sender_key(inbound), now=self.clock())
        if seen <= limit:
            return None
        if seen > limit + 1 or inbound.is_group:
            return []
        log.warning(
            "sender %s sent over %d messages a minute; refusing", identity.sender_key(inbound), limit
        )
        language = identity.language_of(session, inbound)
        return [Reply(t(language, "slow_down", limit=limit))]

    def _handle(self, inbound: Inbound) -> list[Reply]:
        with session_scope(self.engine) as session:
            stored = inbound_store.processed_replies(session=session, dedup_key=inbound.dedup_key)
            if stored is not None:
                return stored
            flooded = self._flood_check(session, inbound)
            if flooded is not None:
                return flooded  # only the count is kept
            who = self._identify(session, inbound)
            if not isinstance(who, Person):
                # Nothing is stored for people we cannot let in, and a group is not told about them.
                return [] if inbound.is_group else who
            self.remember_language(inbound, who.language)
            if inbound.via is not None:
                right = gate(
                    session=session,
                    settings=self.settings,
                    person=who,
                    bot=inbound.via,
                    private=not inbound.is_group,
                    now=self.clock(),
                )
                if right is not None:
                    # Another district's bot: she is pointed to hers, and nothing is stored.
                    return [] if inbound.is_group else [Reply(t(who.language, "wrong_bot", bot=right))]
            ctx = Context(
                session,
                self.settings,
                self.parser,
                inbound,
                who,
                self.message_day(inbound),
                self.clock(),
            )
            person_id = who.id
            try:
                # An open question takes its answer first; any other message drops it.
                answered = answering.apply_rule(ctx)
                replies = answered if answered is not None else self.route(ctx)
            except Refused as refusal:
                session.rollback()
                self._flood_check(session, inbound)  # the rollback took the message's count with it
                questions.close_id(session, ctx.closed_question)  # answered or dropped all the same
                replies = refusal.replies
            assert person_id is not None
            if not inbound.is_group and privacy.notice_due(
                session=session, person_id=person_id, channel=inbound.channel
            ):
                # First contact on this channel: the work is answered first, the notice comes along.
                privacy.record_notice(
                    session=session, person_id=person_id, channel=inbound.channel, now=self.clock()
                )
                replies = [*replies, Reply(privacy.notice_text(self.settings, who.language))]
            inbound_store.record_inbound(
                session=session,
                channel=inbound.channel,
                dedup_key=inbound.dedup_key,
                source_key=inbound.source_key,
                person_id=person_id,
                sent_at=inbound.sent_at,
                replies=replies,
            )
        return replies

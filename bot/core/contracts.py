"""What the core and the handlers agree on: the handler's `Context`, a `Refused` answer, the `Route`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from bot.config import Settings
from bot.core import questions
from bot.core.messages import Inbound, Reply
from bot.i18n import t
from bot.parser import ReportParser
from models import Person, utcnow


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
    now: dt.datetime | None = None  # when it is being handled, by the bot's clock
    closed_question: int | None = None  # the pending question this message answered or dropped

    @property
    def lang(self) -> str:
        return self.person.language

    def say(self, key: str, **values: object) -> Reply:
        return Reply(t(self.lang, key, **values))

    def ask(self, kind: str, payload: dict[str, object], text: str, labels: list[str]) -> Reply:
        """Store a question for the sender (replacing her open one); the reply that asks it."""
        assert self.person.id is not None
        question = questions.ask(
            self.session,
            person_id=self.person.id,
            channel=self.inbound.channel,
            kind=kind,
            payload=payload,
            labels=labels,
            now=self.now or utcnow(),
            ttl=dt.timedelta(minutes=self.settings.questions.ttl_minutes),
        )
        return Reply(text, buttons=tuple(labels), question=question.id)


# The route table: which handler answers a message from a known, active person (handlers.route).
Route = Callable[[Context], list[Reply]]
# What a person is told when her chat account has just been linked to her roster entry: who she
# is taken for and what she can do (handlers.account.linked).
Welcome = Callable[[Session, Person, Settings], str]

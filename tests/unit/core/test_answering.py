"""The one rule for an open question: its answer goes to the handler of its kind, anything else
drops it; a button of a closed question changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.core.answering import answers, apply_rule, handler_for
from bot.core.contracts import Context
from bot.core.messages import Inbound, Reply
from bot.core.questions import ask, current
from bot.core.service import make_parser
from bot.i18n import t
from bot.store.db import session_scope
from bot.store.people import person_by_phone
from models import PendingQuestion

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
KIND = "unit-test.answering"
ASKS_AGAIN = "unit-test.asks-again"
ANSWERED: list[tuple[str, int]] = []


@answers(KIND)
def on_answer(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    ANSWERED.append((question.kind, index))
    return [Reply(f"answer {index}")]


@answers(ASKS_AGAIN)
def ask_again(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    return [ctx.ask(KIND, {}, "and now?", ["a", "b"])]


@pytest.fixture()
def session(district: Engine) -> Iterator[Session]:
    ANSWERED.clear()
    with session_scope(district) as s:
        yield s


def context(session: Session, settings: Settings, text: str | None, **fields: object) -> Context:
    person = person_by_phone(session=session, phone="+917973321377")
    assert person is not None
    values: dict[str, object] = {
        "channel": "simulator",
        "dedup_key": "k",
        "sent_at": NOW,
        "chat_id": "c",
        "text": text,
        **fields,
    }
    inbound = Inbound(**values)  # type: ignore[arg-type]
    return Context(session, settings, make_parser(settings), inbound, person, NOW.date(), NOW)


def open_one(session: Session, kind: str = KIND, channel: str = "simulator") -> PendingQuestion:
    person = person_by_phone(session=session, phone="+917973321377")
    assert person is not None and person.id is not None
    return ask(
        session,
        person_id=person.id,
        channel=channel,
        kind=kind,
        payload={},
        labels=["✅ हाँ", "✏️ नहीं"],
        now=NOW - dt.timedelta(minutes=5),
        ttl=dt.timedelta(hours=1),
    )


def test_an_answer_goes_to_the_handler_of_its_kind_and_closes_the_question(
    session: Session, settings: Settings
) -> None:
    question = open_one(session)
    ctx = context(session, settings, "नहीं")
    assert apply_rule(ctx) == [Reply("answer 1")]
    assert ANSWERED == [(KIND, 1)]
    assert ctx.closed_question == question.id
    assert current(session, person_id=ctx.person.id or 0) is None


@pytest.mark.parametrize(
    ("text", "fields", "channel", "minutes_later"),
    [
        ("25 20 40", {}, "simulator", 0),  # another message
        ("हाँ", {}, "whatsapp", 0),  # asked on another channel
        ("हाँ", {}, "simulator", 60),  # lapsed
        (None, {"photo": b"jpeg"}, "simulator", 0),  # no text
    ],
    ids=["other text", "other channel", "lapsed", "photo"],
)
def test_anything_else_drops_the_question_and_is_routed(
    session: Session,
    settings: Settings,
    text: str | None,
    fields: dict[str, object],
    channel: str,
    minutes_later: int,
) -> None:
    question = open_one(session, channel=channel)
    ctx = context(session, settings, text, **fields)
    ctx.now = NOW + dt.timedelta(minutes=minutes_later)
    assert apply_rule(ctx) is None
    assert ANSWERED == []
    assert ctx.closed_question == question.id
    assert current(session, person_id=ctx.person.id or 0) is None


@pytest.mark.parametrize(
    "fields", [{"is_edit": True, "source_key": "s"}, {"is_group": True}], ids=["edit", "group"]
)
def test_an_edit_or_a_group_message_leaves_the_question_open(
    session: Session, settings: Settings, fields: dict[str, object]
) -> None:
    open_one(session)
    ctx = context(session, settings, "हाँ", **fields)
    assert apply_rule(ctx) is None
    assert ctx.closed_question is None
    assert current(session, person_id=ctx.person.id or 0) is not None


def test_no_question_no_change(session: Session, settings: Settings) -> None:
    ctx = context(session, settings, "हाँ")
    assert apply_rule(ctx) is None and ctx.closed_question is None


def test_a_button_of_the_open_question_answers_it(session: Session, settings: Settings) -> None:
    question = open_one(session)
    assert question.id is not None
    assert apply_rule(context(session, settings, None, pressed=(question.id, 0))) == [Reply("answer 0")]


@pytest.mark.parametrize("press", ["closed", "other question", "no such label"])
def test_a_button_of_a_closed_question_is_told_so_and_changes_nothing(
    session: Session, settings: Settings, press: str
) -> None:
    question = open_one(session)
    assert question.id is not None
    pressed = {
        "closed": (question.id - 1, 0),
        "other question": (question.id + 1, 0),
        "no such label": (question.id, 2),
    }
    ctx = context(session, settings, None, pressed=pressed[press])
    assert apply_rule(ctx) == [Reply(t("hi", "question_closed"))]
    assert ANSWERED == []
    assert current(session, person_id=ctx.person.id or 0) is not None


def test_a_handler_that_asks_again_leaves_its_new_question_open(
    session: Session, settings: Settings
) -> None:
    first = open_one(session, ASKS_AGAIN)
    ctx = context(session, settings, "1")
    replies = apply_rule(ctx)
    assert replies is not None and replies[0].buttons == ("a", "b")
    new = current(session, person_id=ctx.person.id or 0)
    assert new is not None and new.id != first.id and new.kind == KIND
    assert replies[0].question == new.id


def test_a_kind_nothing_answers_any_more_is_closed_and_routed(
    session: Session, settings: Settings
) -> None:
    assert handler_for("unit-test.gone") is None
    open_one(session, "unit-test.gone")
    ctx = context(session, settings, "हाँ")
    assert apply_rule(ctx) is None
    assert current(session, person_id=ctx.person.id or 0) is None

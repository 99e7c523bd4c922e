"""What the bot waits for a person to answer: one open question each, its lapse, and which answer
a text gives."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import questions
from bot.core.questions import (
    ask,
    button_data,
    choice,
    close,
    close_id,
    current,
    labels,
    open_question,
    open_questions,
    payload,
    people_with_questions,
    read_button_data,
)
from bot.store.db import session_scope
from bot.store.people import person_by_phone
from models import PendingQuestion

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
YES_NO = ["✅ हाँ, सही है", "✏️ नहीं, बदलना है"]


def person_id(session: Session, phone: str = "+917973321377") -> int:
    person = person_by_phone(session=session, phone=phone)
    assert person is not None and person.id is not None
    return person.id


def put(
    session: Session, pid: int, kind: str = "menu", at: dt.datetime = NOW, **extra: object
) -> PendingQuestion:
    return ask(
        session,
        person_id=pid,
        channel="simulator",
        kind=kind,
        payload={"day": dt.date(2026, 11, 23), "name": "सुनीता", **extra},
        labels=YES_NO,
        now=at,
        ttl=HOUR,
    )


def test_asking_again_replaces_her_open_question(district: Engine) -> None:
    with session_scope(district) as session:
        pid = person_id(session)
        first = put(session, pid, "first")
        second = put(session, pid, "second")
        assert current(session, person_id=pid) == second
        assert second.id != first.id
        assert payload(second) == {"day": "2026-11-23", "name": "सुनीता"}
        assert labels(second) == YES_NO


@pytest.mark.parametrize(
    ("later", "is_open"),
    [(dt.timedelta(0), True), (HOUR - dt.timedelta(seconds=1), True), (HOUR, False), (2 * HOUR, False)],
)
def test_a_question_lapses_after_its_time(district: Engine, later: dt.timedelta, is_open: bool) -> None:
    with session_scope(district) as session:
        pid = person_id(session)
        put(session, pid)
        assert (open_question(session, person_id=pid, now=NOW + later) is not None) is is_open
        assert current(session, person_id=pid) is not None  # lapsed, it is still stored
        assert (pid in open_questions(session, now=NOW + later)) is is_open


def test_open_questions_of_many_people(district: Engine) -> None:
    with session_scope(district) as session:
        sunita, rekha = person_id(session), person_id(session, "+917339325088")
        put(session, sunita)
        put(session, rekha, at=NOW + HOUR)  # asked later than the moment looked at
        assert people_with_questions(session, person_ids=[sunita, rekha, rekha]) == {sunita, rekha}
        assert people_with_questions(session, person_ids=[]) == set()
        assert set(open_questions(session, now=NOW + dt.timedelta(minutes=30))) == {sunita}


def test_a_question_closes_once(district: Engine) -> None:
    with session_scope(district) as session:
        pid = person_id(session)
        question = put(session, pid)
        assert close(session, question)
        assert not close(session, question)
        assert not close_id(session, None)
        assert current(session, person_id=pid) is None


def test_the_default_lifetime_is_the_configured_one(
    district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(questions, "_ttl", questions.DEFAULT_TTL)
    questions.set_default_ttl(dt.timedelta(minutes=5))
    with session_scope(district) as session:
        made = ask(
            session, person_id=person_id(session), channel="s", kind="k", payload={}, labels=[], now=NOW
        )
    assert made.expires_at - made.created_at == dt.timedelta(minutes=5)


class Asked:
    def __init__(self, options: list[str]) -> None:
        self.labels = json.dumps(options)


@pytest.mark.parametrize(
    ("options", "text", "index"),
    [
        (YES_NO, "✅ हाँ, सही है", 0),
        (YES_NO, "हाँ, सही है", 0),  # without its emoji
        (YES_NO, "  हाँ,   सही है ।", 0),
        (YES_NO, "1", 0),
        (YES_NO, "२", 1),  # Devanagari digits
        (YES_NO, "Yes", 0),
        (YES_NO, "nahi", 1),
        (YES_NO, "3", None),
        (YES_NO, "0", None),
        (YES_NO, "25 20 40", None),
        (YES_NO, "", None),
        (YES_NO, None, None),
        (["Sunita Devi", "Sunita Yadav", "Sunita Verma"], "yes", None),  # yes/no only for two
        (["Sunita Devi", "Sunita Yadav", "Sunita Verma"], "sunita yadav", 1),
        (["Sunita Devi", "Sunita Yadav", "Sunita Verma"], "3", 2),
    ],
)
def test_which_answer_a_text_gives(options: list[str], text: str | None, index: int | None) -> None:
    question = PendingQuestion(
        person_id=1, channel="s", kind="k", labels=Asked(options).labels, expires_at=NOW
    )
    assert choice(question, text) == index


@pytest.mark.parametrize(
    ("data", "read"),
    [
        (button_data(17, 0), (17, 0)),
        (button_data(123456789, 4), (123456789, 4)),
        ("q:17", None),
        ("q:x:1", None),
        ("q:1:2:3", None),
        ("something else", None),
        ("", None),
        (None, None),
    ],
)
def test_a_buttons_data_names_its_question_and_place(
    data: str | None, read: tuple[int, int] | None
) -> None:
    assert read_button_data(data) == read
    assert len(button_data(2**63, 99).encode()) <= 64

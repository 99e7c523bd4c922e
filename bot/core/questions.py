"""What the bot waits for a person to answer: one mechanism for every question with buttons.

A question (the ask-back on a report she wrote unclearly, a menu, "which Sunita?") is stored in
`pending_question`, at most one per person: asking again replaces it. It lives in the database, so
whichever web process receives her answer can take it, and it lapses after config
`questions.ttl_minutes`.

This module stores and reads questions and tells which answer a text gives (`choice`); the one
rule the core applies with them before it routes a message is in `bot/core/answering.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.numbers import DEVANAGARI_DIGITS
from models import PendingQuestion

# The answers of a two-button yes/no question besides its labels and numbers.
YES_WORDS = frozenset({"हाँ", "हां", "हा", "haan", "han", "ha", "yes", "y", "ok", "ji", "जी"})
NO_WORDS = frozenset({"नहीं", "नही", "nahi", "nahin", "nhi", "no", "n"})
DEFAULT_TTL = dt.timedelta(minutes=120)
# The kind of the ask-back on a report read only likely (handlers/checks.py); the reminder names it.
REPORT_CHECK = "report_check"
_ttl = DEFAULT_TTL


def set_default_ttl(ttl: dt.timedelta) -> None:
    """The lifetime `ask` gives a question when it is given none (config `questions.ttl_minutes`)."""
    global _ttl
    _ttl = ttl


def ask(
    session: Session,
    *,
    person_id: int,
    channel: str,
    kind: str,
    payload: dict[str, Any],
    labels: list[str],
    now: dt.datetime,
    ttl: dt.timedelta | None = None,
) -> PendingQuestion:
    """Store a question for a person, replacing the one she has open; it lapses after `ttl`."""
    session.execute(delete(PendingQuestion).where(col(PendingQuestion.person_id) == person_id))
    question = PendingQuestion(
        person_id=person_id,
        channel=channel,
        kind=kind,
        payload=json.dumps(payload, ensure_ascii=False, default=str),
        labels=json.dumps(list(labels), ensure_ascii=False),
        created_at=now,
        expires_at=now + (ttl if ttl is not None else _ttl),
    )
    session.add(question)
    session.flush()
    return question


def current(session: Session, *, person_id: int) -> PendingQuestion | None:
    """The person's question, open or lapsed."""
    return session.exec(select(PendingQuestion).where(PendingQuestion.person_id == person_id)).first()


def open_question(session: Session, *, person_id: int, now: dt.datetime) -> PendingQuestion | None:
    """The person's open question; one past its time is not open."""
    question = current(session, person_id=person_id)
    if question is None or question.expires_at <= now:
        return None
    return question


def people_with_questions(session: Session, *, person_ids: Iterable[int]) -> set[int]:
    """Which of these people have a question stored (open or lapsed): one query for a batch."""
    ids = sorted(set(person_ids))
    if not ids:
        return set()
    rows = session.exec(select(PendingQuestion.person_id).where(col(PendingQuestion.person_id).in_(ids)))
    return set(rows)


def open_questions(session: Session, *, now: dt.datetime) -> dict[int, PendingQuestion]:
    """Every open question by the person it waits for (the 17:00 reminder names them)."""
    rows = session.exec(
        select(PendingQuestion).where(
            col(PendingQuestion.expires_at) > now, col(PendingQuestion.created_at) <= now
        )
    )
    return {q.person_id: q for q in rows}


def close(session: Session, question: PendingQuestion) -> bool:
    """The question is answered or dropped: it is no longer open. False if it was closed already."""
    return close_id(session, question.id)


def close_id(session: Session, question_id: int | None) -> bool:
    if question_id is None:
        return False
    result = session.execute(delete(PendingQuestion).where(col(PendingQuestion.id) == question_id))
    return bool(getattr(result, "rowcount", 0))


def payload(question: PendingQuestion) -> dict[str, Any]:
    data = json.loads(question.payload or "{}")
    return data if isinstance(data, dict) else {}


def labels(question: PendingQuestion) -> list[str]:
    data = json.loads(question.labels or "[]")
    return [str(label) for label in data] if isinstance(data, list) else []


def _plain(text: str) -> str:
    """Text as an answer is compared: NFC, trimmed, casefolded, a final full stop or ! dropped."""
    text = unicodedata.normalize("NFC", text).translate(DEVANAGARI_DIGITS)
    return " ".join(text.split()).strip(" .!।").casefold()


def _bare_label(label: str) -> str:
    """A label without the emoji in front of it: `✅ हाँ, सही है` -> `हाँ, सही है`."""
    start = 0
    while start < len(label) and not label[start].isalnum():
        start += 1
    return label[start:]


def choice(question: PendingQuestion, text: str | None) -> int | None:
    """Which of the question's labels `text` answers, by its index; None when it answers none.

    A label's own text (with or without its emoji), its number `1`..`n`, and for a question of two
    labels (yes, no) the words `हाँ`/`yes` and `नहीं`/`no`.
    """
    said = _plain(text or "")
    if not said:
        return None
    options = labels(question)
    for index, label in enumerate(options):
        if said in (_plain(label), _plain(_bare_label(label))):
            return index
    if said.isascii() and said.isdigit() and 1 <= int(said) <= len(options):
        return int(said) - 1
    if len(options) == 2:
        if said in YES_WORDS:
            return 0
        if said in NO_WORDS:
            return 1
    return None


def button_data(question_id: int, index: int) -> str:
    """What a Telegram button carries: its question and its place (within Telegram's 64 bytes)."""
    return f"q:{question_id}:{index}"


def read_button_data(data: str | None) -> tuple[int, int] | None:
    """(question id, index) from a button's data, or None for data the bot did not make."""
    if not data or not data.startswith("q:"):
        return None
    parts = data.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])

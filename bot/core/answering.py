"""The one rule for an open question, applied by the core before it routes a message.

When a person with an open question (`bot/core/questions.py`) writes, and the text is one of its
answers (`questions.choice`), the handler registered for the question's kind (`@answers(kind)`)
answers and the question is closed, unless that handler asked a new one; any other message closes
(drops) the question and is handled as usual. A press of a Telegram button names its question: a
press on a keyboard whose question is no longer open is told so and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.core.questions import choice, close, current, labels, open_question
from models import PendingQuestion
from models.types import utcnow

AnswerHandler = Callable[[Context, PendingQuestion, int], list[Reply]]
_HANDLERS: dict[str, AnswerHandler] = {}


def answers(kind: str) -> Callable[[AnswerHandler], AnswerHandler]:
    """Register `on_answer(ctx, question, index) -> list[Reply]` as what answers questions of `kind`."""

    def register(handler: AnswerHandler) -> AnswerHandler:
        _HANDLERS[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> AnswerHandler | None:
    return _HANDLERS.get(kind)


def apply_rule(ctx: Context) -> list[Reply] | None:
    """The one rule for an open question, before the message is routed.

    Returns the replies when the message answered a question (or pressed a closed one's button);
    None when it is to be handled as usual, after dropping whatever question she had open.
    Whatever question it closes is named in `ctx.closed_question`, so a refusal that rolls the
    handler's work back closes it again.
    """
    inbound = ctx.inbound
    if inbound.is_edit or inbound.is_group:
        return None
    session = ctx.session
    person_id = ctx.person.id
    assert person_id is not None
    now = ctx.now or utcnow()
    if inbound.pressed is not None:
        question_id, index = inbound.pressed
        question = open_question(session, person_id=person_id, now=now)
        if question is None or question.id != question_id or index >= len(labels(question)):
            return [ctx.say("question_closed")]
        return _answer(ctx, question, index)
    question = current(session, person_id=person_id)
    if question is None:
        return None
    answered: int | None = None
    if question.expires_at > now and question.channel == inbound.channel and inbound.text:
        answered = choice(question, inbound.text)
    if answered is None:
        close(session, question)
        ctx.closed_question = question.id
        return None
    return _answer(ctx, question, answered)


def _answer(ctx: Context, question: PendingQuestion, index: int) -> list[Reply] | None:
    handler = _HANDLERS.get(question.kind)
    if not close(ctx.session, question):
        # Another message of hers took it meanwhile (two answers at once): it is answered once.
        return [ctx.say("question_closed")]
    ctx.closed_question = question.id
    if handler is None:
        return None  # a kind nothing answers any more: the message is read as usual
    return handler(ctx, question, index)

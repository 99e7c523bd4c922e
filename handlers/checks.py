"""Asking back: a report read only likely is shown to her as read, with ✅ / ✏️, and stored on ✅.

Nothing is stored before she says yes; what is stored then is exactly what was shown, for the day
the message was written for. No discards it and shows the format; any other message drops the
question (bot/questions.py), and a new report replaces it.
"""

from __future__ import annotations

import datetime as dt

from bot import crud, questions
from bot.i18n import day_label, order_example, t
from bot.messages import Reply
from bot.numbers import indian
from bot.parser import Report
from bot.service import Context
from handlers.reports import check_ceilings, confirmation, resolve_day
from models import PendingQuestion

KIND = "report_check"


def answer_labels(lang: str) -> list[str]:
    return [t(lang, "check_yes"), t(lang, "check_no")]


def reading_lines(ctx: Context, entries: list[tuple[str, int, bool]]) -> str:
    lines = []
    for metric, value, add in entries:
        label = ctx.settings.metric(metric).label(ctx.lang)
        lines.append(f"{label}: {'+' if add else ''}{indian(value)}")
    return "\n".join(lines)


def ask_back(ctx: Context, likely: Report, word: str) -> Reply:
    """Her report as it was read, for her to confirm; the day is settled now, as if stored now."""
    day = resolve_day(likely.when, ctx.today, ctx.settings, ctx.lang)
    entries = [(e.metric, e.value, e.add) for e in likely.entries]
    text = t(
        ctx.lang,
        "check_reading",
        word=word,
        day=day_label(day, ctx.today, ctx.lang),
        lines=reading_lines(ctx, entries),
    )
    payload: dict[str, object] = {
        "day": day.isoformat(),
        "entries": [list(e) for e in entries],
        "source_key": ctx.inbound.source_key,
    }
    return ctx.ask(KIND, payload, text, answer_labels(ctx.lang))


@questions.answers(KIND)
def on_answer(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """✅ stores the reading as shown, for its day; ✏️ discards it and shows how to write it."""
    if index != 0:
        labels = [m.label(ctx.lang) for m in ctx.settings.metrics]
        example = t(
            ctx.lang,
            "format_example",
            order_example=order_example(len(labels)),
            order=", ".join(labels[:3]),
        )
        return [Reply(f"{t(ctx.lang, 'check_discarded')}\n\n{example}")]
    data = questions.payload(question)
    day = dt.date.fromisoformat(str(data["day"]))
    entries = [(str(m), int(v), bool(a)) for m, v, a in data["entries"]]
    current = crud.lock_for_report(session=ctx.session, person=ctx.person, day=day)
    changes = crud.plan_changes(current, entries, day)
    check_ceilings(changes, ctx.settings, ctx.lang)
    source = data.get("source_key")
    crud.apply_changes(
        session=ctx.session,
        person=ctx.person,
        changes=changes,
        kind="report",
        channel=ctx.inbound.channel,
        source_key=str(source) if source else ctx.inbound.source_key,
    )
    return [confirmation(ctx, changes)]


def pending_line(question: PendingQuestion, lang: str) -> str | None:
    """The reminder's line about a reading she has not confirmed yet, or None for other kinds."""
    if question.kind != KIND:
        return None
    return t(lang, "check_pending")

"""Asking back: a report read only likely is shown to her as read, with buttons, and stored on ✅.

Nothing is stored before she says yes; what is stored then is exactly what was shown, for the day
the message was written for. No discards it and shows the format; any other message drops the
question (bot/questions.py), and a new report replaces it. A misspelt word that could be either of
two metrics is asked as a choice between them.
"""

from __future__ import annotations

import datetime as dt

from bot.core import answering, questions
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.core.reporting import check_ceilings, resolve_day
from bot.i18n import day_label, order_example, t
from bot.numbers import indian
from bot.parser import Report, Unreadable
from bot.store import reports
from handlers.reports import confirmation
from models import PendingQuestion

KIND = questions.REPORT_CHECK
Entries = list[tuple[str, int, bool]]


def reading_lines(ctx: Context, entries: Entries) -> str:
    lines = []
    for metric, value, add in entries:
        label = ctx.settings.metric(metric).label(ctx.lang)
        lines.append(f"{label}: {'+' if add else ''}{indian(value)}")
    return "\n".join(lines)


def _why(ctx: Context, likely: Report, word: str) -> str:
    """What made the reading unsure, in her words."""
    lang = ctx.lang
    doubt = likely.doubts[0] if likely.doubts else None
    if doubt is None:
        return t(lang, "why_not_understood", detail=word)
    if doubt.kind == "typo":
        label = ctx.settings.metric(doubt.metrics[0]).label(lang)
        return t(lang, "check_why_typo", word=doubt.word, metric=label)
    if doubt.kind == "pairing":
        label = ctx.settings.metric(doubt.metrics[0]).label(lang)
        return t(lang, "check_why_pairing", word=doubt.word, metric=label)
    order = ", ".join(ctx.settings.metric(m).label(lang) for m in doubt.metrics)
    return t(lang, "check_why_bare", word=doubt.word, order=order)


def ask_back(ctx: Context, parsed: Unreadable) -> Reply | None:
    """Her report as it was read (or the readings a misspelt word allows), for her to confirm.

    The day is settled now, as it would have been had the report been stored now. None when there
    is no reading to offer.
    """
    if parsed.likely is not None:
        likely = parsed.likely
        day = resolve_day(likely.when, ctx.today, ctx.settings, ctx.lang)
        entries = [(e.metric, e.value, e.add) for e in likely.entries]
        text = t(
            ctx.lang,
            "check_reading",
            why=_why(ctx, likely, parsed.detail),
            day=day_label(day, ctx.today, ctx.lang),
            lines=reading_lines(ctx, entries),
        )
        labels = [t(ctx.lang, "check_yes"), t(ctx.lang, "check_no")]
        return _ask(ctx, day, [entries], text, labels)
    readings = _option_readings(ctx, parsed)
    if not readings:
        return None
    when = readings[0].when
    if any(r.when != when for r in readings):
        return None
    day = resolve_day(when, ctx.today, ctx.settings, ctx.lang)
    options = [[(e.metric, e.value, e.add) for e in r.entries] for r in readings]
    shown = "\n\n".join(
        f"{number}. {reading_lines(ctx, entries)}" for number, entries in enumerate(options, 1)
    )
    text = t(
        ctx.lang,
        "check_which",
        word=parsed.detail,
        day=day_label(day, ctx.today, ctx.lang),
        readings=shown,
    )
    labels = [_option_label(ctx, entries) for entries in options] + [t(ctx.lang, "check_no")]
    return _ask(ctx, day, options, text, labels)


def _option_readings(ctx: Context, parsed: Unreadable) -> list[Report]:
    """The reading of the message with its misspelt word as each metric it could be."""
    text = ctx.inbound.text or ""
    if not parsed.options or not parsed.detail or parsed.detail not in text:
        return []
    readings = []
    for metric in parsed.options:
        again = ctx.parser.parse(text.replace(parsed.detail, f" {metric} ", 1))
        if not isinstance(again, Report) or not again.certain:
            return []
        readings.append(again)
    return readings


def _option_label(ctx: Context, entries: Entries) -> str:
    return ", ".join(
        f"{ctx.settings.metric(m).label(ctx.lang)} {'+' if a else ''}{indian(v)}" for m, v, a in entries
    )


def _ask(ctx: Context, day: dt.date, readings: list[Entries], text: str, labels: list[str]) -> Reply:
    payload: dict[str, object] = {
        "day": day.isoformat(),
        "readings": [[list(e) for e in entries] for entries in readings],
        "source_key": ctx.inbound.source_key,
    }
    return ctx.ask(KIND, payload, text, labels)


@answering.answers(KIND)
def on_answer(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """A reading chosen (✅) is stored as shown, for its day; ✏️ discards it and shows the format."""
    data = questions.payload(question)
    readings = data.get("readings") or []
    if not 0 <= index < len(readings) or not ctx.person.is_field_worker:
        labels = [m.label(ctx.lang) for m in ctx.settings.metrics]
        example = t(
            ctx.lang,
            "format_example",
            order_example=order_example(len(labels)),
            order=", ".join(labels[:3]),
        )
        return [Reply(f"{t(ctx.lang, 'check_discarded')}\n\n{example}")]
    day = dt.date.fromisoformat(str(data["day"]))
    entries = [(str(m), int(v), bool(a)) for m, v, a in readings[index]]
    current = reports.lock_for_report(session=ctx.session, person=ctx.person, day=day)
    changes = reports.plan_changes(current, entries, day)
    check_ceilings(changes, ctx.settings, ctx.lang)
    source = data.get("source_key")
    reports.apply_changes(
        session=ctx.session,
        person=ctx.person,
        changes=changes,
        kind="report",
        channel=ctx.inbound.channel,
        # The message she wrote, so an edit of it later finds what it stored.
        source_key=str(source) if source else ctx.inbound.source_key,
    )
    return [confirmation(ctx, changes)]

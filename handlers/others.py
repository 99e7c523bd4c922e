"""Reports a supervisor or ANM enters for a worker of her sector: `सुनीता: आवेदन 12 कार्ड 10`,
`/for Sunita आवेदन 12 कार्ड 10`, by name, phone or worker id."""

from __future__ import annotations

import datetime as dt

from bot import others
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.delivery import outbox
from bot.format import totals_line
from bot.i18n import short_date, t
from bot.parser import Report, Unreadable
from bot.store.reports import changes_from_source
from handlers import reports
from handlers.replies import not_understood
from models import Person

WHICH_KIND = "worker_choice"


def may_enter(ctx: Context) -> bool:
    return bool(others.entry_sectors(ctx.session, ctx.person))


def notify(ctx: Context, worker: Person, *, job: str, text: str, key: str, day: dt.date) -> None:
    """Tell the worker in one line, through the outbox, if anything can reach her."""
    if not others.reachable(worker):
        return
    outbox.enqueue(
        session=ctx.session,
        job=job,
        day=day,
        messages=[outbox.Message(worker, text, key=key)],
        now=ctx.now or dt.datetime.now(dt.UTC),
    )


def for_someone(ctx: Context, text: str) -> list[Reply] | None:
    """A report for another worker, or None when the message is not one (it is handled as usual)."""
    found = others.addressed(text)
    if found is None:
        return None
    if not found.command:
        # `कार्ड: 12` is her own report; only a name of somebody in her sector makes it one for them.
        if not may_enter(ctx) or isinstance(ctx.parser.parse(f"{found.who} 1"), Report):
            return None
        workers = others.sector_workers(ctx.session, others.entry_sectors(ctx.session, ctx.person))
        matches = others.find_workers(workers, found.who)
        if not matches:
            return None
        return _enter(ctx, found.who, found.rest, matches)
    if not may_enter(ctx):
        return [ctx.say("for_not_allowed")]
    words = found.rest.split()
    if len(words) < 2:
        return [ctx.say("for_usage")]
    workers = others.sector_workers(ctx.session, others.entry_sectors(ctx.session, ctx.person))
    who, rest, matches = others.split_who(workers, words)
    if not matches:
        return [ctx.say("for_no_match", who=who)]
    return _enter(ctx, who, rest, matches)


def edited_for_someone(ctx: Context, text: str) -> list[Reply] | None:
    """An edited message that reported, or now reports, for someone else is not read again: what
    it stored stays as it is, and she is told how to change it. None for any other edit."""
    source = ctx.inbound.source_key
    earlier = changes_from_source(session=ctx.session, source_key=source) if source else []
    if any(row.person_id != ctx.person.id for row in earlier):
        return [ctx.say("for_edit")]
    found = others.addressed(text)
    if found is None or not may_enter(ctx):
        return None
    if found.command:
        return [ctx.say("for_edit")]
    if isinstance(ctx.parser.parse(f"{found.who} 1"), Report):
        return None
    workers = others.sector_workers(ctx.session, others.entry_sectors(ctx.session, ctx.person))
    return [ctx.say("for_edit")] if others.find_workers(workers, found.who) else None


def _enter(ctx: Context, who: str, rest: str, matches: list[Person]) -> list[Reply]:
    parsed = ctx.parser.parse(rest)
    if not isinstance(parsed, Report):
        reason = parsed if isinstance(parsed, Unreadable) else Unreadable("not_understood")
        return [not_understood(ctx, reason)]
    if len(matches) > 1:
        return [which(ctx, who, rest, matches, action="report")]
    return enter_for(ctx, matches[0], parsed)


def which(ctx: Context, who: str, text: str, matches: list[Person], *, action: str) -> Reply:
    """Several workers answer to the name: nothing is stored; she is asked which one, with a
    button each. `text` is what to do once she has chosen (a report, or a leave message)."""
    villages = others.village_names(ctx.session, matches)
    labels: list[str] = []
    for worker in matches:
        label = f"{worker.name} ({villages.get(worker.village_id or -1) or worker.worker_id or '-'})"
        if label in labels:
            label = f"{worker.name} ({worker.worker_id or worker.id})"
        labels.append(label)
    payload: dict[str, object] = {
        "action": action,
        "text": text,
        "ids": [w.id for w in matches],
        "day": ctx.today.isoformat(),
    }
    return ctx.ask(WHICH_KIND, payload, ctx.say("for_which", who=who).text, labels)


def enter_for(ctx: Context, worker: Person, parsed: Report) -> list[Reply]:
    """Store the report as the worker's, audited as entered by the sender; tell the worker."""
    assert ctx.person.id is not None
    changes, group = reports.store(ctx, worker, parsed, entered_by=ctx.person.id)
    confirmation = reports.confirmation(ctx, changes, person=worker)
    head = ctx.say("for_saved", name=worker.name).text
    day = changes[0].day if changes else ctx.today
    assert worker.id is not None
    values = {c.metric: c.new for c in changes if c.new is not None}
    lang = worker.language
    notice = t(
        lang,
        "reported_for_you",
        name=ctx.person.name,
        date=short_date(day, lang),
        values=totals_line(ctx.settings, values, lang, reported_only=True),
    )
    notify(ctx, worker, job="reported_for_you", text=notice, key=f"reported_for_you:{group}", day=day)
    return [Reply(f"{head}\n{confirmation.text}")]

"""Leave: `छुट्टी`, `छुट्टी कल`, `छुट्टी 25/11 से 27/11`, `/leave`, `छुट्टी रद्द`; a supervisor
enters, lists and cancels it for the workers of her sector."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot import leave, others
from bot.core import answering, questions
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.i18n import short_date, t
from bot.parser import Report
from bot.store.units import scope_units
from handlers.others import WHICH_KIND, enter_for, notify, which
from models import PendingQuestion, Person

LIST_MAX = 40  # lines of a leave list; more are counted, not named


def span_text(first: dt.date, last: dt.date, lang: str) -> str:
    if first == last:
        return short_date(first, lang)
    return t(lang, "leave_span", first=short_date(first, lang), last=short_date(last, lang))


def leave_message(ctx: Context, text: str) -> list[Reply] | None:
    """A message about leave, answered; None when it is not one."""
    ask = leave.read_leave(text, ctx.today)
    if ask is None:
        return None
    if isinstance(ask, str):
        return [ctx.say(ask), ctx.say("leave_usage")]
    sectors = others.entry_sectors(ctx.session, ctx.person)
    if ask.who:
        if not sectors:
            return [ctx.say("leave_usage" if ctx.person.is_field_worker else "leave_not_for_officers")]
        workers = others.sector_workers(ctx.session, sectors)
        matches = others.find_workers(workers, ask.who)
        if not matches:
            return [ctx.say("for_no_match", who=ask.who)]
        if len(matches) > 1:
            return [which(ctx, ask.who, text, matches, action="leave")]
        return _for_worker(ctx, matches[0], ask)
    if ctx.person.is_field_worker:
        return _for_worker(ctx, ctx.person, ask)
    if ask.cancel or ask.days:
        return [ctx.say("leave_name_needed" if sectors else "leave_not_for_officers")]
    return [_list(ctx)]


def _for_worker(ctx: Context, worker: Person, ask: leave.LeaveAsk) -> list[Reply]:
    assert worker.id is not None and ctx.person.id is not None
    own = worker.id == ctx.person.id
    now = ctx.now or dt.datetime.now(dt.UTC)
    lang = ctx.lang
    if ask.cancel:
        back = leave.cancel_leave(
            session=ctx.session, person_id=worker.id, today=ctx.today, by=ctx.person.id, now=now
        )
        if not back:
            return [
                ctx.say(
                    "leave_nothing_to_cancel" if own else "leave_nothing_to_cancel_for", name=worker.name
                )
            ]
        spans = ", ".join(span_text(a, b, lang) for a, b in back)
        if not own:
            wl = worker.language
            notice = t(
                wl,
                "leave_cancelled_for_you",
                name=ctx.person.name,
                days=", ".join(span_text(a, b, wl) for a, b in back),
            )
            notify(
                ctx,
                worker,
                job="leave_for_you",
                text=notice,
                key=f"leave_cancel:{worker.id}:{now.isoformat()}",
                day=ctx.today,
            )
            return [ctx.say("leave_cancelled_for", name=worker.name, days=spans)]
        return [ctx.say("leave_cancelled", days=spans)]
    first, last = leave.leave_span(ask, ctx.today)
    rules, window = ctx.settings.leave, ctx.settings.reporting.backdate_days
    if last < first:
        return [ctx.say("leave_bad_range", first=short_date(first, lang), last=short_date(last, lang))]
    if (ctx.today - first).days > window:
        return [ctx.say("too_old", date=short_date(first, lang), days=window)]
    if (first - ctx.today).days > rules.ahead_days:
        return [ctx.say("leave_too_far", days=rules.ahead_days)]
    length = (last - first).days + 1
    if length > rules.max_days:
        return [ctx.say("leave_too_long", days=rules.max_days)]
    leave.add_leave(
        session=ctx.session,
        person_id=worker.id,
        first=first,
        last=last,
        entered_by=ctx.person.id,
        now=now,
    )
    days = span_text(first, last, lang)
    if own:
        return [ctx.say("leave_saved", days=days, count=length)]
    wl = worker.language
    notice = t(wl, "leave_for_you", name=ctx.person.name, days=span_text(first, last, wl))
    notify(
        ctx,
        worker,
        job="leave_for_you",
        text=notice,
        key=f"leave:{worker.id}:{first}:{last}:{now.isoformat()}",
        day=ctx.today,
    )
    return [ctx.say("leave_saved_for", name=worker.name, days=days, count=length)]


def _list(ctx: Context) -> Reply:
    """An officer's `छुट्टी`: leave today and ahead in her units, and how to enter or cancel it."""
    lang = ctx.lang
    units = scope_units(ctx.session, ctx.person, ctx.settings.state)
    lines: list[str] = []
    for unit in units:
        workers = others.unit_workers(ctx.session, unit)
        found = leave.upcoming_leave(
            session=ctx.session,
            person_ids=[w.id for w in workers if w.id is not None],
            today=ctx.today,
        )
        names = {w.id: w.name for w in workers}
        if not found:
            lines.append(t(lang, "leave_list_none", unit=unit.path_in(lang)))
            continue
        lines.append(t(lang, "leave_list_head", unit=unit.path_in(lang), count=len(found)))
        for item in found[:LIST_MAX]:
            days = span_text(item.first_day, item.last_day, lang)
            lines.append(f"• {names.get(item.person_id, '?')}: {days}")
        if len(found) > LIST_MAX:
            lines.append(t(lang, "top_more", count=len(found) - LIST_MAX))
    if not units:
        lines.append(t(lang, "leave_not_for_officers"))
    lines += ["", t(lang, "leave_usage_officer")]
    return Reply("\n".join(lines))


@answering.answers(WHICH_KIND)
def on_worker_choice(ctx: Context, question: PendingQuestion, index: int) -> list[Reply]:
    """ "Which Sunita?" answered: do what was asked, for her, as of the day it was asked."""
    data = questions.payload(question)
    ids = [int(i) for i in data.get("ids", [])]
    workers = others.sector_workers(ctx.session, others.entry_sectors(ctx.session, ctx.person))
    worker = next((w for w in workers if index < len(ids) and w.id == ids[index]), None)
    if worker is None:
        return [ctx.say("question_closed")]
    asked = dataclasses.replace(ctx, today=dt.date.fromisoformat(str(data.get("day"))))
    text = str(data.get("text", ""))
    if data.get("action") == "leave":
        ask = leave.read_leave(text, asked.today)
        if not isinstance(ask, leave.LeaveAsk):
            return [ctx.say("leave_usage")]
        return _for_worker(asked, worker, ask)
    parsed = ctx.parser.parse(text)
    if not isinstance(parsed, Report):
        return [ctx.say("for_usage")]
    return enter_for(asked, worker, parsed)

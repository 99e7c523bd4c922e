"""Daily reports: record, re-report, add, edit, undo — each answered with what changed and the totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot import checks
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.core.reporting import (
    change_lines,
    check_ceilings,
    check_window,
    confirmation_reply,
    resolve_day,
)
from bot.i18n import day_label
from bot.parser import Command, Parsed, Report
from bot.store import reports
from handlers.replies import not_understood
from models import Person


def confirmation(ctx: Context, changes: Sequence[reports.Change], person: Person | None = None) -> Reply:
    """What was understood, that day's totals and the campaign so far (of `person`, by default
    the sender), and what in it she should check."""
    person = person or ctx.person
    assert person.id is not None
    days = sorted({c.day for c in changes})
    values = {d: reports.report_values(session=ctx.session, person_id=person.id, day=d) for d in days}
    start = ctx.settings.campaign.start
    campaign = None
    if start is not None:
        campaign = reports.person_totals(session=ctx.session, person_id=person.id, start=start)
    found: list[checks.Flag] = []
    if days:
        history = checks.History(ctx.session, [person.id], days[-1] + dt.timedelta(days=1))
        for day in days:
            usual = history.usual(ctx.settings, person.id, day)
            found += checks.flags(ctx.settings, values[day], usual)
    return confirmation_reply(ctx.settings, ctx.lang, ctx.today, changes, values, campaign, found)


def report(ctx: Context, parsed: Report) -> list[Reply]:
    """A daily report: named values replace the day's values, `+n` adds; audited as one change."""
    if not ctx.person.is_field_worker:
        return [ctx.say("officer_no_report")]
    changes, _ = store(ctx, ctx.person, parsed)
    return [confirmation(ctx, changes)]


def store(
    ctx: Context, person: Person, parsed: Report, *, entered_by: int | None = None
) -> tuple[list[reports.Change], str]:
    """Store a report as `person`'s, by the rules of her own (day, ceilings, re-report); the
    changes and their group. Refused (nothing stored) where a rule says no."""
    day = resolve_day(parsed.when, ctx.today, ctx.settings, ctx.lang)
    current = reports.lock_for_report(session=ctx.session, person=person, day=day)
    changes = reports.plan_changes(current, ((e.metric, e.value, e.add) for e in parsed.entries), day)
    check_ceilings(changes, ctx.settings, ctx.lang)
    group = reports.apply_changes(
        session=ctx.session,
        person=person,
        changes=changes,
        kind="report",
        channel=ctx.inbound.channel,
        source_key=ctx.inbound.source_key,
        entered_by=entered_by,
    )
    return changes, group


def edited(ctx: Context, parsed: Parsed) -> list[Reply]:
    """An edited message is read again: what it reported before is taken back, the new text applied."""
    if not isinstance(parsed, Report):
        if isinstance(parsed, Command) or ctx.inbound.is_group:
            # An edited command is not run again; a group's edited chatter is not for the bot.
            return []
        return [not_understood(ctx, parsed)]
    if not ctx.person.is_field_worker:
        return [ctx.say("officer_no_report")]
    # The window counts from when the edit arrives: an old message cannot reopen an old day.
    edited_at = ctx.inbound.edited_at or ctx.inbound.sent_at
    if ctx.now is not None:
        edited_at = min(edited_at, ctx.now)
    arrived = max(edited_at.astimezone(ctx.settings.tz).date(), ctx.today)
    day = resolve_day(parsed.when, ctx.today, ctx.settings, ctx.lang, arrived=arrived)
    source = ctx.inbound.source_key
    earlier = reports.changes_from_source(session=ctx.session, source_key=source) if source else []
    revert = reports.revert_plan(session=ctx.session, person=ctx.person, earlier=earlier)
    for change in revert:
        check_window(change.day, arrived, ctx.settings, ctx.lang)
    for change in revert:
        reports.lock_for_report(session=ctx.session, person=ctx.person, day=change.day)
    group = None
    if revert:
        group = reports.apply_changes(
            session=ctx.session,
            person=ctx.person,
            changes=revert,
            kind="edit",
            channel=ctx.inbound.channel,
            source_key=source,
        )
    ctx.session.flush()
    current = reports.lock_for_report(session=ctx.session, person=ctx.person, day=day)
    changes = reports.plan_changes(current, ((e.metric, e.value, e.add) for e in parsed.entries), day)
    check_ceilings(changes, ctx.settings, ctx.lang)
    reports.apply_changes(
        session=ctx.session,
        person=ctx.person,
        changes=changes,
        kind="edit",
        channel=ctx.inbound.channel,
        source_key=source,
        group=group,
    )
    # Show each metric once: from its value before the edit to its value after.
    before = {(c.day, c.metric): c.old for c in revert}
    shown = [
        reports.Change(c.day, c.metric, before.get((c.day, c.metric), c.old), c.new, c.added)
        for c in changes
    ]
    shown += [c for c in revert if (c.day, c.metric) not in {(x.day, x.metric) for x in changes}]
    return [confirmation(ctx, shown)]


def undo(ctx: Context, command: Command) -> list[Reply]:
    """/undo: take back the last change this person made, whole message at a time."""
    reverted, owner = reports.undo_latest(
        session=ctx.session, person=ctx.person, channel=ctx.inbound.channel
    )
    if not reverted:
        return [ctx.say("nothing_to_undo")]
    days = sorted({c.day for c in reverted})
    label = ", ".join(day_label(d, ctx.today, ctx.lang) for d in days)
    lines = change_lines(reverted, ctx.settings, ctx.lang)
    if owner.id != ctx.person.id:
        return [ctx.say("undone_for", name=owner.name, day=label, lines=lines)]
    return [ctx.say("undone", day=label, lines=lines)]

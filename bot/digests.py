"""What the scheduler says each day: start messages, reminders and digests, as plain functions."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from sqlmodel import Session, col, select

from bot import checks, leave, others, problem_digest
from bot.bots import multi, still_to_move
from bot.chart import block_chart
from bot.config import Settings
from bot.core import questions
from bot.delivery.outbox import Message
from bot.format import gap_share, official_line, target_line, totals_line
from bot.i18n import short_date, t
from bot.numbers import indian, percent
from bot.phones import local_phone
from bot.presence.proofs import proof_counts
from bot.rollups.figures import figures
from bot.rollups.portal import official_gap, official_gaps
from bot.rollups.ranking import breakdown
from bot.rollups.scope import children, report_scope, worker_scope
from bot.rollups.sums import missing_workers, reported_people, unit_totals
from bot.store.units import CHILD_LEVEL, Unit, scope_units
from models import FIELD_ROLES, Outbox, Person

Planner = Callable[[Session, Settings, dt.date], list[Message]]


def _people(session: Session, *roles: str) -> list[Person]:
    return list(
        session.exec(
            select(Person)
            .where(col(Person.active).is_(True), col(Person.role).in_(roles))
            .order_by(col(Person.id))
        ).all()
    )


def _working(session: Session, settings: Settings, day: dt.date) -> list[Person]:
    """Active field workers who can be reached and are not off (leave, holiday) on the day."""
    people = [p for p in _people(session, *FIELD_ROLES) if others.reachable(p)]
    off = leave.off_reasons(session, settings, people, day)
    return [p for p in people if p.id not in off]


def start_messages(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """09:00: every active field worker gets good morning and her target for the day; not on a
    day she is off."""
    target = settings.targets.get("worker", {}).get(settings.primary_metric)
    messages = []
    for person in _working(session, settings, day):
        lang = person.language
        date = short_date(day, lang)
        if target is not None and target.daily:
            label = settings.metric(settings.primary_metric).label(lang)
            text = t(
                lang,
                "start_message",
                name=person.name,
                date=date,
                target=f"{label} {indian(target.daily)}",
            )
        else:
            text = t(lang, "start_message_no_target", name=person.name, date=date)
        messages.append(Message(person, text))
    return messages


def reminders(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """17:00: field workers with nothing reported today, and those whose answer the bot awaits;
    nobody off today (leave, holiday).

    A question still open at the reminder's time (a report to confirm) is named in her reminder.
    """
    state = Unit("state", settings.state, settings.state)
    done = reported_people(session=session, unit=state, start=day, end=day)
    moment = dt.datetime.combine(day, settings.schedule.reminder or dt.time(17, 0), settings.tz)
    waiting = questions.open_questions(session=session, now=moment)
    messages = []
    for p in _working(session, settings, day):
        lang = p.language
        question = waiting.get(p.id) if p.id is not None else None
        if p.id in done and question is None:
            continue
        lines = []
        if p.id not in done:
            lines.append(t(lang, "reminder", name=p.name, date=short_date(day, lang)))
        if question is not None:
            key = "reminder_check" if question.kind == questions.REPORT_CHECK else "reminder_question"
            lines.append(t(lang, key, name=p.name))
        messages.append(Message(p, "\n\n".join(lines)))
    return messages


def _unreachable(session: Session, unit: Unit, day: dt.date) -> list[str]:
    """Workers of the unit whose messages today could not be delivered."""
    rows = session.exec(
        select(Person.name)
        .join(Outbox, col(Outbox.person_id) == col(Person.id))
        .where(
            Outbox.day == day,
            col(Outbox.status).in_(("failed", "undeliverable")),
            *worker_scope(unit),
        )
        .distinct()
    ).all()
    return sorted(rows)


def _unit_section(
    session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str
) -> list[str]:
    fig = figures(session=session, settings=settings, unit=unit, start=day, end=day)
    lines = [
        t(lang, "digest_head", unit=unit.path_in(lang), date=short_date(day, lang)),
        t(lang, "digest_reported", reported=indian(fig.reported), workers=indian(fig.workers)),
        t(lang, "digest_totals", totals=totals_line(settings, fig.totals, lang)),
    ]
    target = target_line(settings, fig, lang)
    if target:
        lines.append(target)
    if day in fig.holidays:
        lines.append(t(lang, "digest_holiday", name=fig.holidays[day]))
    if fig.on_leave:
        lines.append(t(lang, "digest_on_leave", count=indian(fig.on_leave)))
    entered = others.entered_for_others(session=session, report_scope=report_scope(unit), day=day)
    if entered:
        lines.append(t(lang, "digest_entered_for", count=indian(entered)))
    return lines


def _check_lines(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """Today's reports to double-check in the unit: `Sunita: कार्ड 95 (सामान्य 8)`."""
    workers = others.unit_workers(session, unit)
    found = checks.day_flags(session, settings, [w.id for w in workers if w.id is not None], day)
    if not found:
        return []
    lines = [t(lang, "digest_check_head", count=indian(len(found)))]
    for worker in workers:
        flags = found.get(worker.id or -1)
        if flags:
            items = ", ".join(checks.flag_text(settings, f, lang) for f in flags)
            lines.append(f"• {worker.name}: {items}")
    return lines


def supervisor_digests(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """18:30: each supervisor gets her sectors: totals, best and lowest, who is missing."""
    metric = settings.primary_metric
    messages = []
    for person in _people(session, "supervisor"):
        lang = person.language
        label = settings.metric(metric).label(lang)
        sections = []
        for unit in scope_units(session, person, settings.state):
            lines = _unit_section(session, settings, unit, day, lang)
            workers = breakdown(session=session, unit=unit, start=day, end=day, metric=metric)
            reporters = [w for w in workers if w.reported]
            if len(reporters) >= 2:
                best = reporters[:3]
                lowest = [w for w in reversed(reporters) if w not in best][:3]
                lines.append(
                    t(
                        lang,
                        "digest_best",
                        names=", ".join(f"{w.name} ({label} {indian(w.value)})" for w in best),
                    )
                )
                if lowest:
                    lines.append(
                        t(
                            lang,
                            "digest_lowest",
                            names=", ".join(f"{w.name} ({label} {indian(w.value)})" for w in lowest),
                        )
                    )
            lines += _check_lines(session, settings, unit, day, lang)
            missing = missing_workers(session=session, unit=unit, day=day, settings=settings)
            if missing:
                lines.append(t(lang, "digest_missing", count=indian(len(missing))))
                lines += [
                    f"• {m.name}{f' ({m.village})' if m.village else ''} — "
                    + (local_phone(m.phone) if m.phone else t(lang, "no_phone"))
                    for m in missing
                ]
            else:
                lines.append(t(lang, "digest_all_in"))
            off = leave.off_people_in(session, settings, unit, day)
            if off and day not in leave.unit_holidays(session, settings, unit, day, day):
                names = sorted(w.name for w in others.unit_workers(session, unit) if w.id in off)
                lines.append(t(lang, "digest_off_names", names=", ".join(names)))
            total, review = proof_counts(session=session, unit=unit, day=day)
            if total:
                lines.append(t(lang, "digest_proofs", total=indian(total), review=indian(review)))
            lines += problem_digest.sector_lines(session, settings, unit, day, lang)
            unreachable = _unreachable(session, unit, day)
            if unreachable:
                lines.append(
                    t(
                        lang,
                        "digest_unreachable",
                        count=indian(len(unreachable)),
                        names=", ".join(unreachable),
                    )
                )
            lines += _to_move(session, settings, unit, lang)
            sections.append("\n".join(lines))
        if sections:
            messages.append(Message(person, "\n\n".join(sections)))
    return messages


def _to_move(session: Session, settings: Settings, unit: Unit, lang: str) -> list[str]:
    """With several bots: the unit's workers not yet on their district's bot, and its link."""
    if not multi(settings):
        return []
    workers = list(
        session.exec(
            select(Person).where(col(Person.telegram_chat_id).is_not(None), *worker_scope(unit))
        ).all()
    )
    lines = []
    for group in still_to_move(session, settings, workers):
        values = {"bot": group.bot, "count": indian(len(group.names)), "names": ", ".join(group.names)}
        if group.link:
            lines.append(t(lang, "digest_to_move", link=group.link, **values))
        else:
            lines.append(t(lang, "digest_to_move_no_link", **values))
    return lines


def _ranking(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    metric = settings.primary_metric
    rows = breakdown(session=session, unit=unit, start=day, end=day, metric=metric, settings=settings)
    if not rows:
        return []
    level = t(lang, f"level_{CHILD_LEVEL[unit.level]}")
    lines = [t(lang, "digest_ranking", level=level, metric=settings.metric(metric).label(lang))]
    lines += [
        f"{r.rank}. {r.name} — {indian(r.value)} ({indian(r.reported)}/{indian(r.workers)})"
        for r in rows
    ]
    return lines


def _pace(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """Campaign to date, the daily rate still needed and when it finishes at the recent rate."""
    metric = settings.primary_metric
    label = settings.metric(metric).label(lang)
    start = settings.campaign.start
    lines = []
    if start is not None and start <= day:
        done = unit_totals(session=session, unit=unit, start=start, end=day).get(metric, 0)
        lines.append(t(lang, "digest_campaign", metric=label, done=indian(done)))
    week = unit_totals(session=session, unit=unit, start=day - dt.timedelta(days=6), end=day).get(
        metric, 0
    )
    rate = math.ceil(week / 7)
    fig = figures(session=session, settings=settings, unit=unit, start=day, end=day)
    if fig.required_daily is not None and fig.campaign_total is not None:
        lines.append(
            t(
                lang,
                "digest_required",
                required=indian(fig.required_daily),
                total=indian(fig.campaign_total),
            )
        )
    if fig.projected_finish is not None:
        lines.append(
            t(lang, "digest_projected", rate=indian(rate), date=short_date(fig.projected_finish, lang))
        )
    else:
        lines.append(t(lang, "digest_pace", rate=indian(rate)))
    return lines


def _portal(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """The portal's count against the self-reported one over the campaign so far, both counted
    over the days the portal has figures for."""
    start = min(settings.campaign.start or day, day)
    found = official_gap(
        session=session, unit=unit, start=start, end=day, metric=settings.primary_metric
    )
    line = official_line(found, lang, day)
    return [line] if line else []


def _portal_flags(
    session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str
) -> list[str]:
    """Blocks whose self-reported count over the last 7 days exceeds the portal's by more than
    `official.gap_share` of it: "check the figures of these blocks"."""
    if unit.level != "district":
        return []
    blocks = children(session=session, unit=unit)
    gaps = official_gaps(
        session,
        "block",
        [b.id for b in blocks if b.id is not None],
        day - dt.timedelta(days=6),
        day,
        settings.primary_metric,
    )
    share = settings.official.gap_share
    flagged = [
        (block, gaps[block.id])
        for block in blocks
        if block.id in gaps and gaps[block.id].gap > share * gaps[block.id].official
    ]
    if not flagged:
        return []
    lines = ["", t(lang, "official_flag_head", share=percent(share * 100))]
    lines += [
        t(
            lang,
            "official_flag_row",
            unit=block.name,
            self=indian(found.reported),
            official=indian(found.official),
            gap_pct=gap_share(found),
        )
        for block, found in flagged
    ]
    return lines


def _review(session: Session, settings: Settings, unit: Unit, day: dt.date, lang: str) -> list[str]:
    """An officer's evening view of a unit: figures, target, pace, the portal's count, and the
    units below ranked."""
    lines = _unit_section(session, settings, unit, day, lang)
    lines += _pace(session, settings, unit, day, lang)
    lines += _portal(session, settings, unit, day, lang)
    lines += problem_digest.review_lines(session, settings, unit, day, lang)
    return [*lines, "", *_ranking(session, settings, unit, day, lang)]


def bmo_digests(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """19:00: each BMO gets her block against target, the pace, and sectors ranked."""
    messages = []
    for person in _people(session, "bmo"):
        lang = person.language
        sections = []
        for unit in scope_units(session, person, settings.state):
            lines = _review(session, settings, unit, day, lang)
            sections.append("\n".join(lines))
        if sections:
            messages.append(Message(person, "\n\n".join(sections)))
    return messages


def district_digests(session: Session, settings: Settings, day: dt.date) -> list[Message]:
    """20:00: each district officer gets blocks ranked and the district against target, with a chart."""
    metric = settings.primary_metric
    messages = []
    for person in _people(session, "district_officer"):
        lang = person.language
        label = settings.metric(metric).label(lang)
        for unit in scope_units(session, person, settings.state):
            lines = _review(session, settings, unit, day, lang)
            lines += _portal_flags(session, settings, unit, day, lang)
            blocks = breakdown(
                session=session, unit=unit, start=day, end=day, metric=metric, settings=settings
            )
            chart = block_chart(
                title=t(lang, "chart_title", unit=unit.name, metric=label, date=short_date(day, lang)),
                rows=[(b.name, b.value, b.target) for b in sorted(blocks, key=lambda b: b.rank)],
                value_label=label,
                target_label=t(lang, "chart_target"),
                language=lang,
            )
            name = f"{unit.name}_{day.isoformat()}.png".replace("/", "_")
            messages.append(Message(person, "\n".join(lines), chart, name))
    return messages


JOBS: dict[str, Planner] = {
    "start_message": start_messages,
    "reminder": reminders,
    "supervisor_digest": supervisor_digests,
    "bmo_digest": bmo_digests,
    "district_digest": district_digests,
    "problem_notice": problem_digest.notices,
}
ROLE_JOBS = {"supervisor": "supervisor_digest", "bmo": "bmo_digest", "district": "district_digest"}

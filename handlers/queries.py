"""What supervisors, BMOs and officers ask: /status, /missing, /top, /export — scoped to their units."""

from __future__ import annotations

import datetime as dt

from bot import leave
from bot.core.contracts import Context
from bot.core.messages import Document, Reply
from bot.export import xlsx_bytes
from bot.format import (
    indian,
    official_line,
    pace_lines,
    rank_line,
    rank_row,
    target_line,
    totals_line,
)
from bot.i18n import short_date, t
from bot.numbers import percent
from bot.parser import Command
from bot.phones import local_phone
from bot.rollups.export_table import export_rows
from bot.rollups.figures import status_view
from bot.rollups.ranking import RankRow, breakdown, by_achievement, portal_ranking
from bot.rollups.scope import count_workers, parent_unit
from bot.rollups.sums import missing_workers, reported_count
from bot.store import reports
from bot.store.units import CHILD_LEVEL, unit_for
from handlers.common import PCT_WORDS, PORTAL_WORDS, asked_units, read_args

LONG_RANKING = 20  # longer rankings show the top, the asker's own unit and the bottom


def _period(ctx: Context, word: str | None) -> tuple[dt.date, dt.date, str]:
    lang, today = ctx.lang, ctx.today
    if word == "week":
        start = today - dt.timedelta(days=6)
        label = t(lang, "period_week", start=short_date(start, lang), end=short_date(today, lang))
        return start, today, label
    if word == "campaign":
        start = ctx.settings.campaign.start or today
        start = min(start, today)
        label = t(lang, "period_campaign", start=short_date(start, lang), end=short_date(today, lang))
        return start, today, label
    return today, today, t(lang, "period_today", date=short_date(today, lang))


def _by_pct(command: Command) -> bool:
    return any(word.casefold() in PCT_WORDS for word in command.args)


def _worker_status(ctx: Context) -> list[Reply]:
    person, lang, settings = ctx.person, ctx.lang, ctx.settings
    assert person.id is not None
    today_values = reports.report_values(session=ctx.session, person_id=person.id, day=ctx.today)
    today_line = f"{t(lang, 'today')}: " + (
        " · ".join(
            f"{m.label(lang)} {indian(today_values[m.key])}"
            for m in settings.metrics
            if m.key in today_values
        )
        if today_values
        else t(lang, "not_reported")
    )
    campaign = reports.person_totals(
        session=ctx.session, person_id=person.id, start=settings.campaign.start, end=ctx.today
    )
    campaign_line = t(lang, "campaign_totals", totals=totals_line(settings, campaign, lang))
    return [
        ctx.say(
            "worker_status",
            name=person.name,
            day=short_date(ctx.today, lang),
            today=today_line,
            campaign=campaign_line,
        )
    ]


def status(ctx: Context, command: Command) -> list[Reply]:
    """/status [unit] [today|week|campaign]: totals, who reported, target, pace, coverage, rank,
    and the level below ranked."""
    if ctx.person.is_field_worker:
        return _worker_status(ctx)
    period, unit_text = read_args(ctx, command)
    units = asked_units(ctx, unit_text)
    if isinstance(units, Reply):
        return [units]
    start, end, label = _period(ctx, period)
    lang, settings, metric = ctx.lang, ctx.settings, ctx.settings.primary_metric
    metric_label = settings.metric(metric).label(lang)
    replies = []
    for unit in units:
        fig, rows = status_view(session=ctx.session, settings=settings, unit=unit, start=start, end=end)
        lines = [
            t(
                lang,
                "unit_status",
                unit=unit.path_in(lang),
                period=label,
                reported=indian(fig.reported),
                workers=indian(fig.workers),
                totals=totals_line(settings, fig.totals, lang),
            )
        ]
        target = target_line(settings, fig, lang, gap=True)
        if target:
            lines.append(target)
        lines += pace_lines(settings, fig, lang)
        portal = official_line(fig.official, lang, fig.end)
        if portal:
            lines.append(portal)
        place = rank_line(fig, lang)
        if place:
            lines.append(place)
        if rows:
            level = CHILD_LEVEL[unit.level]
            lines.append("")
            lines.append(t(lang, "breakdown_head", level=t(lang, f"level_{level}")))
            for row in rows:
                share = f" · {percent(row.achievement_pct)}" if row.achievement_pct is not None else ""
                if level == "worker":
                    # 🏖: off (leave, holiday) and nothing reported; she is not counted.
                    mark = "✓" if row.reported else ("🏖" if not row.workers else "✗")
                    lines.append(
                        f"{row.rank}. {row.name} — {metric_label} {indian(row.value)} {mark}{share}"
                    )
                else:
                    lines.append(
                        f"{row.rank}. {row.name} — {metric_label} {indian(row.value)} "
                        f"({indian(row.reported)}/{indian(row.workers)}){share}"
                    )
        replies.append(Reply("\n".join(lines)))
    return replies


def missing(ctx: Context, command: Command) -> list[Reply]:
    """/missing: who has not reported today, with phone numbers (private chats only)."""
    lang, day = ctx.lang, ctx.today
    if ctx.person.is_field_worker:
        assert ctx.person.id is not None
        done = reports.has_reported(session=ctx.session, person_id=ctx.person.id, day=day)
        key = "missing_worker_done" if done else "missing_worker"
        return [ctx.say(key, day=short_date(day, lang))]
    if ctx.inbound.is_group:
        return [ctx.say("private_only")]
    _, unit_text = read_args(ctx, command)
    units = asked_units(ctx, unit_text)
    if isinstance(units, Reply):
        return [units]
    replies = []
    for unit in units:
        settings = ctx.settings
        away = leave.away_in(ctx.session, settings, unit, day, day)
        workers = count_workers(session=ctx.session, unit=unit) - away.not_reported
        # Hundreds of names help nobody at district level: counts per unit below, ask by name.
        counts_only = unit.level in ("district", "state")
        absent = (
            []
            if counts_only
            else missing_workers(session=ctx.session, unit=unit, day=day, settings=settings)
        )
        if counts_only:
            reported = reported_count(session=ctx.session, unit=unit, start=day, end=day)
            # The reported may include workers who have since left; never count below zero.
            absent_count = max(workers - reported, 0)
        else:
            absent_count = len(absent)
            reported = workers - absent_count
        if not absent_count:
            replies.append(
                ctx.say(
                    "missing_none",
                    unit=unit.path_in(lang),
                    day=short_date(day, lang),
                    reported=indian(reported),
                    workers=indian(workers),
                )
            )
            continue
        lines = [
            t(
                lang,
                "missing_head",
                unit=unit.path_in(lang),
                day=short_date(day, lang),
                count=indian(absent_count),
                reported=indian(reported),
                workers=indian(workers),
            )
        ]
        if away.off:
            lines.append(t(lang, "digest_on_leave", count=indian(away.off)))
        if counts_only:
            rows = breakdown(
                session=ctx.session,
                unit=unit,
                start=day,
                end=day,
                metric=settings.primary_metric,
                settings=settings,
            )
            for row in sorted(rows, key=lambda r: (r.reported - r.workers, r.name.casefold())):
                lines.append(f"• {row.name}: {indian(max(row.workers - row.reported, 0))}")
        else:
            sector = None
            for worker in absent:
                if unit.level != "sector" and worker.sector != sector:
                    sector = worker.sector
                    lines.append(f"\n{sector}:")
                village = f" ({worker.village})" if worker.village else ""
                phone = local_phone(worker.phone) if worker.phone else t(lang, "no_phone")
                lines.append(f"• {worker.name}{village} — {phone}")
        replies.append(Reply("\n".join(lines)))
    return replies


def _ranking_lines(rows: list[RankRow], own: int | None, lang: str, *, by_pct: bool) -> list[str]:
    """A ranking as lines, the asker's unit marked; a long one shows its top, the asker's
    unit with its neighbours, and its bottom."""
    ordered = by_achievement(rows) if by_pct else rows
    mine = next((i for i, r in enumerate(ordered) if own is not None and r.key == own), None)
    shown = set(range(len(ordered)))
    if len(ordered) > LONG_RANKING:
        shown = set(range(10)) | set(range(len(ordered) - 3, len(ordered)))
        if mine is not None:
            shown |= {mine - 1, mine, mine + 1}
    lines, skipped = [], 0
    for index, row in enumerate(ordered):
        if index not in shown:
            skipped += 1
            continue
        if skipped:
            lines.append(t(lang, "top_more", count=indian(skipped)))
            skipped = 0
        mark = t(lang, "yours") if index == mine else ""
        lines.append(rank_row(row, lang, by_pct=by_pct, mark=mark))
    if skipped:
        lines.append(t(lang, "top_more", count=indian(skipped)))
    return lines


def _portal_top(ctx: Context, command: Command) -> list[Reply]:
    """/top portal [today|week|campaign]: the asker's unit among its peers and the units below,
    ranked by the official portal's counts (over the campaign unless a period is named: the
    portal's figures come days late)."""
    period, unit_text = read_args(ctx, command)
    units = asked_units(ctx, unit_text)
    if isinstance(units, Reply):
        return [units]
    start, end, label = _period(ctx, period or "campaign")
    lang, settings, metric = ctx.lang, ctx.settings, ctx.settings.primary_metric
    metric_label = settings.metric(metric).label(lang)
    texts: list[str] = []
    for unit in units:
        sections = []
        parent = parent_unit(ctx.session, unit, settings.state)
        if parent is not None:
            sections.append((parent, unit.id))
        sections.append((unit, None))
        for scope, own in sections:
            rows, without = portal_ranking(
                session=ctx.session, unit=scope, start=start, end=end, metric=metric
            )
            if not rows:
                continue
            lines = [t(lang, "top_head_portal", unit=scope.path, period=label, metric=metric_label)]
            lines += _ranking_lines(rows, own, lang, by_pct=False)
            if without:
                names = ", ".join(u.name for u in without)
                lines.append(t(lang, "top_portal_missing", names=names))
            texts.append("\n".join(lines))
    if not texts:
        return [ctx.say("top_portal_none")]
    return [Reply(text) for text in texts]


def top(ctx: Context, command: Command) -> list[Reply]:
    """/top [today|week|campaign] [%|portal]: where the asker's unit stands among its peers
    (marked) and the units below, by the primary metric or, with %, by achievement of the
    target, or by the official portal's counts."""
    if not ctx.person.is_field_worker and any(w.casefold() in PORTAL_WORDS for w in command.args):
        return _portal_top(ctx, command)
    period, unit_text = read_args(ctx, command)
    by_pct = _by_pct(command)
    start, end, label = _period(ctx, period)
    lang, settings, metric = ctx.lang, ctx.settings, ctx.settings.primary_metric
    metric_label = settings.metric(metric).label(lang)
    head_key = "top_head_pct" if by_pct else "top_head"
    person = ctx.person
    if person.is_field_worker:
        sector = unit_for(
            ctx.session,
            district_id=person.district_id,
            block_id=person.block_id,
            sector_id=person.sector_id,
            state_name=settings.state,
        )
        rows = breakdown(session=ctx.session, unit=sector, start=start, end=end, metric=metric)
        mine = next((r for r in rows if r.key == person.id), None)
        if mine is None:
            return [ctx.say("top_nothing")]
        # A worker sees her own place, not the other workers' names.
        head = t(lang, "top_head", unit=sector.path, period=label, metric=metric_label)
        return [
            Reply(
                f"{head}\n{mine.rank}/{len(rows)} — {metric_label} {indian(mine.value)} {t(lang, 'you')}"
            )
        ]
    units = asked_units(ctx, unit_text)
    if isinstance(units, Reply):
        return [units]
    texts: list[str] = []
    hint = False
    for unit in units:
        sections = []
        parent = parent_unit(ctx.session, unit, settings.state)
        if parent is not None:
            sections.append((parent, unit.id))
        sections.append((unit, None))
        for scope, own in sections:
            rows = breakdown(
                session=ctx.session,
                unit=scope,
                start=start,
                end=end,
                metric=metric,
                settings=settings,
                counts=False,
            )
            if not rows:
                continue
            lines = [t(lang, head_key, unit=scope.path, period=label, metric=metric_label)]
            lines += _ranking_lines(rows, own, lang, by_pct=by_pct)
            hint = hint or (not by_pct and any(r.achievement_pct is not None for r in rows))
            texts.append("\n".join(lines))
    if not texts:
        return [ctx.say("top_nothing")]
    if hint:
        texts[-1] += "\n\n" + t(lang, "top_hint_pct")
    return [Reply(text) for text in texts]


def export(ctx: Context, command: Command) -> list[Reply]:
    """/export [today|week|campaign]: an Excel file of the asker's units, one sheet per level."""
    if ctx.person.is_field_worker:
        return _worker_status(ctx)
    if ctx.inbound.is_group:
        return [ctx.say("private_only")]
    period, unit_text = read_args(ctx, command)
    units = asked_units(ctx, unit_text)
    if isinstance(units, Reply):
        return [units]
    start, end, label = _period(ctx, period or "week")
    replies = []
    for unit in units:
        sheets = []
        levels = ["district", "block", "sector", "worker"]
        first = levels.index(unit.level) if unit.level in levels else 0
        for level in levels[first:]:
            header, rows = export_rows(
                session=ctx.session,
                settings=ctx.settings,
                level=level,
                start=start,
                end=end,
                within=unit,
            )
            sheets.append((level, header, rows))
        name = f"fieldbot_{unit.path.replace('/', '_')}_{start}_{end}.xlsx"
        document = Document(
            name, xlsx_bytes(sheets), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        replies.append(
            Reply(ctx.say("export_ready", unit=unit.path, period=label).text, document=document)
        )
    return replies

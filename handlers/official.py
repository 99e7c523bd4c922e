"""The official portal's counts sent in chat: a district officer's or admin's .xlsx or .csv file,
checked as `fieldbot official import` checks it, and imported once it is clean. Which file it is,
and who may send one, is decided in handlers/uploads.py."""

from __future__ import annotations

from pathlib import Path

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.i18n import short_date, t
from bot.numbers import indian
from bot.official.counts import import_official
from bot.official.read import OfficialInvalid
from bot.store.units import scope_units


def import_file(ctx: Context, path: Path, name: str) -> list[Reply]:
    """Every bad row listed with its number and reason (nothing imported then), or the import's
    summary. A district officer imports her districts only."""
    person, lang = ctx.person, ctx.lang
    shown = ctx.settings.uploads.max_problems_shown
    districts = None
    if person.role != "admin":
        units = scope_units(ctx.session, person, ctx.settings.state)
        districts = {u.district_id for u in units if u.district_id is not None}
    try:
        summary = import_official(
            session=ctx.session,
            settings=ctx.settings,
            path=path,
            today=ctx.today,
            districts=districts,
        )
    except OfficialInvalid as invalid:
        problems = invalid.problems
        lines = [t(lang, "official_invalid_head", name=name, count=indian(len(problems)))]
        lines += [p.text(lang) for p in problems[:shown]]
        if len(problems) > shown:
            lines.append(t(lang, "official_invalid_more", count=indian(len(problems) - shown)))
        return [Reply("\n".join(lines))]
    days = ", ".join(short_date(d, lang) for d in summary.days)
    lines = [
        t(
            lang,
            "official_imported",
            name=name,
            rows=indian(summary.rows),
            units=indian(summary.units),
            days=days,
        )
    ]
    if summary.replaced:
        lines.append(t(lang, "official_replaced", count=indian(summary.replaced)))
    if summary.totals_skipped:
        lines.append(t(lang, "official_totals_skipped", count=indian(summary.totals_skipped)))
    if summary.first_days:
        lines.append(t(lang, "official_first_days", count=indian(summary.first_days)))
    return [Reply("\n".join(lines))]

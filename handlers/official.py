"""The official portal's counts sent in chat: a district officer's or admin's .xlsx or .csv file,
checked as `fieldbot official import` checks it, and imported once it is clean."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.i18n import short_date, t
from bot.messages import Reply
from bot.numbers import indian
from bot.official import UPLOADERS, OfficialInvalid, import_official
from bot.service import Context
from bot.units import scope_units

MAX_SHOWN = 20  # problems listed in one answer; the rest are counted


def _suffix(name: str) -> str | None:
    suffix = Path(name).suffix.casefold()
    return suffix if suffix in (".xlsx", ".csv") else None


def upload(ctx: Context) -> list[Reply]:
    """A table file from a private chat: every bad row listed with its number and reason (nothing
    imported then), or the import's summary. A district officer imports her districts only."""
    inbound, person, lang = ctx.inbound, ctx.person, ctx.lang
    if person.role not in UPLOADERS:
        # In a group the team shares files among themselves: only an officer is answered there.
        return [] if inbound.is_group else [ctx.say("official_upload_role")]
    if inbound.is_group:
        return [ctx.say("official_upload_group")]
    if inbound.document_refused == "too_large":
        return [ctx.say("official_upload_too_large", max=indian(int(ctx.settings.official.max_file_mb)))]
    name = inbound.document_name or ""
    suffix = _suffix(name)
    if inbound.document_refused or inbound.document is None:
        return [ctx.say("official_upload_unavailable")]
    if suffix is None:
        return [ctx.say("official_upload_kind")]
    districts = None
    if person.role != "admin":
        units = scope_units(ctx.session, person, ctx.settings.state)
        districts = {u.district_id for u in units if u.district_id is not None}
    with tempfile.TemporaryDirectory(prefix="fieldbot-official-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(inbound.document)
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
            lines += [p.text(lang) for p in problems[:MAX_SHOWN]]
            if len(problems) > MAX_SHOWN:
                lines.append(t(lang, "official_invalid_more", count=indian(len(problems) - MAX_SHOWN)))
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

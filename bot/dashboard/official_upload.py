"""The official portal's counts uploaded on the dashboard: checked as `fieldbot official import
[--dry-run] [--skip-unknown]` checks them, every bad row listed with its number and reason, and
imported only when asked and every row is clean. A district officer imports her districts only."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from bot.core.service import Fieldbot
from bot.dashboard.auth import Viewer
from bot.dashboard.texts import t
from bot.i18n import short_date
from bot.numbers import indian
from bot.official.counts import import_official
from bot.official.read import OfficialInvalid


@dataclass
class Outcome:
    """What the upload page says: one line, the row-numbered problems (nothing imported then)
    and notes (rows left out, figures replaced, totals rows skipped)."""

    result: str
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_file(
    *,
    core: Fieldbot,
    viewer: Viewer,
    name: str,
    suffix: str,
    data: bytes,
    write: bool,
    skip_unknown: bool,
    today: dt.date,
) -> Outcome:
    lang = viewer.lang
    districts = None
    if viewer.person.role != "admin":
        districts = {u.district_id for u in viewer.units if u.district_id is not None}
    with tempfile.TemporaryDirectory(prefix="fieldbot-official-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        with Session(core.engine) as session:
            try:
                summary = import_official(
                    session=session,
                    settings=core.settings,
                    path=path,
                    today=today,
                    dry_run=not write,
                    skip_unknown=skip_unknown,
                    districts=districts,
                )
            except OfficialInvalid as invalid:
                session.rollback()
                errors = [p.text(lang) for p in invalid.problems]
                return Outcome(t(lang, "upload_errors", file=name, count=len(errors)), errors)
            if write:
                session.commit()
            else:
                session.rollback()
    days = ", ".join(short_date(d, lang) for d in summary.days)
    counts = {"name": name, "rows": indian(summary.rows), "units": indian(summary.units), "days": days}
    outcome = Outcome(t(lang, "official_imported" if write else "official_checked", **counts))
    if summary.unknown_skipped:
        outcome.notes.append(
            t(lang, "official_unknown_left_out", count=indian(len(summary.unknown_skipped)))
        )
        outcome.notes += [p.text(lang) for p in summary.unknown_skipped]
    if summary.replaced:
        key = "official_replaced" if write else "official_would_replace"
        outcome.notes.append(t(lang, key, count=indian(summary.replaced)))
    if summary.totals_skipped:
        outcome.notes.append(t(lang, "official_totals_skipped", count=indian(summary.totals_skipped)))
    if summary.first_days:
        outcome.notes.append(t(lang, "official_first_days", count=indian(summary.first_days)))
    return outcome

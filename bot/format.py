"""Figures as the bot writes them in replies and digests, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Settings
from bot.i18n import t
from bot.numbers import indian, percent
from bot.rollups import Figures


def totals_line(
    settings: Settings, totals: Mapping[str, int], lang: str, *, reported_only: bool = False
) -> str:
    """`आवेदन 25 · कार्ड 20 · …` in metric order; with `reported_only`, just the metrics given."""
    parts = [
        f"{m.label(lang)} {indian(totals.get(m.key, 0))}"
        for m in settings.metrics
        if not reported_only or m.key in totals
    ]
    return " · ".join(parts) if parts else "—"


def target_line(settings: Settings, fig: Figures, lang: str) -> str | None:
    """`लक्ष्य (कार्ड): 30/250 = 12.0%`, or None where the unit has no target."""
    if not fig.target:
        return None
    metric = settings.primary_metric
    return t(
        lang,
        "target_line",
        metric=settings.metric(metric).label(lang),
        done=indian(fig.totals.get(metric, 0)),
        target=indian(fig.target),
        pct=percent(fig.achievement_pct),
    )

"""Figures as the bot writes them in replies and digests, in the reader's language."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

from bot.config import Settings
from bot.i18n import short_date, t
from bot.numbers import indian as _indian
from bot.numbers import percent
from bot.rollups.figures import Figures
from bot.rollups.portal import OfficialGap
from bot.rollups.ranking import RankRow
from bot.rollups.scope import pct

# Babel takes a tenth of a millisecond a number; a state's ranking writes hundreds of them.
indian = functools.lru_cache(maxsize=8192)(_indian)


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


def date_near(day: dt.date, lang: str, reference: dt.date) -> str:
    """A date as short as it can be read: with its year only when that differs."""
    text = short_date(day, lang)
    if day.year != reference.year:
        text += f" {day.year}" if lang == "en" else f"/{day.year}"
    return text


def _gap(done: int, target: int, lang: str) -> str:
    return t(lang, "target_met") if done >= target else t(lang, "target_gap", gap=indian(target - done))


def target_line(settings: Settings, fig: Figures, lang: str, *, gap: bool = False) -> str | None:
    """`लक्ष्य (कार्ड): 30/250 = 12.0%` (with `gap`: `— 220 कम`), or None without a target."""
    if not fig.target:
        return None
    metric = settings.primary_metric
    done = fig.totals.get(metric, 0)
    line = t(
        lang,
        "target_line",
        metric=settings.metric(metric).label(lang),
        done=indian(done),
        target=indian(fig.target),
        pct=percent(fig.achievement_pct),
    )
    return f"{line} {_gap(done, fig.target, lang)}" if gap else line


def pace_lines(settings: Settings, fig: Figures, lang: str) -> list[str]:
    """Campaign so far against the daily target, the campaign total and the daily rate it needs,
    when it finishes at the recent pace, and coverage of the eligible population."""
    campaign = settings.campaign
    if campaign.start is None or fig.campaign_done is None:
        return []
    label = settings.metric(settings.primary_metric).label(lang)
    done = fig.campaign_done
    lines = []
    if fig.start > campaign.start:  # a range from the campaign's start already says this
        if fig.campaign_target:
            so_far = t(
                lang,
                "campaign_so_far",
                metric=label,
                done=indian(done),
                days=indian(fig.campaign_days),
                target=indian(fig.campaign_target),
                pct=percent(fig.campaign_achievement_pct),
            )
            lines.append(f"{so_far} {_gap(done, fig.campaign_target, lang)}")
        else:
            lines.append(t(lang, "campaign_so_far_plain", metric=label, done=indian(done)))
    total = fig.campaign_total
    if total is not None and total > 0:
        share = percent(pct(done, total))
        if fig.reached_on is not None:
            lines.append(
                t(
                    lang,
                    "campaign_reached",
                    total=indian(total),
                    date=date_near(fig.reached_on, lang, fig.end),
                )
            )
        elif fig.required_daily is not None and fig.days_left:
            lines.append(
                t(
                    lang,
                    "campaign_needed",
                    total=indian(total),
                    done=indian(done),
                    pct=share,
                    days=indian(fig.days_left),
                    required=indian(fig.required_daily),
                )
            )
        elif fig.days_left == 0:
            lines.append(
                t(lang, "campaign_days_over", total=indian(total), done=indian(done), pct=share)
            )
        if fig.reached_on is None and fig.rate_days:
            if fig.projected_finish is not None:
                line = t(
                    lang,
                    "pace_projected",
                    days=indian(fig.rate_days),
                    rate=indian(round(fig.rate or 0)),
                    date=date_near(fig.projected_finish, lang, fig.end),
                )
                if campaign.end is not None and fig.projected_finish > campaign.end:
                    line += t(lang, "pace_late", end=date_near(campaign.end, lang, fig.end))
                lines.append(line)
            else:
                lines.append(t(lang, "pace_stalled", days=indian(fig.rate_days), metric=label))
    if fig.coverage_pct is not None and fig.covered is not None and fig.eligible:
        line = t(
            lang,
            "coverage_line",
            metric=label,
            covered=indian(fig.covered),
            eligible=indian(fig.eligible),
            pct=percent(fig.coverage_pct),
        )
        if fig.goal.baseline:
            line += t(lang, "coverage_parts", baseline=indian(fig.goal.baseline), done=indian(done))
        lines.append(line)
    return lines


def gap_share(found: OfficialGap) -> str:
    """`+5.6%` (self-reported above the portal), `-3.0%`, or the count itself (`+12`) when the
    portal counted none."""
    if found.gap_pct is None:
        return f"{'+' if found.gap >= 0 else '-'}{indian(abs(found.gap))}"
    return f"{'+' if found.gap_pct >= 0 else ''}{percent(found.gap_pct)}"


def official_line(found: OfficialGap | None, lang: str, end: dt.date) -> str | None:
    """`पोर्टल: 2,681 · स्व-रिपोर्ट 2,830 (+5.6%)`, both over the days the portal has figures
    for, with `— पोर्टल: 24/11 तक` when those stop before `end`; None without portal figures."""
    if found is None:
        return None
    line = t(
        lang,
        "official_line",
        official=indian(found.official),
        self=indian(found.reported),
        gap_pct=gap_share(found),
    )
    if found.through < end:
        line += t(lang, "official_through", date=date_near(found.through, lang, end))
    return line


def rank_line(fig: Figures, lang: str) -> str | None:
    """`प्रदेश के जिलों में स्थान: 1/75`."""
    if fig.rank is None or fig.of is None:
        return None
    return t(lang, f"rank_{fig.unit.level}", rank=indian(fig.rank), of=indian(fig.of))


def rank_row(row: RankRow, lang: str, *, by_pct: bool = False, mark: str = "") -> str:
    """One line of a ranking: `1. Hardoi — 2,681 · 26.8%`, or by achievement
    `1. Hardoi — 26.8% (2,681/10,000)`."""
    suffix = f" {mark}" if mark else ""
    if by_pct:
        if row.pct_rank is None or row.target is None:
            return f"– {row.name} — {indian(row.value)} ({t(lang, 'top_no_target')}){suffix}"
        return (
            f"{row.pct_rank}. {row.name} — {percent(row.achievement_pct)} "
            f"({indian(row.value)}/{indian(row.target)}){suffix}"
        )
    share = f" · {percent(row.achievement_pct)}" if row.achievement_pct is not None else ""
    return f"{row.rank}. {row.name} — {indian(row.value)}{share}{suffix}"

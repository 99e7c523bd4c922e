"""What a dashboard page shows, read with the same functions `/status`, `/missing`, `/photos` and
`/export` use, in the same scope. Plain functions of an open session: the web routes call them,
and so does the benchmark."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import leave
from bot.config import Settings
from bot.dashboard import blockers, charts
from bot.dashboard.auth import Viewer
from bot.dashboard.texts import t
from bot.format import date_near, official_line, rank_line
from bot.i18n import short_date
from bot.numbers import indian, percent
from bot.official.counts import official_series
from bot.phones import local_phone
from bot.presence.proofs import proofs, reused_day, village_name
from bot.rollups.figures import Figures, status_view
from bot.rollups.ranking import RankRow, by_achievement
from bot.rollups.scope import campaign_days, parent_unit
from bot.rollups.scope import children as child_units
from bot.rollups.sums import daily as daily_series
from bot.rollups.sums import missing_workers, reported_below
from bot.store.units import CHILD_LEVEL, Unit, resolve_units, state_unit
from handlers.presence import distance_text, reason_texts
from models import DailyReport, Person, PhoneView, ProofReview, ReportValue

PERIODS = ("today", "week", "campaign", "range")
SORTS = ("rank", "name", "pct", "reported")
MAX_RANGE_DAYS = 366
MAX_CHART_DAYS = 92
MAX_PROOFS_LISTED = 60
REVIEWER_ROLES = ("supervisor", "bmo")
UPLOADER_ROLES = ("district_officer", "admin")
UPLOAD_KINDS = ("roster", "targets", "official")


def unit_url(unit: Unit, **params: str) -> str:
    query = {k: v for k, v in params.items() if v}
    return f"/dashboard/{quote(unit.path, safe='/')}" + (f"?{urlencode(query)}" if query else "")


def find_unit(session: Session, settings: Settings, path: str) -> Unit | None:
    """The unit whose full path this is (the state by its name), or None."""
    wanted = path.strip().strip("/")
    if not wanted:
        return None
    if wanted.casefold() == settings.state.casefold():
        return state_unit(settings.state)
    for unit in resolve_units(session, wanted, settings.state):
        if unit.path.casefold() == wanted.casefold():
            return unit
    return None


@dataclass(frozen=True)
class Period:
    key: str
    start: dt.date
    end: dt.date
    label: str
    bad: bool = False

    def params(self) -> dict[str, str]:
        if self.key == "range":
            return {"period": "range", "from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"period": self.key} if self.key != "today" else {}


def period_of(settings: Settings, query: dict[str, str], today: dt.date, lang: str) -> Period:
    """today, the last 7 days, the campaign so far, or a chosen range (as `/status` reads them)."""
    key = query.get("period", "today")
    if key == "week":
        start = today - dt.timedelta(days=6)
        return Period("week", start, today, f"{short_date(start, lang)} – {short_date(today, lang)}")
    if key == "campaign":
        start = min(settings.campaign.start or today, today)
        return Period("campaign", start, today, f"{short_date(start, lang)} – {short_date(today, lang)}")
    if key == "range":
        try:
            start = dt.date.fromisoformat(query.get("from", ""))
            end = dt.date.fromisoformat(query.get("to", ""))
        except ValueError:
            start, end = today, dt.date.min
        if start <= end <= today and (end - start).days < MAX_RANGE_DAYS:
            label = f"{date_near(start, lang, today)} – {date_near(end, lang, today)}"
            return Period("range", start, end, label)
        return Period("today", today, today, short_date(today, lang), bad=True)
    return Period("today", today, today, f"{t(lang, 'p_today')} {short_date(today, lang)}")


def log_phone_view(session: Session, viewer: Viewer, what: str, unit: Unit, now: dt.datetime) -> None:
    """Who saw or downloaded phone numbers, what, and when (PRIVACY.md)."""
    assert viewer.person.id is not None
    session.add(PhoneView(person_id=viewer.person.id, what=what, unit=unit.path, viewed_at=now))


@dataclass
class UnitPage:
    """Everything the unit page template shows."""

    unit: Unit
    period: Period
    lang: str
    projector: bool
    cards: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, detail
    totals: list[tuple[str, str]] = field(default_factory=list)
    place: str | None = None
    portal: str | None = None  # the portal's count against the self-reported, as /status says it
    chart_metric: str = ""
    chart_reported: str = ""
    chart_titles: tuple[str, str] = ("", "")
    child_level: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    sort: str = "rank"
    sort_links: list[tuple[str, str, bool]] = field(default_factory=list)
    missing: dict[str, Any] = field(default_factory=dict)
    proofs: dict[str, Any] = field(default_factory=dict)
    crumbs: list[tuple[str, str]] = field(default_factory=list)
    figures: Figures | None = None
    blockers: blockers.Blockers | None = None


def _crumbs(session: Session, settings: Settings, viewer: Viewer, unit: Unit) -> list[tuple[str, str]]:
    """The units above this one that the viewer may open, then this one."""
    chain = [unit]
    parent = parent_unit(session, unit, settings.state)
    while parent is not None:
        chain.insert(0, parent)
        parent = parent_unit(session, parent, settings.state)
    return [(u.name, unit_url(u)) for u in chain if viewer.sees(u)]


def unit_page(
    *,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    unit: Unit,
    query: dict[str, str],
    today: dt.date,
    now: dt.datetime,
    projector: bool,
) -> UnitPage:
    lang = viewer.lang
    period = period_of(settings, query, today, lang)
    metric = settings.primary_metric
    metric_label = settings.metric(metric).label(lang)
    page = UnitPage(unit, period, lang, projector)
    fig, rows = status_view(
        session=session, settings=settings, unit=unit, start=period.start, end=period.end
    )
    page.figures = fig
    page.crumbs = _crumbs(session, settings, viewer, unit)
    _cards(page, settings, fig, metric_label)
    page.totals = [(m.label(lang), indian(fig.totals.get(m.key, 0))) for m in settings.metrics]
    page.place = rank_line(fig, lang)
    page.portal = official_line(fig.official, lang, fig.end)
    _charts(page, session, settings, fig, metric_label)
    _rows(page, session, settings, viewer, rows, query)
    _missing(page, session, settings, viewer, rows, today, now)
    _proofs(page, session, settings, viewer, today)
    page.blockers = blockers.build(session=session, settings=settings, unit=unit, today=today, lang=lang)
    return page


def _cards(page: UnitPage, settings: Settings, fig: Figures, metric_label: str) -> None:
    lang = page.lang
    done = fig.totals.get(fig.primary_metric, 0)
    page.cards.append(
        (
            t(lang, "reported"),
            t(lang, "of_workers", reported=indian(fig.reported), workers=indian(fig.workers)),
            "",
        )
    )
    if fig.target:
        page.cards.append(
            (
                f"{t(lang, 'target')} ({metric_label})",
                f"{indian(done)} / {indian(fig.target)}",
                f"{t(lang, 'achievement')} {percent(fig.achievement_pct)}",
            )
        )
    else:
        page.cards.append((metric_label, indian(done), t(lang, "no_target")))
    if fig.campaign_done is not None:
        detail = ""
        if fig.campaign_target:
            detail = f"/ {indian(fig.campaign_target)} · {percent(fig.campaign_achievement_pct)}"
        page.cards.append((t(lang, "campaign_so_far"), indian(fig.campaign_done), detail))
    if fig.required_daily is not None:
        page.cards.append(
            (t(lang, "required_daily"), indian(fig.required_daily), f"{indian(fig.days_left or 0)} d")
        )
    if fig.projected_finish is not None:
        late = (
            settings.campaign.end is not None
            and fig.reached_on is None
            and fig.projected_finish > settings.campaign.end
        )
        page.cards.append(
            (
                t(lang, "projected_finish"),
                date_near(fig.projected_finish, lang, fig.end),
                "⚠" if late else "",
            )
        )
    if fig.coverage_pct is not None and fig.covered is not None and fig.eligible:
        page.cards.append(
            (
                t(lang, "coverage"),
                percent(fig.coverage_pct),
                f"{indian(fig.covered)} / {indian(fig.eligible)}",
            )
        )


def _charts(
    page: UnitPage, session: Session, settings: Settings, fig: Figures, metric_label: str
) -> None:
    lang, period = page.lang, page.period
    end = period.end
    start = period.start
    if period.key == "today":
        start = end - dt.timedelta(days=13)
        if settings.campaign.start is not None and settings.campaign.start <= end:
            start = max(start, settings.campaign.start)
    start = max(start, end - dt.timedelta(days=MAX_CHART_DAYS - 1))
    series = daily_series(
        session=session, unit=page.unit, start=start, end=end, metric=fig.primary_metric
    )
    days = [day for day, _, _ in series]
    daily = fig.goal.daily
    goals = [daily if daily is not None and campaign_days(settings, day, day) else None for day in days]
    portal = official_series(
        session=session, unit=page.unit, start=start, end=end, metric=fig.primary_metric
    )
    page.chart_titles = (t(lang, "chart_metric", metric=metric_label), t(lang, "chart_reported"))
    page.chart_metric = charts.bars(
        days,
        [value for _, value, _ in series],
        line=goals,
        title=t(lang, "chart_metric", metric=metric_label),
        line_label=t(lang, "daily_target", target=indian(daily)) if daily else "",
        second=charts.Series(
            portal, t(lang, "chart_portal"), t(lang, "chart_self_reported", metric=metric_label)
        )
        if portal
        else None,
    )
    page.chart_reported = charts.bars(
        days,
        [reported for _, _, reported in series],
        line=fig.workers,
        title=t(lang, "chart_reported"),
        line_label=t(lang, "of_workers", reported="", workers=indian(fig.workers)).strip(" /"),
        over_class="bar alt",
    )


def _rows(
    page: UnitPage,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    rows: list[RankRow],
    query: dict[str, str],
) -> None:
    lang, unit, period = page.lang, page.unit, page.period
    page.child_level = CHILD_LEVEL[unit.level]
    sort = query.get("sort", "rank")
    page.sort = sort if sort in SORTS else "rank"
    ordered = list(rows)
    if page.sort == "name":
        ordered.sort(key=lambda r: r.name.casefold())
    elif page.sort == "pct":
        ordered = by_achievement(ordered)
    elif page.sort == "reported":
        ordered.sort(key=lambda r: (r.reported / r.workers if r.workers else 0, r.name.casefold()))
    base = period.params()
    page.sort_links = [
        (t(lang, key), unit_url(unit, **base, sort=key if key != "rank" else ""), key == page.sort)
        for key in (
            ("rank", "name", "pct", "reported") if page.child_level != "worker" else ("rank", "name")
        )
    ]
    worker_days: dict[int, tuple[dt.date | None, int]] = {}
    if page.child_level == "worker":
        worker_days = _worker_days(session, unit, period.start, period.end)
    children = (
        {c.id: c for c in child_units(session=session, unit=unit)}
        if page.child_level != "worker"
        else {}
    )
    for row in ordered:
        item: dict[str, Any] = {
            "rank": row.rank,
            "name": row.name,
            "value": indian(row.value),
            "totals": [indian(row.totals.get(m.key, 0)) for m in settings.metrics],
            "pct": percent(row.achievement_pct) if row.achievement_pct is not None else "—",
            "target": indian(row.target) if row.target is not None else "—",
            "lagging": row.achievement_pct is not None and row.achievement_pct < 50,
        }
        if page.child_level == "worker":
            last, days = worker_days.get(row.key, (None, 0))
            item["reported"] = "✓" if row.reported else "✗"
            item["last"] = date_near(last, lang, period.end) if last else t(lang, "never")
            item["days"] = indian(days)
        else:
            item["reported"] = f"{indian(row.reported)} / {indian(row.workers)}"
            child = children.get(row.key)
            item["url"] = unit_url(child, **base) if child is not None and viewer.sees(child) else None
        page.rows.append(item)


def _worker_days(
    session: Session, unit: Unit, start: dt.date, end: dt.date
) -> dict[int, tuple[dt.date | None, int]]:
    """Each worker's last report in the sector (through the range's end) and her days reported in it."""
    reported = (
        select(
            DailyReport.person_id,
            func.max(DailyReport.day),
            func.count(func.distinct(DailyReport.day)).filter(col(DailyReport.day) >= start),
        )
        .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
        .where(col(DailyReport.sector_id) == unit.sector_id, col(DailyReport.day) <= end)
        .group_by(col(DailyReport.person_id))
    )
    return {int(p): (last, int(days or 0)) for p, last, days in session.exec(reported).all()}


def _missing(
    page: UnitPage,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    below: list[RankRow],
    today: dt.date,
    now: dt.datetime,
) -> None:
    """Who has not reported today, as `/missing` shows it in a private chat.

    A district or the state shows counts per unit below: their workers are those of the page's
    rows (workers now, whatever the period), and today's reports are read only when the page's
    period is another; one day's reporters add up over the units, as `/status` counts them."""
    unit = page.unit
    counts_only = unit.level in ("district", "state")
    out: dict[str, Any] = {"counts_only": counts_only, "people": [], "units": []}
    if counts_only:
        away = leave.away_in(session, settings, unit, today, today)  # off today: not missing
        if page.period.start == page.period.end == today:
            today_reported = {row.key: row.reported for row in below}
        else:
            today_reported = reported_below(session=session, unit=unit, day=today)
        gaps = {row.key: max(row.workers - today_reported.get(row.key, 0), 0) for row in below}
        workers = sum(row.workers for row in below) - away.not_reported
        out["count"] = max(workers - sum(today_reported.get(r.key, 0) for r in below), 0)
        children = {c.id: c for c in child_units(session=session, unit=unit)}
        for row in sorted(below, key=lambda r: (-gaps[r.key], r.name.casefold())):
            child = children.get(row.key)
            if gaps[row.key]:
                out["units"].append(
                    (row.name, indian(gaps[row.key]), unit_url(child) if child else None)
                )
    else:
        absent = missing_workers(session=session, unit=unit, day=today, settings=settings)
        out["count"] = len(absent)
        show_phones = not page.projector
        for worker in absent:
            out["people"].append(
                {
                    "name": worker.name,
                    "village": worker.village,
                    "sector": worker.sector,
                    "phone": local_phone(worker.phone) if show_phones else "",
                    "tel": worker.phone if show_phones else "",
                }
            )
        if absent and show_phones:
            log_phone_view(session, viewer, "missing", unit, now)
    out["count_text"] = indian(out["count"])
    page.missing = out


def _proofs(
    page: UnitPage, session: Session, settings: Settings, viewer: Viewer, today: dt.date
) -> None:
    """Today's field-presence proofs in the unit: the map's points and the list, review first."""
    lang = page.lang
    rows = proofs(session=session, start=today, end=today, units=[page.unit])
    ids = [r.proof.id for r in rows]
    reviews = {
        r.proof_id: r
        for r in session.exec(select(ProofReview).where(col(ProofReview.proof_id).in_(ids))).all()
    }
    reviewers = {
        p.id: p.name
        for p in session.exec(
            select(Person).where(col(Person.id).in_({r.reviewer_id for r in reviews.values()}))
        ).all()
    }
    can_review = viewer.person.role in REVIEWER_ROLES and not page.projector
    points: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    review = [r for r in rows if r.proof.verdict != "verified"]
    verified = [r for r in rows if r.proof.verdict == "verified"]
    for row in [*review, *verified]:
        proof = row.proof
        local = proof.taken_at.astimezone(settings.tz)
        done = reviews.get(proof.id or 0)
        state = proof.verdict if done is None else done.decision
        if proof.lat is not None and proof.lon is not None:
            points.append(
                {
                    "lat": proof.lat,
                    "lon": proof.lon,
                    "kind": "verified" if proof.verdict == "verified" else "review",
                    "label": f"{row.worker} {local:%H:%M}",
                }
            )
        if len(items) >= MAX_PROOFS_LISTED:
            continue
        village = village_name(session=session, village_id=proof.village_id)
        reasons = []
        if proof.verdict != "verified":
            reused = reused_day(session=session, proof=proof)
            reasons = reason_texts(proof, village, lang, settings, reused)
        items.append(
            {
                "id": proof.id,
                "worker": row.worker,
                "sector": row.sector,
                "time": f"{local:%H:%M}",
                "state": state,
                "state_text": t(lang, state),
                "verdict": proof.verdict,
                "reasons": reasons,
                "distance": distance_text(proof.distance_m, lang)
                if proof.distance_m is not None
                else "",
                "village": village or "",
                "photo": proof.photo_path is not None,
                "review": (
                    t(
                        lang,
                        "reviewed_by",
                        decision=t(lang, done.decision),
                        name=reviewers.get(done.reviewer_id, "?"),
                    )
                    + (f" — {done.note}" if done.note else "")
                )
                if done
                else "",
                "can_review": can_review and proof.verdict == "needs_review" and done is None,
            }
        )
    page.proofs = {
        "entries": items,
        "points": json.dumps(points, ensure_ascii=False),
        "has_points": bool(points),
        "counts": t(lang, "proofs_counts", verified=indian(len(verified)), review=indian(len(review))),
        "total": len(rows),
        "more": max(len(rows) - MAX_PROOFS_LISTED, 0),
    }

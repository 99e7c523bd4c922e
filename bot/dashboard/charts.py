"""Small server-drawn SVG charts: bars per day against a line (the daily target, the workers),
and where the official portal has counts, a second series (the portal's count per day) with a
legend naming each.

The page's stylesheet gives the text its font (the bundled Noto Sans Devanagari), so the charts
need no script and read the same on a projector, a phone and on paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from bot.numbers import indian

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 24, 34


def _nice_top(value: int) -> int:
    """A round number at or above `value` for the top of the axis."""
    if value <= 0:
        return 10
    step = 1
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        top = int(step * factor)
        if top >= value:
            return top
    return step * 10


@dataclass(frozen=True)
class Series:
    """A second series drawn as a line over the bars: a value on some days (a day without one is a
    break in the line, not a zero), and the names the legend gives the bars and the line."""

    values: Mapping[dt.date, int]
    label: str
    bars_label: str


LEGEND_H = 26


def _series_parts(
    days: Sequence[dt.date],
    series: Series,
    x_of: Callable[[int], float],
    y: Callable[[float], float],
) -> list[str]:
    """The series' line (one stretch per run of days with a value) and a point per value."""
    parts = ['<g class="portal">']
    run: list[tuple[float, float]] = []
    runs: list[list[tuple[float, float]]] = []
    for index, day in enumerate(days):
        value = series.values.get(day)
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append((x_of(index), y(value)))
    if run:
        runs.append(run)
    for stretch in runs:
        if len(stretch) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in stretch)
            parts.append(f'<polyline class="portal-line" points="{path}"/>')
    for index, day in enumerate(days):
        value = series.values.get(day)
        if value is None:
            continue
        parts.append(
            f'<circle class="portal-point" cx="{x_of(index):.1f}" cy="{y(value):.1f}" r="4" '
            f'data-day="{day.isoformat()}" data-value="{value}">'
            f"<title>{day:%d/%m}: {escape(series.label)} {indian(value)}</title></circle>"
        )
    parts.append("</g>")
    return parts


def _legend(entries: Sequence[tuple[str, str]]) -> list[str]:
    """A row of swatches and names across the top: (kind, name), kind `bar`, `goal` or `portal`."""
    parts = ['<g class="legend">']
    x = float(LEFT)
    for kind, name in entries:
        mid = 14
        if kind == "bar":
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{mid - 6}" width="14" height="12"/>')
        elif kind == "goal":
            parts.append(f'<line class="goal" x1="{x:.1f}" x2="{x + 18:.1f}" y1="{mid}" y2="{mid}"/>')
        else:
            parts.append(
                f'<line class="portal-line" x1="{x:.1f}" x2="{x + 18:.1f}" y1="{mid}" y2="{mid}"/>'
                f'<circle class="portal-point" cx="{x + 9:.1f}" cy="{mid}" r="4"/>'
            )
        parts.append(f'<text class="legend-text" x="{x + 24:.1f}" y="{mid + 5}">{escape(name)}</text>')
        # No text measuring on the server: a generous width per letter keeps the names apart.
        x += 24 + 8.5 * len(name) + 18
    parts.append("</g>")
    return parts


def bars(
    days: Sequence[dt.date],
    values: Sequence[int],
    *,
    line: int | Sequence[int | None] | None,
    title: str,
    line_label: str = "",
    over_class: str = "bar",
    second: Series | None = None,
) -> str:
    """Bars for `values` per day, and a line (one level, or one per day) drawn across them; with
    `second` (when it has a value on a day shown), its line too and a legend."""
    per_day: list[int | None]
    per_day = [line] * len(days) if line is None or isinstance(line, int) else list(line)
    shown = [second.values[d] for d in days if d in second.values] if second is not None else []
    if not shown:
        second = None
    top = _nice_top(max([*values, *[v for v in per_day if v is not None], *shown, 1]))
    head = TOP + (LEGEND_H if second is not None else 0)
    height = HEIGHT + (LEGEND_H if second is not None else 0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, height - head - BOTTOM
    slot = inner_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)

    def y(value: float) -> float:
        return head + inner_h - inner_h * value / top

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, top // 2, top):
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{indian(tick)}</text>'
        )
    label_every = max(1, -(-len(days) // 7))
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        x = LEFT + slot * index + (slot - bar_w) / 2
        goal = per_day[index]
        cls = over_class if goal is None or value >= goal else f"{over_class} under"
        parts.append(
            f'<rect class="{cls}" x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
            f'height="{max(head + inner_h - y(value), 0):.1f}"><title>{day:%d/%m}: {indian(value)}'
            f"{f' / {indian(goal)}' if goal is not None else ''}</title></rect>"
        )
        if index % label_every == 0 or index == len(days) - 1:
            parts.append(
                f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{height - 10}" '
                f'text-anchor="middle">{day:%d/%m}</text>'
            )
    points = [
        (LEFT + slot * i + slot / 2, y(goal)) for i, goal in enumerate(per_day) if goal is not None
    ]
    if points:
        if len(points) == 1:
            x0 = LEFT
            x1 = WIDTH - RIGHT
            points = [(x0, points[0][1]), (x1, points[0][1])]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="goal" points="{path}"/>')
        if line_label and second is None:  # with a legend, the legend names the line
            parts.append(
                f'<text class="goal-label" x="{WIDTH - RIGHT}" y="{max(points[-1][1] - 6, 12):.1f}" '
                f'text-anchor="end">{escape(line_label)}</text>'
            )
    if second is not None:
        parts += _series_parts(days, second, lambda i: LEFT + slot * i + slot / 2, y)
        entries = [("bar", second.bars_label)]
        if points and line_label:
            entries.append(("goal", line_label))
        parts += _legend([*entries, ("portal", second.label)])
    parts.append("</svg>")
    return "".join(parts)

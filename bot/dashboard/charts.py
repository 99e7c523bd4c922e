"""Small server-drawn SVG charts: bars per day against a line (the daily target, the workers).

The page's stylesheet gives the text its font (the bundled Noto Sans Devanagari), so the charts
need no script and read the same on a projector, a phone and on paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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


def bars(
    days: Sequence[dt.date],
    values: Sequence[int],
    *,
    line: int | Sequence[int | None] | None,
    title: str,
    line_label: str = "",
    over_class: str = "bar",
) -> str:
    """Bars for `values` per day, and a line (one level, or one per day) drawn across them."""
    per_day: list[int | None]
    per_day = [line] * len(days) if line is None or isinstance(line, int) else list(line)
    top = _nice_top(max([*values, *[v for v in per_day if v is not None], 1]))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)

    def y(value: float) -> float:
        return TOP + inner_h - inner_h * value / top

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
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
            f'height="{max(TOP + inner_h - y(value), 0):.1f}"><title>{day:%d/%m}: {indian(value)}'
            f"{f' / {indian(goal)}' if goal is not None else ''}</title></rect>"
        )
        if index % label_every == 0 or index == len(days) - 1:
            parts.append(
                f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" '
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
        if line_label:
            parts.append(
                f'<text class="goal-label" x="{WIDTH - RIGHT}" y="{max(points[-1][1] - 6, 12):.1f}" '
                f'text-anchor="end">{escape(line_label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)

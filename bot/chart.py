"""The district digest chart: one bar per block, its value against its target, as a PNG.

Hindi needs complex text shaping (matras placed around and above letters, conjuncts such as क्ष, the
reph in कार्ड). Matplotlib 3.11+ shapes all text with libraqm/HarfBuzz, which its PyPI wheels link
statically, so the plain Agg backend draws Devanagari correctly with no system library and no system
font. The Devanagari font ships in ``bot/static/fonts`` (Noto Sans Devanagari, SIL OFL, see OFL.txt
there) and is registered by path under a name of our own, so a system copy of the same family can
never be picked instead; Latin letters come from the DejaVu Sans that ships inside matplotlib, found by
path as well. Text in either script falls back glyph by glyph between the two.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.numbers import indian

# Matplotlib is loaded by the first chart, not with the digests that import this module.
if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

FONT_DIR = Path(__file__).parent / "static" / "fonts"
DEVANAGARI_FONTS = {
    "normal": FONT_DIR / "NotoSansDevanagari-Regular.ttf",
    "bold": FONT_DIR / "NotoSansDevanagari-Bold.ttf",
}
LATIN_FAMILY = "Fieldbot Latin"
DEVANAGARI_FAMILY = "Fieldbot Devanagari"
# Latin first so that digits and Latin names keep one look; Devanagari glyphs come from the Noto font.
FAMILIES = [LATIN_FAMILY, DEVANAGARI_FAMILY]

DPI = 150
WIDTH_IN = 7.5
BAR_COLOR = "#2b7bba"
TARGET_COLOR = "#222222"
MAX_NAME_CHARS = 24

_WORDS: dict[str, dict[str, str]] = {
    "block": {"hi": "ब्लॉक", "en": "Block"},
    "no_data": {"hi": "अभी कोई आँकड़ा नहीं", "en": "No data yet"},
}

# Matplotlib keeps global state (font caches, the font manager); draw one chart at a time.
_LOCK = threading.Lock()


def _latin_font_paths() -> dict[str, Path]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"normal": ttf / "DejaVuSans.ttf", "bold": ttf / "DejaVuSans-Bold.ttf"}


@functools.cache
def register_fonts() -> None:
    """Make the bundled fonts known to matplotlib under names no system font has (once)."""
    from matplotlib.font_manager import fontManager, ttfFontProperty
    from matplotlib.ft2font import FT2Font

    for family, paths in ((LATIN_FAMILY, _latin_font_paths()), (DEVANAGARI_FAMILY, DEVANAGARI_FONTS)):
        for path in paths.values():
            entry = ttfFontProperty(FT2Font(str(path)))
            fontManager.ttflist.append(dataclasses.replace(entry, name=family))
    # addfont() is the public way to clear the font manager's lookup cache (it also lists the bundled
    # font under its own family name, which nothing here asks for).
    fontManager.addfont(str(DEVANAGARI_FONTS["normal"]))


def font(size: float, *, bold: bool = False) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    register_fonts()
    return FontProperties(family=FAMILIES, size=size, weight="bold" if bold else "normal")


def text_width(text: str, *, size: float = 20, bold: bool = False) -> float:
    """The width in pixels (at the chart's DPI) of text as the chart draws it, shaping included."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _LOCK:
        fig = Figure(dpi=DPI)
        FigureCanvasAgg(fig)
        drawn = fig.text(0, 0, text, fontproperties=font(size, bold=bold), parse_math=False)
        return float(drawn.get_window_extent().width)


def _shorten(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """Cut a long name without splitting a letter from its matras or a conjunct."""
    name = " ".join(name.split())
    if len(name) <= limit:
        return name
    cut = limit - 1
    # Back up until the character after the cut starts a new letter and the one before is no virama.
    while cut > 1 and (
        unicodedata.category(name[cut]).startswith("M")
        or name[cut] in "\u200c\u200d"
        or name[cut - 1] == "\u094d"
    ):
        cut -= 1
    return name[:cut].rstrip() + "…"


def _value_text(done: int, target: int | None) -> str:
    if target is None:
        return indian(done)
    if target <= 0:
        return f"{indian(done)} / {indian(target)}"
    return f"{indian(done)} / {indian(target)}  ({round(100 * done / target)}%)"


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _no_data_chart(title: str, language: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 2.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontproperties=font(14, bold=True), parse_math=False)
    fig.text(
        0.5,
        0.42,
        _WORDS["no_data"][language],
        ha="center",
        va="center",
        fontproperties=font(13),
        color="#555555",
        parse_math=False,
    )
    return _png(fig)


def block_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, int, int | None]],
    value_label: str,
    target_label: str,
    language: str,
) -> bytes:
    """A horizontal bar chart as PNG bytes: for each block (top to bottom in the given order) a bar
    for its value, a marker at its target when it has one, and the figures written beside it.

    `language` ("hi" or "en") picks the words the chart adds itself (the axis name, "no data").
    """
    if language not in ("hi", "en"):
        raise ValueError(f"language must be 'hi' or 'en', not {language!r}")
    with _LOCK:
        if not rows:
            return _no_data_chart(title, language)
        return _bar_chart(title, rows, value_label, target_label, language)


def _bar_chart(
    title: str,
    rows: Sequence[tuple[str, int, int | None]],
    value_label: str,
    target_label: str,
    language: str,
) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    n = len(rows)
    height = 1.9 + 0.36 * n
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    names = [_shorten(name) for name, _, _ in rows]
    done = [value for _, value, _ in rows]
    targets = [target for _, _, target in rows]
    positions = list(range(n))

    ax.barh(positions, done, height=0.62, color=BAR_COLOR, zorder=2)
    has_target = False
    for y, target in zip(positions, targets, strict=True):
        if target is not None:
            has_target = True
            ax.plot(
                [target, target],
                [y - 0.42, y + 0.42],
                color=TARGET_COLOR,
                linewidth=2.5,
                solid_capstyle="butt",
                zorder=3,
            )

    # The figures, in a column just right of the plot, one per bar.
    for y, value, target in zip(positions, done, targets, strict=True):
        ax.annotate(
            _value_text(value, target),
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontproperties=font(9),
            annotation_clip=False,
            parse_math=False,
        )

    largest = max([*done, *(t for t in targets if t is not None), 1])
    smallest = min([*done, 0])
    ax.set_xlim(smallest, largest * 1.04)
    ax.set_ylim(n - 0.5, -0.5)  # the first row on top
    ax.set_yticks(positions, names, fontproperties=font(10))
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: indian(round(x))))
    ax.tick_params(axis="x", labelsize=9, labelfontfamily=LATIN_FAMILY)
    ax.grid(axis="x", color="#dddddd", linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

    ax.set_xlabel(value_label, fontproperties=font(10), parse_math=False)
    # The axis name of the blocks stands level above their names, where it reads in any script.
    ax.annotate(
        _WORDS["block"][language],
        xy=(0.0, 1.0),
        xycoords="axes fraction",
        xytext=(-4, 6),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontproperties=font(10, bold=True),
        annotation_clip=False,
        parse_math=False,
    )
    fig.suptitle(title, fontproperties=font(14, bold=True), parse_math=False)

    handles: list[Patch | Line2D] = [Patch(color=BAR_COLOR, label=value_label)]
    if has_target:
        handles.append(Line2D([], [], color=TARGET_COLOR, linewidth=2.5, label=target_label))
    legend = ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(handles),
        frameon=False,
        prop=font(9),
        borderaxespad=0.2,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    return _png(fig)

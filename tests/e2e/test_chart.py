"""The digest chart: a real PNG, bars to scale, Hindi in its own font and shaped, not as boxes."""

from __future__ import annotations

import io
import itertools
import unicodedata
import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot import chart
from bot.chart import block_chart, text_width

HINDI_TITLE = "आयुष्मान कार्ड — ब्लॉक वार प्रगति"
Rows = Sequence[tuple[str, int, int | None]]


def render(
    rows: Rows, *, title: str = "Ayushman cards — progress by block", language: str = "en"
) -> bytes:
    return block_chart(
        title=title, rows=rows, value_label="Cards made", target_label="Target", language=language
    )


def pixels(png: bytes) -> npt.NDArray[np.int16]:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def colour_mask(
    img: npt.NDArray[np.int16], hex_colour: str, tolerance: int = 12
) -> npt.NDArray[np.bool_]:
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return np.asarray(np.abs(img - np.array(rgb)).max(axis=2) <= tolerance)


def ink(img: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    """Dark pixels: text and lines, not the white background nor the light grid."""
    return np.asarray(img.max(axis=2) < 128)


def bands(rows_with_ink: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of consecutive True values as (start, stop)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, on in enumerate([*rows_with_ink.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i))
            start = None
    return runs


def bars(png: bytes) -> list[tuple[int, int, int, int]]:
    """(top row, thickness, left column, length) in pixels of each bar drawn, top to bottom. The
    legend's swatch, the first band in the bar colour (the legend stands above the plot), is left out."""
    mask = colour_mask(pixels(png), chart.BAR_COLOR)
    found = []
    for top, bottom in bands(np.asarray(mask.any(axis=1)))[1:]:
        middle = mask[(top + bottom) // 2]
        columns = np.flatnonzero(middle)
        found.append((top, bottom - top, int(columns[0]), int(columns[-1] - columns[0] + 1)))
    return found


def longest_vertical_run(mask: npt.NDArray[np.bool_]) -> int:
    best = 0
    for column in mask.T:
        for start, stop in bands(column):
            best = max(best, stop - start)
    return best


def marker_columns(png: bytes, bar_thickness: int) -> list[int]:
    """Columns holding a target marker: a line in the target colour taller than a bar is thick (no
    letter or digit is that tall)."""
    mask = colour_mask(pixels(png), chart.TARGET_COLOR, tolerance=4)
    return [x for x in range(mask.shape[1]) if longest_vertical_run(mask[:, x : x + 1]) > bar_thickness]


def test_output_is_a_png_of_sensible_size() -> None:
    png = render([("Sandila", 1520, 2000), ("Bilgram", 900, 1000)])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert 800 <= width <= 2000
    assert 300 <= height <= 2000
    assert len(png) < 500_000


def test_bars_scale_with_values_and_start_together() -> None:
    bar_list = bars(render([("Small", 100, None), ("Large", 400, None), ("Middle", 200, None)]))
    assert len(bar_list) == 3
    (_, _, left_small, small), (_, _, left_large, large), (_, _, left_middle, middle) = bar_list
    assert left_small == left_large == left_middle
    assert large / small == pytest.approx(4, rel=0.05)
    assert middle / small == pytest.approx(2, rel=0.05)


def test_rows_are_drawn_top_to_bottom_in_the_given_order() -> None:
    tops_and_lengths = [
        (top, length) for top, _, _, length in bars(render([("A", 300, None), ("B", 100, None)]))
    ]
    assert tops_and_lengths[0][0] < tops_and_lengths[1][0]
    assert tops_and_lengths[0][1] > tops_and_lengths[1][1]


def test_target_marker_stands_at_the_target() -> None:
    png = render([("Sandila", 100, 200)])
    [(_, thickness, left, length)] = bars(png)
    columns = marker_columns(png, thickness)
    assert columns
    assert columns[-1] - columns[0] < 10  # one line, a few pixels wide
    centre = (columns[0] + columns[-1]) / 2
    assert (centre - left) / length == pytest.approx(2, rel=0.05)


def test_rows_without_a_target_render_without_a_marker() -> None:
    png = render([("Sandila", 1520, None), ("Mallawan", 0, None), ("संडीला", 40, None)])
    bar_list = bars(png)
    assert len(bar_list) == 2  # a zero value draws no bar
    assert marker_columns(png, bar_list[0][1]) == []


def test_mixed_rows_with_and_without_targets() -> None:
    png = render([("Sandila", 150, 200), ("Mallawan", 50, None)])
    bar_list = bars(png)
    assert len(bar_list) == 2
    columns = marker_columns(png, bar_list[0][1])
    assert columns
    assert (sum(columns) / len(columns) - bar_list[0][2]) / bar_list[0][3] == pytest.approx(
        4 / 3, rel=0.05
    )


def test_hindi_title_and_names_render_with_the_bundled_font_and_no_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = block_chart(
            title=HINDI_TITLE,
            rows=[("संडीला", 1520, 2000), ("Sandila", 900, None)],
            value_label="कार्ड बने",
            target_label="लक्ष्य",
            language="hi",
        )
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    # The title band, above the plot, has ink spread across much of its width.
    img = pixels(png)
    first_bar_top = bars(png)[0][0]
    title_rows = bands(np.asarray(ink(img[:first_bar_top]).any(axis=1)))[0]
    title_ink = ink(img[title_rows[0] : title_rows[1]])
    assert title_rows[1] - title_rows[0] >= 15
    columns = np.flatnonzero(title_ink.any(axis=0))
    assert columns[-1] - columns[0] > img.shape[1] * 0.3


def test_the_missing_glyph_check_would_catch_tofu() -> None:
    """The test above is only worth something if an unknown glyph does warn."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render([("\ue000", 1, None)], title="\ue000\ue001")
    assert any("missing from font" in str(w.message) for w in caught)


def test_bundled_font_has_every_devanagari_letter_used() -> None:
    path = findfont(FontProperties(family=chart.DEVANAGARI_FAMILY), fallback_to_default=False)
    face = FT2Font(path)
    text = HINDI_TITLE + "संडीला लक्ष्य कार्ड बने अभी कोई आँकड़ा नहीं हरदोई बिलग्राम ब्लॉक"
    for char in set(text) - {" ", "—"}:
        assert face.get_char_index(ord(char)) != 0, unicodedata.name(char)


def test_fonts_are_loaded_from_the_package_not_the_system() -> None:
    chart.register_fonts()
    for weight, expected in chart.DEVANAGARI_FONTS.items():
        found = findfont(
            FontProperties(family=chart.DEVANAGARI_FAMILY, weight=weight), fallback_to_default=False
        )
        assert found == str(expected)
        assert expected.stat().st_size < 300_000
    latin = findfont(FontProperties(family=chart.LATIN_FAMILY), fallback_to_default=False)
    assert latin == str(chart._latin_font_paths()["normal"])
    assert "mpl-data" in latin
    assert (chart.FONT_DIR / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") >= 1


def test_conjuncts_are_shaped() -> None:
    # क्ष is one ligature glyph, narrower than क and ष side by side; with a zero-width non-joiner the
    # same letters must stay apart, with a visible virama: what an unshaped renderer would draw.
    ksha = text_width("क्ष")
    assert ksha < 0.8 * text_width("क्\u200cष")
    assert ksha < 0.8 * (text_width("क") + text_width("ष"))
    # The reph: र् in कार्ड becomes a hook over ड and takes no room of its own.
    assert text_width("कार्ड") == pytest.approx(text_width("काड"), abs=2)
    assert text_width("कार्ड") < text_width("का") + text_width("र्") + text_width("ड") - 5


def test_twenty_blocks_keep_readable_rows() -> None:
    rows = [
        (f"ब्लॉक {i}" if i % 2 else f"Block {i}", 100 * (i + 1), 2500 if i % 3 else None)
        for i in range(20)
    ]
    png = block_chart(
        title=HINDI_TITLE, rows=rows, value_label="कार्ड बने", target_label="लक्ष्य", language="hi"
    )
    bar_list = bars(png)
    assert len(bar_list) == 20
    spacing = [b[0] - a[0] for a, b in itertools.pairwise(bar_list)]
    assert min(spacing) >= 40  # pixels per row: room for a 10 pt label at 150 dpi
    lengths = [length for _, _, _, length in bar_list]
    assert lengths == sorted(lengths)


def test_long_names_are_shortened_between_letters() -> None:
    short = chart._shorten("बहुत लंबे नाम वाला ब्लॉक क्षेत्र प्रथम और द्वितीय")
    assert short.endswith("…")
    assert len(short) <= chart.MAX_NAME_CHARS
    kept = short[:-1]
    assert not kept.endswith("\u094d")
    assert "बहुत लंबे नाम वाला".startswith(kept) or kept.startswith("बहुत लंबे नाम वाला")
    assert chart._shorten("  Sandila  ") == "Sandila"


def test_figures_use_indian_grouping() -> None:
    assert chart._value_text(112340, 150000) == "1,12,340 / 1,50,000  (75%)"
    assert chart._value_text(1520, None) == "1,520"
    assert chart._value_text(5, 0) == "5 / 0"


@pytest.mark.parametrize("language", ["hi", "en"])
def test_no_rows_give_a_chart_saying_there_is_no_data(language: str) -> None:
    png = block_chart(
        title=HINDI_TITLE, rows=[], value_label="कार्ड बने", target_label="लक्ष्य", language=language
    )
    img = pixels(png)
    assert not colour_mask(img, chart.BAR_COLOR).any()
    height = img.shape[0]
    message = img[int(height * 0.35) : int(height * 0.8)] < 200
    assert message.any()


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        render([("Sandila", 1, None)], language="fr")


def test_values_of_zero_everywhere_still_render() -> None:
    png = render([("Sandila", 0, 0), ("Mallawan", 0, None)])
    assert png.startswith(b"\x89PNG")

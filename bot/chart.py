"""The digest's trend chart: requests vs fulfilled per week, as a small PNG.

Drawn where messages are rendered (``Renderer.chart_png``), so its words come from the
templates like every other word a person reads (``templates/text/files/chart.j2``).
Drawn with Pillow rather than a plotting library: it is a dozen bars and two labels, and
Pillow is a small, wheel-only dependency that needs no display; its built-in font serves
Latin scripts, and a language whose glyphs it lacks brings a font file
(``bot.i18n.chart_font``: IPAexGothic for Japanese). Deterministic for the same numbers,
so tests can compare bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 40, 16, 34, 40
OPENED_COLOUR = (120, 144, 196)
FULFILLED_COLOUR = (46, 160, 90)
INK = (40, 40, 40)
GRID = (225, 225, 225)


@dataclass(frozen=True, slots=True)
class ChartWords:
    title: str
    requests: str
    fulfilled: str
    axis: str


def trend_chart(series: Sequence[tuple[str, int, int]], words: ChartWords,
                font_file: Path | None = None) -> bytes:
    """A grouped bar chart of (week label, requests, fulfilled), oldest week first, its
    words in ``font_file`` (None: Pillow's own font)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_file), 11) if font_file else ImageFont.load_default()
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = max([1, *(max(o, f) for _, o, f in series)])
    base_y = MARGIN_TOP + plot_h

    for step in range(5):  # horizontal grid with its values
        value = top * step / 4
        y = base_y - plot_h * step / 4
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID)
        draw.text((4, y - 6), f"{value:.0f}", fill=INK, font=font)

    slot = plot_w / max(1, len(series))
    bar = max(2.0, slot * 0.35)
    for index, (label, opened, fulfilled) in enumerate(series):
        x = MARGIN_LEFT + index * slot + (slot - 2 * bar) / 2
        for offset, value, colour in ((0.0, opened, OPENED_COLOUR),
                                      (bar, fulfilled, FULFILLED_COLOUR)):
            height = plot_h * value / top
            draw.rectangle([x + offset, base_y - height, x + offset + bar - 1, base_y],
                           fill=colour)
        draw.text((x - 2, base_y + 6), label.split("-")[-1], fill=INK, font=font)

    draw.line([(MARGIN_LEFT, base_y), (WIDTH - MARGIN_RIGHT, base_y)], fill=INK)
    draw.text((MARGIN_LEFT, 8), words.title, fill=INK, font=font)
    legend_x = WIDTH - MARGIN_RIGHT - 190
    for i, (name, colour) in enumerate(((words.requests, OPENED_COLOUR),
                                        (words.fulfilled, FULFILLED_COLOUR))):
        x = legend_x + i * 95
        draw.rectangle([x, 10, x + 10, 20], fill=colour)
        draw.text((x + 14, 9), name, fill=INK, font=font)
    draw.text((MARGIN_LEFT, HEIGHT - 16), words.axis, fill=INK, font=font)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


__all__ = ["ChartWords", "trend_chart"]

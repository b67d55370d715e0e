"""A typographic cover drawn from the book's metadata, for books that bring no cover image.

Library views (Apple Books, Kobo, Calibre, Kindle) show a blank tile for a book without a
cover; a plain typeset one (title, subtitle, authors) is better than nothing and costs the
author nothing. The image is 1600x2560 px (the 1:1.6 ratio stores ask for) and its bytes
depend only on the metadata and the fonts found, so rebuilds stay byte-identical.

Each run of text is drawn in a font for its script (cover_text.py: a Latin author's name on
a Persian cover is not empty boxes), lines are set flush with the book's start side (right
in a right-to-left book), and a line is as tall as its fonts' ascent and descent.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ...config.manifest import BookMeta
from .cover_text import Run, font_for, logical_runs, visual_order

if TYPE_CHECKING:  # Pillow is imported when a cover is drawn: a rebuild reuses the last one
    from PIL import ImageDraw, ImageFont

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1600, 2560
MARGIN = 160
BACKGROUND = (31, 45, 61)      # deep blue-grey
BAND = (196, 160, 82)          # muted gold rule
INK = (250, 247, 240)          # warm white: contrast 13.1:1 on the background
SOFT_INK = (214, 205, 186)     # subtitle and authors: contrast 8.9:1


@dataclass(frozen=True)
class Line:
    """One line of the cover: its runs in visual order with their fonts, and its metrics."""

    runs: tuple[tuple[Run, ImageFont.FreeTypeFont], ...]
    width: float
    ascent: int
    descent: int


@dataclass(frozen=True)
class Block:
    """A paragraph of the cover (title, subtitle, authors) in the book's direction."""

    weight: str
    language: str
    rtl: bool


def cover_alt_text(meta: BookMeta) -> str:
    """What the generated cover shows, in words: its alternative text."""
    from ...config.languages import language_facts

    text = meta.title + (f": {meta.subtitle}" if meta.subtitle else "")
    return language_facts(meta.language).label("cover_text", title=text, authors=", ".join(meta.authors))


def generate_cover(meta: BookMeta) -> bytes:
    """The cover as PNG bytes: title high, subtitle under it, authors at the foot."""
    from PIL import Image, ImageDraw

    from ...config.languages import language_facts

    rtl = language_facts(meta.language).is_rtl
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    band_left = WIDTH - MARGIN - 240 if rtl else MARGIN  # the short rule stands at the start side
    draw.rectangle((band_left, 520, band_left + 240, 536), fill=BAND)
    bold, regular = Block("bold", meta.language, rtl), Block("regular", meta.language, rtl)
    y = _draw_lines(draw, _fit(meta.title, bold, inner, 150, 64, max_lines=6), 640, INK, rtl)
    if meta.subtitle:
        y = _draw_lines(draw, _fit(meta.subtitle, regular, inner, 80, 44, max_lines=4), y + 70, SOFT_INK, rtl)
    lines = _fit(", ".join(meta.authors), regular, inner, 84, 40, max_lines=3)
    height = sum(line.ascent + line.descent for line in lines)
    _draw_lines(draw, lines, HEIGHT - 260 - height, SOFT_INK, rtl)
    draw.rectangle((MARGIN, HEIGHT - 230, WIDTH - MARGIN, HEIGHT - 226), fill=BAND)
    out = io.BytesIO()
    image.save(out, format="PNG")  # optimize=True took twice as long for a 2% smaller file
    return out.getvalue()


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[Line], y: int, colour: tuple[int, int, int],
                rtl: bool) -> int:
    """Each line flush right (RTL) or left, its runs on one baseline; the next line starts
    where this one's descent ends, so tall scripts (Nastaliq) get the room they need."""
    for line in lines:
        x = WIDTH - MARGIN - line.width if rtl else MARGIN
        baseline = y + line.ascent
        for run, font in line.runs:
            draw.text((x, baseline), _drawn_text(run), font=font, fill=colour, anchor="ls", **_direction(run))
            x += _length(run, font)
        y = baseline + line.descent
    return y


def _fit(text: str, block: Block, width: int, largest: int, smallest: int, max_lines: int) -> list[Line]:
    """The largest size at which the text wraps into ``max_lines`` lines of ``width`` px.

    A line is measured and ordered as a part of its paragraph (``_line``), so that the bidi
    rules see the letters on both sides of a neutral at a line's end."""
    text = " ".join(text.split())
    size = largest
    while True:
        lines = _wrap(text, lambda line: _line(line, 0, block, size).width, width)
        if len(lines) <= max_lines or size <= smallest:
            starts, position = [], 0
            for line in lines[:max_lines]:
                position = text.index(line, position)
                starts.append(position)
            return [_line(text, start, block, size, end=start + len(line))
                    for start, line in zip(starts, lines[:max_lines])]
        size -= 6


def _line(text: str, start: int, block: Block, size: int, end: int | None = None) -> Line:
    runs = logical_runs(text, block.weight, block.language, block.rtl, start, end)
    runs = visual_order(runs, block.rtl)
    fonts = [(run, _font(run.font_file, size)) for run in runs]
    metrics = [font.getmetrics() for _, font in fonts] or [(size, size // 4)]
    return Line(tuple(fonts), sum(_length(run, font) for run, font in fonts),
                max(ascent for ascent, _ in metrics), max(descent for _, descent in metrics))


def _wrap(text: str, measure, width: int) -> list[str]:  # noqa: ANN001 - measure(str) -> px
    """Greedy line filling by words; a word wider than the line (or CJK text) breaks anywhere."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if measure(current + char) > width and current:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines or [""]


def _length(run: Run, font: ImageFont.FreeTypeFont) -> float:
    return font.getlength(_drawn_text(run), **_direction(run))


def _direction(run: Run) -> dict[str, str]:
    """RAQM orders and shapes a run itself when told its direction; the basic layout cannot."""
    return {"direction": "rtl" if run.rtl else "ltr"} if _raqm() else {}


def _drawn_text(run: Run) -> str:
    """Without RAQM a right-to-left run is drawn reversed: in order, but its letters unjoined."""
    return run.text[::-1] if run.rtl and not _raqm() else run.text


@cache
def _raqm() -> bool:
    from PIL import features

    available = bool(features.check("raqm"))
    if not available:
        logger.info("Pillow has no RAQM layout (libraqm): right-to-left text on the generated cover "
                    "is drawn with its letters unjoined")
    return available


@cache
def _font(font_file: str | None, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    if font_file is None:
        return ImageFont.load_default(size=size)
    engine = ImageFont.Layout.RAQM if _raqm() else ImageFont.Layout.BASIC
    return ImageFont.truetype(font_file, size=size, layout_engine=engine)


def _font_file(weight: str, language: str) -> str | None:
    """The font of the book's own script (the tests size lines with it)."""
    from .cover_text import _language_script

    return font_for(_language_script(language), weight, language)

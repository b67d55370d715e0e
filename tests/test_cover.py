"""The generated typographic cover: size, determinism, wrapping."""

from __future__ import annotations

import io

from PIL import Image

from bookbuild.manifest import BookMeta
from bookbuild.render.cover import MARGIN, WIDTH, _font, _font_file, _wrap, cover_alt_text, generate_cover

META = BookMeta(title="A Rather Long Title That Must Wrap Over Several Lines Of The Cover",
                subtitle="And a subtitle", authors=("Ada Example", "Ben Sample"), language="en", identifier="x")


def test_cover_is_a_large_png_with_the_same_bytes_every_time() -> None:
    first, second = generate_cover(META), generate_cover(META)
    assert first == second
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == (1600, 2560)
    assert cover_alt_text(META) == ("Cover: A Rather Long Title That Must Wrap Over Several Lines Of The Cover: "
                                    "And a subtitle, by Ada Example, Ben Sample")


def test_title_lines_fit_inside_the_margins() -> None:
    font = _font(_font_file("bold", "en"), 150)
    lines = _wrap(META.title + " Supercalifragilisticexpialidociousnessness", font, WIDTH - 2 * MARGIN)
    assert len(lines) > 2
    assert all(font.getlength(line) <= WIDTH - 2 * MARGIN for line in lines)

"""A laid-out document is freed by reference counting (render/pdf/cycles.py), not left in
reference cycles for the garbage collector, and an SVG drawing still draws the raster image
it holds (its layout context, held weakly by itself, is held by the drawing).

Each test counts WeasyPrint's objects with the cycle collector off: what is left after a
``del`` is what only a collection would free."""

from __future__ import annotations

import gc
import io
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf

from bookbuild.render.pdf.cycles import unlink_pages
from conftest import laid_out_pdf, write_book

REAL_SVG = Path(__file__).parent / "real" / "svg" / "matplotlib-noscale.svg"  # holds an <image> (tests/real/svg/LICENSES.md)
KINDS = ("LayoutContext", "StyleFor", "TargetCollector", "PageBox", "FootnoteAreaBox", "LineBox", "TextBox")

MANIFEST = """[book]
title = "Cycles"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md", "two.md"]
"""
ONE = """# One

A first paragraph with a note.[^a] See [the second chapter](two.md#two) for more.

[^a]: The note, at the foot of the page.

""" + "Filler text for a few lines of layout. " * 80 + "\n"
TWO = """# Two {#two}

A second chapter, with its own note.[^b]

[^b]: Another note.
"""


def _objects() -> Counter:
    return Counter(name for obj in gc.get_objects() if (name := type(obj).__name__) in KINDS)


@contextmanager
def _no_collector() -> Iterator[Counter]:
    gc.collect()
    gc.disable()
    try:
        yield _objects()  # what was alive before
    finally:
        gc.enable()


def test_a_laid_out_document_is_freed_by_reference_counting(tmp_path: Path) -> None:
    """The layout context, its styles and its target lookups are freed once the layout is
    done; the boxes once the drawn document is let go (footnote areas unlinked). Before
    cycles.py, each stayed in a cycle: LayoutContext 1 after the layout, the boxes of every
    page with a note after."""
    folder = write_book(tmp_path / "book", MANIFEST, {"one.md": ONE, "two.md": TWO})
    with _no_collector() as before:
        document = laid_out_pdf(folder)
        laid_out = _objects() - before
        assert laid_out["LayoutContext"] == laid_out["StyleFor"] == laid_out["TargetCollector"] == 0, laid_out
        gc.collect()  # pages WeasyPrint laid out again and discarded: the worker collects them after each piece
        laid_out = _objects() - before
        pages = len(document.pages)
        assert pages >= 3 and laid_out["PageBox"] == pages and laid_out["FootnoteAreaBox"] >= 2, laid_out
        assert laid_out["TextBox"] > 50
        data = document.write_pdf()
        unlink_pages(document)
        del document
        left = _objects() - before
        # a box whose text WeasyPrint fills in late ("see page 3", a leader's dots) holds itself
        # (``missing_link``): a few text boxes, not their pages
        assert set(left) <= {"TextBox"} and left["TextBox"] < 10, left
    assert data.startswith(b"%PDF-")


def test_an_svg_drawing_keeps_its_layout_context_and_draws_its_raster_image(tmp_path: Path) -> None:
    """matplotlib's drawing holds a PNG in an <image>: the SVG is drawn after the layout, with
    the layout context, which its image then holds; the PNG is in the PDF."""
    folder = write_book(tmp_path / "book", MANIFEST,
                        {"one.md": "# One\n\n![A plot drawn by matplotlib](plot.svg)\n", "two.md": TWO})
    shutil.copy(REAL_SVG, folder / "plot.svg")
    with _no_collector() as before:
        document = laid_out_pdf(folder)
        assert (_objects() - before)["LayoutContext"] == 1  # held by the drawing, for drawing
        data = document.write_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                  and obj.get("/Subtype") == "/Image"]
    assert [(image.Width, image.Height) for image in images][:1] == [(10, 10)]  # the drawing's 10 by 10 PNG

"""A drawn piece of the parallel PDF printing other page numbers (render/pdf/parallel/drawn.py).

An edit that adds pages moves every later piece by whole pages; the rebuild changes the
digits those pieces print in their content streams instead of laying them out again. These
tests take real pieces from the cache of a built book (the small benchmark book), renumber
them, and read the result back with poppler, qpdf and fontTools: the folios read as the new
numbers, the fonts embed and map every digit, the file is sound; and every case the patch
cannot do (a number of another width, glyphs that do not read as the old number, a file
written otherwise) says so rather than writing a wrong page.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont
from test_pdf_cache import book  # noqa: F401 - the fixture: the small book, built, its cache full
from validators import pdftotext, qpdf_check

from bookbuild.render.pdf.parallel.drawn import renumber_drawn


def _body_pieces(folder: Path) -> list[tuple[dict, bytes]]:
    """The body pieces in the cache: (the entry's result, the PDF), in page order."""
    found = []
    for entry in (folder / ".bookbuild-cache" / "pdf").glob("*.json"):
        result = json.loads(entry.read_text(encoding="utf-8"))["result"]
        if not result["front"]:
            found.append((result, entry.with_suffix(".pdf").read_bytes()))
    return sorted(found, key=lambda item: item[0]["start"])


def _folios(pdf: Path) -> list[str]:
    """The number each page prints at its foot: its last line of text."""
    pages = pdftotext(pdf).split("\f")
    return [page.strip().splitlines()[-1].strip() for page in pages if page.strip()]


def test_a_drawn_piece_prints_its_pages_moved_on(book: Path, tmp_path: Path) -> None:  # noqa: F811
    result, pdf = _body_pieces(book)[-1]
    folios = [int(f) for f in result["folios"] if f]
    assert len(folios) >= 2 and folios == list(range(result["start"], result["start"] + len(folios)))
    # a shift that keeps every folio's count of digits, so that the layout is the same
    shift = next(s for s in (2, 4, 6, 8, 12) if all(len(str(f + s)) == len(str(f)) for f in folios))
    moved = renumber_drawn(pdf, result["drawn"], shift, result["numbers"], result["numbers"])
    assert moved is not None
    data, drawn, printed, streams = moved
    assert printed == {n: str(f + shift) for n, f in enumerate(folios)}
    assert len(streams) == len(folios)  # each page's content stream, changed
    (tmp_path / "before.pdf").write_bytes(pdf)
    (tmp_path / "after.pdf").write_bytes(data)
    checked = qpdf_check(tmp_path / "after.pdf")
    assert checked.returncode == 0, checked.stdout
    assert _folios(tmp_path / "after.pdf") == [str(f + shift) for f in folios]
    # only the folios changed: the rest of the text is the same, word for word
    before, after = pdftotext(tmp_path / "before.pdf"), pdftotext(tmp_path / "after.pdf")
    assert re.sub(r"\d+", "#", before) == re.sub(r"\d+", "#", after) and before != after
    # the marks now hold the numbers printed: the next rebuild starts from them
    assert [m[3] for m in drawn["marks"] if m[1] == "folio"] == [str(f + shift) for f in folios]


def test_every_digit_is_embedded_and_mapped_in_the_fonts_that_print_numbers(book: Path) -> None:  # noqa: F811
    result, pdf = _body_pieces(book)[0]
    digits = {name: glyphs for name, glyphs in result["drawn"]["digits"].items() if glyphs}
    assert digits, "the folio font's figures are tabular (print.css): its digits are recorded"
    with pikepdf.open(io.BytesIO(pdf)) as document:
        fonts = {}
        for page in document.pages:
            for font in page.Resources.Font.values():
                fonts[str(font.BaseFont).split("+")[0].lstrip("/")] = font
        for name, glyphs in digits.items():
            font = fonts[name]
            descendant = font.DescendantFonts[0]
            program = TTFont(io.BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
            glyf = program["glyf"]
            order = program.getGlyphOrder()
            for glyph in glyphs:  # drawn, with an outline, whichever digits the piece printed
                assert glyf[order[glyph]].numberOfContours > 0
            widths = list(descendant.W)
            listed = set()
            at = 0
            while at < len(widths):
                first = int(widths[at])
                if isinstance(widths[at + 1], pikepdf.Array):
                    listed |= set(range(first, first + len(widths[at + 1])))
                    at += 2
                else:
                    listed |= set(range(first, int(widths[at + 1]) + 1))
                    at += 3
            assert set(glyphs) <= listed  # each has its advance in /W
            cmap = font.ToUnicode.read_bytes().decode("latin-1")
            for digit, glyph in enumerate(glyphs):  # and its text, for copying and search
                assert re.search(rf"<{glyph:04x}>\s*<{0x30 + digit:04x}>", cmap, re.IGNORECASE), (name, digit)


def test_a_number_of_another_width_is_left_to_a_new_layout(book: Path) -> None:  # noqa: F811
    result, pdf = _body_pieces(book)[-1]
    folios = [int(f) for f in result["folios"] if f]
    shift = 10 ** len(str(folios[-1])) - folios[-1]  # its last folio gains a digit
    assert renumber_drawn(pdf, result["drawn"], shift, result["numbers"], result["numbers"]) is None


def test_glyphs_that_do_not_read_as_the_old_number_are_not_changed(book: Path) -> None:  # noqa: F811
    result, pdf = _body_pieces(book)[-1]
    drawn = json.loads(json.dumps(result["drawn"]))
    folio = next(mark for mark in drawn["marks"] if mark[1] == "folio")
    folio[3] = str(int(folio[3]) + 1)  # what the entry says it printed is not what it drew
    assert renumber_drawn(pdf, drawn, 1, result["numbers"], result["numbers"]) is None


def test_a_piece_written_another_way_is_left_to_a_new_layout(book: Path, tmp_path: Path) -> None:  # noqa: F811
    result, pdf = _body_pieces(book)[-1]
    (tmp_path / "piece.pdf").write_bytes(pdf)
    # the same pages, with a classic cross-reference table and no object streams
    subprocess.run(["qpdf", "--object-streams=disable", "--stream-data=preserve", str(tmp_path / "piece.pdf"),
                    str(tmp_path / "other.pdf")], check=True)
    other = (tmp_path / "other.pdf").read_bytes()
    assert renumber_drawn(other, result["drawn"], 2, result["numbers"], result["numbers"]) is None

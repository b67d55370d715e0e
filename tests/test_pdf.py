"""The PDF of the sample and features books, read back with pypdf and poppler."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import LITTLE_MANIFEST, ROOT, write_book
from pdfbook import bookmarks, contents_entries, folio, lines, pages_text
from validators import pdffonts, pdfinfo, qpdf_check

SAMPLE_CHAPTERS = [
    "Introduction",
    "The night before is hard to bear, the dawn is rare",
    "Optimal solution for career and life",
    "Starting from scratch, entrepreneurs have a continuous entrepreneurial spirit",
]


def outline(reader: PdfReader) -> list:
    def walk(items: list) -> list:
        result = []
        for item in items:
            if isinstance(item, list):
                result.append(walk(item))
            else:
                result.append(item.title)
        return result
    return walk(reader.outline)


@pytest.mark.parametrize("book", ["sample", "features"])
def test_fonts_embedded_qpdf_clean_and_tagged(built: dict, book: str) -> None:
    pdf = built[book]["pdf"]
    fonts = pdffonts(pdf)
    assert fonts, "the PDF uses no fonts"
    assert all(font["emb"] == "yes" for font in fonts), fonts
    check = qpdf_check(pdf)
    assert check.returncode == 0, check.stdout + check.stderr
    info = pdfinfo(pdf)
    assert info["Tagged"] == "yes"


def test_sample_outline_metadata_and_chapter_titles(built: dict) -> None:
    pdf = built["sample"]["pdf"]
    reader = PdfReader(pdf)
    assert outline(reader) == SAMPLE_CHAPTERS
    assert reader.metadata.title == "Qi Jun: Probably the best investor who understands architecture"
    assert reader.metadata.author == "Qi Jun"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    texts = [page.extract_text() for page in reader.pages]
    assert "Qi Jun: Probably the best investor" in texts[0]
    assert reader.metadata.subject.startswith("Qi Jun's personal interview")
    for title in SAMPLE_CHAPTERS:
        first_words = " ".join(title.split()[:4])
        assert any(first_words in " ".join(text.split()) for text in texts[2:]), title
    # half-title, blank, title, copyright, contents, blank; four chapters on rectos
    assert len(reader.pages) == 13


def test_sample_has_half_title_title_copyright_and_contents_in_roman(built: dict) -> None:
    pages = pages_text(built["sample"]["pdf"])
    # half-title, title and copyright pages count (i-iv) but show no number; contents is v
    assert [folio(page) for page in pages[:6]] == [None, None, None, None, "v", None]
    assert lines(pages[2])[-1] == "June 16, 2020"  # the title page ends with its date, in words
    assert lines(pages[0])[0] == "Qi Jun: Probably the best investor who understands architecture"
    assert "Qi Jun" in lines(pages[2])
    assert "Published June 16, 2020" in lines(pages[3])  # the copyright page, verso of the title page
    assert lines(pages[4])[0] == "Contents"
    assert pages[1].strip() == "" and pages[5].strip() == ""  # blank versos carry nothing


def test_sample_bookmarks_equal_contents_entries_and_their_pages(built: dict) -> None:
    pdf = built["sample"]["pdf"]
    pages = pages_text(pdf)
    entries = contents_entries(pages)
    marks = bookmarks(PdfReader(pdf))
    assert [title for title, _ in entries] == [mark.title for mark in marks] == SAMPLE_CHAPTERS
    for (title, number), mark in zip(entries, marks):
        assert folio(pages[mark.page_index]) == number, title
        assert number.isdigit()  # chapters are numbered in arabic from the first one


def test_body_pages_carry_page_numbers(built: dict) -> None:
    pages = pages_text(built["sample"]["pdf"])
    first_body = next(i for i, page in enumerate(pages) if folio(page) == "1")
    for number, page in enumerate(pages[first_body:], start=1):
        if page.strip():
            assert folio(page) == str(number), page[-200:]
        else:  # a blank verso before a chapter opening on the right
            assert number % 2 == 0


def test_features_nested_bookmarks_and_footnote_on_its_page(built: dict) -> None:
    pdf = built["features"]["pdf"]
    reader = PdfReader(pdf)
    assert outline(reader) == [
        "Tables and Lists", ["Overview", "Introduction"],
        "Notes and Pictures", ["Introduction"],
        "Links", ["The end"],
    ]
    for page in reader.pages:
        text = page.extract_text()
        if "A claim that needs a source" in text:
            assert "The source of the claim" in text
            assert "It has two paragraphs" in text
            break
    else:
        pytest.fail("footnote call not found")
    links = [annot.get_object() for page in reader.pages for annot in page.get("/Annots", [])]
    assert any(link.get("/A", {}).get("/URI") == "https://example.org/" for link in links)
    internal = [link for link in links if "/Dest" in link or link.get("/A", {}).get("/S") == "/GoTo"]
    assert len(internal) >= 8  # contents entries and cross-chapter links are clickable


EPUB_ONLY_PROPERTIES = {"text-emphasis", "line-break", "text-justify", "word-break"}
AUTHOR_SHEET = "/* the author's */\n.aside { color: teal; text-shadow: 1px 1px; }\n"


@pytest.mark.parametrize("flag", ["--single-process", "--parallel"])
def test_a_build_says_nothing_about_bookbuilds_own_stylesheets(tmp_path: Path, flag: str) -> None:
    """WeasyPrint ignores a few EPUB-only properties of base.css (the EPUB's CJK and emphasis
    rules): a build must not print that, once or once per piece. What it ignores in the
    author's own stylesheet is theirs to know: one warning at its file:line, as the CLI
    prints any other, in either layout. (Formulas are in the book: drawing them once set up
    Python's root logger, which then printed every WeasyPrint warning, even with -q.)"""
    manifest = LITTLE_MANIFEST.replace('language = "en"', 'language = "en"\nstyles = ["extra.css"]')
    folder = write_book(tmp_path / "book", manifest, {
        "one.md": "# One\n\nThe area is $\\pi r^2$, 面积.\n", "two.md": "# Two\n\nMore.\n", "extra.css": AUTHOR_SHEET})
    command = [sys.executable, "-c", "from bookbuild.cli import main; main()", "pdf", "-q", flag, "-o", "out.pdf"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # this tree's bookbuild, from the book's folder
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [(
        "extra.css:2:23: warning: PDF: ignored `text-shadow: 1px 1px`, unknown property "
        "(hint: WeasyPrint, which lays out the PDF, skips it)")]
    assert (folder / "out.pdf").stat().st_size > 1000


def test_weasyprint_ignores_only_the_epub_only_properties_of_bookbuilds_sheets() -> None:
    """The PDF parses bookbuild's own sheets with WeasyPrint's complaints silenced
    (render/pdf/stylesheets.py); this keeps that from hiding a real mistake in them."""
    import logging

    from weasyprint import CSS

    from bookbuild.resources import stylesheet

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger, handler = logging.getLogger("weasyprint"), Keep(logging.WARNING)
    logger.addHandler(handler)
    try:
        for name in ("base.css", "print.css", "handout.css"):
            CSS(filename=str(stylesheet(name)))
    finally:
        logger.removeHandler(handler)
    ignored = [re.match(r"Ignored `([\w-]+):", record.getMessage()) for record in records]
    assert all(ignored) and {match.group(1) for match in ignored if match} == EPUB_ONLY_PROPERTIES


def test_a_worker_parses_bookbuilds_sheets_once_for_its_font_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker of the chapter-parallel PDF lays out every piece with one font configuration:
    bookbuild's own sheets are parsed once for it (render/pdf/stylesheets.py) and every later
    piece lists what that parse fetched, as the pieces' cache needs; another configuration,
    or changed bytes, parses again."""
    from weasyprint.css.counters import CounterStyle
    from weasyprint.text.fonts import FontConfiguration

    from bookbuild.render.pdf import stylesheets
    from bookbuild.resources import stylesheet

    class Fetcher:
        def __init__(self) -> None:
            self.fetched: dict[str, str | None] = {}

    monkeypatch.setattr(stylesheets, "_OWN_SHEETS", {})
    path = stylesheet("print.css")
    fonts = FontConfiguration()
    first = stylesheets._own_sheet(path, Fetcher(), fonts, CounterStyle(), True)
    # what the first parse fetched (print.css fetches nothing itself): a later piece lists it too
    data, kept_fonts, sheet, _fetched, rules = stylesheets._OWN_SHEETS[str(path)]
    stylesheets._OWN_SHEETS[str(path)] = (data, kept_fonts, sheet, {"file:///a-font.woff2": "digest"}, rules)
    later = Fetcher()
    assert stylesheets._own_sheet(path, later, fonts, CounterStyle(), True) is first
    assert later.fetched == {"file:///a-font.woff2": "digest"}
    assert stylesheets._own_sheet(path, Fetcher(), FontConfiguration(), CounterStyle(), True) is not first
    assert stylesheets._own_sheet(path, Fetcher(), fonts, CounterStyle(), False) is not first  # a layout's own
    # fonts (the single document): parsed for it, and not kept for another
    stylesheets._OWN_SHEETS[str(path)] = (b"/* other bytes */", fonts, first, {}, {})
    assert stylesheets._own_sheet(path, Fetcher(), fonts, CounterStyle(), True) is not first

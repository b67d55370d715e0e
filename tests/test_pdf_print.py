"""The print layout on a multi-chapter test book (tests/books/print): two-sided A5 with
footnotes, an overlong code line, a table longer than a page, a tall figure, cross-references;
and the same book as letter size, as chapters 2-3, as a handout, as PDF/A and PDF/UA. Then the
page numbers a reader sees (folios, contents, "see page N", /PageLabels) on a book with front
matter, parts and an appendix, whole (single document and parallel), as a selection and as
handouts."""

from __future__ import annotations

import re

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from bookbuild.api import BuildOptions, build, load_book
from bookbuild.errors import Reporter
from bookbuild.config.manifest import load_manifest
from conftest import IN_PLACE, ROOT, write_book
from pdfbook import bookmarks, contents_entries, flat, folio, footnote_calls, head, lines, pages_text
from validators import pdf_word_boxes, pdffonts, pdfinfo, pdftotext, qpdf_check

PRINT_BOOK = ROOT / "tests" / "books" / "print"
TITLE = "Print Test Book"
CHAPTERS = ["Paper and ink", "Code and tables", "Figures and references", "Colophon"]
OUTLINE = ["Paper and ink", "Margins and measure", "Code and tables", "A long table",
           "Figures and references", "Back matter", "Colophon"]
MM = 72 / 25.4


def _build(out: Path, name: str, book: Path = PRINT_BOOK, **options: object) -> Path:
    reporter = Reporter()
    [result] = build(book, ["pdf"], output=out / f"{name}.pdf", options=BuildOptions(**options),
                     reporter=reporter)
    assert reporter.warnings == []
    return result.path


def _variant_book(tmp: Path, name: str, extra: str) -> Path:
    """The print book with lines added to its [pdf] table (the manifest's last table)."""
    folder = tmp / name
    shutil.copytree(PRINT_BOOK, folder, ignore=IN_PLACE)
    with (folder / "book.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(extra)
    return folder


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("print")
    return {
        "book": _build(out, "book"),
        "letter": _build(out, "letter", page_size="letter"),
        "chapters": _build(out, "chapters", chapters="2-3"),
        "handout": _build(out, "handout", handout=True),
        "ua": _build(out, "ua", _variant_book(out, "ua-book",
                                              'variant = "pdf/ua-1"\ncrop_marks = true\nbleed = "3mm"\n'
                                              "page_references = false\n")),
        "pdfa": _build(out, "pdfa", _variant_book(out, "a-book", 'variant = "pdf/a-3b"\n')),
    }


@pytest.mark.parametrize("name", ["book", "letter", "chapters", "handout", "ua", "pdfa"])
def test_valid_tagged_and_fonts_embedded(pdfs: dict, name: str) -> None:
    pdf = pdfs[name]
    fonts = pdffonts(pdf)
    assert fonts and all(font["emb"] == "yes" for font in fonts), fonts
    check = qpdf_check(pdf)
    assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout, check.stdout
    info = pdfinfo(pdf)
    assert info["Tagged"] == "yes"
    reader = PdfReader(pdf)
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert (reader.metadata.title, reader.metadata.author) == (TITLE, "Paula Printer")
    assert reader.metadata.subject == "A book that exercises the print layout."


def test_bookmarks_equal_contents_entries(pdfs: dict) -> None:
    pages = pages_text(pdfs["book"])
    entries = contents_entries(pages)
    marks = bookmarks(PdfReader(pdfs["book"]))
    assert [title for title, _ in entries] == [mark.title for mark in marks] == OUTLINE
    assert [mark.level for mark in marks] == [1, 2, 1, 2, 1, 2, 1]
    for (title, number), mark in zip(entries, marks):
        assert number.isdigit() and folio(pages[mark.page_index]) == number, title


def test_front_matter_and_recto_chapter_openings(pdfs: dict) -> None:
    pages = pages_text(pdfs["book"])
    assert lines(pages[0]) == [TITLE]  # half-title: no page number on the title pages
    assert pages[1].strip() == ""  # its verso is blank, without a page number
    assert lines(pages[2])[:2] == [TITLE, "Margins, notes and tables"]
    copyright_page = lines(pages[3])
    assert "Copyright 2025 Paula Printer. CC BY 4.0." in copyright_page and "ISBN: 9780000000002" in copyright_page
    assert folio(pages[3]) is None and lines(pages[4])[0] == "Contents" and folio(pages[4]) == "v"
    openings = [mark.page_index for mark in bookmarks(PdfReader(pdfs["book"])) if mark.level == 1]
    for index in openings:
        assert index % 2 == 0, "a chapter opens on a left-hand page"
        assert int(folio(pages[index])) % 2 == 1
        # the first line is the chapter's own label ("CHAPTER 2") or title, not a running head
        opening = [line for line in lines(pages[index]) if not re.fullmatch(r"(CHAPTER|APPENDIX) \w+", line)]
        assert opening[0] in CHAPTERS, "no running head on a chapter's first page"
    blanks = [i for i, page in enumerate(pages) if not page.strip()]
    assert blanks and all(i % 2 == 1 and i + 1 in openings + [2] for i in blanks), blanks


def test_running_heads_book_title_left_chapter_title_right(pdfs: dict) -> None:
    pages = pages_text(pdfs["book"])
    openings = {mark.page_index: mark.title for mark in bookmarks(PdfReader(pdfs["book"])) if mark.level == 1}
    chapter = None
    checked = 0
    for index, page in enumerate(pages):
        chapter = openings.get(index, chapter)
        if chapter is None or index in openings or not page.strip():
            continue
        expected = TITLE if int(folio(page)) % 2 == 0 else chapter
        assert head(page) == expected, (index, head(page))
        checked += 1
    assert checked >= 8


def test_no_heading_stranded_at_the_foot_of_a_page(pdfs: dict) -> None:
    for name in ("book", "handout", "letter"):
        pages = pages_text(pdfs[name])
        for mark in bookmarks(PdfReader(pdfs[name])):
            page_lines = lines(pages[mark.page_index])
            after = page_lines[page_lines.index(mark.title) + 1:]
            assert len(after) >= 3, (name, mark.title, after)  # text follows, not just the folio


def test_margins_are_mirrored(pdfs: dict) -> None:
    """Body text starts at the inner margin (20 mm) on right pages, the outer (14 mm) on left."""
    boxes = pdf_word_boxes(pdfs["book"])
    pages = pages_text(pdfs["book"])
    lefts: dict[bool, list[float]] = {True: [], False: []}
    for index, (_, _, words) in enumerate(boxes):
        number = folio(pages[index])
        if words and number and number.isdigit():
            lefts[int(number) % 2 == 1].append(min(x for _, x, _ in words))
    assert round(min(lefts[True]) / MM) == 20 and round(min(lefts[False]) / MM) == 14, lefts


def test_footnotes_on_the_page_that_calls_them_numbered_per_chapter(pdfs: dict) -> None:
    book = load_book(load_manifest(PRINT_BOOK), Reporter())
    calls = footnote_calls(book)
    assert len(calls) == 5
    pages = [flat(page) for page in pages_text(pdfs["book"], layout=False)]
    for chapter, call, note in calls:
        where = [i for i, page in enumerate(pages) if call.search(page)]
        assert where, f"call {call.pattern!r} of {chapter!r} not found"
        assert note in pages[where[0]], f"note {note!r} is not on the page of its call {call.pattern!r}"
    again = next(page for page in pages if "Again note" in page)
    assert "1. Again note" in again  # the second chapter counts its notes from 1 again


def test_nothing_runs_off_the_page(pdfs: dict) -> None:
    text = flat("\n".join(pages_text(pdfs["book"], layout=False)))
    assert "option_13=value_13)" in text  # the end of the overlong code line is printed
    assert "Row 70 of the long table" in text
    for width, _, words in pdf_word_boxes(pdfs["book"]):
        for word, x_min, x_max in words:
            assert 0 <= x_min and x_max <= width - 10 * MM, (word, x_max, width)


def test_long_table_repeats_its_header_and_figure_keeps_its_caption(pdfs: dict) -> None:
    pages = pages_text(pdfs["book"])
    table_pages = [page for page in pages if "of the long table" in page]
    assert len(table_pages) >= 3
    assert all("Number" in page and "Description" in page for page in table_pages)
    figure = [i for i, page in enumerate(pages) if "Figure 1: a plate that keeps its caption." in page]
    assert len(figure) == 1
    reader = PdfReader(pdfs["book"])
    assert "/XObject" in reader.pages[figure[0]]["/Resources"]  # the image is on the caption's page


def test_cross_references_show_the_target_page(pdfs: dict) -> None:
    pages = pages_text(pdfs["book"])
    text = flat("\n".join(pages))
    marks = {mark.title: folio(pages[mark.page_index]) for mark in bookmarks(PdfReader(pdfs["book"]))}
    assert f"the margins section (see page {marks['Margins and measure']})" in text
    assert f"the second chapter (see page {marks['Code and tables']})" in text
    ua_text = flat("\n".join(pages_text(pdfs["ua"])))
    assert "the margins section" in ua_text and "see page" not in ua_text  # page_references = false


def test_letter_page_size(pdfs: dict) -> None:
    reader = PdfReader(pdfs["letter"])
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages} == {(612, 792)}
    book = PdfReader(pdfs["book"])
    assert round(float(book.pages[0].mediabox.width) / MM) == 148  # A5 from [pdf] page_size


def test_chapters_selection_prints_only_those_chapters(pdfs: dict) -> None:
    pages = pages_text(pdfs["chapters"])
    marks = bookmarks(PdfReader(pdfs["chapters"]))
    assert [mark.title for mark in marks] == OUTLINE[2:6]
    assert [title for title, _ in contents_entries(pages)] == OUTLINE[2:6]
    text = flat("\n".join(pages))
    assert "Paper and ink" not in text and "Colophon" not in text and "Harbour note" not in text
    assert "the margins section" in text and "the margins section (see" not in text  # link to an absent chapter
    # no half-title, no copyright page: title page, its blank verso, the contents on the right
    assert lines(pages[0])[0] == TITLE and not pages[1].strip() and lines(pages[2])[0] == "Contents"


def test_handout_is_compact_single_sided_with_a_small_header(pdfs: dict) -> None:
    pages = pages_text(pdfs["handout"])
    assert all(page.strip() for page in pages), "a handout has no blank pages"
    assert [folio(page) for page in pages] == [str(n) for n in range(1, len(pages) + 1)]
    assert lines(pages[0])[0] == TITLE and "Contents" in lines(pages[0])
    assert all(head(page).startswith(TITLE) for page in pages[1:])
    assert len(pages) < len(pages_text(pdfs["book"])) - 5
    assert [mark.title for mark in bookmarks(PdfReader(pdfs["handout"]))] == OUTLINE


def test_crop_marks_and_bleed_enlarge_the_media_box(pdfs: dict) -> None:
    page = PdfReader(pdfs["ua"]).pages[0]
    media, trim = page.mediabox, page.trimbox
    assert round((float(media.width) - float(trim.width)) / MM, 1) == 6.0  # 3 mm bleed each side
    assert round(float(trim.width) / MM) == 148
    assert "/BleedBox" in page


def test_variants_pass_through(pdfs: dict) -> None:
    ua = PdfReader(pdfs["ua"])
    assert 'pdfuaid:part="1"' in ua.xmp_metadata.stream.get_data().decode()
    assert bool(ua.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"])
    pdfa = PdfReader(pdfs["pdfa"])
    xmp = pdfa.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert pdfa.trailer["/Root"]["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"


def test_same_input_same_bytes(pdfs: dict, tmp_path: Path) -> None:
    again = _build(tmp_path, "again")
    assert again.read_bytes() == pdfs["book"].read_bytes()


# Front matter (roman), two parts, an appendix; cross-references into the front matter.
STRUCTURED = """[book]
title = "Structured Book"
authors = ["A. Writer"]
language = "en"
chapters = [
    { file = "dedication.md", kind = "dedication" },
    { file = "preface.md", kind = "preface" },
    { part = "Part One", chapters = ["one.md", "two.md"] },
    { part = "Part Two", chapters = ["three.md"] },
    { file = "notes.md", kind = "appendix" },
]
"""
STRUCTURED_CHAPTERS = {
    "dedication.md": "# Dedication\n\nTo the reader.\n",
    "preface.md": "# Preface\n\nWhy this book.\n\n## How to read it\n\nStart with [the second chapter](two.md).\n",
    "one.md": "# One\n\nThe first chapter.\n",
    "two.md": "# Two\n\nAs [the preface](preface.md) says, and [how to read it](preface.md#how-to-read-it).\n",
    "three.md": "# Three\n\nThe third chapter.\n",
    "notes.md": "# Notes\n\nAn appendix.\n",
}


def _roman(number: int) -> str:
    numerals = (("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1))
    text = ""
    for numeral, value in numerals:
        count, number = divmod(number, value)
        text += numeral * count
    return text


@pytest.fixture(scope="module")
def structured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = write_book(tmp_path_factory.mktemp("structured") / "book", STRUCTURED, STRUCTURED_CHAPTERS)
    out = folder.parent
    return {
        "single": _build(out, "single", folder, parallel=False),
        "parallel": _build(out, "parallel", folder, parallel=True),
        "chapters": _build(out, "chapters", folder, chapters="preface,2"),
        "handout": _build(out, "handout", folder, handout=True),
        "handout-chapters": _build(out, "handout-chapters", folder, chapters="2-3", handout=True),
    }


def _printed_labels(pdf: Path) -> list[str]:
    """The PDF's /PageLabels, each checked against the number its page prints; and every number
    in the contents is the label of the page its entry's bookmark lands on."""
    reader = PdfReader(pdf)
    assert "/PageLabels" in reader.trailer["/Root"]
    labels, pages = reader.page_labels, pages_text(pdf)
    assert len(labels) == len(pages)
    printed = [(n, folio(page)) for n, page in enumerate(pages) if folio(page)]
    assert len(printed) >= 3 and [(n, labels[n]) for n, _ in printed] == printed
    marks = {mark.title: labels[mark.page_index] for mark in bookmarks(reader)}
    entries = contents_entries(pages)
    assert len(entries) > 3 and [(title, marks[title]) for title, _ in entries] == entries
    check = qpdf_check(pdf)
    assert check.returncode == 0, check.stdout + check.stderr
    return labels


@pytest.mark.parametrize("name", ["single", "parallel"])
def test_front_matter_pages_are_roman_wherever_a_reader_sees_their_number(structured: dict, name: str) -> None:
    """The contents, "see page N" and the viewer's page labels say vii where the page prints vii."""
    pdf = structured[name]
    labels = _printed_labels(pdf)
    body = labels.index("1")
    assert body > 5 and labels == [_roman(n) for n in range(1, body + 1)] + [
        str(n) for n in range(1, len(labels) - body + 1)]
    marks = {mark.title: labels[mark.page_index] for mark in bookmarks(PdfReader(pdf))}
    assert marks["Preface"] == marks["How to read it"] == _roman(PdfReader(pdf).page_labels.index(marks["Preface"]) + 1)
    entries = contents_entries(pages_text(pdf))
    assert ("Dedication", marks["Dedication"]) in entries and ("Preface", marks["Preface"]) in entries
    text = flat("\n".join(pages_text(pdf)))
    assert f"As the preface (see page {marks['Preface']}) says" in text
    assert f"how to read it (see page {marks['How to read it']})" in text
    assert f"Start with the second chapter (see page {marks['Two']})" in text


def test_parallel_pdf_has_the_single_documents_page_labels(structured: dict) -> None:
    single, parallel = structured["single"], structured["parallel"]
    assert PdfReader(parallel).page_labels == PdfReader(single).page_labels
    assert pdftotext(parallel) == pdftotext(single)


def test_a_selection_numbers_its_front_matter_in_roman_and_its_chapters_from_1(structured: dict) -> None:
    pdf = structured["chapters"]
    labels = _printed_labels(pdf)
    marks = {mark.title: labels[mark.page_index] for mark in bookmarks(PdfReader(pdf))}
    assert list(marks) == ["Preface", "How to read it", "Part One", "Two"]  # "2" is chapter 2, not the preface
    assert marks["Preface"] == _roman(labels.index(marks["Preface"]) + 1) and marks["Part One"] == "1"
    assert f"As the preface (see page {marks['Preface']}) says" in flat("\n".join(pages_text(pdf)))


@pytest.mark.parametrize(("name", "outline"), [
    ("handout", ["Dedication", "Preface", "How to read it", "Part One", "One", "Two", "Part Two", "Three", "Notes"]),
    ("handout-chapters", ["Part One", "Two", "Part Two", "Three"]),
])
def test_a_handout_is_numbered_once_and_a_part_shares_its_first_chapters_page(structured: dict, name: str,
                                                                               outline: list[str]) -> None:
    pdf = structured[name]
    labels = _printed_labels(pdf)
    pages = pages_text(pdf)
    assert [folio(page) for page in pages] == labels == [str(n) for n in range(1, len(pages) + 1)]
    marks = bookmarks(PdfReader(pdf))
    assert [mark.title for mark in marks] == outline
    where = {mark.title: mark.page_index for mark in marks}
    assert where["Part Two"] == where["Three"] and where["Part One"] in (where.get("One"), where["Two"])

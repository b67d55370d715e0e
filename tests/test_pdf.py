"""The PDF of the sample and features books, read back with pypdf and poppler."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from validators import pdffonts, pdfinfo, pdftotext, qpdf_check

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
    for title in SAMPLE_CHAPTERS:
        first_words = " ".join(title.split()[:4])
        assert any(first_words in " ".join(text.split()) for text in texts[2:]), title
    # each chapter starts a page: 1 title page + 1 contents page + at least 4 body pages
    assert len(reader.pages) >= 6


def test_contents_page_lists_each_chapter_with_its_page_number(built: dict) -> None:
    pdf = built["sample"]["pdf"]
    reader = PdfReader(pdf)
    contents = pdftotext(pdf, 2, 2)
    assert "Contents" in contents
    body_texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    for title in SAMPLE_CHAPTERS:
        match = re.search(re.escape(title.split(",")[0]) + r".*?(\d+)\s*$", contents, re.MULTILINE)
        assert match, f"{title!r} not in contents:\n{contents}"
        number = int(match.group(1))
        # body pages are numbered from 1 after two roman-numbered front pages
        assert title.split(",")[0] in body_texts[number + 1], (title, number)


def test_body_pages_carry_page_numbers(built: dict) -> None:
    pdf = built["sample"]["pdf"]
    pages = pdftotext(pdf).split("\f")
    assert pages[0].split()[-1] == "i" and pages[1].split()[-1] == "ii"
    for number, page in enumerate(pages[2:-1], start=1):
        assert page.split()[-1] == str(number), page[-200:]


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

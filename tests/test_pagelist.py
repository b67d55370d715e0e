"""Placing page-break markers in an EPUB chapter document (render/epub/pagelist.py)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import write_book
from lxml import etree
from validators import assert_ace_clean, pdfinfo, pdftotext, run_epubcheck

from bookbuild.api import build
from bookbuild.model import PageStart as PageBreak
from bookbuild.render.epub.pagelist import insert_page_breaks

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}

CHAPTER = """<html xmlns="http://www.w3.org/1999/xhtml"><body><section id="ch01">
<h1 id="page-2">Page 2</h1>
<p>One two <em>three four</em> five<a role="doc-noteref" href="#n">1</a> six seven.</p>
<p>A<a role="doc-noteref" href="#n">1</a> bc</p>
<table><tbody><tr><td>cell text</td></tr></tbody></table>
<hr/>
</section></body></html>"""


def markers(root: etree._Element) -> str:
    """The section as text, each marker shown as [label]."""
    text = etree.tostring(root.find(".//{*}section"), encoding="unicode")
    text = re.sub(r'<span [^>]*role="doc-pagebreak"[^>]*aria-label="(\w+)"[^>]*/>', r"[\1]", text)
    return text.replace(' xmlns="http://www.w3.org/1999/xhtml"', "")


def test_markers_go_before_blocks_at_word_starts_and_never_into_tables() -> None:
    root = etree.fromstring(CHAPTER)
    placed = insert_page_breaks(root, "ch01", (
        PageBreak("2", (0,)),          # before the heading, whose id is already page-2
        PageBreak("3", (1,), 8),       # 8 non-space characters in: "One two th|ree" -> before "three"
        PageBreak("4", (1,), 16),      # inside "five" (15 to 18) -> before it
        PageBreak("7", (2,), 1),       # the note call's "1" is not counted: before "bc"
        PageBreak("5", (3, 0, 0), 0),  # a path into the table's tbody/tr: inside nothing illegal
        PageBreak("6", (4,)),          # before the rule, not inside it
    ))
    assert placed == [("2", "page-2-2"), ("3", "page-3"), ("4", "page-4"), ("7", "page-7"), ("5", "page-5"), ("6", "page-6")]
    text = markers(root)
    assert '[2]\n<h1 id="page-2">' in text
    assert "One two <em>[3]three four</em> [4]five<a" in text
    assert '</a> [7]bc</p>' in text
    assert "[5]\n<table>" in text
    assert "[6]\n<hr/>" in text
    assert root.find(".//{*}span[@id='page-3']").get("{http://www.idpf.org/2007/ops}type") == "pagebreak"


NAV = """<html xmlns="http://www.w3.org/1999/xhtml"><body><nav id="toc">
<h1 id="toc-title">Contents</h1>
<ol>
<li><a href="part01.xhtml#part01">Part One</a>
<ol>
<li><a href="ch01.xhtml#one">One</a></li>
<li><a href="ch02.xhtml#two">Two and a long title</a></li>
</ol></li>
</ol>
</nav></body></html>"""


def test_markers_in_the_contents_go_inside_the_entrys_link() -> None:
    """Issue 23: EPUB 3.3 lets a contents ``li`` hold only its ``a`` (or ``span``) and an ``ol``:
    a marker before the link made nav.xhtml invalid (EPUBCheck RSC-005)."""
    root = etree.fromstring(NAV)
    placed = insert_page_breaks(root, "toc", (
        PageBreak("v", (0,)),              # the heading
        PageBreak("vi", (1, 0)),           # the part's entry
        PageBreak("vii", (1, 0, 1, 1)),    # a chapter's entry
        PageBreak("viii", (1, 0, 1, 1), 7),  # 7 non-space characters into its title: before "long"
    ))
    assert [label for label, _ in placed] == ["v", "vi", "vii", "viii"]
    text = etree.tostring(root.find(".//{*}nav"), encoding="unicode")
    text = re.sub(r'<span [^>]*role="doc-pagebreak"[^>]*aria-label="(\w+)"[^>]*/>', r"[\1]", text)
    assert '<h1 id="toc-title">[v]Contents</h1>' in text
    assert '<li><a href="part01.xhtml#part01">[vi]Part One</a>' in text
    assert '<li><a href="ch02.xhtml#two">[vii]Two and a [viii]long title</a></li>' in text
    for marker in root.iter("{*}span"):
        assert etree.QName(marker.getparent()).localname in ("a", "h1")


PROSE = ("The river ran slow past the mill, and the miller's children counted the boats that went by "
         "each morning before school. ")
ROWS = 130
PART_NAMES = ("Part One", "Part Two", "Part Three")


def _long_book(folder: Path) -> Path:
    """Three parts of four chapters with four sections each (the contents runs past one page),
    then a chapter with a table of many pages."""
    chapters, entries = {}, []
    for part, part_name in enumerate(PART_NAMES, start=1):
        names = []
        for number in range(1, 5):
            name = f"p{part}c{number}.md"
            sections = "\n\n".join(f"## Section {part}.{number}.{s} of the chapter, with a long title\n\n" + PROSE * 2
                                   for s in range(1, 5))
            chapters[name] = f"# Chapter {part}.{number}\n\n{PROSE * 2}\n\n{sections}\n"
            names.append(f'"{name}"')
        entries.append(f'{{ part = "{part_name}", chapters = [{", ".join(names)}] }}')
    rows = "\n".join(f"| row{n} | value {n} | more text in row {n} |" for n in range(1, ROWS + 1))
    chapters["table.md"] = f"# A long table\n\n{PROSE}\n\n| Name | Value | Note |\n|---|---|---|\n{rows}\n\n{PROSE}\n"
    entries.append('"table.md"')
    manifest = ('[book]\ntitle = "Long Contents"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
                f'chapters = [\n{", ".join(entries)}\n]\n\n[epub]\npage_list = true\n')
    return write_book(folder, manifest, chapters)


@pytest.fixture(scope="module")
def long_book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("long")
    folder = _long_book(out / "book")
    results = build(folder, ["epub", "pdf"], output_dir=out / "dist")
    return {r.format: r.path for r in results} | {"folder": folder}


def _pages(pdf: Path) -> list[tuple[str | None, list[str]]]:
    """Per PDF page: its printed folio (None: none) and its words before it."""
    pages = []
    for number in range(1, int(pdfinfo(pdf)["Pages"]) + 1):
        words = pdftotext(pdf, number, number).split()
        if words and re.fullmatch(r"\d+|[ivxlc]+", words[-1]):
            pages.append((words[-1], words[:-1]))
        else:
            pages.append((None, words))
    return pages


def _page_list(epub: Path) -> list[tuple[str, str, etree._Element]]:
    """(label, file, marker) per page-list entry."""
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
        entries = []
        for link in nav.iterfind(".//x:nav[@epub:type='page-list']//x:a", NS):
            file, anchor = link.get("href").split("#")
            document = etree.fromstring(archive.read(f"EPUB/{file}"))
            entries.append((link.text, file, document.find(f".//*[@id='{anchor}']")))
    return entries


def test_a_long_contents_keeps_the_nav_valid(long_book: dict, tmp_path: Path) -> None:
    """Issue 23: past one printed page of contents, a marker stood before an entry's link."""
    in_nav = [(label, marker) for label, file, marker in _page_list(long_book["epub"]) if file == "nav.xhtml"]
    assert len(in_nav) >= 2, "the contents runs past one printed page"
    for _label, marker in in_nav[1:]:
        assert etree.QName(marker.getparent()).localname == "a"
    assert run_epubcheck(long_book["epub"], tmp_path).problems == []


def test_part_title_pages_are_in_the_page_list(long_book: dict) -> None:
    """Issue 23: the PDF prints a title page for each part (with no folio on it); the EPUB's
    page list skipped them. Each gets the number its place implies, in its part document."""
    pages = _pages(long_book["pdf"])
    expected = {}
    for index, (folio, words) in enumerate(pages):
        if " ".join(words) in PART_NAMES:
            after = next(n for n in range(index + 1, len(pages)) if pages[n][0] is not None)
            expected[" ".join(words)] = str(int(pages[after][0]) - (after - index))
    assert len(expected) == 3
    entries = _page_list(long_book["epub"])
    found = {"".join(marker.xpath("following::text()")).split("\n")[1].strip(): label
             for label, file, marker in entries if file.startswith("part")}
    assert found == expected
    labels = [label for label, _, _ in entries]
    assert labels.index(expected["Part Two"]) < labels.index(str(int(expected["Part Two"]) + 2))


def test_pages_inside_a_long_table_point_at_their_first_row(long_book: dict) -> None:
    """Issue 23: every page inside a table pointed at its start (the header the PDF repeats
    at the top of each page); a page must point at the row it begins with."""
    pages = {folio: words for folio, words in _pages(long_book["pdf"]) if folio}
    in_table = []
    for label, file, marker in _page_list(long_book["epub"]):
        if file.startswith("part"):
            continue  # a part's title page prints no folio
        words = pages[label]
        first_row = next((n for n, word in enumerate(words) if re.fullmatch(r"row\d+", word)), None)
        if first_row is None or words[first_row] == "row1" or words[first_row - 3:first_row] != ["Name", "Value", "Note"]:
            continue  # not a page that begins inside the table (under the header the PDF repeats)
        cell = marker.getparent()
        assert etree.QName(cell).localname == "td", label
        assert "".join(cell.itertext()).strip() == words[first_row], label
        in_table.append(label)
    assert len(in_table) >= 2


@pytest.mark.slow
def test_a_long_contents_passes_ace(long_book: dict, tmp_path: Path) -> None:
    assert_ace_clean(long_book["epub"], tmp_path)


def test_an_unchanged_book_does_not_lay_the_pdf_out_again_for_the_page_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: ``page_list`` laid the whole PDF out on every EPUB build. The page starts are
    kept in the book's cache, keyed by what the layout reads; a changed chapter lays it out again."""
    import bookbuild.render.pdf.document as document

    folder = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                        'chapters = ["one.md", "two.md"]\n\n[epub]\npage_list = true\n',
                        {"one.md": "# One\n\n" + PROSE * 40 + "\n", "two.md": "# Two\n\n" + PROSE * 30 + "\n"})
    first = build(folder, ["epub"], output=tmp_path / "1.epub")[0].path.read_bytes()
    layouts = []
    real = document.layout_pdf
    monkeypatch.setattr(document, "layout_pdf", lambda *args, **kwargs: layouts.append(1) or real(*args, **kwargs))
    second = build(folder, ["epub"], output=tmp_path / "2.epub")[0].path.read_bytes()
    assert layouts == []
    assert second == first
    (folder / "two.md").write_text("# Two\n\n" + PROSE * 60 + "\n", encoding="utf-8")
    third = build(folder, ["epub"], output=tmp_path / "3.epub")[0].path
    assert layouts == [1]
    assert len(_page_list(third)) > len(_page_list(tmp_path / "1.epub"))


def test_a_page_that_begins_with_a_table_row_is_marked_in_its_first_cell() -> None:
    """Nothing may stand between table rows: a row's marker goes at the start of its first
    cell; the table's first row has its marker before the table."""
    root = etree.fromstring("""<html xmlns="http://www.w3.org/1999/xhtml"><body><section id="ch01">
<table><thead><tr><th>Name</th><th>Value</th></tr></thead>
<tbody><tr><td>a</td><td>1</td></tr><tr><td></td><td>2</td></tr></tbody></table>
</section></body></html>""")
    insert_page_breaks(root, "ch01", (PageBreak("4", (0, 0, 0)), PageBreak("5", (0, 1, 1))))
    text = markers(root)
    assert "[4]\n<table>" in text
    assert "<tr><td>[5]</td><td>2</td></tr>" in text

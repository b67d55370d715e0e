"""The [pdf] options as data: manifest validation, chapter selection, the generated page sheet;
and the pdf command's --chapters/--handout as a user meets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.config.manifest import PdfOptions, load_manifest
from bookbuild.config.pdf import chapter_selection, page_size_value
from bookbuild.errors import ManifestError, UsageError
from bookbuild.model import Chapter
from bookbuild.render.pdf.page_setup import page_sheet, print_layout, select_chapters
from conftest import write_book
from test_cli import run

MANIFEST = """[book]
title = "Little Book"
authors = ["A. Writer"]
language = "en"
chapters = ["01-one.md", "02-two.md", "03-three.md"]
"""
CHAPTERS = tuple(Chapter(index=i, id=f"ch{i:02d}", source=Path(f"0{i}-{name}.md"), title=name, body="")
                 for i, name in enumerate(("one", "two", "three", "four", "five"), start=1))


def _book(tmp_path: Path, pdf_table: str = "") -> Path:
    chapters = {f"0{i}-{name}.md": f"# {name.title()}\n\nText of {name}.\n"
                for i, name in enumerate(("one", "two", "three"), start=1)}
    return write_book(tmp_path / "little", MANIFEST + pdf_table, chapters)


@pytest.mark.parametrize(("selection", "expected"), [
    ("2-3", [2, 3]), ("1,4", [1, 4]), ("4,1", [1, 4]), ("02-two", [2]), ("1, 3-5", [1, 3, 4, 5]),
    ("05-FIVE", [5]), ("2,2-3", [2, 3]), (None, [1, 2, 3, 4, 5]),
])
def test_chapter_selection_by_number_range_and_stem(selection: str | None, expected: list[int]) -> None:
    assert [chapter.index for chapter in select_chapters(CHAPTERS, selection)] == expected


@pytest.mark.parametrize(("selection", "message"), [
    ("9", "'9' is outside the book's chapters 1-5"), ("0-2", "outside"), ("3-2", "runs backwards"),
    ("intro", "no chapter file named 'intro'"), ("1,", "empty chapter selection"),
])
def test_bad_chapter_selection_is_an_error_with_a_hint(selection: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        chapter_selection(selection, tuple((chapter.file_stem, chapter.kind) for chapter in CHAPTERS))
    assert message in str(error.value)
    assert error.value.diagnostic.message.startswith("--chapters:")
    assert "hint: name chapters 1-5 by number" in str(error.value)


# (file stem, kind) of a book's entries in reading order: front matter, three numbered chapters
# with an unnumbered interlude, two appendices (A, B) and a colophon.
ENTRIES = (("foreword", "foreword"), ("preface", "preface"), ("01-start", "chapter"), ("02-middle", "chapter"),
           ("interlude", "epigraph"), ("03-end", "chapter"), ("tables", "appendix"), ("b", "appendix"),
           ("colophon", "colophon"))


@pytest.mark.parametrize(("selection", "positions"), [
    ("2-3", [4, 6]),  # Chapters 2 and 3 as the reader sees them, not the 2nd and 3rd entries
    ("1", [3]), ("A", [7]), ("a-b", [7, 8]), ("preface,B", [2, 8]), ("1-3,A", [3, 4, 6, 7]),
    ("interlude", [5]), ("b", [8]),  # a file stem wins over an appendix letter that looks the same
])
def test_a_selection_names_chapters_by_the_numbers_and_letters_a_reader_sees(selection: str,
                                                                             positions: list[int]) -> None:
    assert sorted(chapter_selection(selection, ENTRIES)) == positions
    chapters = tuple(Chapter(index=n, id=f"c{n}", source=Path(f"{stem}.md"), title=stem, body="", kind=kind)
                     for n, (stem, kind) in enumerate(ENTRIES, start=1))
    assert [chapter.index for chapter in select_chapters(chapters, selection)] == positions


@pytest.mark.parametrize(("selection", "message"), [
    ("4", "--chapters: '4' is outside the book's chapters 1-3"),
    ("2-7", "--chapters: '2-7' is outside the book's chapters 1-3"),
    ("C", "--chapters: 'C' is no appendix (A-B) and no chapter file"),
    ("B-A", "--chapters: range 'B-A' runs backwards"),
    ("2-B", "--chapters: no chapter file named '2-B'"),
])
def test_a_selection_beyond_the_numbered_chapters_or_appendices_is_refused(selection: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        chapter_selection(selection, ENTRIES)
    assert message in str(error.value)
    assert "hint: name chapters 1-3 by number, range (2-3), appendix letter (A) or file stem (foreword)" in str(
        error.value)


def test_a_book_without_numbered_chapters_is_selected_by_file_stem() -> None:
    entries = (("preface", "preface"), ("glossary", "glossary"))
    assert chapter_selection("glossary", entries) == {2}
    with pytest.raises(UsageError) as error:
        chapter_selection("1", entries)
    assert "--chapters: '1': the book has no numbered chapters" in str(error.value)
    assert "hint: name chapters by file stem (preface)" in str(error.value)


def test_the_selection_is_checked_at_the_door_against_the_numbered_chapters(tmp_path: Path) -> None:
    """``--chapters`` is read from the manifest's entries, before any chapter is read: six
    entries, three of them numbered chapters."""
    manifest = MANIFEST.replace('chapters = ["01-one.md", "02-two.md", "03-three.md"]', (
        'chapters = [{ file = "foreword.md", kind = "foreword" }, { file = "preface.md", kind = "preface" },\n'
        '    "01-one.md", "02-two.md", "03-three.md", { file = "notes.md", kind = "appendix" }]'))
    chapters = {name: f"# {name}\n\nText.\n" for name in ("foreword.md", "preface.md", "notes.md")}
    book = _book(tmp_path)
    write_book(book, manifest, chapters)
    result = run(["pdf", str(book), "--chapters", "4", "-o", "h.pdf"], tmp_path)
    assert result.exit_code == 2 and "'4' is outside the book's chapters 1-3" in result.output
    result = run(["pdf", str(book), "--chapters", "2-3,A", "-o", "h.pdf"], tmp_path)
    assert result.exit_code == 0, result.output
    from pypdf import PdfReader

    assert [item.title for item in PdfReader(tmp_path / "h.pdf").outline] == ["Two", "Three", "notes.md"]


@pytest.mark.parametrize(("size", "css"), [
    ("A4", "210mm 297mm"), ("letter", "8.5in 11in"), ("6x9in", "6in 9in"), ("A5 landscape", "210mm 148mm"),
    ("210mm 297mm", "210mm 297mm"), ("5.5in  8.5in", "5.5in 8.5in"),
    ("5.06x7.81in", "5.06in 7.81in"), ("148 x 210 mm", "148mm 210mm"),  # a trim as the printers write it
])
def test_page_size_presets_and_lengths(size: str, css: str) -> None:
    assert page_size_value(size) == css


@pytest.mark.parametrize("size", ["A9", "210 297", "1in; } body { color: red", "", "A4 sideways", "6x9", "6x9in 8in",
                                  "6x9in; } body { color: red"])
def test_bad_page_size_is_refused(size: str) -> None:
    assert page_size_value(size) is None


def test_page_sheet_mirrors_margins_only_when_two_sided() -> None:
    options = PdfOptions(margin_inner="25mm", margin_outer="15mm")
    sheet = page_sheet(options, print_layout(options), "fr-CA")
    assert "@page { size: 210mm 297mm; margin: 20mm 15mm 22mm 25mm; }" in sheet
    assert "@page :right { margin-left: 25mm; margin-right: 15mm; }" in sheet
    assert "@page :left { margin-left: 15mm; margin-right: 25mm; }" in sheet
    assert '" (voir page " target-counter(attr(href url), page, book-digits) ")"' in sheet
    one_sided = PdfOptions(two_sided=False, page_references=False, crop_marks=True)
    sheet = page_sheet(one_sided, print_layout(one_sided), "en")
    assert ":left" not in sheet and "target-counter" not in sheet
    assert "marks: crop cross; bleed: 3mm;" in sheet


def test_handout_layout_is_single_sided_without_extra_furniture() -> None:
    layout = print_layout(PdfOptions(handout=True))
    assert (layout.two_sided, layout.half_title, layout.copyright) == (False, False, False)
    assert layout.html_classes == "one-sided handout"
    assert print_layout(PdfOptions(chapters="2")).half_title is False
    assert print_layout(PdfOptions()).html_classes == "two-sided"


def test_pdf_table_is_read_and_checked(tmp_path: Path) -> None:
    table = ('\n[pdf]\npage_size = "B5"\nmargin_inner = "0.9in"\ntwo_sided = false\n'
             'variant = "PDF/UA-1"\ncrop_marks = true\nbleed = "5mm"\npage_references = false\n')
    pdf = load_manifest(_book(tmp_path, table)).pdf
    assert pdf == PdfOptions(page_size="B5", margin_inner="0.9in", two_sided=False, variant="pdf/ua-1",
                             crop_marks=True, bleed="5mm", page_references=False)


@pytest.mark.parametrize(("line", "message"), [
    ('margin_outer = "wide"', ":8: error: [pdf] margin_outer: 'wide' is not a length"),
    ('two_sided = "yes"', ":8: error: [pdf] two_sided: expected true or false, got a string"),
    ('variant = "pdf/x-9"', ":8: error: [pdf] variant: unknown PDF variant 'pdf/x-9'"),
    ("bleed = 3", ":8: error: [pdf] bleed: expected a string, got an integer"),
    ('page_size = "A9"', ":8: error: [pdf] page_size: 'A9' is neither a preset nor a width and height"),
])
def test_bad_pdf_keys_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ManifestError) as error:
        load_manifest(_book(tmp_path, f"\n[pdf]\n{line}\n"))
    assert message in str(error.value)


def test_cli_chapters_and_handout(tmp_path: Path) -> None:
    from pypdf import PdfReader

    book = _book(tmp_path)
    result = run(["pdf", str(book), "--chapters", "02-two,3", "--handout", "-o", "h.pdf"], tmp_path)
    assert result.exit_code == 0, result.output
    reader = PdfReader(tmp_path / "h.pdf")
    assert [item.title for item in reader.outline] == ["Two", "Three"]
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Text of two" in text and "Text of three" in text and "Text of one" not in text
    before = (tmp_path / "h.pdf").read_bytes()
    result = run(["pdf", str(book), "--chapters", "7", "-o", "h.pdf"], tmp_path)
    assert result.exit_code == 2, "a selection that names no chapter is a usage error"
    assert result.output.strip().splitlines() == [
        "command line: error: --chapters: '7' is outside the book's chapters 1-3 "
        "(hint: name chapters 1-3 by number, range (2-3) or file stem (01-one))"]
    assert (tmp_path / "h.pdf").read_bytes() == before


def test_selection_and_handout_get_their_own_default_names(tmp_path: Path) -> None:
    book = _book(tmp_path)
    result = run(["pdf", str(book), "--chapters", "2-3", "--handout"], tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{book.name}/dist/little-book-chapters-2-3-handout.pdf")
    assert not (book / "dist" / "little-book.pdf").exists()


@pytest.mark.parametrize(("folios", "ranges"), [
    # half-title, blank, title, copyright (no number), contents v, blank, preface vii, blank,
    # then a part title page (page 1, no number), its blank verso, a chapter from 3
    ([None, None, None, None, "v", None, "vii", None, None, None, "3", "4"], [(0, "r", 1), (8, "D", 1)]),
    # a blank verso before the body's printed page 1 belongs to the front matter's count
    ([None, "ii", None, "1", "2"], [(0, "r", 1), (3, "D", 1)]),
    (["1", "2", "3"], [(0, "D", 1)]), ([None, None], [(0, "D", 1)]),
    (["IX", "X", "1"], [(0, "R", 9), (2, "D", 1)]),
])
def test_page_labels_are_read_from_the_printed_page_numbers(folios: list[str | None],
                                                           ranges: list[tuple[int, str, int]]) -> None:
    from bookbuild.render.pdf.page_labels import label_ranges, page_labels_pdf

    assert label_ranges(folios) == ranges
    assert page_labels_pdf([(0, "r", 1), (8, "D", 1), (12, "R", 4)]) == b"<</Nums[0<</S/r>>8<</S/D>>12<</S/R/St 4>>]>>"

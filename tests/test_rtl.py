"""Right-to-left books as their readers expect them (issue 25 item 12): quotation marks, the
language's digits in folios, contents and labels, the copyright page set flush right, and a
paragraph in the other direction laid out in its own.

The books: the Persian test book with an English paragraph added, the real Arabic excerpt of
the Rust book (tests/real/rust-book-ar) as its translators wrote it, and the Hebrew test book
(whose language writes 0-9: nothing changes there).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bookbuild.api import BuildOptions, build
from bookbuild.config.languages import language_facts
from bookbuild.errors import Reporter
from conftest import ROOT, write_book
from validators import pdftotext, require, run_aces, run_epubchecks, skip_without_ace

XHTML = "{http://www.w3.org/1999/xhtml}"
PERSIAN, ARABIC_INDIC, LATIN = "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩", "0123456789"
DIGITS = {"fa": PERSIAN, "ar": ARABIC_INDIC, "he": LATIN}
ENGLISH = ("Run the tests first (all 12 of them), then build the book: it takes about 3 seconds, "
           "and the output goes to dist/.")
# A Persian paragraph that starts with an English word: it stays right to left.
PERSIAN_FIRST_WORD_ENGLISH = "Rust یک زبان برنامه‌نویسی است که ایمنی حافظه را بدون زباله‌روب تضمین می‌کند."
# The real Arabic chapter's paragraph that starts with an English word (ch04-00, line 10).
ARABIC_FIRST_WORD_ENGLISH = "borrowing (الاستعارة)"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


def persian_book(folder: Path) -> Path:
    book = folder / "fa"
    shutil.copytree(ROOT / "tests" / "books" / "fa", book)
    chapter = book / "chapters" / "01-aghaz.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + f"\n{ENGLISH}\n\n{PERSIAN_FIRST_WORD_ENGLISH}\n",
                       encoding="utf-8")
    return book


@pytest.fixture(scope="module")
def rtl_books(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("rtl")
    sources = {"fa": persian_book(out / "src"), "ar": ROOT / "tests" / "real" / "rust-book-ar",
               "he": ROOT / "tests" / "books" / "he"}
    books = {}
    for name, source in sources.items():
        results = build(source, ["epub", "pdf"], output_dir=out / name, reporter=Reporter(),
                        options=BuildOptions(parallel=False))
        books[name] = {r.format: r.path for r in results}
    for book, report in zip(books.values(), run_epubchecks([b["epub"] for b in books.values()], out)):
        book["epubcheck"] = report
    # the Arabic chapters are long enough for the chapter-parallel PDF, which the book gets by default
    books["ar-parallel"] = {"pdf": build(sources["ar"], ["pdf"], output_dir=out / "ar-parallel", reporter=Reporter(),
                                         options=BuildOptions(parallel=True))[0].path}
    return books


def text(pdf: Path, layout: bool = True) -> str:
    """The PDF's text without the bidi controls poppler writes around each run."""
    return BIDI_CONTROLS.sub("", pdftotext(pdf, layout=layout))


def pages(pdf: Path, layout: bool = True) -> list[str]:
    return text(pdf, layout=layout).split("\f")[:-1]


def numbers_in(text: str) -> list[str]:
    return re.findall(r"[0-9\u0660-\u0669\u06f0-\u06f9]+", text)


def chapter_documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if re.match(r"EPUB/ch\d+\.xhtml$", name)}


def text_lines(pdf: Path, page: int) -> list[tuple[str, float, float]]:
    """The lines of one page as (text, x of its left end, x of its right end), top to bottom."""
    out = subprocess.run([require("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    rows: dict[float, list[tuple[float, float, str]]] = {}
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', out):
        y = round(float(m.group(2)))
        row = next((key for key in rows if abs(key - y) <= 3), y)
        rows.setdefault(row, []).append((float(m.group(1)), float(m.group(3)), m.group(4)))
    return [(" ".join(w for _, _, w in words), min(x for x, _, _ in words), max(x for _, x, _ in words))
            for _, words in sorted(rows.items())]


def test_languages_know_their_digits() -> None:
    assert language_facts("fa").number(2024) == "۲۰۲۴"
    assert language_facts("ar").number("12") == "١٢"
    assert language_facts("ar-MA").number(12) == "12"  # the Maghreb writes 0-9
    assert language_facts("he").number(12) == language_facts("en").number(12) == "12"
    assert language_facts("fa").number("A") == "A"  # an appendix's letter


@pytest.mark.parametrize("name", ["fa", "ar", "he", "ar-parallel"])
def test_folios_and_contents_numbers_use_the_languages_digits(rtl_books: dict, name: str) -> None:
    """Body folios and the contents' page numbers; the roman numbers of the front matter stay."""
    language = name.split("-")[0]
    text = pages(rtl_books[name]["pdf"])
    contents_title = language_facts(language).label("contents")
    contents = next(page for page in text if contents_title in page)
    body = [page for page in text[text.index(contents) + 1:] if page.strip()]
    folios = [page.split()[-1] for page in body]
    assert len(folios) >= 2 and all(set(folio) <= set(DIGITS[language]) for folio in folios), folios
    numbers = numbers_in(contents)
    assert numbers and all(set(n) <= set(DIGITS[language]) for n in numbers), contents


@pytest.mark.parametrize("name, label", [("fa", "فصل ۱"), ("ar", "الفصل ١"), ("he", "פרק 1")])
def test_chapter_labels_use_the_languages_digits(rtl_books: dict, name: str, label: str) -> None:
    spans = [span for doc in chapter_documents(rtl_books[name]["epub"]).values()
             for span in doc.iter(f"{XHTML}span") if span.get("class") == "chapter-label"]
    assert spans and spans[0].text == label
    assert label in text(rtl_books[name]["pdf"], layout=False)


def test_quotation_marks_open_and_close_in_reading_order(rtl_books: dict) -> None:
    """«» around the quoted words in logical order: the marks are mirrored in right-to-left
    text (Bidi_Mirrored), so they show the right way round; “ ” are not, and showed reversed."""
    logical = text(rtl_books["ar"]["pdf"], layout=False)
    assert "«أنواع البيانات»" in logical
    assert "“" not in logical and "”" not in logical
    with zipfile.ZipFile(rtl_books["ar"]["epub"]) as archive:
        assert "«أنواع البيانات»" in archive.read("EPUB/ch02.xhtml").decode()


def test_a_paragraph_in_the_other_direction_gets_its_own(rtl_books: dict) -> None:
    """dir="ltr" on the English paragraph: a Persian or Arabic paragraph or caption that starts
    with an English word stays right to left (most of its words are Persian or Arabic)."""
    blocks = {"".join(p.itertext()).strip(): p.get("dir")
              for book in ("fa", "ar") for doc in chapter_documents(rtl_books[book]["epub"]).values()
              for p in [*doc.iter(f"{XHTML}p"), *doc.iter(f"{XHTML}figcaption")]}
    assert blocks[ENGLISH] == "ltr"
    assert blocks[PERSIAN_FIRST_WORD_ENGLISH] is None
    arabic = next(text for text in blocks if text.startswith(ARABIC_FIRST_WORD_ENGLISH))
    assert blocks[arabic] is None
    captions = [text for text in blocks if text.startswith("Listing 4-")]  # "Listing 4-4: نقل Ownership ..."
    assert len(captions) >= 3 and all(blocks[text] is None for text in captions)
    assert blocks["Filename: src/main.rs"] == "ltr"  # the marker bookbuild writes in English
    assert not any(direction and ARABIC_LETTER.search(text) and direction == "ltr"
                   for text, direction in blocks.items() if text.count(" ") > 3 and len(ARABIC_LETTER.findall(text)) > 20)


def test_the_english_paragraph_reads_left_to_right_in_the_pdf(rtl_books: dict) -> None:
    """Visual order (pdftotext -layout) of its lines is the sentence itself, flush left."""
    pdf = rtl_books["fa"]["pdf"]
    number, page = next((n, p) for n, p in enumerate(pages(pdf), 1) if "Run the tests" in p)
    lines = [(words, left, right) for words, left, right in text_lines(pdf, number)
             if re.search("[A-Za-z]", words) and not ARABIC_LETTER.search(words)]
    assert " ".join(words for words, _, _ in lines) == ENGLISH
    margin = min(left for _, left, _ in text_lines(pdf, number))
    assert abs(lines[-1][1] - margin) < 2  # the last line starts at the left margin


@pytest.mark.parametrize("name", ["fa", "ar"])
def test_copyright_page_is_set_flush_right(rtl_books: dict, name: str) -> None:
    """Every line of the copyright page ends at the same x: the right margin."""
    pdf = rtl_books[name]["pdf"]
    text_of = pages(pdf)
    contents = next(n for n, p in enumerate(text_of) if language_facts(name).label("contents") in p)
    number = max(n for n, p in enumerate(text_of[:contents], 1) if p.strip())  # the page before
    lines = text_lines(pdf, number)
    assert len(lines) >= 3
    rights = [right for _, _, right in lines]
    assert max(rights) - min(rights) < 2, lines
    assert max(left for _, left, _ in lines) - min(left for _, left, _ in lines) > 20, lines


def test_a_persian_paragraph_in_an_english_book_is_right_to_left(tmp_path: Path) -> None:
    book = write_book(tmp_path / "en", '[book]\ntitle = "Mixed"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
                      'chapters = ["one.md"]\n',
                      {"one.md": f"# One\n\nAn English paragraph about Persian.\n\n{PERSIAN_FIRST_WORD_ENGLISH}\n"})
    epub = build(book, ["epub"], output_dir=tmp_path / "out", reporter=Reporter())[0].path
    (document,) = chapter_documents(epub).values()
    directions = {"".join(p.itertext()): p.get("dir") for p in document.iter(f"{XHTML}p")}
    assert directions == {"An English paragraph about Persian.": None, PERSIAN_FIRST_WORD_ENGLISH: "rtl"}


@pytest.mark.parametrize("name", ["fa", "ar", "he"])
def test_epubcheck_clean(rtl_books: dict, name: str) -> None:
    report = rtl_books[name]["epubcheck"]
    assert report.problems == []


@pytest.fixture(scope="module")
def ace_reports(rtl_books: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Ace on the Persian and the Arabic book at once (validators.run_aces)."""
    skip_without_ace()
    return dict(zip(("fa", "ar"), run_aces([rtl_books["fa"]["epub"], rtl_books["ar"]["epub"]],
                                           tmp_path_factory.mktemp("ace"))))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fa", "ar"])
def test_ace_reports_no_violations(ace_reports: dict, name: str) -> None:
    assert ace_reports[name].violations == []
    assert ace_reports[name].outcome == "pass"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
       | st.lists(st.sampled_from(["a", "“", "—", "é", "א", "ش", "\U00010900", "\U0001e900", "\ufb1d", "\u0589", "<p>"]),
                  max_size=12).map("".join))
def test_the_cheap_rtl_test_agrees_with_a_search_of_the_whole_text(text: str) -> None:
    """has_rtl_letter searches only what is not ASCII; on any text (astral letters, lone
    surrogates' neighbours, Armenian next to Hebrew) it says what the search of all of it says."""
    from bookbuild.transforms.bidi import _RTL_LETTER, has_rtl_letter

    assert has_rtl_letter(text) == (_RTL_LETTER.search(text) is not None)

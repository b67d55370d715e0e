"""Real books that other people wrote, built as their authors wrote them (issues 23 and 25).

tests/real/ holds small excerpts of open-licensed books, each with its LICENCE.md (source
repository, commit, paths, licence, authors) and a book.toml written for these tests:

- rust-book: The Rust Programming Language (mdBook; MIT OR Apache-2.0): the foreword,
  chapters 1 and 2, parts of 3 and 14, appendix B, and the listings they {{#include}};
  built as the mdBook project it is, from mdBook's own book.toml and SUMMARY.md.
- trpl-zh-cn: its Chinese translation (mdBook; MIT), in two parts as its SUMMARY.md has them.
- rust-book-ar: an Arabic translation (right to left; MIT OR Apache-2.0): chapter 4's first
  section with its five SVG figures.
- frankenstein: the Standard Ebooks edition (XHTML; CC0): imprint, dedication, epigraph, the
  three chapters that carry a note, the endnotes, colophon and uncopyright.
- typescript-options: two TypeScript handbook pages that are one long table each (CC BY 4.0).

Each book is built once for this module, through the command line as a user runs it (so
everything printed, by any process, is seen), from a copy in a temporary folder. The
validators are the real ones (EPUBCheck, Ace by DAISY, qpdf, poppler); see tests/validators.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT
from lxml import etree
from validators import (
    pdffonts,
    pdftotext,
    qpdf_check,
    run_aces,
    run_epubchecks,
    skip_without_ace,
)

from bookbuild.api import build
from bookbuild.errors import Reporter

REAL = ROOT / "tests" / "real"
NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "opf": "http://www.idpf.org/2007/opf",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@dataclass(frozen=True)
class Part:
    """A part title in the contents; its title page prints no folio, so only its place counts."""

    title: str


# What the contents of each PDF must list, in reading order: the chapters' titles as their
# authors wrote them (parts marked). Front matter whose heading the book's own CSS hides (the
# Standard Ebooks imprint and colophon) and heading-less pages (dedication, epigraph) are left
# out: they need not be found on their page by their text.
CONTENTS: dict[str, list[str | Part]] = {
    "rust-book": [
        "Foreword", "Getting Started", "Installation", "Hello, World!", "Hello, Cargo!",
        "Programming a Guessing Game", "Common Programming Concepts", "Data Types",
        "More About Cargo and Crates.io", "Installing Binaries with cargo install", "Appendix",
        "Appendix B: Operators and Symbols",
    ],
    "trpl-zh-cn": [
        Part("入门指南"), "入门指南", "安装", "Hello, World!", "编写一个猜数字游戏",
        Part("Rust 编程思想"), "进一步认识 Cargo 和 Crates.io", "使用 cargo install 安装二进制文件",
    ],
    "rust-book-ar": ["فهم Ownership", "ما هي الملكية (Ownership)؟"],
    "frankenstein": ["Chapter V", "Chapter XI", "Chapter XVIII", "Endnotes", "Uncopyright"],
    "typescript-options": ["tsc CLI Options", "Compiler Options in MSBuild"],
}
BOOKS = list(CONTENTS)
# bookbuild's own stylesheets (styles/): a message about one of them is never the user's.
OWN_SHEETS = re.compile(r"\b(base|print|epub|handout|options)\.css\b|Ignored `[^`]*` at \d+:\d+")


@dataclass
class Built:
    folder: Path  # the copy that was built
    returncode: int
    output: list[str]  # every line the command printed (stdout and stderr)
    epub: Path | None = None
    pdf: Path | None = None
    pages: list[str] = field(default_factory=list)  # pdftotext -layout, page by page

    def epub_documents(self) -> dict[str, etree._Element]:
        with zipfile.ZipFile(self.epub) as archive:
            return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                    if name.endswith(".xhtml")}

    def epub_file(self, name: str) -> etree._Element:
        with zipfile.ZipFile(self.epub) as archive:
            return etree.fromstring(archive.read(name))

    def epub_text(self) -> str:
        return "\n".join("".join(doc.itertext()) for doc in self.epub_documents().values())


def _build_with_the_cli(folder: Path, out: Path) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", "from bookbuild.cli import main; main(prog_name='bookbuild')",
         "build", str(folder), "--output-dir", str(out)],
        check=False, capture_output=True, text=True, env=env, timeout=1200)
    return done.returncode, (done.stdout + done.stderr).splitlines()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Every book of tests/real built once, EPUB and PDF, from a copy (the build writes its
    cache beside book.toml); EPUBCheck is run on all of them at once further down."""
    base = tmp_path_factory.mktemp("real")
    books = {}
    for name in BOOKS:
        folder = base / name
        shutil.copytree(REAL / name, folder, ignore=shutil.ignore_patterns(".bookbuild-cache"))
        out = base / f"{name}-dist"
        returncode, output = _build_with_the_cli(folder, out)
        built = Built(folder, returncode, output)
        epubs, pdfs = sorted(out.glob("*.epub")), sorted(out.glob("*.pdf"))
        built.epub = epubs[0] if epubs else None
        built.pdf = pdfs[0] if pdfs else None
        if built.pdf:
            built.pages = pdftotext(built.pdf).split("\f")
        books[name] = built
    return books


@pytest.fixture(scope="module")
def epubcheck(real: dict[str, Built], tmp_path_factory: pytest.TempPathFactory) -> dict:
    built = [name for name in BOOKS if real[name].epub]
    reports = run_epubchecks([real[name].epub for name in built], tmp_path_factory.mktemp("epubcheck"))
    return dict(zip(built, reports))


def book(real: dict[str, Built], name: str) -> Built:
    """The built book; fails (with what the command printed) when the build did not finish."""
    built = real[name]
    assert built.returncode == 0 and built.epub and built.pdf, "\n".join(built.output[-40:])
    return built


# --- reading the PDF's pages -----------------------------------------------------------------

BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
LEADERS = re.compile(r"(?:\s*\.){3,}\s*")
FOLIO = re.compile(r"\d+|[ivxlcdm]+", re.IGNORECASE)  # \d: any script's digits


def plain(text: str) -> str:
    """Text as a reader reads it: no bidi controls, Arabic presentation forms and full-width
    forms folded (NFKC), no combining marks (pdftotext splits Arabic vowel marks off)."""
    text = unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")


def words(text: str) -> Counter:
    """The words of a title or line, whatever order pdftotext put mixed-direction text in."""
    return Counter(re.sub(r"[()\[\]؟?:،,!.“”\"'`·|]+", " ", plain(text)).casefold().split())


def lines(page: str) -> list[str]:
    return [plain(line).strip() for line in page.splitlines() if plain(line).strip()]


def folio(page: str) -> str | None:
    """The page number printed at the foot of the page: its last line, if that is a number."""
    found = lines(page)
    return found[-1] if found and FOLIO.fullmatch(found[-1]) else None


def contents_pages(pages: list[str]) -> list[int]:
    """The contents: the first pages with dot leaders ending in a page number, in a row."""
    def has_entries(page: str) -> bool:
        return sum(1 for _ in contents_entries(page)) >= 1
    first = next((n for n, page in enumerate(pages) if has_entries(page)), None)
    if first is None:
        return []
    found = [first]
    while found[-1] + 1 < len(pages) and has_entries(pages[found[-1] + 1]):
        found.append(found[-1] + 1)
    return found


def contents_entries(page: str):
    """(title words, printed number) for each contents line; the number is at the right of a
    left-to-right line and at the left of a right-to-left one."""
    for line in lines(page):
        if not LEADERS.search(line):
            continue
        pieces = [piece.strip() for piece in LEADERS.split(line) if piece.strip()]
        if len(pieces) != 2:
            continue
        left, right = pieces
        if FOLIO.fullmatch(right) and not FOLIO.fullmatch(left):
            yield words(left), right
        elif FOLIO.fullmatch(left):
            yield words(right), left


def heading_line(page: str, title: str) -> int | None:
    """The index of the line (or two lines, when it wraps) that is exactly ``title``."""
    want, found = words(title), lines(page)
    for number, line in enumerate(found):
        if words(line) == want or (number + 1 < len(found) and words(line + " " + found[number + 1]) == want):
            return number
    return None


def opening_page(pages: list[str], title: str, start: int) -> int | None:
    """The first page from ``start`` with a line that is ``title`` and a printed folio: the
    page a chapter (or section) begins on. Its running heads come on later pages; a part's
    title page prints no folio."""
    for number in range(start, len(pages)):
        if heading_line(pages[number], title) is not None and folio(pages[number]) is not None:
            return number
    return None


def contents_against_pages(pages: list[str], expected: list[str | Part]) -> tuple[list[str], list[tuple]]:
    """Each expected entry's number in the contents and the folio of the page it names.

    Returns the problems found and, for each chapter, (title, contents number, page index, folio).
    """
    problems, found = [], []
    toc = contents_pages(pages)
    if not toc:
        return ["no contents page with dot leaders and page numbers"], []
    entries = [entry for n in toc for entry in contents_entries(pages[n])]
    position, page = 0, toc[-1] + 1
    for item in expected:
        title = item.title if isinstance(item, Part) else item
        match = next((k for k in range(position, len(entries)) if entries[k][0] == words(title)), None)
        if match is None:
            problems.append(f"{title!r} is not in the contents (pages {[n + 1 for n in toc]})")
            continue
        position = match + 1
        if isinstance(item, Part):
            continue
        number = entries[match][1]
        opening = opening_page(pages, title, page)
        if opening is None:
            problems.append(f"{title!r}: the contents says {number}, but no page after page {page + 1} "
                            f"opens with it and prints a folio")
            continue
        page = opening  # a section runs on in its chapter's page: the next title may be on this one
        found.append((title, number, opening, folio(pages[opening])))
        if folio(pages[opening]) != number:
            problems.append(f"{title!r}: the contents says {number}; the first page that shows the title "
                            f"(PDF page {opening + 1}) prints {folio(pages[opening])}")
    return problems, found


# --- every book: valid, accessible, clean messages, right page numbers ---------------------

@pytest.mark.parametrize("name", BOOKS)
def test_real_book_builds(real: dict[str, Built], name: str) -> None:
    book(real, name)


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_epubcheck_has_no_errors_or_warnings(real: dict[str, Built], epubcheck: dict, name: str) -> None:
    book(real, name)
    report = epubcheck[name]
    assert report.fatals + report.errors == [], f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    assert report.warnings == [], f"{len(report.warnings)} warnings"


@pytest.fixture(scope="module")
def ace(real: dict[str, Built], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Ace on every built book, a few at once (validators.run_aces)."""
    skip_without_ace()
    built = [name for name in BOOKS if real[name].epub]
    return dict(zip(built, run_aces([real[name].epub for name in built], tmp_path_factory.mktemp("ace"))))


@pytest.mark.slow
@pytest.mark.parametrize("name", BOOKS)
def test_real_book_ace_finds_no_violations(real: dict[str, Built], ace: dict, name: str) -> None:
    """validators.assert_ace_clean, with its assertions here, where pytest shows the violations."""
    book(real, name)
    report = ace[name]
    assert report.violations == []
    assert report.outcome == "pass"


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_build_says_nothing_about_bookbuilds_own_stylesheets(real: dict[str, Built], name: str) -> None:
    """WeasyPrint's complaints about styles/*.css (``Ignored `text-emphasis: filled dot` at
    227:30``) are not the user's business; complaints about the book's own sheets (which name
    their file, inside the book) are."""
    built = book(real, name)
    own = [line for line in built.output if OWN_SHEETS.search(line) and not line.startswith(str(built.folder))]
    assert own == []


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_build_says_each_thing_once(real: dict[str, Built], name: str) -> None:
    """The same message for many places is one line with a count (issue 25, item 15:
    'element <listing> removed' 424 times in the Rust book). A few places each on its own
    line (a broken link written twice) are fine; more than three of the same text is noise."""
    built = book(real, name)
    messages = Counter(re.sub(r"^\S[^:]*?(:\d+)*: ", "", line) for line in built.output
                       if re.search(r": (warning|error): ", line))
    assert {message: count for message, count in messages.items() if count > 3} == {}


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_pdf_passes_qpdf_check(real: dict[str, Built], name: str) -> None:
    done = qpdf_check(book(real, name).pdf)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax or stream encoding errors found" in done.stdout


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_pdf_embeds_each_font_once(real: dict[str, Built], name: str) -> None:
    """One embedded subset per font, as WeasyPrint's single document makes it (issue 23,
    item 9: the chapter-parallel PDF embedded a copy per piece)."""
    embedded = Counter(font["name"] for font in pdffonts(book(real, name).pdf))
    assert {font: copies for font, copies in embedded.items() if copies > 1} == {}


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_contents_prints_the_folio_of_each_chapter_page(real: dict[str, Built], name: str) -> None:
    """Find each chapter's first page by its title; the number printed at its foot is the one
    the contents gives for it (issue 23, item 7: printed page numbers, not physical ones)."""
    problems, found = contents_against_pages(book(real, name).pages, CONTENTS[name])
    assert problems == []
    assert len(found) == sum(not isinstance(item, Part) for item in CONTENTS[name])


@pytest.mark.parametrize("name", BOOKS)
def test_real_book_page_labels_are_the_printed_folios(real: dict[str, Built], name: str) -> None:
    """A viewer's page numbers (/PageLabels) are the ones printed on the pages. A PDF page
    label numbers in 0-9 or roman only (ISO 32000 12.4.2), so a folio printed in Arabic-Indic
    digits (١٢) must carry the same number in 0-9."""
    from pypdf import PdfReader

    built = book(real, name)
    labels = PdfReader(built.pdf).page_labels
    printed = {n: _western(folio(page)) for n, page in enumerate(built.pages[:len(labels)]) if folio(page)}
    assert len(printed) > len(labels) // 2  # most pages print their number
    assert {n + 1: (labels[n], number) for n, number in printed.items() if labels[n] != number} == {}


def _western(number: str) -> str:
    """A folio's number with its digits in 0-9 (roman numbers are left as they are)."""
    import unicodedata

    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in number)


# --- mdBook books: includes, dollars, listings, sections, the project as it is ----------------

INCLUDED = {  # a line that only an included listing file holds
    "rust-book": ["let secret_number = rand::rng().random_range(1..=100);", "let tup: (i32, f64, u8) = (500, 6.4, 1);"],
    "trpl-zh-cn": ["let secret_number = rand::thread_rng().gen_range(1..=100);"],
    "rust-book-ar": ["takes_ownership(s);             // s's value moves into the function..."],
}


@pytest.mark.parametrize("name", list(INCLUDED))
def test_mdbook_includes_are_expanded(real: dict[str, Built], name: str) -> None:
    text = book(real, name).epub_text()
    for line in INCLUDED[name]:
        assert line in text
    assert "{{#" not in text
    assert "ANCHOR" not in text  # anchor lines are never included


@pytest.mark.parametrize("name", ["rust-book", "trpl-zh-cn"])
def test_dollar_signs_in_prose_stay_text(real: dict[str, Built], name: str) -> None:
    """ch14-04: '*$HOME/.cargo/bin*. Ensure that this directory is in your `$PATH`' is prose
    with two dollar signs, not a formula (issue 25, item 1)."""
    built = book(real, name)
    text = built.epub_text()
    assert "$HOME/.cargo/bin" in text and "$PATH" in text
    formulas = [name for name, doc in built.epub_documents().items()
                for _ in doc.iter("{http://www.w3.org/1998/Math/MathML}math")]
    assert formulas == []
    assert "$HOME/.cargo/bin" in "".join(built.pages)


@pytest.mark.parametrize("name, number, caption", [
    ("rust-book", "1-1", "A program that prints Hello, world!"),
    ("rust-book-ar", "4-1", "متغير والـ scope الذي يكون فيه صالحًا"),
])
def test_mdbook_listing_captions_are_kept(real: dict[str, Built], name: str, number: str, caption: str) -> None:
    """<Listing number="1-1" file-name="main.rs" caption="..."> keeps its number and caption
    in both formats, as mdBook's book shows 'Listing 1-1: A program that prints ...' (issue 25,
    item 8)."""
    built = book(real, name)
    epub = re.sub(r"\s+", " ", built.epub_text().replace("`", ""))
    assert re.search(re.escape(number) + r"[^.]{0,30}?" + re.escape(caption), epub)
    pdf = words(" ".join(built.pages))
    assert words(caption) <= pdf


@pytest.mark.parametrize("name, caption, file_line", [
    ("rust-book", "Listing 1-1: A program that prints Hello, world!", "Filename: main.rs"),
    ("trpl-zh-cn", "示例 1-1：一个打印 Hello, world! 的程序", "文件名：main.rs"),
])
def test_mdbook_listings_are_numbered_figures_with_their_file_name(
        real: dict[str, Built], name: str, caption: str, file_line: str) -> None:
    """One construct for <Listing number file-name caption> (the English book) and for the
    figure its preprocessor made (the translation): a figure with the file name above the code
    and the author's number in the caption, Markdown read, no second label (items 8 and 11)."""
    built = book(real, name)
    figures = [f for doc in built.epub_documents().values() for f in doc.iterfind(".//x:figure", NS)
               if "listing" in (f.get("class") or "").split()]
    first = figures[0]
    assert "".join(first.find("x:figcaption", NS).itertext()).strip() == caption
    assert first.find("x:figcaption/x:code", NS).text == "Hello, world!"
    assert "".join(first.find("x:p[@class='code-filename']", NS).itertext()) == file_line
    assert first.find(".//x:pre", NS) is not None
    assert not [f for f in figures if re.match(r"(Figure|图)\s?\d", "".join(f.find("x:figcaption", NS).itertext()))]
    pdf = " ".join(" ".join(built.pages).split())
    assert caption in pdf and file_line in pdf
    assert not [line for line in built.output if "<listing>" in line.lower()]


def test_mdbook_code_markers_are_shown_in_both_formats(real: dict[str, Built]) -> None:
    """```rust,ignore,does_not_compile (Listing 2-4) and ```rust,panics (ch03-02) tell the
    reader, as the Rust book's Ferris does, in words (item 7)."""
    built = book(real, "rust-book")
    markers = {}
    for doc in built.epub_documents().values():
        for p in doc.iterfind(".//x:p", NS):
            if "code-marker" in (p.get("class") or "").split():
                markers[p.text] = markers.get(p.text, 0) + 1
                assert p.getnext().tag == "{http://www.w3.org/1999/xhtml}pre"
    assert markers["This code does not compile!"] == 1 and markers["This code panics!"] == 1
    assert markers["This example is not tested"] > 10  # ```rust,ignore alone
    pdf = " ".join(" ".join(built.pages).split())
    assert "This code does not compile!" in pdf and "This code panics!" in pdf


@pytest.mark.parametrize("name, caption", [("rust-book", "Filename:"), ("trpl-zh-cn", "文件名：")])
def test_file_name_captions_stay_with_their_code(real: dict[str, Built], name: str, caption: str) -> None:
    """'Filename: src/main.rs' is never the last line of a page: the code it names follows it
    on the same page (item 9)."""
    built = book(real, name)
    stranded, seen = [], 0
    for number, page in enumerate(built.pages):
        found = lines(page)
        body = found[:-1] if folio(page) else found
        for index, line in enumerate(body):
            if line.startswith(plain(caption)):  # lines() folds the full-width colon
                seen += 1
                if index == len(body) - 1:
                    stranded.append((number + 1, line))
    assert seen >= 5 and stranded == []


def test_code_is_never_hyphenated_nor_slanted_and_names_are_whole(real: dict[str, Built]) -> None:
    """No line of the PDF ends in a hyphen that splits a code span; no code is set in an oblique
    monospace (block quotes are italic, their code is not); the title page's author line
    keeps 'Community' whole (item 10)."""
    built = book(real, "rust-book")
    code = {"".join(c.itertext()) for doc in built.epub_documents().values() for c in doc.iter(f"{{{NS['x']}}}code")}
    split = []
    for page in built.pages:
        found = lines(page)
        for line, following in zip(found, found[1:]):
            if line.endswith("-") and following.split():
                joined = line.split()[-1][:-1] + following.split()[0]
                if any(joined in text and joined not in line for text in code if len(text) > 3):
                    split.append(f"{line} / {following}")
    assert split == []
    assert [f["name"] for f in pdffonts(built.pdf) if "Mono" in f["name"] and "Oblique" in f["name"]] == []
    title_page = next(page for page in built.pages if "Contributions from the Rust" in page)
    assert "Community" in title_page


def test_chinese_first_paragraph_after_a_heading_is_indented(real: dict[str, Built]) -> None:
    """Every paragraph of Chinese text opens with a two-character indent, the first after a
    heading too (item 14): the line under the heading 创建项目目录 starts further right than
    the paragraph's next line."""
    built = book(real, "trpl-zh-cn")
    page = next(p for p in built.pages[3:] if re.search(r"(?m)^\s*创建项目目录\s*$", p))
    text = page.splitlines()
    at = next(n for n, line in enumerate(text) if line.strip() == "创建项目目录")
    first, second = text[at + 1], text[at + 2]
    indent = len(first) - len(first.lstrip())
    assert first.strip().startswith("首先创建") and indent >= 2
    assert len(second) - len(second.lstrip()) < indent


def test_skipped_heading_levels_are_closed_up(real: dict[str, Built]) -> None:
    """'# Common Programming Concepts' then '> #### Keywords': the note's heading is an h2 in
    the EPUB (Ace's heading-order), with one warning naming the file and line."""
    built = book(real, "rust-book")
    (doc,) = [d for d in built.epub_documents().values() if d.find(".//x:*[@id='keywords']", NS) is not None]
    assert doc.find(".//x:*[@id='keywords']", NS).tag == "{http://www.w3.org/1999/xhtml}h2"
    warned = [line for line in built.output if "heading level 4 follows a level 1 heading" in line]
    assert len(warned) == 1 and "ch03-00-common-programming-concepts.md:" in warned[0]


def test_mdbook_sections_continue_their_chapter(real: dict[str, Built]) -> None:
    """SUMMARY.md nests Installation, Hello World and Hello Cargo under Getting Started: the
    text calls the guessing game 'Chapter 2' and 'Listing 2-1', and so must the book (issue 25,
    item 3)."""
    pages = book(real, "rust-book").pages
    labels = {}
    page = contents_pages(pages)[-1] + 1
    for title in ["Getting Started", "Installation", "Hello, World!", "Hello, Cargo!",
                  "Programming a Guessing Game", "Common Programming Concepts", "Data Types"]:
        found = opening_page(pages, title, page)
        assert found is not None, title
        page = found  # no new page for a section: the next title may be on this one
        line = heading_line(pages[found], title)
        above = lines(pages[found])[line - 1] if line else ""
        label = re.fullmatch(r"(?i)chapter\s+(\d+)", above)
        labels[title] = label.group(1) if label else None
    assert labels == {"Getting Started": "1", "Installation": None, "Hello, World!": None, "Hello, Cargo!": None,
                      "Programming a Guessing Game": "2", "Common Programming Concepts": "3", "Data Types": None}


def test_mdbook_project_builds_as_it_is(tmp_path: Path) -> None:
    """The mdBook project (book.toml, src/, listings/ beside src/) as its authors keep it:
    `bookbuild new --from-mdbook` then a build, with the includes found (issue 25, item 2).
    (The `real` fixture builds the same project directly, without the table added here.)"""
    from bookbuild.scaffold import book_from_mdbook

    project = tmp_path / "project"
    shutil.copytree(REAL / "rust-book" / "src", project / "src")
    shutil.copytree(REAL / "rust-book" / "listings", project / "listings")
    shutil.copyfile(REAL / "rust-book" / "book.toml", project / "book.toml")  # mdBook's own
    manifest = book_from_mdbook(project, Reporter())
    assert manifest == project / "book.toml"
    reporter = Reporter()
    (result,) = build(manifest, ["epub"], output=tmp_path / "project.epub", reporter=reporter)
    with zipfile.ZipFile(result.path) as archive:  # the text, not the markup (code is highlighted)
        text = "".join("".join(etree.fromstring(archive.read(n)).itertext())
                       for n in archive.namelist() if n.endswith(".xhtml"))
    assert "let secret_number = rand::rng().random_range(1..=100);" in text


def test_mdbook_parts_keep_their_chapters_in_the_ncx(real: dict[str, Built]) -> None:
    """The Chinese book's SUMMARY.md has two part headings: the NCX carries the same tree as
    nav.xhtml, chapters inside their parts (issue 23, item 1)."""
    built = book(real, "trpl-zh-cn")
    ncx = built.epub_file("EPUB/toc.ncx")
    top = ncx.findall("ncx:navMap/ncx:navPoint", NS)
    tree = {plain("".join(p.find("ncx:navLabel", NS).itertext())).strip():
            [plain("".join(c.find("ncx:navLabel", NS).itertext())).strip() for c in p.findall("ncx:navPoint", NS)]
            for p in top}
    assert list(tree) == ["入门指南", "Rust 编程思想"]
    assert tree["入门指南"][:4] == ["入门指南", "安装", "Hello, World!", "编写一个猜数字游戏"]
    assert ncx.find(".//ncx:meta[@name='dtb:depth']", NS).get("content") not in ("0", "1")


# --- right to left, with SVG figures -------------------------------------------------------

def test_rtl_book_is_right_to_left_with_its_svg_figures(real: dict[str, Built]) -> None:
    built = book(real, "rust-book-ar")
    opf = built.epub_file("EPUB/content.opf")
    assert opf.find("opf:spine", NS).get("page-progression-direction") == "rtl"
    svgs = [item.get("href") for item in opf.iterfind("opf:manifest/opf:item", NS)
            if item.get("media-type") == "image/svg+xml"]
    assert len(svgs) == 5
    documents = built.epub_documents()
    chapters = {name: doc for name, doc in documents.items() if doc.find(".//x:body", NS) is not None
                and name.split("/")[-1].startswith("ch")}
    assert chapters and all(doc.get("dir") == "rtl" for doc in chapters.values())
    shown = [img for doc in chapters.values() for img in doc.iterfind(".//x:img", NS)
             if img.get("src", "").endswith(".svg")]
    assert sorted(img.get("src").split("/")[-1] for img in shown) == sorted(href.split("/")[-1] for href in svgs)
    assert all(img.get("alt") for img in shown)  # the translator's descriptions
    # The figures are drawn in the PDF: their 8 'ptr' labels (no 'ptr' anywhere in the prose).
    assert "".join(built.pages).count("ptr") == 8


# --- Standard Ebooks: its semantics and its notes --------------------------------------------

def _epub_type(element: etree._Element) -> set[str]:
    return set((element.get(EPUB_TYPE) or "").split())


def test_standard_ebooks_notes_become_notes(real: dict[str, Built]) -> None:
    """Chapter V's noteref links to its endnote, in the EPUB as a note a reading system can pop
    up (epub:type noteref -> endnote/footnote), in the PDF as a link to the note's page."""
    from pypdf import PdfReader

    built = book(real, "frankenstein")
    documents = built.epub_documents()
    (chapter,) = [name for name, doc in documents.items() if "Doth close behind him tread" in "".join(doc.itertext())]
    refs = [a for a in documents[chapter].iter("{http://www.w3.org/1999/xhtml}a") if "noteref" in _epub_type(a)]
    assert len(refs) == 1
    target_file, _, target_id = refs[0].get("href").partition("#")
    target = documents["EPUB/" + target_file].xpath(f"//*[@id='{target_id}']")[0]
    kinds = _epub_type(target) | {target.get("role")}
    assert kinds & {"endnote", "footnote", "rearnote", "doc-endnote", "doc-footnote"}
    assert "Coleridge’s “Ancient Mariner.”" in "".join(target.itertext())

    reader = PdfReader(built.pdf)
    page = next(n for n, text in enumerate(built.pages) if "Doth close behind him tread" in text)
    targets = set()
    for annotation in reader.pages[page].get("/Annots") or []:
        annotation = annotation.get_object()
        destination = annotation.get("/Dest")
        if isinstance(destination, str) and destination in reader.named_destinations:
            targets.add(reader.get_destination_page_number(reader.named_destinations[destination]))
    assert any("Coleridge’s “Ancient Mariner.”" in built.pages[n] for n in targets)


def test_standard_ebooks_sections_keep_their_kinds(real: dict[str, Built]) -> None:
    """Standard Ebooks say what each file is (epub:type imprint, dedication, epigraph, endnotes,
    colophon, copyright-page): the EPUB keeps it, and none of them, nor 'Chapter V', gets a
    chapter number of bookbuild's own (issue 25, item 4)."""
    built = book(real, "frankenstein")
    kinds = {  # a line of each file -> the epub:type of its top section
        "This ebook is the product of many hours": "imprint",
        "William Godwin": "dedication",
        "Did I request thee, Maker, from my clay": "epigraph",
        "Coleridge’s “Ancient Mariner.”": "endnotes",
        "The cover page is adapted from": "colophon",
        "Copyright pages exist to tell you": "copyright-page",
    }
    documents = built.epub_documents()
    for line, kind in kinds.items():
        (doc,) = [doc for doc in documents.values() if line in "".join(doc.itertext())]
        assert kind in {t for element in doc.iter() for t in _epub_type(element)}, kind
    numbered = [line for page in built.pages for line in lines(page)[:3] if re.fullmatch(r"(?i)chapter\s+\d+", line)]
    assert numbered == []


# --- a reference of long tables ------------------------------------------------------------

def test_long_tables_keep_every_row(real: dict[str, Built]) -> None:
    """Every option of the two tables (raw HTML in Markdown, 200 rows) is in both formats,
    whole; and the YAML front matter is read, not printed."""
    built = book(real, "typescript-options")
    options = []
    for source in sorted((built.folder / "project-config").glob("*.md")):
        options += re.findall(r"<tr class='(?:odd|even)' name='([^']+)'>", source.read_text(encoding="utf-8"))
    assert len(options) > 150
    epub, pdf = built.epub_text(), "\n".join(built.pages)
    assert [o for o in options if o not in epub] == []
    assert [o for o in options if o not in pdf] == []
    for text in (epub, pdf):
        assert "permalink:" not in text and "layout: docs" not in text


@pytest.mark.parametrize("name, row, header", [
    ("typescript-options", r"--[A-Za-z]\S*\s{2,}\S", ("Flag", "Type")),
    ("typescript-options", r"<TypeScript\w+>\s{2,}--", ("MSBuild Config Name", "TSC Flag")),
    # Table B-1's rows: an operator, then an example of its use; its header is hyphenated
    # ("Oper-ator") in a narrow column, so 'Example' and 'Explanation' stand for it.
    ("rust-book", r"[!%&*+,\-./:;<=>@^|?]+\s{2,}(expr|var|pat|ident|trait|fn|type|variant|&|\*|\.\.|- |!|'a)",
     ("Example", "Explanation")),
])
def test_long_tables_repeat_their_header_on_every_page(real: dict[str, Built], name: str, row: str, header: tuple) -> None:
    """print.css: 'thead { display: table-header-group }  repeated on every page of a long
    table'. Each page that shows rows of the table shows its header too."""
    pages = [page for page in book(real, name).pages if any(re.match(row, line) for line in lines(page))]
    assert len(pages) >= 2  # the table runs over pages
    assert [n for n, page in enumerate(pages) if not all(word in page for word in header)] == []

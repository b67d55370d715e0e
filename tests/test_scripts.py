"""Books in Chinese, Japanese, Persian and Hebrew: valid, in the right direction, no empty boxes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookbuild.api import build, load_book
from bookbuild.errors import Reporter
from bookbuild.render.pdf.glyphs import MissingGlyphs, missing_glyph_diagnostics, script_of
from bookbuild.config.manifest import load_manifest
from bookbuild.xhtml import parse_fragment
from conftest import ROOT, write_book
from validators import pdffonts, pdftotext, qpdf_check, run_aces, run_epubchecks, skip_without_ace

BOOKS = ROOT / "tests" / "books"
SCRIPT_BOOKS = ("zh", "ja", "fa", "he")
# The font pdffonts must show embedded for each book's script.
SCRIPT_FONTS = {"zh": "CJK-SC", "ja": "CJK-JP", "fa": "Naskh-Arabic", "he": "Hebrew"}
OPF = "{http://www.idpf.org/2007/opf}"
XHTML = "{http://www.w3.org/1999/xhtml}"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def script_books(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The four test books, a vertical Japanese one and a Hebrew one with its own font, built
    once; EPUBCheck runs on all six together (its JVM start-up is most of its time)."""
    out = tmp_path_factory.mktemp("scripts")
    sources = {name: BOOKS / name for name in SCRIPT_BOOKS}
    sources["ja-vertical"] = vertical_book(out / "src")
    sources["he-fonts"] = book_with_font(out / "src")
    books = {}
    for name, source in sources.items():
        reporter = Reporter()
        results = build(source, ["epub", "pdf"], output_dir=out / name, reporter=reporter)
        books[name] = {r.format: r.path for r in results} | {"warnings": reporter.warnings, "source": source}
    reports = run_epubchecks([book["epub"] for book in books.values()], out)
    for book, report in zip(books.values(), reports):
        book["epubcheck"] = report
    return books


def vertical_book(folder: Path) -> Path:
    book = folder / "ja-vertical"
    shutil.copytree(BOOKS / "ja", book)
    with (book / "book.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[epub]\nwriting_mode = "vertical-rl"\n')
    return book


def book_with_font(folder: Path) -> Path:
    """The Hebrew book with a font file of its own, subset in the EPUB."""
    book = folder / "he-fonts"
    shutil.copytree(BOOKS / "he", book)
    hebrew = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans Hebrew"], capture_output=True, text=True).stdout
    (book / "fonts").mkdir()
    renamed_font(Path(hebrew), book / "fonts" / "BookHebrew.ttf", "Book Hebrew")
    manifest = (book / "book.toml").read_text(encoding="utf-8")
    manifest = manifest.replace("chapters = [", 'fonts = ["fonts/BookHebrew.ttf"]\nchapters = [')
    (book / "book.toml").write_text(manifest + "\n[epub]\nsubset_fonts = true\n", encoding="utf-8")
    return book


def opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read("EPUB/content.opf"))


def documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xhtml")}


@pytest.mark.parametrize("name", [*SCRIPT_BOOKS, "ja-vertical", "he-fonts"])
def test_epubcheck_clean_and_no_warnings(script_books: dict, name: str) -> None:
    assert script_books[name]["epubcheck"].problems == []
    assert script_books[name]["warnings"] == []


@pytest.mark.parametrize("name, direction", [("zh", "ltr"), ("ja", "ltr"), ("fa", "rtl"), ("he", "rtl")])
def test_every_document_carries_language_and_direction(script_books: dict, name: str, direction: str) -> None:
    language = load_manifest(BOOKS / name).meta.language
    for file, root in documents(script_books[name]["epub"]).items():
        assert root.get("lang") == language, file
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == language, file
        assert root.get("dir") == direction, file
    spine = opf(script_books[name]["epub"]).find(f"{OPF}spine")
    assert spine.get("page-progression-direction") == ("rtl" if direction == "rtl" else None)


@pytest.mark.parametrize("name", ["fa", "he"])
def test_code_and_addresses_stay_left_to_right_in_rtl_books(script_books: dict, name: str) -> None:
    roots = documents(script_books[name]["epub"]).values()
    isolated = [node for root in roots for node in root.iter(f"{XHTML}pre", f"{XHTML}code", f"{XHTML}a")
                if node.get("dir") == "ltr"]
    tags = {etree.QName(node).localname for node in isolated}
    assert {"pre", "code", "a"} <= tags
    links = [node for node in isolated if etree.QName(node).localname == "a"]
    assert all(node.get("href", "").startswith("https://") for node in links)
    nested = [node for node in isolated if etree.QName(node).localname == "code"
              and etree.QName(node.getparent()).localname == "pre"]
    assert nested == [], "code inside pre needs no second isolation"


@pytest.mark.parametrize("name, label", [("zh", "目录"), ("ja", "目次"), ("fa", "فهرست مطالب"),
                                         ("he", "תוכן העניינים")])
def test_contents_title_is_in_the_book_language(script_books: dict, name: str, label: str) -> None:
    nav = documents(script_books[name]["epub"])["EPUB/nav.xhtml"]
    assert nav.find(f".//{XHTML}h1").text == label
    # the contents page follows the half-title, title and copyright pages (and blank versos)
    front_pages = pdftotext(script_books[name]["pdf"], 1, 8, layout=False).split("\f")
    assert any(label in page for page in front_pages)


def source_blocks(name: str) -> list[str]:
    """The text of every heading, paragraph and code block of the book, as written."""
    book = load_book(load_manifest(BOOKS / name), Reporter())
    blocks = []
    for chapter in book.chapters:
        for node in parse_fragment(chapter.body).iter("h1", "h2", "p", "pre"):
            blocks.append("".join(node.itertext()))
    return blocks


@pytest.mark.parametrize("name", ["zh", "ja"])
def test_pdf_text_round_trips_cjk_paragraphs(script_books: dict, name: str) -> None:
    text = re.sub(r"\s+", "", pdftotext(script_books[name]["pdf"]))
    for block in source_blocks(name):
        assert re.sub(r"\s+", "", block) in text, block


@pytest.mark.parametrize("name", ["fa", "he"])
def test_pdf_text_round_trips_rtl_words(script_books: dict, name: str) -> None:
    """pdftotext (without -layout) writes RTL lines in logical order, but with bidi controls
    and its own choice of spaces around embedded left-to-right runs: compare words.

    Two losses are WeasyPrint's and poppler's, not ours, and are normalised on both sides:
    the zero-width non-joiner (U+200C, Persian half-space) has no glyph so it is not in the
    PDF's text, and poppler spells the lam-alef ligature backwards (سالم for سلام).
    """
    def words(text: str) -> set[str]:
        return set(re.findall(r"\w+", BIDI_CONTROLS.sub(" ", text).replace("\u200c", "")))

    extracted = words(pdftotext(script_books[name]["pdf"], layout=False))
    extracted |= {w.replace("ال", "لا") for w in extracted}
    missing = set()
    for block in source_blocks(name):
        missing |= words(block) - extracted
    assert missing == set()


@pytest.mark.parametrize("name", SCRIPT_BOOKS)
def test_pdf_embeds_a_font_for_the_script(script_books: dict, name: str) -> None:
    fonts = pdffonts(script_books[name]["pdf"])
    assert all(font["emb"] == "yes" for font in fonts), fonts
    assert any(SCRIPT_FONTS[name] in font["name"] for font in fonts), fonts
    check = qpdf_check(script_books[name]["pdf"])
    assert check.returncode == 0, check.stdout + check.stderr


def test_script_of_groups_cjk_and_shared_punctuation() -> None:
    assert {script_of(c) for c in "中あアー한。，「"} == {"Hani"}
    assert script_of("ب") == "Arab" and script_of("،") == "Arab"
    assert script_of("א") == "Hebr"


def test_missing_glyphs_are_one_warning_per_script_with_chapter_and_package() -> None:
    book = load_book(load_manifest(BOOKS / "ja"), Reporter())
    missing = MissingGlyphs({ord(c) for c in "はコ第。"} | {ord("ب")})
    diagnostics = missing_glyph_diagnostics(missing, book)
    assert [d.message.split(":")[0] for d in diagnostics] == [
        "no installed font has Arabic glyphs", "no installed font has CJK (Chinese, Japanese or Korean) glyphs"]
    cjk = diagnostics[1]
    assert "4 characters print as empty boxes" in cjk.message and "'は' U+306F" in cjk.message
    assert cjk.location.file.endswith("chapters/01-hajime.md")
    assert "apt-get install fonts-noto-cjk" in cjk.hint
    assert diagnostics[0].location.file.endswith("book.toml"), "no chapter shows it: the book is named"
    assert missing_glyph_diagnostics(MissingGlyphs(), book) == []


def test_a_machine_without_cjk_fonts_gets_the_missing_glyph_warning(tmp_path: Path) -> None:
    """Only DejaVu Sans is visible to fontconfig, as on a stock server without fonts-noto-cjk."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    dejavu = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    shutil.copy(dejavu, fonts)
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n")
    env = os.environ | {"FONTCONFIG_FILE": str(tmp_path / "fonts.conf")}
    run = subprocess.run([sys.executable, "-m", "bookbuild.cli", "pdf", str(BOOKS / "zh"), "-o", str(tmp_path / "zh.pdf")],
                         capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if ": warning: " in line]
    # the design's fonts are missing too, and said once each (render/pdf/design_fonts.py)
    substituted = [line for line in lines if line.startswith("bookbuild: warning: the PDF's ")]
    assert len(substituted) == 3 and all("is set in 'DejaVu Sans' instead" in line for line in substituted), run.stderr
    warnings = [line for line in lines if line not in substituted]
    assert len(warnings) == 1, run.stderr
    assert re.match(r"^tests/books/zh/chapters/01-开始\.md: warning: no installed font has CJK .*: \d+ characters "
                    r"print as empty boxes in the PDF, e\.g\. '开' U\+5F00 \(hint: .*apt-get install fonts-noto-cjk",
                    warnings[0]), warnings[0]


def test_vertical_writing_mode_in_the_epub_only(script_books: dict) -> None:
    results = script_books["ja-vertical"]
    assert opf(results["epub"]).find(f"{OPF}spine").get("page-progression-direction") == "rtl"
    with zipfile.ZipFile(results["epub"]) as archive:
        sheet = archive.read("EPUB/styles/options.css").decode()
        chapters = [archive.read(n) for n in archive.namelist()
                    if n.startswith("EPUB/ch") and n.endswith(".xhtml")]
    assert "-epub-writing-mode: vertical-rl" in sheet and "writing-mode: vertical-rl" in sheet
    assert len(chapters) == 2 and all(b'href="styles/options.css"' in chapter for chapter in chapters)
    assert "読みやすい本" in re.sub(r"\s+", "", pdftotext(results["pdf"])), "the PDF stays horizontal"


def renamed_font(source: Path, target: Path, family: str) -> Path:
    """A copy of an installed font under a family name no system has, to see which file is used."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(source))
    name = font["name"]
    for record in list(name.names):
        if record.nameID in (1, 4, 16):
            record.string = family
        elif record.nameID == 6:
            record.string = family.replace(" ", "") + "-Regular"
    font.save(str(target))
    return target


def test_book_fonts_are_embedded_subset_and_used_in_the_pdf(script_books: dict) -> None:
    results = script_books["he-fonts"]
    font = results["source"] / "fonts" / "BookHebrew.ttf"
    items = {item.get("href"): item.get("media-type") for item in opf(results["epub"]).iter(f"{OPF}item")}
    assert items["fonts/BookHebrew.ttf"] == "font/ttf"
    with zipfile.ZipFile(results["epub"]) as archive:
        packed = archive.read("EPUB/fonts/BookHebrew.ttf")
        sheet = archive.read("EPUB/styles/options.css").decode()
    assert 'font-family: "Book Hebrew"' in sheet and 'url("../fonts/BookHebrew.ttf")' in sheet
    from io import BytesIO

    from fontTools.ttLib import TTFont

    cmap = TTFont(BytesIO(packed)).getBestCmap()
    assert len(packed) < font.stat().st_size / 2
    assert all(ord(c) in cmap for c in "ספר טוב קוראים לאט"), "the subset keeps the book's letters"
    from bookbuild.config.languages import language_facts

    with zipfile.ZipFile(results["epub"]) as archive:  # every text a reader may see, the printed date's month too
        shown = "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith((".xhtml", ".ncx")))
    shown += "".join(language_facts("he").labels())  # the labels are kept whole (an index's "see also")
    unused = [code for code in TTFont(font).getBestCmap() if chr(code) not in shown and chr(code).isalpha()]
    assert len(unused) > 10 and not [chr(c) for c in unused if c in cmap], "and drops letters the book does not use"
    assert any(row["name"].endswith("+Book-Hebrew") for row in pdffonts(results["pdf"])), "the PDF uses the file"


@pytest.mark.parametrize("name", ["zh", "ja"])
def test_cjk_lines_never_start_with_closing_or_end_with_opening_punctuation(script_books: dict, name: str) -> None:
    """Kinsoku (UAX #14): 。，、」） do not begin a line, 「（“ do not end one."""
    lines = [line.strip() for line in pdftotext(script_books[name]["pdf"]).splitlines() if line.strip()]
    assert len(lines) > 20
    assert [line for line in lines if line[0] in "。，、；：？！）」』”"] == []
    assert [line for line in lines if line[-1] in "（「『“"] == []


@pytest.mark.parametrize("name", ["zh", "ja"])
def test_no_justification_gaps_around_latin_words_in_cjk_text(script_books: dict, name: str) -> None:
    """WeasyPrint would put a justified line's slack into its few spaces (英語の   Markdown):
    measure the gaps between words on a line with poppler's word boxes."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", "3", str(script_books[name]["pdf"]), "-"],
                         capture_output=True, text=True, check=True).stdout
    words = [(float(y), float(x0), float(x1), text) for x0, y, x1, text in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', out)]
    gaps = [(a[3], b[3], round(b[1] - a[2], 1)) for a, b in zip(words, words[1:])
            if abs(a[0] - b[0]) < 1 and b[1] - a[2] > 7 and not {a[3][-1], b[3][0]} & {"\u3000", "章"}
            and "." not in (a[3], b[3])]  # the spaced dots of a contents line are meant to be apart
    assert len(words) > 20
    assert gaps == []


@pytest.mark.parametrize("name, first_side", [("he", "left"), ("zh", "right")])
def test_rtl_books_start_on_a_left_hand_page(tmp_path: Path, name: str, first_side: str) -> None:
    """Recto is the left-hand page in a right-to-left book, so :left/:right margins and running
    heads of print.css mirror by themselves."""
    book = tmp_path / name
    shutil.copytree(BOOKS / name, book)
    # title:left/right too: the half-title is on a named page that otherwise prints nothing
    (book / "sides.css").write_text("".join(f'@page {page}:{side} {{ @top-left {{ content: "SIDE-{side}"; }} }}\n'
                                            for page in ("", "title") for side in ("left", "right")),
                                    encoding="utf-8")
    manifest = (book / "book.toml").read_text(encoding="utf-8").replace("chapters = [", 'styles = ["sides.css"]\nchapters = [')
    (book / "book.toml").write_text(manifest, encoding="utf-8")
    pdf = build(book, ["pdf"], output_dir=tmp_path / "out")[0].path
    # page 1 is the half-title, page 2 its blank verso; pages 3 and 4: title and copyright
    sides = [re.search(r"SIDE-(\w+)", pdftotext(pdf, n, n)).group(1) for n in (1, 3, 4)]
    assert sides == [first_side, first_side, {"left": "right", "right": "left"}[first_side]]


def test_subset_font_is_deterministic(script_books: dict, tmp_path: Path) -> None:
    """fontTools stamps the save time into the font's head table unless told not to."""
    again = build(script_books["he-fonts"]["source"], ["epub"], output_dir=tmp_path)[0].path
    assert again.read_bytes() == script_books["he-fonts"]["epub"].read_bytes()


@pytest.fixture(scope="module")
def ace_reports(script_books: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Ace on the four books, a few at once (validators.run_aces)."""
    skip_without_ace()
    return dict(zip(SCRIPT_BOOKS, run_aces([script_books[name]["epub"] for name in SCRIPT_BOOKS],
                                           tmp_path_factory.mktemp("ace"))))


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPT_BOOKS)
def test_ace_reports_no_violations(ace_reports: dict, name: str) -> None:
    assert ace_reports[name].violations == []
    assert ace_reports[name].outcome == "pass"


def test_hyphenation_is_off_for_cjk_and_rtl_in_both_formats(script_books: dict) -> None:
    """base.css hyphenates; the generated options sheet switches it off for these scripts."""
    from bookbuild.render.scripts import epub_options_sheet, pdf_options_sheet

    for name in SCRIPT_BOOKS:
        with zipfile.ZipFile(script_books[name]["epub"]) as archive:
            assert "hyphens: manual" in archive.read("EPUB/styles/options.css").decode(), name
        book = load_book(load_manifest(BOOKS / name), Reporter(), cache=False)
        assert "hyphens: manual" in pdf_options_sheet(book, "file:///x/")
        assert "-epub-hyphens" not in pdf_options_sheet(book, "file:///x/")
    sample = load_book(load_manifest(ROOT / "book"), Reporter(), cache=False)
    assert "hyphens" not in epub_options_sheet(sample, "horizontal-tb")

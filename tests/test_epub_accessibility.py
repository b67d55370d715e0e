"""EPUB accessibility, semantics, cover, reproducibility and readers (issue 3).

Books: the sample, the features book, and tests/books/accessible (described and decorative
images, notes, a table, code, a long chapter with a page list). Ace by DAISY, Calibre and
pandoc are marked ``slow``; Ace skips (visibly) only when node or chromium is missing.
"""

from __future__ import annotations

import re

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import FEATURES_BOOK, ROOT, SAMPLE_BOOK, write_book
from lxml import etree
from PIL import Image
from validators import pdfinfo, pdftotext, run_aces, run_epubchecks, skip_without_ace

from bookbuild.api import build
from bookbuild.errors import ManifestError, Reporter
from bookbuild.config.manifest import load_manifest

ACCESSIBLE_BOOK = ROOT / "tests" / "books" / "accessible"
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}
BOOKS = {"sample": SAMPLE_BOOK, "features": FEATURES_BOOK, "accessible": ACCESSIBLE_BOOK,
         # the rest of tests/books and examples/ (zh, ja, fa, he: tests/test_scripts.py)
         "print": ROOT / "tests" / "books" / "print", "feature-tour": ROOT / "examples" / "feature-tour"}


@pytest.fixture(scope="module")
def epubs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each book's EPUB, built once for this module, with the warnings it gave."""
    out = tmp_path_factory.mktemp("a11y")
    books = {}
    for name, path in BOOKS.items():
        reporter = Reporter()
        formats = ["epub", "pdf"] if name == "accessible" else ["epub"]
        results = build(path, formats, output_dir=out / name, reporter=reporter)
        books[name] = {r.format: r.path for r in results} | {"warnings": reporter.warnings}
    return books


@pytest.fixture(scope="module")
def epubchecks(epubs: dict, untitled: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """EPUBCheck on the books the other modules do not check, in one go (a JVM per core)."""
    books = {name: epubs[name]["epub"] for name in ("accessible", "print", "feature-tour")} | {
        "untitled": untitled["epub"]}
    return dict(zip(books, run_epubchecks(list(books.values()), tmp_path_factory.mktemp("epubcheck"))))


@pytest.fixture(scope="module")
def ace_reports(epubs: dict, untitled: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Ace on every book of this module, a few at once (validators.run_aces)."""
    skip_without_ace()
    books = {name: epubs[name]["epub"] for name in BOOKS} | {"untitled": untitled["epub"]}
    return dict(zip(books, run_aces(list(books.values()), tmp_path_factory.mktemp("ace"))))


def read(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read(f"EPUB/{name}"))


def meta(epub: Path, prop: str) -> list[str]:
    return [m.text for m in read(epub, "content.opf").iterfind(f".//opf:meta[@property='{prop}']", NS)]


def epub_of(tmp_path: Path, manifest: str, chapters: dict[str, str], **files: bytes) -> tuple[Path, Reporter]:
    folder = write_book(tmp_path / "book", manifest, chapters)
    for name, data in files.items():
        (folder / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (folder / name.replace("__", "/")).write_bytes(data)
    reporter = Reporter()
    (result,) = build(folder, ["epub"], output=tmp_path / "out.epub", reporter=reporter)
    return result.path, reporter


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


MANIFEST = '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n'


def test_accessible_book_passes_epubcheck_without_warnings(epubs: dict, epubchecks: dict) -> None:
    assert epubchecks["accessible"].problems == []
    assert epubs["accessible"]["warnings"] == []


@pytest.mark.slow
@pytest.mark.parametrize("book", list(BOOKS))
def test_ace_reports_no_violations(ace_reports: dict, book: str) -> None:
    assert ace_reports[book].violations == []
    assert ace_reports[book].outcome == "pass"


@pytest.mark.parametrize("book", ["print", "feature-tour"])
def test_every_book_of_the_repository_passes_epubcheck(epubchecks: dict, book: str) -> None:
    assert epubchecks[book].problems == []


def test_accessibility_metadata_follows_what_the_book_has(epubs: dict) -> None:
    rich, sample = epubs["accessible"]["epub"], epubs["sample"]["epub"]
    assert meta(rich, "schema:accessMode") == ["textual", "visual"]
    assert meta(rich, "schema:accessModeSufficient") == ["textual,visual", "textual"]
    assert "alternativeText" in meta(rich, "schema:accessibilityFeature")
    assert {"tableOfContents", "structuralNavigation"} <= set(meta(rich, "schema:accessibilityFeature"))
    assert meta(rich, "schema:accessibilityHazard") == ["none"]
    assert meta(rich, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    # The sample has no pictures: text alone, no alternative-text claim.
    assert meta(sample, "schema:accessMode") == ["textual"]
    assert "alternativeText" not in meta(sample, "schema:accessibilityFeature")
    package = read(rich, "content.opf")
    assert package.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_missing_alt_text_warns_with_line_and_withdraws_the_claims(tmp_path: Path) -> None:
    chapter = "# C\n\nText.\n\n![](pic.png)\n\n![](pic.png){.decorative}\n\n<img src=\"pic.png\" alt=\"\">\n"
    epub, reporter = epub_of(tmp_path, MANIFEST + '[epub]\naccessibility_summary = "Mine."\n',
                             {"c.md": chapter}, **{"pic.png": png()})
    (warning,) = reporter.warnings
    assert (warning.location.file.endswith("c.md"), warning.location.line) == (True, 5)
    assert warning.message == "image 'pic.png' has no alternative text"
    assert warning.hint == "describe it: ![what it shows](...), or mark it ![](...){.decorative}"
    images = read(epub, "ch01.xhtml").findall(".//x:img", NS)
    assert [(i.get("alt"), i.get("role")) for i in images] == [("", None), ("", "presentation"), ("", "presentation")]
    assert meta(epub, "dcterms:conformsTo") == []
    assert "alternativeText" not in meta(epub, "schema:accessibilityFeature")
    assert meta(epub, "schema:accessibilitySummary") == ["Mine."]


def test_semantics_landmarks_and_front_matter(epubs: dict) -> None:
    epub = epubs["accessible"]["epub"]
    nav = read(epub, "nav.xhtml")
    landmarks = {a.get(f"{{{NS['epub']}}}type"): a.get("href")
                 for a in nav.iterfind(".//x:nav[@epub:type='landmarks']//x:a", NS)}
    assert landmarks["cover"] == "cover.xhtml"
    assert landmarks["toc"] == "nav.xhtml#toc"
    assert landmarks["bodymatter"] == "ch01.xhtml"
    assert landmarks["copyright-page"] == "copyright.xhtml"
    copyright_page = read(epub, "copyright.xhtml")
    text = " ".join(copyright_page.itertext())
    assert "ISBN: 9780000000002" in text and "Copyright 2025 Ada Example" in text and "bookbuild tests" in text
    chapter = read(epub, "ch01.xhtml")
    assert chapter.find(".//x:section[@epub:type='chapter'][@role='doc-chapter']", NS) is not None
    # Pop-up notes: noteref -> aside footnote in the same file, with a back link.
    refs = chapter.findall(".//x:a[@epub:type='noteref']", NS)
    notes = {n.get("id"): n for n in chapter.iterfind(".//x:aside[@epub:type='footnote'][@role='doc-footnote']", NS)}
    assert refs and all(ref.get("href")[1:] in notes for ref in refs)
    assert all(n.find("x:a[@role='doc-backlink']", NS) is not None for n in notes.values())


def test_generated_cover_is_large_and_marked(epubs: dict) -> None:
    epub = epubs["accessible"]["epub"]
    items = read(epub, "content.opf").findall(".//opf:item[@properties='cover-image']", NS)
    assert [i.get("href") for i in items] == ["images/cover.png"]
    with zipfile.ZipFile(epub) as archive:
        image = Image.open(io.BytesIO(archive.read("EPUB/images/cover.png")))
    assert image.size[0] >= 1600 and image.size[1] >= 2560
    cover = read(epub, "cover.xhtml").find(".//x:img", NS)
    assert cover.get("role") == "doc-cover"
    assert "Reading Without Barriers" in cover.get("alt") and "Ada Example" in cover.get("alt")


def test_cover_from_manifest_or_none(tmp_path: Path) -> None:
    given, _ = epub_of(tmp_path / "given", MANIFEST.replace('chapters', 'cover = "art/front.png"\nchapters'),
                       {"c.md": "# C\n"}, **{"art__front.png": png((16, 24))})
    items = read(given, "content.opf").findall(".//opf:item[@properties='cover-image']", NS)
    assert [i.get("href") for i in items] == ["images/cover.png"]
    with zipfile.ZipFile(given) as archive:
        assert Image.open(io.BytesIO(archive.read("EPUB/images/cover.png"))).size == (16, 24)
    odd, reporter = epub_of(tmp_path / "odd", MANIFEST.replace('chapters', 'cover = "front.bmp"\nchapters'),
                            {"c.md": "# C\n"}, **{"front.bmp": b"BM"})
    assert [w.message for w in reporter.warnings] == [
        "cover 'front.bmp' is not a JPEG, PNG, GIF, WebP or SVG image: not used"]
    assert "EPUB/images/cover.png" in zipfile.ZipFile(odd).namelist()
    assert "EPUB/images/cover.bmp" not in zipfile.ZipFile(odd).namelist()
    none, _ = epub_of(tmp_path / "none", MANIFEST + "[epub]\ngenerate_cover = false\n", {"c.md": "# C\n"})
    assert read(none, "content.opf").find(".//opf:item[@properties='cover-image']", NS) is None
    assert "EPUB/cover.xhtml" not in zipfile.ZipFile(none).namelist()


def test_epub_options_are_validated(tmp_path: Path) -> None:
    folder = write_book(tmp_path, MANIFEST + '[epub]\ngenerate_cover = "no"\n', {"c.md": "# C\n"})
    with pytest.raises(ManifestError) as error:
        load_manifest(folder)
    assert "[epub] generate_cover: expected true or false" in str(error.value)
    assert error.value.diagnostic.location.line == 7


def test_two_builds_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build(ACCESSIBLE_BOOK, ["epub"], output=tmp_path / "1.epub")[0].path.read_bytes()
    second = build(ACCESSIBLE_BOOK, ["epub"], output=tmp_path / "2.epub")[0].path.read_bytes()
    assert first == second
    assert meta(tmp_path / "1.epub", "dcterms:modified") == ["2023-11-14T22:13:20Z"]
    with zipfile.ZipFile(tmp_path / "1.epub") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_internal_names_are_generated_ascii_and_unique(tmp_path: Path) -> None:
    chapter = "# C\n\n![one](Ünïcode Photo.PNG)\n\n![two](ünïcode photo.png)\n"
    epub, _ = epub_of(tmp_path, MANIFEST, {"c.md": chapter},
                      **{"Ünïcode Photo.PNG": png(), "ünïcode photo.png": png((9, 9))})
    names = zipfile.ZipFile(epub).namelist()
    assert all(name.isascii() and " " not in name for name in names)
    assert len({name.casefold() for name in names}) == len(names)


@pytest.mark.slow
@pytest.mark.parametrize("book", ["sample", "accessible"])
def test_calibre_reads_the_text_and_converts_to_azw3(epubs: dict, book: str, tmp_path: Path) -> None:
    convert = shutil.which("ebook-convert")
    assert convert, "calibre is not installed: run scripts/test.sh, which installs it"
    epub = epubs[book]["epub"]
    subprocess.run([convert, str(epub), str(tmp_path / "book.txt")], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "book.txt").read_text(encoding="utf-8")
    assert "Landmarks" not in text  # the hidden navs stay hidden in converters too
    for chapter in read(epub, "nav.xhtml").iterfind(".//x:nav[@epub:type='toc']/x:ol/x:li/x:a", NS):
        assert chapter.text in text
    last_words = " ".join("".join(read(epub, "ch03.xhtml").find(".//x:section", NS).itertext()).split()[-6:])
    assert last_words in " ".join(text.split())
    subprocess.run([convert, str(epub), str(tmp_path / "book.azw3")], check=True, capture_output=True, timeout=300)
    assert (tmp_path / "book.azw3").read_bytes()[60:68] == b"BOOKMOBI"


@pytest.mark.slow
def test_pandoc_reads_the_epub(epubs: dict) -> None:
    pypandoc = pytest.importorskip("pypandoc", reason="pypandoc-binary is in the [test] extras")
    text = pypandoc.convert_file(str(epubs["features"]["epub"]), "plain", format="epub")
    assert "Tables and lists" in text and "A second note." in text and "Apple" in text


def test_page_list_points_where_the_pdf_pages_begin(epubs: dict) -> None:
    epub, pdf = epubs["accessible"]["epub"], epubs["accessible"]["pdf"]
    nav = read(epub, "nav.xhtml")
    entries = [(a.text, a.get("href")) for a in nav.iterfind(".//x:nav[@epub:type='page-list']//x:a", NS)]
    pages = {}
    for number in range(1, int(pdfinfo(pdf)["Pages"]) + 1):
        text = pdftotext(pdf, number, number).split()
        # the printed folio ends the page (a title page ends with its date's year: four digits)
        if text and re.fullmatch(r"\d{1,3}|[ivxlc]+", text[-1]):
            pages[text[-1]] = " ".join(text[:-1])
    # every page that prints a number has an entry, in order: contents (roman), then 1, 2, ...,
    # and so has the part's title page, which prints none, under the number its place implies
    parts = [(label, href.split("#")[0]) for label, href in entries if href.startswith("part")]
    assert parts == [("3", "part01.xhtml")] and "3" not in pages
    assert [label for label, href in entries if not href.startswith("part")] == list(pages)
    assert [label for label, _ in entries].index("3") == list(pages).index("5")  # just before page 5
    assert list(pages)[:2] == ["v", "1"] and len(pages) >= 6
    assert [href.split("#")[0] for _, href in entries[:2]] == ["nav.xhtml", "ch01.xhtml"]
    assert meta(epub, "pageBreakSource") == ["urn:isbn:9780000000002 (PDF edition, page size A4)"]
    assert {"pageBreakMarkers", "pageNavigation"} <= set(meta(epub, "schema:accessibilityFeature"))
    mid_paragraph = 0
    for label, href in entries:
        file, anchor = href.split("#")
        marker = read(epub, file).find(f".//*[@id='{anchor}']", NS)
        assert marker.get("role") == "doc-pagebreak" and marker.get("aria-label") == label
        following = " ".join("".join(marker.xpath("following::text()")).split()[:4])
        if file.startswith("part"):
            assert following == "Part Two: Further"
            continue
        # The running head ("A long walk") may come first on the PDF page.
        # case-insensitive: chapter labels are upper-cased by CSS in print
        assert following.lower() in pages[label][:120].lower(), (label, following, pages[label][:120])
        mid_paragraph += etree.QName(marker.getparent()).localname == "p"
    assert mid_paragraph >= 2


UNTITLED_MANIFEST = """[book]
title = "Sans titre"
authors = ["A. Auteur"]
language = "fr"
chapters = [
    { file = "dedication.md", kind = "dedication" },
    { file = "epigraph.md", kind = "epigraph" },
    "un.md",
]
"""
UNTITLED_CHAPTERS = {
    "dedication.md": "À ma mère, qui me lisait des histoires.\n",
    "epigraph.md": "> Il faut cultiver notre jardin.\n>\n> — Voltaire\n",
    "un.md": "# Premier chapitre\n\nTexte.\n",
}


@pytest.fixture(scope="module")
def untitled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A French book whose dedication and epigraph have no heading, in both formats."""
    out = tmp_path_factory.mktemp("untitled")
    folder = write_book(out / "book", UNTITLED_MANIFEST, UNTITLED_CHAPTERS)
    reporter = Reporter()
    results = build(folder, ["epub", "pdf"], output_dir=out / "dist", reporter=reporter)
    return {r.format: r.path for r in results} | {"warnings": reporter.warnings}


def test_a_dedication_without_a_heading_shows_none_and_is_named_in_the_books_language(untitled: dict) -> None:
    """Issue 23: a heading-less dedication or epigraph got a visible heading made of its file
    name ("dedication"), in both formats and in the contents."""
    epub, pdf = untitled["epub"], untitled["pdf"]
    for file, role, name in (("ch01.xhtml", "doc-dedication", "Dédicace"), ("ch02.xhtml", "doc-epigraph", "Épigraphe")):
        section = read(epub, file).find(".//x:section", NS)
        assert section.get("role") == role
        assert section.get("aria-label") == name and section.get("aria-labelledby") is None
        assert not [node for node in section.iter() if etree.QName(node).localname in ("h1", "h2", "h3", "h4", "h5", "h6")]
        assert read(epub, file).findtext(".//x:title", namespaces=NS) == name
    nav = read(epub, "nav.xhtml").find(".//x:nav[@epub:type='toc']/x:ol", NS)
    assert [(a.text, a.get("href")) for a in nav.iterfind("x:li/x:a", NS)] == [
        ("Dédicace", "ch01.xhtml#ch01"), ("Épigraphe", "ch02.xhtml#ch02"), ("Premier chapitre", "ch03.xhtml#premier-chapitre")]
    ncx = read(epub, "toc.ncx")
    assert [text.text for text in ncx.iterfind(".//{*}navLabel/{*}text")] == ["Dédicace", "Épigraphe", "Premier chapitre"]
    text = pdftotext(pdf)
    assert "dedication" not in text.lower() and "epigraph" not in text.lower()
    contents = next(page for page in text.split("\f") if "Table des matières" in page)
    assert re.search(r"Dédicace[ .]*[ivx]+\n", contents) and re.search(r"Épigraphe[ .]*[ivx]+\n", contents)
    dedication = next(page for page in text.split("\f") if "À ma mère" in page)
    assert "Dédicace" not in dedication
    assert untitled["warnings"] == []


def test_a_dedication_without_a_heading_passes_epubcheck(epubchecks: dict) -> None:
    assert epubchecks["untitled"].problems == []


@pytest.mark.slow
def test_a_dedication_without_a_heading_passes_ace(ace_reports: dict) -> None:
    assert ace_reports["untitled"].violations == [] and ace_reports["untitled"].outcome == "pass"


def test_a_chapter_whose_kind_changes_is_read_again(tmp_path: Path) -> None:
    """The kind decides what a heading-less chapter shows, so the parsed-chapter cache must
    not give back the chapter as read under its old kind (it did: the kind was not in its key)."""
    folder = write_book(tmp_path / "book", MANIFEST.replace('["c.md"]', '["dedication.md", "c.md"]'),
                        {"dedication.md": "For you.\n", "c.md": "# C\n\nText.\n"})
    build(folder, ["epub"], output=tmp_path / "1.epub")
    assert "".join(read(tmp_path / "1.epub", "ch01.xhtml").find(".//x:h1", NS).itertext()) == "Chapter 1 dedication"
    manifest = folder / "book.toml"
    manifest.write_text(manifest.read_text().replace('"dedication.md"', '{ file = "dedication.md", kind = "dedication" }'))
    build(folder, ["epub"], output=tmp_path / "2.epub")
    section = read(tmp_path / "2.epub", "ch01.xhtml").find(".//x:section", NS)
    assert (section.get("role"), section.get("aria-label")) == ("doc-dedication", "Dedication")

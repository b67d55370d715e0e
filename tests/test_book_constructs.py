"""Book-wide constructs: numbering, cross-references, parts and matter, per-format blocks, --strict."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from lxml import etree

from bookbuild.api import build
from bookbuild.cli import main
from bookbuild.errors import ManifestError, Reporter
from bookbuild.config.manifest import load_manifest
from conftest import FEATURES_BOOK, write_book
from validators import pdftotext

X = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
PNG = (FEATURES_BOOK / "images" / "diagram.png").read_bytes()


def manifest(chapters: str, language: str = "en") -> str:
    return f'[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "{language}"\nchapters = {chapters}\n'


def epub_documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {name[5:]: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.startswith("EPUB/") and name.endswith(".xhtml")}


def links(document: etree._Element) -> dict[str, str]:
    return {"".join(a.itertext()): a.get("href") for a in document.iterfind(".//x:a", X)}


@pytest.fixture
def numbered_book(tmp_path: Path) -> Path:
    book = write_book(tmp_path / "b", manifest('["one.md", "two.md"]'), {
        "one.md": "# One\n\n![First](p.png){#fig-a}\n\n## A Section {#sec}\n\n| x |\n|---|\n| 1 |\n\n: Data {#tbl-d}\n",
        "two.md": "# Two\n\n![Second](p.png){#fig-b}\n\nSee [](one.md#fig-a), [](#fig-b), [](one.md#tbl-d), "
                  "[](one.md), [](one.md#sec), [](#eq-e) and [text stays](one.md#fig-a).\n\n"
                  "Broken: [](one.md#nope).\n\n$$\nx = 1\n$$ (eq-e)\n",
    })
    (book / "p.png").write_bytes(PNG)
    return book


def test_figures_tables_equations_numbered_through_the_book_and_labels(numbered_book: Path, tmp_path: Path) -> None:
    reporter = Reporter()
    results = build(numbered_book, ["epub"], output_dir=tmp_path / "out", reporter=reporter)
    docs = epub_documents(results[0].path)
    captions = ["".join(c.itertext()) for name in ("ch01.xhtml", "ch02.xhtml")
                for c in docs[name].iterfind(".//x:figcaption", X)]
    assert captions == ["Figure 1. First", "Figure 2. Second"]
    assert "".join(docs["ch01.xhtml"].find(".//x:caption", X).itertext()) == "Table 1. Data"
    assert docs["ch02.xhtml"].find(".//x:span[@class='equation-number']", X).text == "(1)"
    found = links(docs["ch02.xhtml"])
    assert found["Figure 1"] == "ch01.xhtml#fig-a"
    assert found["Figure 2"] == "#fig-b"
    assert found["Table 1"] == "ch01.xhtml#tbl-d"
    assert found["Chapter 1"] == "ch01.xhtml#one"
    assert found["A Section"] == "ch01.xhtml#sec"
    assert found["Equation 1"] == "#eq-e"
    assert found["text stays"] == "ch01.xhtml#fig-a"
    messages = [d.format() for d in reporter.warnings]
    assert len(messages) == 1
    assert "two.md:7:12: warning: link target 'one.md#nope' not found: no id 'nope' in " in messages[0]


def test_strict_turns_the_warning_into_an_error_and_writes_nothing(numbered_book: Path, tmp_path: Path) -> None:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        runner = CliRunner()
        relaxed = runner.invoke(main, ["epub", str(numbered_book), "-o", "ok.epub"])
        strict = runner.invoke(main, ["build", str(numbered_book), "--strict", "--output-dir", "strict"])
    finally:
        os.chdir(old)
    assert relaxed.exit_code == 0 and "two.md:7:12: warning: link target 'one.md#nope'" in relaxed.output
    assert strict.exit_code == 1
    assert "two.md:7:12: error: link target 'one.md#nope'" in strict.output
    assert "1 warning treated as errors (--strict)" in strict.output
    assert "Traceback" not in strict.output
    assert not (tmp_path / "strict").exists()


def test_parts_and_matter_kinds_in_the_manifest(tmp_path: Path) -> None:
    chapters = ('[{ file = "d.md", kind = "dedication" }, { part = "Part One", chapters = ["a.md", "b.md"] },'
                ' { part = "Part Two", chapters = ["c.md"] }, { file = "x.md", kind = "appendix" }]')
    files = {name: f"# {name[0].upper()}\n" for name in ("d.md", "a.md", "b.md", "c.md", "x.md")}
    book = write_book(tmp_path / "b", manifest(chapters), files)
    loaded = load_manifest(book)
    assert [(c.path.name, c.kind, c.part) for c in loaded.chapters] == [
        ("d.md", "dedication", None), ("a.md", "chapter", "Part One"), ("b.md", "chapter", "Part One"),
        ("c.md", "chapter", "Part Two"), ("x.md", "appendix", None)]


@pytest.mark.parametrize(("chapters", "message"), [
    ('[{ file = "a.md", kind = "prologue-ish" }]', "unknown kind 'prologue-ish' for 'a.md'"),
    ('[{ part = "P", chapters = [{ part = "Q", chapters = ["a.md"] }] }]', "parts do not nest"),
    ('[{ part = "P", chapters = [] }]', "part 'P' needs chapters"),
])
def test_bad_parts_and_kinds_are_errors_with_lines(tmp_path: Path, chapters: str, message: str) -> None:
    book = write_book(tmp_path / "b", manifest(chapters), {"a.md": "# A\n"})
    with pytest.raises(ManifestError) as caught:
        load_manifest(book)
    assert message in str(caught.value)
    assert caught.value.diagnostic.location.line == 5


def test_links_to_html_files_and_per_chapter_reference_definitions(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", manifest('["one.md", "two.md"]'), {
        "one.md": "# One\n\n[Go][ref] and [two](two.html#sec).\n\n[ref]: https://one.example/\n",
        "two.md": "# Two\n\n## Sec {#sec}\n\n[Go][ref].\n\n[ref]: https://two.example/\n",
    })
    reporter = Reporter()
    docs = epub_documents(build(book, ["epub"], output_dir=tmp_path / "out", reporter=reporter)[0].path)
    assert links(docs["ch01.xhtml"]) == {"Go": "https://one.example/", "two": "ch02.xhtml#sec"}
    assert links(docs["ch02.xhtml"]) == {"Go": "https://two.example/"}
    assert reporter.warnings == []


def test_only_epub_and_only_pdf_blocks(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", manifest('["one.md"]'), {
        "one.md": "# One\n\n::: only-epub\nReflowable words.\n:::\n\n::: only-pdf\nPrinted words.\n:::\n\nBoth.\n"})
    results = {r.format: r.path for r in build(book, ["epub", "pdf"], output_dir=tmp_path / "out")}
    text = "".join(epub_documents(results["epub"])["ch01.xhtml"].itertext())
    assert "Reflowable words." in text and "Printed words." not in text and "Both." in text
    assert "only-" not in etree.tostring(epub_documents(results["epub"])["ch01.xhtml"], encoding="unicode")
    printed = pdftotext(results["pdf"])
    assert "Printed words." in printed and "Reflowable words." not in printed and "Both." in printed


def test_structure_numbers_chapters_and_appendices_and_splits_parts() -> None:
    from bookbuild.config.languages import language_facts
    from bookbuild.config.manifest import BookMeta, ChapterEntry
    from bookbuild.model import Book, Chapter
    from bookbuild.transforms.structure import assign_structure

    layout = [("preface", None), ("chapter", "A"), ("chapter", "A"), ("chapter", "B"), ("chapter", None),
              ("chapter", "A"), ("appendix", None), ("appendix", None), ("colophon", None)]
    entries = tuple(ChapterEntry(Path(f"{n}.md"), kind=kind, part=part) for n, (kind, part) in enumerate(layout))
    chapters = tuple(Chapter(index=n, id=f"ch{n:02d}", source=e.path, title="t", body="", kind=e.kind)
                     for n, e in enumerate(entries))
    book = Book(meta=BookMeta("T", ("A",), "en", "id"), language=language_facts("en"), source=Path("/b/book.toml"),
                chapters=chapters)
    result = assign_structure(book, entries).chapters
    assert [c.part.id if c.part else None for c in result] == [
        None, "part01", "part01", "part02", None, "part03", None, None, None]
    assert [c.number for c in result] == [None, "1", "2", "3", "4", "5", "A", "B", None]
    assert [c.matter for c in result] == ["front"] + ["body"] * 5 + ["back"] * 3


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=30),
    st.builds(lambda rest: "#" + rest, st.text(max_size=30)),
    st.builds(lambda a, b: f"#{a}%{b}", st.text(alphabet="ab\t\r\n :/?#%20C3A9", max_size=8),
              st.text(alphabet="0123456789ABCDEFabcdef\t ", max_size=4)),
))
def test_a_fragment_link_splits_as_urlsplit_splits_it(reference: str) -> None:
    """resources.is_external and split_reference skip urlsplit for '#...' (most of a book's
    links); on any reference they say what urlsplit says (tabs and newlines, which it drops,
    percent escapes, a colon or a second '#' in the fragment)."""
    from urllib.parse import unquote, urlsplit

    from bookbuild.resources import is_external, split_reference

    parts = urlsplit(reference)
    assert is_external(reference) == bool(parts.scheme or parts.netloc)
    assert split_reference(reference) == (unquote(parts.path), unquote(parts.fragment))

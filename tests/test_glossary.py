"""The glossary (transforms/glossary.py): terms with semantics and ids, references that link
to them, back-links from each definition to its uses, the warnings, in both formats.

The book (tests/books/glossary) has three chapters (two Markdown, one HTML), a footnote that
uses a term, and a glossary of ten entries, one of them defined twice, one never used.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import IN_PLACE, ROOT, write_book
from lxml import etree
from pdfbook import folio, pages_text
from pypdf import PdfReader
from validators import assert_ace_clean, qpdf_check, run_epubcheck

from bookbuild.api import BuildOptions, build
from bookbuild.api.check import check_book
from bookbuild.errors import Reporter
from bookbuild.sources.markdown import markdown_to_html
from bookbuild.transforms import memo as memo_module

BOOK = ROOT / "tests" / "books" / "glossary"
X = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
TERMS = ["Bearing", "Cam", "Fastener", "Flywheel", "Gear", "Governor", "Lever", "Shaft", "Pulley", "Cam"]
# The terms each chapter refers to, in order (the footnote's reference links but has no back-link).
USES = {
    "ch01.xhtml": ["gear", "gear", "shaft", "bearing", "shaft", "fastener", "gear", "shaft"],
    "ch02.xhtml": ["lever", "cam", "shaft", "flywheel", "cam", "gear", "gear"],
    "ch03.xhtml": ["governor", "flywheel", "governor"],
    "ch04.xhtml": ["shaft"],  # a definition that uses another term
}
WARNINGS = [
    "chapters/glossary.md:30: glossary term 'Cam' is defined twice (first at line 6)",
    "chapters/01-parts.md:15: glossary term 'sprocket' is not defined",
    "chapters/02-motion.md:10: glossary term 'levr' is not defined",
]


@pytest.fixture(autouse=True)
def reproducible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _warnings(reporter: Reporter) -> list[str]:
    return [f"{d.location.file}:{d.location.line}: {d.message}" for d in reporter.warnings]


def _documents(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as archive:
        return {name[5:]: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.startswith("EPUB/") and name.endswith(".xhtml")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The book built once in both formats (no cache), its EPUBCheck report and warnings."""
    tmp = tmp_path_factory.mktemp("glossary")
    shutil.copytree(BOOK, tmp / "book", ignore=IN_PLACE)
    reporter = Reporter()
    results = build(tmp / "book", ["epub", "pdf"], output_dir=tmp / "out", options=BuildOptions(cache=False),
                    reporter=reporter)
    paths = {result.format: result.path for result in results}
    return {**paths, "tmp": tmp, "warnings": _warnings(reporter), "docs": _documents(paths["epub"]),
            "epubcheck": run_epubcheck(paths["epub"], tmp)}


def test_the_markdown_syntax_makes_reference_spans() -> None:
    html, _ = markdown_to_html('A [gear]{.gloss}, two [gears]{gloss="gear"} and [a link](x.md){.y}.\n', "x.md")
    # each with its own source line (inline_lines.py), dropped before output
    assert '<span class="gloss" data-bb-line="1">gear</span>' in html
    assert '<span data-gloss="gear" data-bb-line="1">gears</span>' in html
    assert '<a href="x.md" class="y">a link</a>' in html


def test_glossary_entries_have_their_semantics_roles_and_ids(built: dict) -> None:
    glossary = built["docs"]["ch04.xhtml"]
    section = glossary.find(".//x:section", X)
    assert section.get(EPUB_TYPE) == "glossary" and section.get("role") == "doc-glossary"
    terms = glossary.findall(".//x:dl/x:dt", X)
    assert ["".join(dt.itertext()) for dt in terms] == TERMS
    assert [dt.get("id") for dt in terms][:3] == ["gloss-bearing", "gloss-cam", "gloss-fastener"]
    assert terms[-1].get("id") == "gloss-cam-2"  # the duplicate gets an id of its own
    for dt in terms:
        assert dt.get(EPUB_TYPE) == "glossterm" and dt.get("role") == "term"
        assert dt.find("x:dfn", X) is not None
    definitions = glossary.findall(".//x:dl/x:dd", X)
    assert len(definitions) == len(terms)
    assert all(dd.get(EPUB_TYPE) == "glossdef" and dd.get("role") == "definition" for dd in definitions)


def _target(docs: dict[str, etree._Element], here: str, href: str) -> etree._Element:
    name, _, fragment = href.partition("#")
    found = docs[name or here].xpath("//*[@id=$id]", id=fragment)
    assert len(found) == 1, f"{here}: {href} resolves to {len(found)} elements"
    return found[0]


def test_every_reference_links_to_its_term(built: dict) -> None:
    docs = built["docs"]
    for name, expected in USES.items():
        refs = [a for a in docs[name].iterfind(".//x:a[@role='doc-glossref']", X)
                if a.getparent().get("class") != "footnote" and a.get("id")]
        got = []
        for ref in refs:
            assert ref.get(EPUB_TYPE) == "glossref" and "glossref" in ref.get("class").split()
            term = _target(docs, name, ref.get("href"))
            assert term.tag == f"{{{X['x']}}}dt" and term.get("id") != "gloss-cam-2"
            got.append("".join(term.itertext()).lower())
        assert got == expected, name
    note = docs["ch01.xhtml"].find(".//x:aside[@role='doc-footnote']//x:a[@role='doc-glossref']", X)
    assert note is not None and note.get("href") == "ch04.xhtml#gloss-fastener" and note.get("id") is None
    # the undefined terms keep their text, without a link
    assert "sprocket" in "".join(docs["ch01.xhtml"].itertext())
    assert not [a for a in docs["ch01.xhtml"].iterfind(".//x:a", X) if "".join(a.itertext()) == "sprocket"]


def test_each_definition_links_back_to_every_use_of_its_term(built: dict) -> None:
    docs = built["docs"]
    for dt in docs["ch04.xhtml"].iterfind(".//x:dl/x:dt", X):
        dd = dt.getnext()
        backlinks = dd.findall(".//x:a[@role='doc-backlink']", X)
        uses = [(name, a.get("id")) for name, doc in docs.items()
                for a in doc.iterfind(".//x:a[@role='doc-glossref'][@id]", X)
                if a.get("href").endswith(f"#{dt.get('id')}")]
        assert [(a.get("href").partition("#")[0] or "ch04.xhtml", a.get("href").partition("#")[2])
                for a in backlinks] == uses, dt.get("id")
        for link in backlinks:  # each lands on a reference that links back to this term
            ref = _target(docs, "ch04.xhtml", link.get("href"))
            assert ref.get("href").endswith(f"#{dt.get('id')}")
    entries = {dt.get("id"): dt.getnext() for dt in docs["ch04.xhtml"].iterfind(".//x:dl/x:dt", X)}
    uses_text = {key: re.sub(r"\s+", " ", "".join(dd.find("x:p[@class='gloss-uses']", X).itertext())).strip()
                 for key, dd in entries.items() if dd.find("x:p", X) is not None}
    assert uses_text["gloss-gear"] == "↩ Parts of a Machine, 2, 3; Motion, 2"
    assert uses_text["gloss-flywheel"] == "↩ Motion; Control"
    assert uses_text["gloss-shaft"] == "↩ Parts of a Machine, 2, 3; Motion; Glossary"
    assert "gloss-pulley" not in uses_text and "gloss-cam-2" not in uses_text  # unused; a duplicate


def test_the_epub_passes_epubcheck_and_ace(built: dict) -> None:
    report = built["epubcheck"]
    assert (report.fatals, report.errors, report.warnings) == ([], [], [])
    assert_ace_clean(built["epub"], built["tmp"])


def test_the_warnings_name_file_and_line_in_build_and_check(built: dict) -> None:
    assert sorted(w.split("/book/", 1)[-1] for w in built["warnings"]) == sorted(WARNINGS)
    report = check_book(built["tmp"] / "book")
    found = {f"{d.location.file}:{d.location.line}: {d.message}".split("/book/", 1)[-1]: d
             for d in report.warnings if "glossary" in d.message}
    assert sorted(found) == sorted(WARNINGS)
    assert "did you mean 'lever'?" in found[WARNINGS[2]].hint


def test_a_glossary_without_a_definition_list_and_a_book_without_a_glossary(tmp_path: Path) -> None:
    manifest = ('[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                'chapters = ["one.md", { file = "words.md", kind = "glossary" }]\n')
    book = write_book(tmp_path / "b", manifest, {"one.md": "# One\n\nA [widget]{.gloss}.\n",
                                                 "words.md": "# Words\n\nNo list here.\n"})
    reporter = Reporter()
    build(book, ["epub"], output_dir=tmp_path / "out", options=BuildOptions(cache=False), reporter=reporter)
    assert [w.split("/b/", 1)[-1] for w in _warnings(reporter)] == [
        "words.md:1: glossary chapter has no definition list: no term is defined",
        "one.md:3: glossary term 'widget' is not defined",
    ]
    (book / "book.toml").write_text(manifest.replace(', { file = "words.md", kind = "glossary" }', ""))
    reporter = Reporter()
    build(book, ["epub"], output_dir=tmp_path / "out", options=BuildOptions(cache=False), reporter=reporter)
    assert len(reporter.warnings) == 1 and 'kind = "glossary"' in reporter.warnings[0].hint


def test_pdf_references_land_on_the_glossary_page_and_back(built: dict) -> None:
    reader = PdfReader(built["pdf"])
    pages = pages_text(built["pdf"])
    glossary_page = next(n for n, text in enumerate(pages) if text.lstrip().startswith("Glossary\n"))
    names = reader.named_destinations
    to_terms, back = [], []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            dest = str(annot.get_object().get("/Dest"))
            if dest.startswith("gloss-ref-"):
                back.append((number, dest, reader.get_destination_page_number(names[dest])))
            elif dest.startswith("gloss-"):
                to_terms.append((number, dest, reader.get_destination_page_number(names[dest])))
    used = {f"gloss-{term}" for terms in USES.values() for term in terms}
    assert {dest for _page, dest, _target in to_terms} == used
    assert {target for _page, _dest, target in to_terms} == {glossary_page}
    # on paper, the first use in each chapter only (render/pdf/glossary_uses.py)
    firsts = {(name[:4], term) for name, terms in USES.items() for term in terms}
    assert len({dest for _page, dest, _target in back}) == len(firsts)
    for page, dest, target in back:
        assert page == glossary_page
        chapter = dest.split("-")[2]  # gloss-ref-ch01-3
        title = {"ch01": "Parts of a Machine", "ch02": "Motion", "ch03": "Control", "ch04": "Glossary"}[chapter]
        assert title in pages[target]
    # the text links without "see page"; a chapter's first back-link says the page it lands on
    assert "gear (see page" not in pages[6] and "gear" in pages[6]
    # each chapter's link says the page its first use is on, and no "2" that reads as a page
    glossary_text = re.sub(r"\s+", " ", pages[glossary_page])
    motion = next(n for n, text in enumerate(pages) if "CHAPTER 2" in text)
    assert f"Motion (see page {folio(pages[motion])});" in glossary_text
    assert not re.search(r"\), \d", glossary_text)
    assert qpdf_check(built["pdf"]).returncode == 0


def test_pdf_back_links_print_the_pages_where_the_terms_are_used(built: dict) -> None:
    """Item 11 of the newcomer report: each "(see page N)" after a definition is the page, found
    in the PDF's own text, where the chapter first uses the term."""
    pages = pages_text(built["pdf"])
    glossary_page = next(n for n, text in enumerate(pages) if text.lstrip().startswith("Glossary\n"))
    by_folio = {folio(text): n for n, text in enumerate(pages) if folio(text)}
    text = re.sub(r"\s+", " ", pages_text(built["pdf"], layout=False)[glossary_page])
    titles = {"Parts of a Machine": "ch01", "Motion": "ch02", "Control": "ch03", "Glossary": "ch04"}
    starts = {title: next(n for n, page_text in enumerate(pages) if f"CHAPTER {number}" in page_text)
              for number, title in enumerate(list(titles)[:3], start=1)} | {"Glossary": glossary_page}
    checked = 0
    for term in ("Bearing", "Fastener", "Flywheel", "Gear", "Governor", "Lever", "Shaft"):
        uses = re.search(rf"{term} .*?\u21a9 (.*?\(see page \d+\)(?:; .*?\(see page \d+\))*)", text)
        assert uses, term
        found = re.findall(r"(\w[\w ]*?) \(see page (\d+)\)", uses.group(1))
        expected = [title for title, name in titles.items() if term.lower() in USES[f"{name}.xhtml"]]
        assert [title for title, _page in found] == expected, term
        for title, page in found:
            start = starts[title]
            assert start <= by_folio[page] and term.lower() in pages[by_folio[page]].lower(), (term, title, page)
            assert not any(term.lower() in pages[n].lower() for n in range(start, by_folio[page])), (term, title)
            checked += 1
    assert checked >= 10


def test_the_chapter_parallel_pdf_has_the_same_glossary_links(built: dict) -> None:
    parallel = built["tmp"] / "parallel.pdf"
    build(built["tmp"] / "book", ["pdf"], output=parallel, options=BuildOptions(parallel=True, cache=False),
          reporter=Reporter())

    def links(path: Path) -> list[tuple[int, str, int]]:
        reader = PdfReader(path)
        names = reader.named_destinations
        return [(number, str(dest), reader.get_destination_page_number(names[str(dest)]))
                for number, page in enumerate(reader.pages) for annot in page.get("/Annots") or []
                if str(dest := annot.get_object().get("/Dest")).startswith("gloss-")]

    single = links(built["pdf"])
    assert len(single) > 30 and links(parallel) == single
    assert pages_text(parallel) == pages_text(built["pdf"])


@pytest.fixture
def memos(monkeypatch: pytest.MonkeyPatch) -> list:
    made: list = []
    original = memo_module.TransformMemo.__init__

    def remember(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(memo_module.TransformMemo, "__init__", remember)
    return made


def _epub(book: Path, name: str, cache: bool = True) -> tuple[bytes, list[str]]:
    reporter = Reporter()
    path = book.parent / name
    build(book, ["epub"], output=path, options=BuildOptions(cache=cache), reporter=reporter)
    return path.read_bytes(), _warnings(reporter)


def _rebuild_matches_scratch(book: Path, memos: list) -> tuple[bytes, int]:
    data, warnings = _epub(book, "incremental.epub")
    hits = len(memos[-1].entries)
    scratch, scratch_warnings = _epub(book, "scratch.epub", cache=False)
    assert data == scratch and warnings == scratch_warnings
    return data, hits


def test_the_memo_and_the_chapter_cache_follow_references_and_definitions(tmp_path: Path, memos: list) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOK, book, ignore=IN_PLACE)
    _epub(book, "first.epub")
    _, hits = _rebuild_matches_scratch(book, memos)
    assert hits == 4  # nothing changed: every chapter from the memo, warnings replayed
    # A definition's wording is the glossary's alone: the other chapters stay in the memo.
    glossary = book / "chapters" / "glossary.md"
    glossary.write_text(glossary.read_text().replace("rivet that holds", "rivet that firmly holds"))
    _, hits = _rebuild_matches_scratch(book, memos)
    assert hits == 3
    # A new reference changes the glossary's back-links: nothing may come from the memo.
    motion = book / "chapters" / "02-motion.md"
    motion.write_text(motion.read_text() + "\nA belt runs over a [pulley]{.gloss}.\n")
    _, hits = _rebuild_matches_scratch(book, memos)
    assert hits == 0
    glossary_doc = _documents(book.parent / "incremental.epub")["ch04.xhtml"]
    pulley = glossary_doc.find(".//x:dt[@id='gloss-pulley']", X).getnext()
    assert [a.get("href") for a in pulley.iterfind(".//x:a[@role='doc-backlink']", X)] == ["ch02.xhtml#gloss-ref-ch02-9"]  # the 8th is the undefined "levr"


GLOSSARY_XHTML = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">
<head><title>Glossary</title></head>
<body>
<section id="glossary" epub:type="glossary">
<h2 epub:type="title">Glossary</h2>
<dl>
<div><dt epub:type="glossterm"><dfn>Ratchet</dfn></dt><dd epub:type="glossdef"><p>A wheel that turns one way only.</p></dd></div>
<div><dt id="pawl-term">Pawl</dt><dd><p>The catch that stops a <span class="gloss">ratchet</span>.</p></dd></div>
<div><dt>Click</dt><dd><p>The sound of <span class="gloss">ratchets</span>.</p></dd></div>
</dl>
</section>
</body>
</html>
"""


def test_an_xhtml_glossary_with_its_own_semantics(tmp_path: Path) -> None:
    """A Standard Ebooks style file: its top section says it is the glossary, its terms may
    already say glossterm and hold a dfn, and HTML lets a div group each term with its definition."""
    manifest = '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["one.md", "glossary.xhtml"]\n'
    book = write_book(tmp_path / "b", manifest, {
        "one.md": "# One\n\nA [ratchet]{.gloss} and its [pawl]{.gloss}.\n", "glossary.xhtml": GLOSSARY_XHTML})
    reporter = Reporter()
    epub = build(book, ["epub"], output_dir=tmp_path / "out", options=BuildOptions(cache=False),
                 reporter=reporter)[0].path
    # (an HTML chapter's elements carry no source line into the model: its warnings name the file)
    assert [(d.location.line, d.message, d.hint) for d in reporter.warnings] == [
        (None, "glossary term 'ratchets' is not defined", "did you mean 'ratchet'? Write data-gloss=\"ratchet\"")]
    docs = _documents(epub)
    hrefs = [a.get("href") for a in docs["ch01.xhtml"].iterfind(".//x:a[@role='doc-glossref']", X)]
    assert hrefs == ["ch02.xhtml#gloss-ratchet", "ch02.xhtml#pawl-term"]
    terms = docs["ch02.xhtml"].findall(".//x:dt", X)
    assert [(dt.get("id"), dt.get(EPUB_TYPE), len(dt.findall(".//x:dfn", X))) for dt in terms] == [
        ("gloss-ratchet", "glossterm", 1), ("pawl-term", "glossterm", 1), ("gloss-click", "glossterm", 1)]
    ratchet = terms[0].getnext()
    assert [a.get("href") for a in ratchet.iterfind(".//x:a[@role='doc-backlink']", X)] == [
        "ch01.xhtml#gloss-ref-ch01-1", "#gloss-ref-ch02-1"]
    report = run_epubcheck(epub, tmp_path)
    assert (report.fatals, report.errors, report.warnings) == ([], [], [])


def test_the_preview_site_links_terms_and_uses_across_its_pages() -> None:
    from lxml import html

    from bookbuild.api import load_book
    from bookbuild.config.manifest import load_manifest
    from bookbuild.render.html.site import render_site

    pages = render_site(load_book(load_manifest(BOOK), Reporter(), cache=False))  # no cache in the repository
    text = html.fromstring(pages["ch01.html"])
    assert text.xpath("//a[@role='doc-glossref']/@href")[:3] == [
        "ch04.html#gloss-gear", "ch04.html#gloss-gear", "ch04.html#gloss-shaft"]
    glossary = html.fromstring(pages["ch04.html"])
    backlinks = glossary.xpath("//dt[@id='gloss-governor']/following-sibling::dd[1]//a[@role='doc-backlink']/@href")
    assert backlinks == ["ch03.html#gloss-ref-ch03-1", "ch03.html#gloss-ref-ch03-3"]
    assert text.xpath("//a[@id='gloss-ref-ch01-1']/@href") == ["ch04.html#gloss-gear"]


def test_a_reference_in_the_middle_of_a_paragraph_warns_at_its_own_line(tmp_path: Path) -> None:
    """Newcomer report item 4: each reference at its own line and column, not the paragraph's first
    line, also after a code span that breaks a line (markdown-it makes that break a space)."""
    book = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["one.md"]\n',
                      {"one.md": "# One\n\nFirst line.\nSecond line [sprocket]{.gloss}\nand *[cog]{gloss=\"x\"}*, `a code\n"
                                 "span` then [lever]{.gloss}.\n"})
    found = [(d.location.line, d.location.col, d.message) for d in check_book(book).warnings]
    assert found == [(4, 14, "glossary term 'sprocket' is not defined"),
                     (5, 19, "glossary term 'x' is not defined"),
                     (6, 13, "glossary term 'lever' is not defined")]

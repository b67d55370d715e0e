"""The reference apparatus together (issue 26): index, citations and glossary in one book.

tests/books/reference/ holds all three: 35 index entries (sub-entries, see, see also, a range
across chapters), 12 citations of a .bib, a glossary of 8 terms. It is built once per style,
APA (author-date) and IEEE (numeric), to EPUB and PDF; each EPUB gets one EPUBCheck and one
Ace run. The checks are those of each feature's own tests (their helpers are imported): the
index prints the pages where the marked words are in the PDF's text and links to them, the
EPUB index (page_list) prints the same numbers, citations read as the style writes them and
link to their entries, glossary references and back-links land on the right pages.
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import ROOT
from pdfbook import folio, pages_text
from test_citations import (
    APA_CITATIONS,
    IEEE_CITATIONS,
    _citations,
    _entries,
    _links,
    _text,
)
from test_citations import _documents as citation_documents
from test_glossary import X, _target
from test_glossary import _documents as glossary_documents
from test_index import _index_entries, _pages, assert_every_entry_prints_its_pages
from validators import assert_ace_clean, qpdf_check, run_epubchecks

from bookbuild.api import BuildOptions, build
from bookbuild.errors import Reporter

BOOK = ROOT / "tests" / "books" / "reference"
STYLES = ("apa", "ieee")
CITED = 12  # works in references.bib, each cited
TERMS = ["bearing", "cam", "fastener", "flywheel", "gear", "governor", "lever", "shaft"]
# the chapters that use each term (their titles), in reading order
USED_IN = {"bearing": ["Parts of a Machine"], "cam": ["Motion"], "fastener": ["Parts of a Machine"],
           "flywheel": ["Motion"], "gear": ["Parts of a Machine", "Motion"], "governor": ["Motion"],
           "lever": ["Motion"], "shaft": ["Parts of a Machine", "Motion", "Glossary"]}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("reference")
    made: dict[str, dict] = {}
    for style in STYLES:
        folder = out / style
        shutil.copytree(BOOK, folder)
        manifest = folder / "book.toml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace('style = "apa"', f'style = "{style}"'),
                            encoding="utf-8")
        reporter = Reporter()
        results = build(folder, ["epub", "pdf"], output_dir=out / f"{style}-dist", reporter=reporter,
                        options=BuildOptions(cache=False))
        made[style] = {r.format: r.path for r in results} | {"warnings": reporter.warnings}
    reports = run_epubchecks([made[style]["epub"] for style in STYLES], out)
    for style, report in zip(STYLES, reports):
        made[style]["epubcheck"] = report
    made["tmp"] = {"path": out}
    return made


@pytest.mark.parametrize("style", STYLES)
def test_builds_cleanly_and_passes_epubcheck_ace_and_qpdf(books: dict, style: str) -> None:
    assert books[style]["warnings"] == []
    assert books[style]["epubcheck"].problems == []
    assert_ace_clean(books[style]["epub"], books["tmp"]["path"])
    assert qpdf_check(books[style]["pdf"]).returncode == 0


@pytest.mark.parametrize("style", STYLES)
def test_index_prints_and_links_the_pages_of_the_marks(books: dict, style: str) -> None:
    pdf = books[style]["pdf"]
    texts, labels, start = _pages(pdf)
    printed = _index_entries(texts, start)
    assert len(printed) >= 30
    assert_every_entry_prints_its_pages(printed, texts, labels, start)
    # every number a link to its page
    landed = [labels[target] for page, _dest, target in _links(pdf) if page >= start and target < start]
    printed_numbers = [part for numbers in printed.values() for number in numbers for part in number.split("\u2013")]
    assert sorted(landed) == sorted(printed_numbers)
    # the /PageLabels (which the locators were read against) are the folios printed on the pages
    folios = {n: folio(text) for n, text in enumerate(pages_text(pdf))}
    assert sum(1 for n, printed_folio in folios.items() if printed_folio) > 25
    assert all(labels[n] == printed_folio for n, printed_folio in folios.items() if printed_folio)


def test_epub_index_locators_resolve_and_print_the_pdf_pages(books: dict) -> None:
    documents = glossary_documents(books["apa"]["epub"])
    index_name, index = next((name, root) for name, root in documents.items()
                             if root.find(".//x:section[@role='doc-index']", X) is not None)
    numbers = {}
    for entry in index.iterfind(".//x:section[@role='doc-index']//x:li", X):
        for link in entry.iterfind("x:span[@class='index-locators']/x:a", X):
            _target(documents, index_name, link.get("href"))  # resolves to one element
        locators = entry.find("x:span[@class='index-locators']", X)
        if locators is not None:
            numbers[entry.find("x:span[@class='index-term']", X).text] = \
                "".join(locators.itertext()).strip(", ").split(", ")
    texts, _labels, start = _pages(books["apa"]["pdf"])
    assert numbers == _index_entries(texts, start)


@pytest.mark.parametrize("style", STYLES)
def test_citations_read_as_the_style_writes_them_and_link_to_their_entries(books: dict, style: str) -> None:
    documents = citation_documents(books[style]["epub"])
    spans = _citations(documents)
    assert [_text(span) for span in spans] == (APA_CITATIONS if style == "apa" else IEEE_CITATIONS)
    ids = {(doc, entry_id) for doc, entry_id, _li in _entries(documents)}
    assert len(ids) == CITED
    for span in spans:
        here = next(doc for doc, root in documents.items() if span in root.iter())
        for link in span.iter("{http://www.w3.org/1999/xhtml}a"):
            document, _, fragment = link.get("href").rpartition("#")
            assert link.get("role") == "doc-biblioref" and (document or here, fragment) in ids
    pdf = books[style]["pdf"]
    pages = pages_text(pdf, layout=False)
    bibliography = next(n for n, text in enumerate(pages) if text.lstrip().startswith("Bibliography"))
    citing = {n for n, text in enumerate(pages) if "A Short History" in text or "Practice" in text} - {bibliography}
    cited = [(page, dest, lands) for page, dest, lands in _links(pdf) if dest.startswith("ref-")]
    assert len({dest for _page, dest, _lands in cited}) == CITED
    assert all(lands in (bibliography, bibliography + 1) and page in citing for page, _dest, lands in cited)
    # each entry's link lands on the page that prints it
    entries = {entry_id: li for _doc, entry_id, li in _entries(documents)}
    for _page, dest, lands in cited:
        assert " ".join(_text(entries[dest]).split()[:2]) in " ".join(pages[lands].split()), dest


def test_glossary_references_and_back_links_land_on_the_right_pages(books: dict) -> None:
    pdf = books["apa"]["pdf"]
    pages = pages_text(pdf)
    glossary = next(n for n, text in enumerate(pages) if text.lstrip().startswith("Glossary\n"))
    starts = {title: next(n for n, text in enumerate(pages) if re.search(rf"^\s*{title}\s*$", text, re.MULTILINE))
              for title in ("Parts of a Machine", "Motion")} | {"Glossary": glossary}
    by_folio = {folio(text): n for n, text in enumerate(pages) if folio(text)}
    links = _links(pdf)
    to_terms = [(page, dest, lands) for page, dest, lands in links if dest.startswith("gloss-") and
                not dest.startswith("gloss-ref-")]
    assert {dest for _page, dest, _lands in to_terms} == {f"gloss-{term}" for term in TERMS}
    assert all(lands in (glossary, glossary + 1) for _page, _dest, lands in to_terms)
    back = [(page, dest, lands) for page, dest, lands in links if dest.startswith("gloss-ref-")]
    assert back and all(page in (glossary, glossary + 1) for page, _dest, _lands in back)
    # each "(see page N)" after a definition: the page where that chapter first uses the term
    text = re.sub(r"\s+", " ", " ".join(pages_text(pdf, layout=False)[glossary:glossary + 2]))
    text = re.sub(r"The Reference Apparatus \d+ ", "", text)  # a running head between two pages
    for number, term in enumerate(TERMS):
        after = text.split(f"{term.capitalize()} ", 1)[1]
        following = f"{TERMS[number + 1].capitalize()} " if number + 1 < len(TERMS) else "\f"
        uses = re.findall(r"(\w[\w ]*?) \(see page (\d+)\)", after.split(following, 1)[0])
        assert [title for title, _page in uses] == USED_IN[term], term
        for title, page in uses:
            where = by_folio[page]
            assert term in pages[where].lower() and where >= starts[title], (term, title, page)
            assert not any(term in pages[n].lower() for n in range(starts[title], where)), (term, title)

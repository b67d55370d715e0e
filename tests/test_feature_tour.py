"""The feature-tour example book: every authoring construct, in the EPUB and in the PDF."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookbuild.api import build
from bookbuild.errors import Reporter
from conftest import ROOT
from validators import pdffonts, pdftotext, qpdf_check, run_epubcheck

TOUR = ROOT / "examples" / "feature-tour"
X = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
     "m": "http://www.w3.org/1998/Math/MathML", "opf": "http://www.idpf.org/2007/opf"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# The formulas of the tour, as TeX: none of this may reach a reader (the appendix shows
# `$x$` inside code on purpose, so dollar signs alone prove nothing).
TEX = re.compile(r"\\(frac|int|sqrt|pi)\b|\^\{")


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("tour")
    reporter = Reporter()
    results = {r.format: r.path for r in build(TOUR, ["epub", "pdf"], output_dir=out, reporter=reporter)}
    with zipfile.ZipFile(results["epub"]) as archive:
        files = {name[5:]: archive.read(name) for name in archive.namelist() if name.startswith("EPUB/")}
    return results | {"warnings": reporter.warnings, "files": files, "text": pdftotext(results["pdf"])}


def doc(tour: dict, name: str) -> etree._Element:
    return etree.fromstring(tour["files"][name])


def chapter_titled(tour: dict, title: str) -> etree._Element:
    for name, data in tour["files"].items():
        if name.startswith("ch") and f"<title>{title}</title>".encode() in data:
            return etree.fromstring(data)
    raise AssertionError(f"no chapter titled {title}")


def test_builds_without_warnings_and_epubcheck_is_clean(tour: dict, tmp_path: Path) -> None:
    assert tour["warnings"] == []
    report = run_epubcheck(tour["epub"], tmp_path)
    assert report.problems == []


def test_pdf_fonts_embedded_and_qpdf_clean(tour: dict) -> None:
    assert all(font["emb"] == "yes" for font in pdffonts(tour["pdf"]))
    check = qpdf_check(tour["pdf"])
    assert check.returncode == 0, check.stdout + check.stderr


def test_curly_quotes_and_dashes_in_both_formats(tour: dict) -> None:
    text = "".join(chapter_titled(tour, "Text and Typography").itertext())
    for expected in ("“curly ones”", "‘single ones’", "10–20", "dash—like", "ellipsis…", '"straight" -- quotes...'):
        assert expected in text
        assert expected in tour["text"].replace("\n", " ") or expected.startswith('"straight"')
    assert '"straight" -- quotes...' in tour["text"]


def test_figures_numbered_and_cross_references_resolved(tour: dict) -> None:
    figures = chapter_titled(tour, "Figures and Cross-references")
    captions = ["".join(c.itertext()) for c in figures.iterfind(".//x:figcaption", X)]
    assert captions == ["Figure 1. A diagram of the build pipeline", "Figure 2. The same diagram, with a shorter caption"]
    texts = ["".join(a.itertext()) for a in figures.iterfind(".//x:p//x:a", X)]
    assert texts[:6] == ["Figure 1", "Figure 2", "Table 1", "Chapter 1", "Equation 1", "Footnotes"]
    assert "the math chapter" in texts
    for label in ("Figure 1. A diagram of the build pipeline", "Table 1. What each format", "Equation 1 is Euler",
                  "shows its target’s label: Figure 1 and Figure 2"):
        assert label in " ".join(tour["text"].split())


def test_mathml_in_epub_svg_in_pdf_and_no_tex_anywhere(tour: dict) -> None:
    opf = etree.fromstring(tour["files"]["content.opf"])
    with_math = {item.get("href") for item in opf.iterfind(".//opf:item", X)
                 if "mathml" in (item.get("properties") or "").split()}
    math_chapter = chapter_titled(tour, "Mathematics")
    assert len(math_chapter.findall(".//m:math", X)) == 4
    assert with_math == {name for name, data in tour["files"].items() if b"<math" in data}
    assert len(with_math) == 1
    for name, data in tour["files"].items():
        if name.endswith(".xhtml"):
            # shown nowhere; kept only as each formula's alttext (its text alternative)
            assert not TEX.search(re.sub(r' alttext="[^"]*"', "", data.decode("utf-8"))), name
    assert not TEX.search(tour["text"])
    assert "Euler’s identity" in tour["text"] and "(1)" in tour["text"]


def test_code_highlight_spans_and_line_numbers(tour: dict) -> None:
    code = chapter_titled(tour, "Code")
    python = code.find(".//x:code[@class='language-python']", X)
    assert python.find("x:span[@class='k']", X).text == "def"
    assert code.find(".//x:code[@class='language-rust']", X) is not None  # from ```rust,ignore
    assert [s.text for s in code.iterfind(".//x:pre[@class='highlight linenos']//x:span[@class='linenos']", X)] == ["1", "2"]
    assert not code.xpath("//*[@style]")
    assert 'let who = "world";' in tour["text"]  # the included listing
    assert "ANCHOR" not in tour["text"]


def test_callouts_are_labelled_asides(tour: dict) -> None:
    asides = chapter_titled(tour, "Text and Typography").findall(".//x:aside[@class]", X)
    asides = [a for a in asides if a.get("class").startswith("callout")]
    labels = [a.get("aria-label") for a in asides]
    assert labels == ["Note", "Tip", "Important", "Warning", "Caution", "Warning", "A custom title"]
    assert asides[1].get(EPUB_TYPE) == "tip"
    for label in ("Note", "Tip", "Important", "Caution", "A custom title"):
        assert re.search(rf"^\s*{label}\s*$", tour["text"], re.MULTILINE), label


def test_parts_and_matter_in_the_epub(tour: dict) -> None:
    opf = etree.fromstring(tour["files"]["content.opf"])
    hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", X)}
    spine = [hrefs[ref.get("idref")] for ref in opf.iterfind(".//opf:itemref", X)]
    assert spine[:7] == ["cover.xhtml", "titlepage.xhtml", "copyright.xhtml", "nav.xhtml", "ch01.xhtml",
                         "ch02.xhtml", "part01.xhtml"]
    assert spine.index("part02.xhtml") == spine.index("ch05.xhtml") + 1
    part = doc(tour, "part01.xhtml").find(".//x:section", X)
    assert part.get(EPUB_TYPE) == "part" and "".join(part.itertext()).strip() == "Part One: Writing"
    kinds = {name: doc(tour, name).find(".//x:section", X).get(EPUB_TYPE) for name in tour["files"]
             if name.startswith("ch")}
    assert kinds == {"ch01.xhtml": "dedication", "ch02.xhtml": "preface", "ch03.xhtml": "chapter",
                     "ch04.xhtml": "chapter", "ch05.xhtml": "chapter", "ch06.xhtml": "chapter",
                     "ch07.xhtml": "chapter", "ch08.xhtml": "appendix", "ch09.xhtml": "glossary",
                     "ch10.xhtml": "bibliography", "ch11.xhtml": "index", "ch12.xhtml": "colophon"}
    nav = doc(tour, "nav.xhtml").find(".//x:nav[@epub:type='toc']/x:ol", X)
    part_entry = nav.findall("x:li", X)[2]
    assert part_entry.find("x:a", X).text == "Part One: Writing"
    assert [a.text for a in part_entry.findall("x:ol/x:li/x:a", X)] == [
        "Text and Typography", "Figures and Cross-references", "Code"]
    landmarks = doc(tour, "nav.xhtml").find(".//x:nav[@epub:type='landmarks']", X)
    assert landmarks.find(".//x:a[@epub:type='bodymatter']", X).get("href") == "ch03.xhtml"


def test_numbered_chapters_and_appendices_show_their_label(tour: dict) -> None:
    heading = chapter_titled(tour, "Text and Typography").find(".//x:h1", X)
    assert heading.find("x:span[@class='chapter-label']", X).text == "Chapter 1"
    appendix = chapter_titled(tour, "Syntax Summary").find(".//x:h1", X)
    assert "".join(appendix.itertext()) == "Appendix A Syntax Summary"
    assert chapter_titled(tour, "Preface").find(".//x:h1/x:span", X) is None  # front matter: unnumbered
    assert re.search(r"CHAPTER 1\s+Text and Typography", tour["text"])  # CSS sets the label in capitals


def test_pdf_outline_nests_chapters_under_their_parts(tour: dict) -> None:
    from pypdf import PdfReader

    def walk(items: list) -> list:
        return [walk(item) if isinstance(item, list) else item.title for item in items]

    assert walk(PdfReader(tour["pdf"]).outline) == [
        "Dedication", "Preface", "Part One: Writing",
        ["Text and Typography", ["Smart typography", "Footnotes", "Lists", "Tables", "Call-outs"],
         "Figures and Cross-references", "Code"],
        "Part Two: Structure", ["Mathematics", "An HTML Chapter"],
        "Syntax Summary", "Glossary", "References", "Index", "Colophon"]


def test_pdf_part_pages_and_roman_front_matter(tour: dict) -> None:
    pages = [pdftotext(tour["pdf"], n, n).split() for n in range(1, 13)]
    opening = {words[0]: (n, words) for n, words in reversed(list(enumerate(pages))) if words}
    # the dedication shows no heading of its own (issue 23.5): found by its words
    dedication, preface = opening["To"], opening["Preface"]
    assert dedication[1][:3] == ["To", "everyone", "who"]
    # front matter is roman-paged (two-sided: each opens on a recto, odd page numbers)
    assert dedication[1][-1] == "vii" and preface[1][-1] == "ix"
    part_page = next(words for words in pages if words[:2] == ["Part", "One:"])
    assert part_page == ["Part", "One:", "Writing"]  # a part page alone, unnumbered
    text = tour["text"]
    assert "This paragraph is only in the PDF." in text and "only in the EPUB" not in text
    epub_text = "".join(chapter_titled(tour, "Figures and Cross-references").itertext())
    assert "only in the EPUB" in epub_text and "only in the PDF" not in epub_text


def test_index_and_citations_in_both_formats(tour: dict, tmp_path: Path) -> None:
    """The tour marks index terms (sub-entries, see, see also, a range) and cites three works
    of its .bib ([citations], the "citations" extra that the test extra installs)."""
    from validators import assert_ace_clean

    index = doc(tour, "ch11.xhtml")
    terms = ["".join(t.itertext()) for t in index.iterfind(".//x:span[@class='index-term']", X)]
    assert {"code", "cross-references", "figures", "footnotes", "labels", "lists", "definition",
            "mathematics", "inline", "typography", "quotes"} <= set(terms)
    for link in index.iterfind(".//x:span[@class='index-locators']/x:a", X):  # every locator lands
        name, _, anchor = link.get("href").partition("#")
        assert doc(tour, name).xpath("//*[@id=$id]", id=anchor), link.get("href")
    cited = [a for name in tour["files"] if name.startswith("ch") and name.endswith(".xhtml")
             for a in doc(tour, name).iterfind(".//x:a[@role='doc-biblioref']", X)]
    assert {a.get("href") for a in cited} == {"ch10.xhtml#ref-bringhurst2004", "ch10.xhtml#ref-knuth1984",
                                             "ch10.xhtml#ref-lamport1994"}
    assert doc(tour, "ch10.xhtml").find(".//*[@role='doc-bibliography']", X) is not None
    text = " ".join(tour["text"].split())
    assert "(Bringhurst 2004, 80–82)" in text and "Knuth, D. E. 1984. The TeXbook." in text
    # the PDF index prints the page the marked words are on (its folio, the page's last line)
    marked = next(page for page in tour["text"].split("\f") if "Straight quotes become" in page)
    found = re.search(r"dashes, (\d+) ellipsis, \1 quotes, \1", text)
    assert found and found.group(1) == marked.split()[-1]
    assert "labels. See cross-references" in text
    assert_ace_clean(tour["epub"], tmp_path)

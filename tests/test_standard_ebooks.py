"""Standard Ebooks XHTML as its producers wrote it (issue 25, item 4), and messages said once
with a count (item 15).

The frankenstein excerpt (tests/real/frankenstein, CC0) says what each file and element is
with ``epub:type``; its own CSS selects on it. The EPUB keeps those semantics, each file takes
the kind its top section names, its notes stay notes, and the EPUB passes EPUBCheck and Ace.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from clirun import run
from conftest import ROOT, write_book
from lxml import etree
from validators import assert_ace_clean, pdftotext, run_epubcheck

from bookbuild.api import build
from bookbuild.errors import Reporter
from bookbuild.render.pdf.stylesheets import epub_type_selectors
from bookbuild.sources.sanitise import html_to_fragment

FRANKENSTEIN = ROOT / "tests" / "real" / "frankenstein"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
X = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def frankenstein(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("se") / "frankenstein"
    shutil.copytree(FRANKENSTEIN, folder, ignore=shutil.ignore_patterns(".bookbuild-cache"))
    reporter = Reporter()
    results = build(folder, ("epub", "pdf"), output_dir=folder / "dist", reporter=reporter)
    paths = {result.path.suffix: result.path for result in results}
    with zipfile.ZipFile(paths[".epub"]) as archive:
        documents = {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                     if re.fullmatch(r"EPUB/ch\d+\.xhtml", name)}
    return {"epub": paths[".epub"], "pdf": paths[".pdf"], "documents": documents, "reporter": reporter,
            "pages": pdftotext(paths[".pdf"]).split("\f")}


def _types(element: etree._Element) -> set[str]:
    return set((element.get(EPUB_TYPE) or "").split())


def _document(frankenstein: dict, line: str) -> etree._Element:
    (doc,) = [doc for doc in frankenstein["documents"].values() if line in "".join(doc.itertext())]
    return doc


def test_epub_type_is_kept_and_checked() -> None:
    """Known terms (EPUB 3 SSV, z3998:, se:) are kept as the model's data-epub-type; an unknown
    one is removed with one warning counting its places."""
    reporter = Reporter()
    wrapper = html_to_fragment('<section epub:type="chapter bogus"><p epub:type="z3998:verse bogus">a</p>'
                               '<i epub:type="se:name.publication.book">b</i></section>', reporter, "c.xhtml")
    section = wrapper[0]
    assert section.get("data-epub-type") == "chapter"
    assert section[0].get("data-epub-type") == "z3998:verse"
    assert section[1].get("data-epub-type") == "se:name.publication.book"
    assert not any(":" in name for node in wrapper.iter() for name in node.attrib)  # namespace-less model
    assert [d.message for d in reporter.warnings] == [
        "epub:type 'bogus' removed: not an EPUB structural semantic (2 times)"]


def test_frankenstein_keeps_its_semantics_in_the_epub(frankenstein: dict) -> None:
    """The build says nothing about epub:type; the EPUB's XHTML holds it as written."""
    assert [d for d in frankenstein["reporter"].warnings if "epub:type" in d.message] == []
    chapter = _document(frankenstein, "Doth close behind him tread")
    assert {"z3998:ordinal", "z3998:roman"} <= {t for node in chapter.iter() for t in _types(node)}
    assert "se:label" in {t for node in chapter.iter() for t in _types(node)}
    assert "se:" in chapter.get("{http://www.idpf.org/2007/ops}prefix")
    colophon = _document(frankenstein, "The cover page is adapted from")
    (logo,) = [img for img in colophon.iter(f"{X}img") if "logo" in img.get("src")]
    assert "z3998:publisher-logo" in _types(logo)


def test_frankenstein_files_take_the_kind_their_top_section_names(frankenstein: dict) -> None:
    """imprint/colophon/copyright-page are colophons, endnotes back matter, the chapters
    chapters: no "Chapter 1, 2, 15, 16" for the imprint, dedication, epigraph..."""
    kinds = {
        "This ebook is the product of many hours": ("colophon frontmatter", "imprint"),
        "William Godwin": ("dedication frontmatter", "dedication"),
        "Did I request thee, Maker": ("epigraph frontmatter", "epigraph"),
        "Doth close behind him tread": ("bodymatter", "chapter"),
        "Coleridge’s “Ancient Mariner.”": ("endnotes backmatter", "endnotes"),
        "The cover page is adapted from": ("colophon backmatter", "colophon"),
        "Copyright pages exist to tell you": ("colophon backmatter", "copyright-page"),
    }
    for line, (classes, epub_type) in kinds.items():
        doc = _document(frankenstein, line)
        wrapper = doc.find(f".//{X}body/{X}section")
        assert wrapper.get("class").endswith(classes), line
        assert wrapper.get("role") is None  # the author's own section says what it is, once
        assert epub_type in _types(wrapper.find(f"{X}section")), line
    labels = [line.strip() for page in frankenstein["pages"] for line in page.splitlines()
              if re.fullmatch(r"(?i)\s*chapter\s+\d+\s*", line)]
    assert labels == []  # SE's headings carry their own label ("Chapter V"): not labelled twice
    assert sum("Chapter V\n" in page or page.rstrip().endswith("Chapter V") for page in frankenstein["pages"]) >= 1


def test_frankenstein_notes_stay_notes(frankenstein: dict) -> None:
    """A noteref links to an endnote in the endnotes section, both marked for reading systems."""
    chapter = _document(frankenstein, "Doth close behind him tread")
    (ref,) = [a for a in chapter.iter(f"{X}a") if "noteref" in _types(a)]
    assert ref.get("role") == "doc-noteref"
    target_file, _, target_id = ref.get("href").partition("#")
    notes = frankenstein["documents"]["EPUB/" + target_file]
    (note,) = notes.xpath(f"//*[@id='{target_id}']")
    assert "endnote" in _types(note)
    assert "endnotes" in _types(note.getparent().getparent())
    assert "Coleridge’s “Ancient Mariner.”" in "".join(note.itertext())


def test_frankenstein_epub_passes_epubcheck_and_ace(frankenstein: dict, tmp_path: Path) -> None:
    report = run_epubcheck(frankenstein["epub"], tmp_path)
    assert report.problems == []
    assert_ace_clean(frankenstein["epub"], tmp_path)


def test_pdf_reads_epub_type_selectors() -> None:
    """WeasyPrint knows no @namespace: the PDF's copy of the sheet selects on data-epub-type,
    with the lines where the author wrote them."""
    css = b'@namespace epub "http://www.idpf.org/2007/ops";\nsection[epub|type~="imprint"] p{ color: red }\n'
    out = epub_type_selectors(css)
    assert b"@namespace" not in out and out.count(b"\n") == css.count(b"\n")
    assert b'section[data-epub-type~="imprint"] p' in out


def test_a_kind_in_book_toml_wins(tmp_path: Path) -> None:
    folder = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                        'chapters = [{ file = "a.xhtml", kind = "dedication" }, "b.xhtml"]\n', {
                            "a.xhtml": '<body><section epub:type="imprint"><p>Imprint.</p></section></body>',
                            "b.xhtml": '<body><section epub:type="imprint"><h2>Imprint</h2><p>x</p></section></body>'})
    build(folder, ("epub",), output_dir=folder / "dist", reporter=Reporter())
    with zipfile.ZipFile(next((folder / "dist").glob("*.epub"))) as archive:
        first, second = (etree.fromstring(archive.read(f"EPUB/ch0{n}.xhtml")) for n in (1, 2))
    assert "dedication" in first.find(f".//{X}body/{X}section").get("class")
    assert "colophon" in second.find(f".//{X}body/{X}section").get("class")


def test_a_repeated_message_is_said_once_with_a_count(tmp_path: Path) -> None:
    """Nine links to the same missing target in three files: three lines as they come, one
    with the count; `check --format json` still lists all nine."""
    chapters = {f"{c}.md": f"# {c}\n\n" + "\n\n".join(f"See [{n}](/nowhere)." for n in range(3)) + "\n"
                for c in "abc"}
    folder = write_book(tmp_path / "book", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                        'chapters = ["a.md", "b.md", "c.md"]\n', chapters)
    result = run(["epub", str(folder), "--output", str(tmp_path / "t.epub")], tmp_path)
    lines = [line for line in result.output.splitlines() if "'/nowhere'" in line]
    assert len(lines) == 4
    assert lines[-1].startswith("bookbuild: warning: link target '/nowhere'")
    assert "(and 6 more in 2 files, the first at " in lines[-1] and "b.md:3" in lines[-1]
    checked = run(["check", str(folder), "--format", "json"], tmp_path)
    assert checked.output.count("'/nowhere'") == 9

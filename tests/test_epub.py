"""The EPUB of the sample and features books: validity (EPUBCheck) and structure."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from validators import run_epubcheck

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}


def package(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        return etree.fromstring(archive.read(opf_path))


def document(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read(f"EPUB/{name}"))


@pytest.mark.parametrize("book", ["sample", "features"])
def test_epubcheck_reports_no_errors_and_no_warnings(built: dict, book: str, tmp_path: Path) -> None:
    report = run_epubcheck(built[book]["epub"], tmp_path)
    assert report.problems == []


def test_sample_metadata_spine_and_nav(built: dict) -> None:
    epub = built["sample"]["epub"]
    opf = package(epub)
    assert opf.findtext(".//dc:title", namespaces=NS) == "Qi Jun: Probably the best investor who understands architecture"
    assert opf.findtext(".//dc:language", namespaces=NS) == "en"
    assert opf.findtext(".//dc:date", namespaces=NS) == "2020-06-16"
    assert opf.findtext(".//dc:identifier", namespaces=NS).startswith("urn:uuid:")
    manifest = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", NS)}
    spine = [manifest[ref.get("idref")] for ref in opf.iterfind(".//opf:itemref", NS)]
    assert spine == ["cover.xhtml", "titlepage.xhtml", "copyright.xhtml", "nav.xhtml", "ch01.xhtml", "ch02.xhtml", "ch03.xhtml", "ch04.xhtml"]
    nav = document(epub, "nav.xhtml")
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    titles = [a.text for a in toc.iterfind("x:ol/x:li/x:a", NS)]
    assert titles == [
        "Introduction",
        "The night before is hard to bear, the dawn is rare",
        "Optimal solution for career and life",
        "Starting from scratch, entrepreneurs have a continuous entrepreneurial spirit",
    ]
    with zipfile.ZipFile(epub) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert "toc.ncx" in " ".join(archive.namelist())


def test_every_document_declares_its_language(built: dict) -> None:
    epub = built["features"]["epub"]
    with zipfile.ZipFile(epub) as archive:
        for name in archive.namelist():
            if name.endswith(".xhtml"):
                root = etree.fromstring(archive.read(name))
                assert root.get("lang") == "en", name
                assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en", name


def test_features_nested_contents_links_images_and_notes(built: dict) -> None:
    epub = built["features"]["epub"]
    opf = package(epub)
    assert [c.text for c in opf.iterfind(".//dc:creator", NS)] == ["Ada Example", "Ben Sample"]
    nav = document(epub, "nav.xhtml")
    chapters = nav.findall(".//x:nav[@epub:type='toc']/x:ol/x:li", NS)
    assert [li.find("x:a", NS).text for li in chapters] == ["Tables and Lists", "Notes and Pictures", "Links"]
    assert [a.get("href") for a in chapters[0].iterfind("x:ol/x:li/x:a", NS)] == [
        "ch01.xhtml#overview", "ch01.xhtml#introduction"]

    ch02 = document(epub, "ch02.xhtml")
    links = {a.text: a.get("href") for a in ch02.iterfind(".//x:a", NS)}
    assert links["table in the first chapter"] == "ch01.xhtml#overview"
    assert links["the next chapter"] == "ch03.xhtml#links"
    # The second "Introduction" heading got a book-wide unique id, and links follow it.
    assert ch02.find(".//x:h2", NS).get("id") == "introduction-2"
    ch03 = document(epub, "ch03.xhtml")
    links3 = {a.text: a.get("href") for a in ch03.iterfind(".//x:a", NS)}
    assert links3["the notes"] == "ch02.xhtml#introduction-2"
    assert links3["this chapter’s end"] == "#the-end"

    image = ch02.find(".//x:img", NS)
    assert image.get("src") == "images/001-diagram.png"
    assert image.get("alt") == "A diagram: two boxes joined by an arrow"
    items = {item.get("href"): item.get("media-type") for item in opf.iterfind(".//opf:item", NS)}
    assert items["images/001-diagram.png"] == "image/png"
    assert items["styles/book-1.css"] == "text/css"

    notes = ch02.findall(".//x:aside[@epub:type='footnote']", NS)
    assert [n.get("id") for n in notes] == ["ch02-fn-1", "ch02-fn-2"]
    refs = ch02.findall(".//x:a[@epub:type='noteref']", NS)
    assert [r.get("href") for r in refs] == ["#ch02-fn-1", "#ch02-fn-2", "#ch02-fn-1"]
    assert notes[0].find("x:a[@role='doc-backlink']", NS).get("href") == "#ch02-fnref-1"
    assert built["features"]["warnings"] == []

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


def test_the_books_stylesheets_bring_the_sheets_images_and_fonts_they_use(tmp_path: Path) -> None:
    """A sheet is packed as styles/book-N.css, not where it was: every file it uses from the
    book goes in with it, under the href its rewritten reference names (EPUBCheck RSC-007)."""
    import shutil
    import subprocess

    from PIL import Image

    from clirun import run
    from conftest import write_book

    main_css = ('@import "parts/type.css" screen;\n'
                '@font-face { font-family: Display; src: url("../fonts/Display.ttf") format("truetype"); }\n'
                "body { background: url('../img/bg.png') repeat-x; }\n"
                "h1::before { content: url(../img/mark.svg#star); }\n"
                "p { cursor: url(../notes.txt), auto; }\n"
                "@page { @top-center { content: url('../img/bg.png'); } }\n")
    mark = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle id="star" cx="4" cy="4" r="3"/></svg>'
    book = write_book(tmp_path / "b", '[book]\ntitle = "Styled"\nauthors = ["A"]\nlanguage = "en"\n'
                      'chapters = ["one.md"]\nstyles = ["css/main.css"]\n',
                      {"one.md": "# One\n\nText.\n", "css/main.css": main_css, "notes.txt": "not CSS\n",
                       "css/parts/type.css": '@import url("../main.css");\nh1 { font-family: Display; }\n',
                       "img/mark.svg": mark})
    Image.new("RGB", (4, 4), "#eee").save(book / "img" / "bg.png")
    dejavu = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    (book / "fonts").mkdir()
    shutil.copy(dejavu, book / "fonts" / "Display.ttf")

    result = run(["epub", "b", "-o", "out.epub"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "b/css/main.css:5: warning: stylesheet resource '../notes.txt' is not an image or a font" in result.output
    epub = tmp_path / "out.epub"
    assert run_epubcheck(epub, tmp_path).problems == []
    items = {item.get("href"): item.get("media-type") for item in package(epub).iterfind(".//opf:item", NS)}
    packed = {href: kind for href, kind in items.items() if href.startswith("styles/") and "book-" not in href
              and href not in ("styles/base.css", "styles/epub.css")}
    assert sorted(packed.values()) == ["font/ttf", "image/png", "image/svg+xml", "text/css"]
    with zipfile.ZipFile(epub) as archive:
        sheet = archive.read("EPUB/styles/book-1.css").decode()
        imported = archive.read(next(f"EPUB/{h}" for h, k in packed.items() if k == "text/css")).decode()
    by_kind = {kind: href.removeprefix("styles/") for href, kind in packed.items()}
    assert f"@import url({by_kind['text/css']}) screen;" in sheet
    assert f"url({by_kind['font/ttf']})" in sheet and sheet.count(f"url({by_kind['image/png']})") == 2
    assert f"url({by_kind['image/svg+xml']}#star)" in sheet
    assert "cursor" not in sheet and "notes" not in sheet
    assert "@import url(book-1.css);" in imported  # the sheet that imports it, once: no copy, no loop

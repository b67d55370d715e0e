"""The EPUB of the sample and features books: validity (EPUBCheck) and structure."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from validators import run_epubcheck, run_epubchecks, run_lone_epubchecks, uses_the_epubcheck_service

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


@pytest.fixture(scope="module")
def epubchecks(built: dict, parted_epub: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """EPUBCheck on this module's books in one go."""
    books = {"sample": built["sample"]["epub"], "features": built["features"]["epub"], "parted": parted_epub}
    return dict(zip(books, run_epubchecks(list(books.values()), tmp_path_factory.mktemp("epubcheck"))))


def test_the_running_epubcheck_gives_a_lone_runs_verdict(built: dict, tmp_path: Path) -> None:
    """EPUBCheck kept running for the test process (tests/epubcheck_service.py) and a lone
    ``java -jar epubcheck.jar`` find the same errors and warnings in a broken EPUB, checked
    between two valid ones so that nothing carries over from one check to the next."""
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(built["sample"]["epub"]) as source, zipfile.ZipFile(broken, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "EPUB/ch02.xhtml":
                continue  # listed in the package, missing from the container
            if item.filename == "EPUB/ch01.xhtml":
                data = data.replace(b"<p", b'<p align="middle"', 1)  # no such attribute in XHTML 5
            out.writestr(item, data)
    sample = built["sample"]["epub"]
    before, service, after = run_epubchecks([sample, broken, sample], tmp_path)
    assert uses_the_epubcheck_service()  # JPype is in the test extra, and the service did not fail
    (lone,) = run_lone_epubchecks([broken], [tmp_path / "lone.json"])
    assert before.problems == after.problems == []
    assert any("ch02.xhtml" in error for error in service.errors), service
    assert any("align" in error for error in service.errors), service
    assert (service.fatals, service.errors, service.warnings) == (lone.fatals, lone.errors, lone.warnings)


def test_a_failed_epubcheck_service_hands_the_check_to_a_lone_run(built: dict, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """If the running EPUBCheck dies, the check it was given is run by a lone ``java -jar``
    (the verdict stays EPUBCheck's: errors are still found), the failure is said as a
    warning, and the process's later checks start their own VM."""
    import subprocess
    import sys

    import validators

    class Dying(validators._EpubCheckService):
        def _start(self) -> None:
            self.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, text=True)
            self.process.wait()  # dead before the check is written to it, every time (it once raced)

    monkeypatch.setattr(validators, "_EPUBCHECK", Dying())
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(built["sample"]["epub"]) as source, zipfile.ZipFile(broken, "w") as out:
        for item in source.infolist():
            if item.filename != "EPUB/ch02.xhtml":  # listed in the package, missing from the container
                out.writestr(item, source.read(item))
    with pytest.warns(UserWarning, match="EPUBCheck's service failed on broken.epub"):
        (report,) = run_epubchecks([broken], tmp_path)
    assert any("ch02.xhtml" in error for error in report.errors), report
    assert not uses_the_epubcheck_service()


@pytest.mark.parametrize("book", ["sample", "features"])
def test_epubcheck_reports_no_errors_and_no_warnings(epubchecks: dict, book: str) -> None:
    assert epubchecks[book].problems == []


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
    assert "b/css/main.css:5:17: warning: stylesheet resource '../notes.txt' is not an image or a font" in result.output
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


PARTED_MANIFEST = """[book]
title = "Parted"
subtitle = "Two parts, two chapters each"
authors = ["A. Writer"]
language = "en"
chapters = [
    "intro.md",
    { part = "Part One", chapters = ["one.md", "two.md"] },
    { part = "Part Two", chapters = ["three.md", "four.md"] },
]
"""
PARTED_CHAPTERS = {
    "intro.md": "# Introduction\n\nWhy.\n",
    "one.md": "# One\n\nText.\n\n## One A\n\nMore.\n\n### Deeper\n\nNot in the contents.\n\n## One B\n\nEnd.\n",
    "two.md": "# Two\n\nText.\n",
    "three.md": "# Three\n\nText.\n\n## Three A\n\nMore.\n",
    "four.md": "# Four\n\nText.\n",
}


@pytest.fixture(scope="module")
def parted_epub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book with a subtitle and two parts of two chapters, some with sections."""
    from bookbuild.api import build
    from conftest import write_book

    folder = write_book(tmp_path_factory.mktemp("parted") / "book", PARTED_MANIFEST, PARTED_CHAPTERS)
    (result,) = build(folder, ["epub"], output=folder.parent / "parted.epub")
    return result.path


def _ncx_tree(parent: etree._Element) -> list[tuple]:
    return [(point.findtext("{*}navLabel/{*}text"), point.find("{*}content").get("src"),
             _ncx_tree(point)) for point in parent.iterfind("{*}navPoint")]


def _nav_tree(ol: etree._Element | None) -> list[tuple]:
    if ol is None:
        return []
    return [(li.find("x:a", NS).text, li.find("x:a", NS).get("href"), _nav_tree(li.find("x:ol", NS)))
            for li in ol.iterfind("x:li", NS)]


def test_the_ncx_carries_the_contents_tree_of_the_nav(parted_epub: Path) -> None:
    """Issue 23: the NCX listed only the parts (its chapters dropped) and said depth 0."""
    ncx = document(parted_epub, "toc.ncx")
    tree = _ncx_tree(ncx.find("{*}navMap"))
    assert tree == [
        ("Introduction", "ch01.xhtml#introduction", []),
        ("Part One", "part01.xhtml#part01", [
            ("One", "ch02.xhtml#one", [("One A", "ch02.xhtml#one-a", []), ("One B", "ch02.xhtml#one-b", [])]),
            ("Two", "ch03.xhtml#two", []),
        ]),
        ("Part Two", "part02.xhtml#part02", [
            ("Three", "ch04.xhtml#three", [("Three A", "ch04.xhtml#three-a", [])]),
            ("Four", "ch05.xhtml#four", []),
        ]),
    ]
    nav = document(parted_epub, "nav.xhtml")
    assert tree == _nav_tree(nav.find(".//x:nav[@epub:type='toc']/x:ol", NS))
    depth = ncx.find("{*}head/{*}meta[@name='dtb:depth']").get("content")
    assert depth == "3"
    ids = [point.get("id") for point in ncx.iter("{*}navPoint")]
    assert len(ids) == len(set(ids)) == 10


def test_the_subtitle_is_a_second_title_refined_as_subtitle(parted_epub: Path) -> None:
    """Issue 23: the OPF had no subtitle. EPUB 3: a dc:title per title, each refined by title-type."""
    opf = package(parted_epub)
    titles = opf.findall(".//dc:title", NS)
    assert [title.text for title in titles] == ["Parted", "Two parts, two chapters each"]
    types = {meta.get("refines"): meta.text for meta in opf.iterfind(".//opf:meta[@property='title-type']", NS)}
    assert types == {f"#{titles[0].get('id')}": "main", f"#{titles[1].get('id')}": "subtitle"}


def test_a_book_with_parts_and_a_subtitle_passes_epubcheck(epubchecks: dict) -> None:
    assert epubchecks["parted"].problems == []


def test_a_book_without_a_subtitle_has_one_title(little_book: Path, tmp_path: Path) -> None:
    from bookbuild.api import build

    (result,) = build(little_book, ["epub"], output=tmp_path / "little.epub")
    opf = package(result.path)
    assert [title.text for title in opf.findall(".//dc:title", NS)] == ["Little Book"]
    ncx = document(result.path, "toc.ncx")
    assert ncx.find("{*}head/{*}meta[@name='dtb:depth']").get("content") == "1"

"""SVG figures as real editors export them (tests/real/svg: Sketch, Illustrator, Inkscape,
draw.io, matplotlib; sources and licences in tests/real/svg/LICENSES.md), packed into a book.

Editors write ids that are not XML names (``m/alert``, ``Canvas_1: Layer 1``) and the same id
many times (Sketch's ``Path``): EPUBCheck refuses such an EPUB. The cleaner renames those ids
and everything that points at them, and says what it removed from a drawing, naming the
image file and line, once per build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from bookbuild.api import build
from bookbuild.errors import Diagnostic, Reporter
from bookbuild.sources.images import sanitize_svg
from conftest import write_book
from validators import assert_ace_clean, require, run_epubcheck

REAL = Path(__file__).resolve().parent / "real" / "svg"
# The 8 drawings, several to a chapter: ids that clash between files must still be fine.
CHAPTER_FIGURES = {
    "one.md": ["sketch-paper-stack", "sketch-octicons-alert", "illustrator-balance", "inkscape-legend"],
    "two.md": ["drawio-flowchart", "drawio-connect-shapes", "matplotlib-noscale", "illustrator-squirrel"],
}
MANIFEST = """[book]
title = "Real Figures"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md", "two.md"]
"""
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
# XML 1.0 (fifth edition) NCName: a Name without colons.
_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
          "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
NCNAME = re.compile(f"[{_START}][{_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*")
_URL_REF = re.compile(r"""url\(\s*['"]?#([^'")\s]+)""")


def _chapter(title: str, names: list[str]) -> str:
    figures = "\n\n".join(f"![Drawing {name}](figures/{name}.svg)" for name in names)
    return f"# {title}\n\nThe drawings as their editors saved them.\n\n{figures}\n"


@pytest.fixture(scope="module")
def real_book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The real drawings in a two-chapter book, built once to EPUB and PDF."""
    folder = tmp_path_factory.mktemp("svg-real") / "book"
    write_book(folder, MANIFEST, {"one.md": _chapter("Drawings", CHAPTER_FIGURES["one.md"]),
                                  "two.md": _chapter("More drawings", CHAPTER_FIGURES["two.md"])})
    shutil.copytree(REAL, folder / "figures", ignore=shutil.ignore_patterns("*.md", "*.txt"))
    reporter = Reporter()
    results = build(folder, ["epub", "pdf"], output_dir=folder.parent / "out", reporter=reporter)
    return {r.format: r.path for r in results} | {"warnings": reporter.warnings, "folder": folder}


def _packed_svgs(epub: Path) -> dict[str, bytes]:
    """Each packed drawing by its original name (from the chapters' alt text)."""
    with zipfile.ZipFile(epub) as package:
        sources = {}
        for name in package.namelist():
            if name.endswith(".xhtml"):
                for image in re.findall(r"<img [^>]*>", package.read(name).decode()):
                    alt, src = re.search(r'alt="Drawing ([^"]+)"', image), re.search(r'src="([^"]+)"', image)
                    if alt and src:
                        sources[alt.group(1)] = package.read("EPUB/" + src.group(1))
        return sources


def _ids(root: etree._Element) -> list[str]:
    return [value for node in root.iter() if isinstance(node.tag, str)
            for value in (node.get("id"), node.get(XML_ID)) if value is not None]


def _references(root: etree._Element) -> list[tuple[str, str]]:
    """(where, fragment) of every reference to an id of the same drawing."""
    found = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if etree.QName(node).localname == "style":
            found += [("<style>", ref) for ref in _URL_REF.findall(node.text or "")]
        for name, value in node.attrib.items():
            if name in ("href", XLINK_HREF) and value.startswith("#"):
                found.append((name, value[1:]))
            elif name in ("aria-labelledby", "aria-describedby"):
                found += [(name, ref) for ref in value.split()]
            else:
                found += [(name, ref) for ref in _URL_REF.findall(value)]
    return found


def _signature(node: etree._Element | None) -> tuple | None:
    """What an element is, whatever its id: its name, other attributes and text."""
    if node is None:
        return None
    attributes = tuple(sorted((k, v) for k, v in node.attrib.items() if k not in ("id", XML_ID)))
    return etree.QName(node).localname, attributes, (node.text or "").strip()


def _resolved(root: etree._Element) -> Counter:
    """Each reference as (where, what it points at); an id means its first element, as in a browser."""
    first: dict[str, etree._Element] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.get("id") is not None:
            first.setdefault(node.get("id"), node)
    return Counter((where, _signature(first.get(ref))) for where, ref in _references(root))


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))


def test_real_drawings_make_a_valid_and_accessible_epub(real_book: dict, tmp_path: Path) -> None:
    report = run_epubcheck(real_book["epub"], tmp_path)
    assert report.problems == []
    assert_ace_clean(real_book["epub"], tmp_path)


def test_packed_ids_are_unique_xml_names_and_references_point_at_the_same_parts(real_book: dict) -> None:
    packed = _packed_svgs(real_book["epub"])
    assert sorted(packed) == sorted(name for names in CHAPTER_FIGURES.values() for name in names)
    references = 0
    for name, data in packed.items():
        root = _parse(data)
        ids = _ids(root)
        assert [i for i in ids if not NCNAME.fullmatch(i)] == [], name
        assert [i for i, n in Counter(ids).items() if n > 1] == [], name
        # every reference still reaches the element it reached in the editor's file
        before, after = _resolved(_parse((REAL / f"{name}.svg").read_bytes())), _resolved(root)
        assert after == before and None not in {target for _, target in after}, name
        references += sum(after.values())
        # the same bytes every time
        assert sanitize_svg((REAL / f"{name}.svg").read_bytes()) == data, name
    # gradients from an Illustrator <style>, Inkscape markers, matplotlib clip paths and <use>
    assert references >= 50
    squirrel = packed["illustrator-squirrel"].decode()
    assert ".cls-3{fill:url(#linear-gradient);}" in squirrel and 'id="linear-gradient"' in squirrel
    # what the editors wrote, renamed: Sketch's layer path, Inkscape's "Canvas: Layer", Sketch's 44 "Path"s
    assert "m-alert" in _ids(_parse(packed["sketch-octicons-alert"]))
    assert "Canvas_1-Layer-1" in _ids(_parse(packed["inkscape-legend"]))
    stack = _ids(_parse(packed["sketch-paper-stack"]))
    assert stack.count("Path") == 1 and "Path-44" in stack


def _word_boxes(pdf: Path) -> list[list[tuple[str, float, float]]]:
    """Per page: (word, y_min, y_max) from ``pdftotext -bbox``."""
    out = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return [[(m.group(3), float(m.group(1)), float(m.group(2))) for m in re.finditer(
        r'<word xMin="[\d.-]+" yMin="([\d.-]+)" xMax="[\d.-]+" yMax="([\d.-]+)">(.*?)</word>', page)]
        for page in re.findall(r"<page [^>]*>(.*?)</page>", out, re.DOTALL)]


def test_pdf_draws_every_figure_and_no_editor_fallback_message(real_book: dict, tmp_path: Path) -> None:
    """Each figure's band (from the text above it to its caption) has ink; draw.io's switch
    shows its SVG text, not its "Text is not SVG - cannot display" notice."""
    pdf = real_book["pdf"]
    subprocess.run([require("pdftoppm"), "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    inked = {}
    for number, words in enumerate(_word_boxes(pdf)):
        image = Image.open(pages[number]).convert("L")
        scale = image.height / 842  # A4 points
        top = None
        for index, (word, y_min, y_max) in enumerate(words):
            if word == "Figure" and index + 1 < len(words) and re.fullmatch(r"\d+\.", words[index + 1][0]):
                band = image.crop((0, int((top or y_min - 200) * scale) + 1, image.width, int(y_min * scale)))
                dark = sum(band.histogram()[:245])  # grey levels darker than paper
                inked[words[index + 1][0]] = dark / max(1, band.width * band.height)
                top = y_max
            elif word in ("drawings.", "saved"):
                top = y_max
    assert sorted(inked) == [f"{n}." for n in range(1, 9)]
    assert min(inked.values()) > 0.002, inked
    text = subprocess.run([require("pdftotext"), str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Lamp doesn't work" in text and "Legend" in text
    assert "Text is not SVG" not in text


# --- what the cleaning removes, each a warning naming the file and line ---------------------

HOSTILE_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                'width="40" height="20">\n<title>A drawing</title>\n')
# name -> (the line 3 of the drawing, what the warning must name)
REMOVALS = {
    "script": ('<script>alert(1)</script>', "<script>"),
    "foreign": ('<foreignObject width="9" height="9"><p xmlns="http://www.w3.org/1999/xhtml">x</p>'
                '</foreignObject>', "<foreignObject>"),
    "handler": ('<rect width="9" height="9" onclick="steal()"/>', "onclick"),
    "file-url": ('<image href="file:///etc/passwd" width="9" height="9"/>', "file:///etc/passwd"),
    "dotdot": ('<image xlink:href="../../secret.png" width="9" height="9"/>', "../../secret.png"),
    "http-image": ('<image xlink:href="http://example.com/a.png" width="9" height="9"/>',
                   "http://example.com/a.png"),
    "sprite": ('<use href="https://example.com/sprites.svg#icon"/>', "https://example.com/sprites.svg#icon"),
    "import": ('<style>@import url(http://example.com/x.css); rect { fill: teal }</style>',
               "@import 'http://example.com/x.css'"),
    "fill-url": ('<rect width="9" height="9" fill="url(http://example.com/p.svg#g)"/>',
                 'fill="url(http://example.com/p.svg#g)"'),
    "style-url": ('<rect width="9" height="9" style="fill: url(http://example.com/p.svg#g); stroke: red"/>',
                  "fill: url(http://example.com/p.svg#g)"),
}


def _hostile(line: str) -> str:
    return f'{HOSTILE_HEAD}{line}\n<rect x="20" width="20" height="20" fill="teal"/>\n</svg>\n'


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A book showing one drawing per kind of removal, the script one from both chapters, with
    a stylesheet that uses a drawing and an SVG cover; built to EPUB twice (the second from
    the caches), then again after an edit of chapter two's prose."""
    folder = tmp_path_factory.mktemp("svg-hostile") / "book"
    figures = "\n\n".join(f"![Drawing {name}](figures/{name}.svg)" for name in REMOVALS)
    write_book(folder, MANIFEST.replace('chapters =', 'cover = "cover.svg"\nstyles = ["book.css"]\nchapters ='), {
        "one.md": f"# One\n\n{figures}\n",
        "two.md": "# Two\n\nAgain: ![Drawing again](figures/script.svg)\n",
        "book.css": "h1 { background: url(figures/mark.svg) no-repeat; }\n",
        "cover.svg": _hostile('<rect width="9" height="9" onload="x()"/>'),
        "figures/mark.svg": _hostile('<script>alert(3)</script>'),
        **{f"figures/{name}.svg": _hostile(line) for name, (line, _) in REMOVALS.items()},
    })
    builds = []
    for edit in (None, None, "# Two\n\nEdited. Again: ![Drawing again](figures/script.svg)\n"):
        if edit:
            (folder / "two.md").write_text(edit, encoding="utf-8")
        reporter = Reporter()
        results = build(folder, ["epub"], output_dir=folder.parent / "out", reporter=reporter)
        builds.append([d for d in reporter.warnings if (d.location.file or "").endswith(".svg")])
    return {"epub": results[0].path, "builds": builds}


def _about(warnings: list[Diagnostic], file: str) -> list[Diagnostic]:
    return [d for d in warnings if (d.location.file or "").endswith(file)]


@pytest.mark.parametrize("name", sorted(REMOVALS))
def test_each_removal_is_a_warning_with_file_and_line(hostile_book: dict, name: str) -> None:
    warnings = _about(hostile_book["builds"][0], f"figures/{name}.svg")
    assert len(warnings) == 1, warnings
    assert warnings[0].location.line == 3
    assert REMOVALS[name][1] in warnings[0].message and "removed" in warnings[0].message


def test_removals_are_gone_and_the_rest_of_the_drawing_is_kept(hostile_book: dict, tmp_path: Path) -> None:
    assert run_epubcheck(hostile_book["epub"], tmp_path).problems == []
    with zipfile.ZipFile(hostile_book["epub"]) as package:
        drawings = [package.read(n).decode() for n in package.namelist() if n.endswith(".svg")]
    text = "\n".join(drawings)
    for bad in ("<script", "foreignObject", "onclick", "file:", "../../", "example.com", "@import"):
        assert bad not in text
    assert "rect { fill: teal }" in text and "stroke: red" in text  # only what loads a file went
    assert all('x="20" width="20" height="20" fill="teal"' in drawing for drawing in drawings)


def test_stylesheet_and_cover_drawings_warn_too(hostile_book: dict) -> None:
    warnings = hostile_book["builds"][0]
    assert [(d.location.line, "<script>" in d.message) for d in _about(warnings, "figures/mark.svg")] == [(3, True)]
    assert [(d.location.line, "onload" in d.message) for d in _about(warnings, "book/cover.svg")] == [(3, True)]


def test_warnings_once_per_build_also_from_the_caches(hostile_book: dict) -> None:
    """A drawing used by two chapters warns once; a rebuild from the caches and one after an
    edit of the other chapter give the very same warnings, neither lost nor doubled."""
    first, cached, edited = hostile_book["builds"]
    assert len(_about(first, "figures/script.svg")) == 1
    assert len(first) == len(REMOVALS) + 2
    assert cached == first and edited == first


def test_ids_and_every_kind_of_reference_are_renamed_together() -> None:
    svg = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<style>#Oval\\(1\\) { fill: url(#g:1) } .b { fill: #fff }</style>
<defs><linearGradient id="g:1"/><path id="Shape" d="M0 0"/><path id="Shape" d="M1 1"/></defs>
<title id="t:1">Title</title><desc id="2d">About</desc>
<circle id="Oval(1)" r="1" aria-labelledby="t:1" aria-describedby="2d" style="stroke: url('#g:1')"/>
<use xlink:href="#Shape"/><use href="#Oval(1)"/><rect id="g-1" mask="url(#g:1)"/>
<animate id="a.b" attributeName="r" begin="Oval(1).click; 2s" end="a.b.end"/>
</svg>"""
    clean = sanitize_svg(svg).decode()
    root = _parse(clean.encode())
    ids = _ids(root)
    assert all(NCNAME.fullmatch(i) for i in ids) and len(ids) == len(set(ids))
    assert ids[:4] == ["g-1-2", "Shape", "Shape-2", "t-1"] and "id-2d" in ids and "Oval-1" in ids
    assert "#Oval-1 {" in clean and "url(#g-1-2)" in clean and ".b { fill: #fff }" in clean
    assert 'style="stroke: url(&quot;#g-1-2&quot;)"' in clean and 'mask="url(#g-1-2)"' in clean
    assert 'aria-labelledby="t-1"' in clean and 'aria-describedby="id-2d"' in clean
    assert 'xlink:href="#Shape"' in clean and 'href="#Oval-1"' in clean
    assert 'begin="Oval-1.click; 2s"' in clean and 'end="a.b.end"' in clean
    assert sanitize_svg(svg) == sanitize_svg(svg)


def test_hostile_sizes_stay_fast_and_deep_css_is_a_warning_not_a_crash() -> None:
    """A drawing is at most 20 MB: 100,000 copies of one id are renamed in linear time, and CSS
    nested past what its parser's recursion survives is removed with a warning."""
    import time

    head = b'<svg xmlns="http://www.w3.org/2000/svg">\n'
    many = head + b'<g id="Path"/><g id="a b"/>' * 100_000 + b"\n</svg>"
    started = time.monotonic()
    ids = _ids(_parse(sanitize_svg(many)))
    assert time.monotonic() - started < 20
    assert len(ids) == len(set(ids)) == 200_000 and ids[-2:] == ["Path-100000", "a-b-100000"]
    deep = (head + b'<rect width="9" height="9" style="fill:' + b"(" * 5000 + b'url(http://x/y)" stroke="red"/>\n'
            + b"<style>" + b"@media print {" * 2000 + b"</style>\n</svg>")
    warnings: list[tuple[str, int | None]] = []
    clean = sanitize_svg(deep, lambda message, line, hint=None: warnings.append((message, line)))
    assert warnings == [("style nested deeper than 32 levels removed from <rect>", 2),
                        ("<style> nested deeper than 32 levels removed", 3)]
    assert b'stroke="red"' in clean and b"@media" not in clean

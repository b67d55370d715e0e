"""Hostile books: each is built with ``bookbuild build`` and must fail or warn in one line
naming file:line, never write outside the output folder, never put the canary (a file
beside the book) into the EPUB or PDF, and never make a request to the local server."""

from __future__ import annotations

import zipfile

import io
import os
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image

from bookbuild.errors import BookError
from validators import pdftotext

from .conftest import (
    CANARY_SIZE,
    CANARY_TOKEN,
    Workspace,
    output_blobs,
    pdf_image_sizes,
    png_bytes,
    server_requests,
)

PREVIOUS = b"previous output"


def manifest(chapters: str = '"one.md"', extra: str = "") -> str:
    """Line 5 is always ``chapters``, so expected messages can name it."""
    return f'[book]\ntitle = "Hostile"\nauthors = ["A. Writer"]\nlanguage = "en"\nchapters = [{chapters}]\n{extra}'


def simple(markdown: str, extra: str = "", **files: str | bytes) -> Callable[[Workspace], None]:
    """A one-chapter book (``one.md``) plus extra files."""
    def setup(ws: Workspace) -> None:
        ws.write("book.toml", manifest(extra=extra))
        ws.write("one.md", markdown)
        for name, content in files.items():
            ws.write(name.replace("__", "/"), content)
    return setup


def styled(css: Callable[[Workspace], str]) -> Callable[[Workspace], None]:
    """A one-chapter book whose own stylesheet ``s.css`` is ``css(workspace)``."""
    def setup(ws: Workspace) -> None:
        ws.write("book.toml", manifest(extra='styles = ["s.css"]\n'))
        ws.write("one.md", "# One\n\nText.\n")
        ws.write("s.css", css(ws))
    return setup


def raw(files: dict[str, str | bytes]) -> Callable[[Workspace], None]:
    """A book of exactly these files."""
    def setup(ws: Workspace) -> None:
        for name, content in files.items():
            ws.write(name, content)
    return setup


@dataclass
class Case:
    id: str
    setup: Callable[[Workspace], None]
    exit_code: int
    message: str  # a regex the output must match: file:line and the gist
    args: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # strings that must not be in any EPUB entry
    seconds: float = 60.0


def _chapter_outside(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"../secret/canary.md"'))


def _chapter_absolute(ws: Workspace) -> None:
    ws.write("book.toml", manifest(f'"{ws.secret / "canary.md"}"'))


def _chapter_symlink_out(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"one.md"'))
    os.symlink(ws.secret / "canary.md", ws.book / "one.md")


def _chapter_folder(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"chapters"'))
    (ws.book / "chapters").mkdir()


def _chapter_fifo(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"pipe.md"'))
    os.mkfifo(ws.book / "pipe.md")


def _chapter_device(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"zero.md"'))
    os.symlink("/dev/zero", ws.book / "zero.md")


def _chapter_file_url(ws: Workspace) -> None:
    ws.write("book.toml", manifest(f'"file://{ws.secret / "canary.md"}"'))


def _chapter_nul(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"one.md\\u0000.txt"'))
    ws.write("one.md", "# One\n")


def _chapter_loop(ws: Workspace) -> None:
    ws.write("book.toml", manifest('"a.md"'))
    os.symlink("b.md", ws.book / "a.md")
    os.symlink("a.md", ws.book / "b.md")


def _image_symlink_out(ws: Workspace) -> None:
    simple("# One\n\n![pic](images/link.png)\n")(ws)
    (ws.book / "images").mkdir()
    os.symlink(ws.secret / "canary.png", ws.book / "images" / "link.png")


def _output_is_chapter(ws: Workspace) -> None:
    simple("# One\n\nText.\n")(ws)


def _output_symlink(ws: Workspace) -> None:
    simple("# One\n\nText.\n")(ws)
    (ws.out / "hostile.epub").unlink()
    os.symlink(ws.secret / "canary.txt", ws.out / "hostile.epub")


def _output_folder(ws: Workspace) -> None:
    simple("# One\n\nText.\n")(ws)
    (ws.out / "hostile.epub").unlink()
    (ws.out / "hostile.epub").mkdir()


def _png_bomb() -> bytes:
    """A 30000 x 30000 one-bit PNG of zeros: about 30 KB on disk, 900 million pixels decoded."""
    width = height = 30000
    row = b"\x00" + b"\x00" * (width // 8)
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _noisy_png() -> bytes:
    """A PNG whose pixel data is large (noise does not compress), so cutting it loses pixels."""
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(out, "PNG")
    return out.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>\n'
)


def _svg_xxe(ws: Workspace) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file://{ws.secret / "canary.txt"}">]>\n'
            '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>\n')


def _svg_scripted(ws: Workspace) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'width="20" height="10" onload="alert(1)"><script>alert(2)</script>'
            f'<image xlink:href="file://{ws.secret / "canary.png"}" width="5" height="5"/>'
            f'<image href="{ws.url}/svg.png" width="5" height="5"/>'
            '<rect width="20" height="10" fill="teal"/></svg>\n')


CASES = [
    # Contained reads: chapters.
    Case("chapter-dotdot", _chapter_outside, 1, r"book/book\.toml:5: error: .*outside the book folder"),
    Case("chapter-absolute", _chapter_absolute, 1, r"book/book\.toml:5: error: .*absolute path"),
    Case("chapter-symlink-out", _chapter_symlink_out, 1, r"book/book\.toml:5: error: .*outside the book folder"),
    Case("chapter-folder", _chapter_folder, 1, r"book/book\.toml:5: error: .*is a folder"),
    Case("chapter-fifo", _chapter_fifo, 1, r"book/book\.toml:5: error: .*device or special file", seconds=20),
    Case("chapter-device-symlink", _chapter_device, 1, r"book/book\.toml:5: error: .*device or special file"),
    Case("chapter-file-url", _chapter_file_url, 1, r"book/book\.toml:5: error: .*file: URL"),
    Case("chapter-nul-byte", _chapter_nul, 1, r"book/book\.toml:5: error: .*control characters"),
    Case("chapter-symlink-loop", _chapter_loop, 1, r"book/book\.toml:5: error: .*cannot be resolved"),
    # Contained reads: images.
    Case("image-dotdot", simple("# One\n\n![pic](../secret/canary.png)\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: image '../secret/canary.png' is outside the book folder"),
    Case("image-percent-encoded", simple("# One\n\nText\n\n![pic](%2e%2e/secret/canary.png)\n"), 0,
         r"book/one\.md:5(:\d+)?: warning: image .* is outside the book folder"),
    Case("image-absolute", lambda ws: simple(f"# One\n\n![pic]({ws.secret / 'canary.png'})\n")(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: image .*is an absolute path"),
    Case("image-symlink-out", _image_symlink_out, 0, r"book/one\.md:3(:\d+)?: warning: image .*outside the book folder"),
    Case("image-html-file-url", lambda ws: simple(f'# One\n\n<p><img alt="x" src="file://{ws.secret}/canary.png"></p>\n')(ws),
         0, r"book/one\.md:3(:\d+)?: warning: unsafe URL 'file:.*' removed from <img src>"),
    Case("image-folder", simple("# One\n\n![pic](images)\n", images__keep="x"), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'images' is a folder"),
    # No network unless asked, and never to local addresses.
    Case("remote-image-default", lambda ws: simple(f"# One\n\n![pic]({ws.url}/a.png)\n")(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: remote image 'http://127\.0\.0\.1:\d+/a\.png' not fetched"),
    Case("remote-image-loopback-allowed", lambda ws: simple(f"# One\n\n![pic]({ws.url}/b.png)\n")(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: remote image .*local or private address", args=("--allow-remote",)),
    Case("remote-image-localhost-manifest", lambda ws: simple(
        f"# One\n\n![pic](http://localhost:{ws.port}/c.png)\n", extra="[build]\nallow_remote = true\n")(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: remote image .*local or private address"),
    Case("remote-image-decimal-ip", lambda ws: simple(f"# One\n\n![pic](http://2130706433:{ws.port}/d.png)\n")(ws),
         0, r"book/one\.md:3(:\d+)?: warning: remote image .*local or private address", args=("--allow-remote",)),
    Case("remote-image-ftp", simple("# One\n\n<img alt='x' src='ftp://example.com/x.png'>\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: 'ftp:' is a link bookbuild cannot follow: 'ftp://.*' removed", args=("--allow-remote",)),
    Case("css-remote-url", styled(lambda ws: f"p {{ color: red; }}\nbody {{ background: url({ws.url}/bg.png); }}\n"), 0,
         r"book/s\.css:2(:\d+)?: warning: remote resource .* not fetched"),
    Case("css-import-outside", styled(lambda ws: f"\n@import url(file://{ws.secret / 'canary.css'});\n"), 0,
         r"book/s\.css:2(:\d+)?: warning: stylesheet resource .*file: URL"),
    Case("css-font-outside", styled(lambda ws: "@font-face {\n  font-family: X;\n  src: url(../secret/canary.txt);\n}\n"
                                              "p { font-family: X; }\n"), 0,
         r"book/s\.css:3(:\d+)?: warning: stylesheet resource '../secret/canary.txt' is outside the book folder"),
    Case("css-import-chain-outside", lambda ws: (styled(lambda ws: '@import "inner.css";\n')(ws),
                                                 ws.write("inner.css", "@import url(../secret/canary.css);\n")), 0,
         r"book/inner\.css:1(:\d+)?: warning: stylesheet resource '../secret/canary.css' is outside the book folder"),
    Case("css-import-chain-huge", lambda ws: (styled(lambda ws: '@import url("inner.css");\n')(ws),
                                              ws.write("inner.css", "p {\n  word-spacing: -5e8px;\n}\n")), 1,
         r"book/inner\.css:2: error: CSS value '-5e8px' is out of range"),
    Case("css-huge-value", styled(lambda ws: "p {\n  letter-spacing: 1e9px;\n}\n"), 1, r"book/s\.css:2: error: CSS value '1e9px' is out of range"),
    Case("page-size-injection", simple("# One\n", extra='[pdf]\npage_size = "A4; } @import url(x.css); {"\n'), 1,
         r"book/book\.toml:\d+: error: \[pdf\] page_size: .* is neither a preset nor a width and height"),
    # Raw HTML cleaned.
    Case("html-script", simple("# One\n\nText.\n\n<script>\nalert(1)\n</script>\n"), 0,
         r"book/one\.md:5(:\d+)?: warning: <script> removed", absent=("<script", "alert(1)")),
    Case("html-event-handler", simple('# One\n\n<p onclick="alert(1)" onmouseover="x()">hi</p>\n'), 0,
         r"book/one\.md:3(:\d+)?: warning: event handler 'onclick' removed from <p>", absent=("onclick", "onmouseover")),
    Case("html-javascript-url", simple("# One\n\nA <a href=' JaVa&#x09;ScRiPt:alert(1)'>link</a>.\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: unsafe URL .* removed from <a href>", absent=("alert(1)",)),
    Case("html-iframe-object-embed", lambda ws: simple(
        f'# One\n\n<div>\n<iframe src="file://{ws.secret}/canary.txt"></iframe>\n'
        f'<object data="../secret/canary.txt"></object>\n<embed src="{ws.url}/e.png">\n</div>\n')(ws), 0,
         r"book/one\.md:4(:\d+)?: warning: <iframe> removed.*\n.*book/one\.md:5(:\d+)?: warning: <object> removed",
         absent=("<iframe", "<object", "<embed")),
    Case("html-attachment", simple('# One\n\nSee <a rel="attachment" href="../secret/canary.txt">this</a>.\n'), 0,
         r"book/one\.md:3(:\d+)?: warning: attachment link removed from <a>"),
    Case("html-chapter-link-attachment", raw({"book.toml": manifest('"one.html"'), "one.html": ('<html>\n<head><link rel="attachment" href="../secret/canary.txt"/></head>\n<body>\n<h1>One</h1>\n'
        '<p>x</p>\n<link rel="attachment" href="../secret/canary.txt"/>\n</body></html>\n')}), 0,
         r"book/one\.html:6(:\d+)?: warning: <link> removed"),
    Case("html-form", simple('# One\n\n<form action="http://x/"><input type="text" name="q"><button>Go</button></form>\n'), 0,
         r"book/one\.md:3(:\d+)?: warning: <form> removed", absent=("<form", "<button")),
    Case("html-inline-svg", lambda ws: simple(
        f'# One\n\n<svg><image href="file://{ws.secret}/canary.png"/></svg>\n')(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: <svg> removed"),
    Case("html-style-element", simple("# One\n\n<style>@import url(../secret/canary.css);</style>\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: <style> removed"),
    Case("html-style-attribute-url", lambda ws: simple(
        f'# One\n\n<p style="background: url({ws.url}/s.png)">x</p>\n')(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: style attribute with url\(\)"),
    # XML/SVG and images.
    Case("svg-billion-laughs", simple("# One\n\n![pic](lol.svg)\n", **{"lol.svg": BILLION_LAUGHS}), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'lol\.svg' declares XML entities"),
    Case("svg-external-entity", lambda ws: simple("# One\n\n![pic](x.svg)\n", **{"x.svg": _svg_xxe(ws)})(ws), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'x\.svg' declares XML entities"),
    Case("svg-script-and-refs", lambda ws: simple("# One\n\n![pic](x.svg)\n", **{"x.svg": _svg_scripted(ws)})(ws), 0,
         r"^(?!.*error)", absent=("<script", "alert(", "onload", "file://")),
    Case("image-wrong-type", simple("# One\n\n![pic](photo.jpg)\n", **{"photo.jpg": png_bytes()}), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'photo\.jpg' is really PNG, not what its name says: packed as \.png"),
    Case("image-truncated", simple("# One\n\n![pic](cut.png)\n", **{"cut.png": _noisy_png()[:3000]}), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'cut\.png' is damaged or truncated"),
    Case("image-decompression-bomb", simple("# One\n\n![pic](bomb.png)\n", **{"bomb.png": _png_bomb()}), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'bomb\.png' .*decompression bomb", seconds=30),
    Case("image-not-an-image", simple("# One\n\n![pic](x.png)\n", **{"x.png": b"GIF89a not really"}), 0,
         r"book/one\.md:3(:\d+)?: warning: image 'x\.png' is (not a readable PNG|really GIF)"),
    # Text hygiene.
    Case("invalid-utf8", raw({"book.toml": manifest(), "one.md": b"# One\n\nfine\n\xff bad\n"}), 1,
         r"book/one\.md:4: error: not valid UTF-8"),
    Case("control-characters", simple("# One\n\nbell\x07 and\x1b escape\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: control character U\+0007 removed", absent=("\x07", "\x1b")),
    Case("metadata-markup-and-template", raw({"book.toml": manifest().replace(
        'title = "Hostile"', 'title = "Hostile"\nsubtitle = "<script>alert(1)</script> {{ 7*7 }} {% raw %}"'),
        "one.md": "# One\n"}), 0, r"^(?!.*error)", absent=("<script>alert", "<p class=\"book-subtitle\">49")),
    Case("bom-and-crlf", raw({"book.toml": manifest(), "one.md": "\ufeff# One\r\n\r\nText.\r\n".encode()}), 0,
         r"^(?!.*(error|warning))", absent=("\ufeff", "\r")),
    # Limits.
    Case("limit-2mb-line", simple("# One\n\n" + "word " * 420_000 + "\n"), 1,
         r"book/one\.md:3: error: line is longer than 1,000,000 characters", seconds=30),
    Case("limit-nested-divs", simple("# One\n\n" + "<div>" * 1000 + "deep" + "</div>" * 1000 + "\n"), 0,
         r"book/one\.md:3(:\d+)?: warning: elements nested deeper than 48 levels flattened", seconds=60),
    Case("limit-nested-markdown", simple("# One\n\n" + "> " * 1000 + "quote\n\n" + "*" * 5000 + "x" + "*" * 5000
                                         + "\n\n" + "[" * 3000 + "x" + "]" * 3000 + "\n"), 0, r"^(?!.*error)",
         seconds=60),
    Case("limit-nested-lists", simple("# One\n\n" + "".join("  " * i + "- item\n" for i in range(1000))), 0,
         r"^(?!.*error)", seconds=60),
    Case("limit-huge-table-spans", simple(
        '# One\n\n<table><colgroup><col span="1000000000"></colgroup><tr><td colspan="999999999" '
        'rowspan="999999999">x</td></tr></table>\n\n<ol start="99999999999999999999"><li>a</li></ol>\n'), 0,
         r'book/one\.md:3(:\d+)?: warning: span="1000000000" out of range, removed from <col>', seconds=30),
    Case("limit-huge-style-attribute", simple('# One\n\n<p style="letter-spacing: 1e9px">x</p>\n'), 0,
         r"book/one\.md:3(:\d+)?: warning: style attribute with out-of-range value '1e9px' removed", seconds=30),
    Case("limit-css-nesting", styled(lambda ws: "\n" + "@media print { " * 5000 + "p { color: red }" + " }" * 5000), 1,
         r"book/s\.css:2: error: CSS nested deeper than 32 levels", seconds=30),
    Case("limit-css-calc-nesting", styled(lambda ws: "p { width: " + "calc(" * 3000 + "1px" + ")" * 3000 + "; }\n"), 1,
         r"book/s\.css:1: error: CSS nested deeper than 32 levels", seconds=30),
    Case("limit-body-tag-flood", raw({"book.toml": manifest('"one.html"'), "one.html": "<h1>One</h1>\n" + "<body " * 150_000}),
         0, r"^(?!.*error)", seconds=30),
    # Output safety.
    Case("output-symlink-not-followed", _output_symlink, 0, r"^(?!.*error)"),
    Case("output-is-folder", _output_folder, 1, r"error: output 'out/hostile\.epub' is a folder"),
    Case("yaml-python-tag", simple("---\ntitle: !!python/object/apply:os.system ['touch pwned']\n---\n# One\n"), 1,
         r"book/one\.md:\d+: error: front matter is not valid YAML"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_book(case: Case, workspace: Workspace, tmp_path) -> None:
    ws = workspace
    for fmt in ("epub", "pdf"):
        if not (ws.out / f"hostile.{fmt}").exists():
            (ws.out / f"hostile.{fmt}").write_bytes(PREVIOUS)
    case.setup(ws)
    before = ws.snapshot()
    started = time.monotonic()
    result = ws.run(["build", "book", "--output-dir", "out", *case.args])
    elapsed = time.monotonic() - started
    output = result.output
    assert result.exit_code == case.exit_code, output
    assert re.search(case.message, output, re.MULTILINE), output
    assert "Traceback" not in output and "internal error" not in output, output
    for line in output.splitlines():
        if ": error: " in line or ": warning: " in line:
            assert re.match(r"^[^\s:][^:]*(:\d+)?(:\d+)?: (error|warning): ", line), line
    assert elapsed < case.seconds, f"took {elapsed:.1f} s"
    assert ws.snapshot() == before, "something outside the output folder changed"
    assert server_requests() == [], "the local HTTP server was contacted"
    if case.exit_code != 0:
        for fmt in ("epub", "pdf"):
            target = ws.out / f"hostile.{fmt}"
            if target.is_file() and not target.is_symlink():
                assert target.read_bytes() == PREVIOUS, "a failed build touched the previous output"
        return
    for fmt in ("epub", "pdf"):
        target = ws.out / f"hostile.{fmt}"
        assert target.is_file() and not target.is_symlink()
        blobs = output_blobs(target, tmp_path)
        canary_png = (ws.secret / "canary.png").read_bytes()
        for blob in blobs:
            assert CANARY_TOKEN.encode() not in blob, f"canary leaked into {target.name}"
            assert canary_png not in blob, f"canary image leaked into {target.name}"
        if fmt == "pdf":
            assert CANARY_SIZE not in pdf_image_sizes(target), "canary image drawn in the PDF"
        if fmt == "epub":
            # markup and text only: a binary image (the generated cover) may hold any byte
            with zipfile.ZipFile(target) as archive:
                documents = [archive.read(name) for name in archive.namelist()
                             if name.endswith((".xhtml", ".opf", ".ncx", ".css", ".xml"))]
            for text in case.absent:
                assert not any(text.encode() in blob for blob in documents), f"{text!r} reached the EPUB"
    assert (ws.secret / "canary.txt").read_text() == f"{CANARY_TOKEN}\n"


def test_enough_hostile_books() -> None:
    assert len(CASES) >= 30


def test_epub_names_are_generated(workspace: Workspace) -> None:
    """Image names with dots, case twins and non-ASCII become generated ASCII names."""
    ws = workspace
    simple("# One\n\n![a](images/Über..png) ![b](images/image.PNG) ![c](images/image.png)\n",
           **{"images__Über..png": png_bytes(), "images__image.PNG": png_bytes((3, 3)),
              "images__image.png": png_bytes((4, 4))})(ws)
    result = ws.run(["epub", "book", "-o", "out/x.epub"])
    assert result.exit_code == 0, result.output
    import zipfile

    names = zipfile.ZipFile(ws.out / "x.epub").namelist()
    images = [n for n in names if ("/images/" in n or n.startswith("images/")) and "/cover." not in n]
    assert len(images) == 3
    assert len({n.casefold() for n in names}) == len(names)
    assert all(n.isascii() and ".." not in n and not n.startswith("/") for n in names)


def test_output_refuses_to_overwrite_a_chapter(workspace: Workspace) -> None:
    ws = workspace
    simple("# One\n\nText.\n")(ws)
    before = (ws.book / "one.md").read_bytes()
    result = ws.run(["epub", "book", "-o", "book/one.md"])
    assert result.exit_code == 1
    assert "error: output 'book/one.md' would overwrite a source file of the book" in result.output
    assert (ws.book / "one.md").read_bytes() == before
    os.symlink(ws.book / "one.md", ws.out / "link.epub")
    result = ws.run(["epub", "book", "-o", "out/link.epub"])
    assert result.exit_code == 1, result.output
    assert (ws.book / "one.md").read_bytes() == before
    os.link(ws.book / "one.md", ws.out / "hard.epub")  # the same file under another name
    result = ws.run(["epub", "book", "-o", "out/hard.epub"])
    assert result.exit_code == 1, result.output
    assert "would overwrite a source file of the book" in result.output
    assert (ws.book / "one.md").read_bytes() == before


def test_metadata_is_escaped_in_every_document(workspace: Workspace) -> None:
    """jinja2 autoescape: markup in metadata is text, template syntax is not evaluated."""
    ws = workspace
    ws.write("book.toml", manifest().replace(
        'title = "Hostile"', 'title = "Hostile <b>bold</b> & {{ 7*7 }}"\nsubtitle = "{% if true %}yes{% endif %}"'))
    ws.write("one.md", "# One\n")
    result = ws.run(["epub", "book", "-o", "out/x.epub"])
    assert result.exit_code == 0, result.output
    import zipfile

    archive = zipfile.ZipFile(ws.out / "x.epub")
    title_page = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("titlepage.xhtml"))
    assert "Hostile &lt;b&gt;bold&lt;/b&gt; &amp; {{ 7*7 }}" in title_page
    assert "{% if true %}yes{% endif %}" in title_page
    assert "<b>bold</b>" not in title_page and "49" not in title_page
    result = ws.run(["pdf", "book", "-o", "out/x.pdf"])
    assert result.exit_code == 0, result.output
    text = " ".join(pdftotext(ws.out / "x.pdf").split())
    assert "Hostile <b>bold</b> & {{ 7*7 }}" in text and "{% if true %}yes{% endif %}" in text


def test_allow_remote_fetches_through_the_checked_path(workspace: Workspace, monkeypatch) -> None:
    """With --allow-remote and the address check stubbed to accept the test server (standing
    in for a public host), the image is fetched once, checked and packed under a generated name;
    without the flag nothing is fetched."""
    import zipfile

    from bookbuild.sources import remote

    ws = workspace
    simple(f"# One\n\n![remote]({ws.url}/pic.png)\n")(ws)
    monkeypatch.setattr(remote, "public_address", lambda host, port: "127.0.0.1")
    result = ws.run(["epub", "book", "-o", "out/x.epub"])
    assert result.exit_code == 0 and "not fetched" in result.output
    assert server_requests() == []
    result = ws.run(["epub", "book", "-o", "out/x.epub", "--allow-remote"])
    assert result.exit_code == 0, result.output
    assert server_requests() == ["/pic.png"]
    archive = zipfile.ZipFile(ws.out / "x.epub")
    images = [n for n in archive.namelist() if n.endswith(".png") and "/cover." not in n]
    assert len(images) == 1 and images[0].endswith("images/001-pic.png")
    assert Image.open(io.BytesIO(archive.read(images[0]))).size == CANARY_SIZE
    with pytest.raises(BookError, match="larger than"):
        remote.fetch_remote(f"{ws.url}/big.png", max_bytes=10)


def test_canary_detector_sees_a_leak(workspace: Workspace, tmp_path) -> None:
    """The leak checks above can fail: a book that shows the token and a canary-sized
    picture on purpose is caught in both the EPUB and the PDF."""
    ws = workspace
    simple(f"# One\n\n{CANARY_TOKEN}\n\n![pic](c.png)\n", **{"c.png": png_bytes(CANARY_SIZE, (255, 0, 0))})(ws)
    result = ws.run(["build", "book", "--output-dir", "out"])
    assert result.exit_code == 0, result.output
    for fmt in ("epub", "pdf"):
        blobs = output_blobs(ws.out / f"hostile.{fmt}", tmp_path)
        assert any(CANARY_TOKEN.encode() in blob for blob in blobs), fmt
    assert any((ws.book / "c.png").read_bytes() in blob for blob in output_blobs(ws.out / "hostile.epub", tmp_path))
    assert CANARY_SIZE in pdf_image_sizes(ws.out / "hostile.pdf")


def test_local_server_records_requests(workspace: Workspace) -> None:
    """The silent-server check can fail: a request made on purpose is recorded."""
    import urllib.request

    with urllib.request.urlopen(f"{workspace.url}/probe.png", timeout=5) as response:
        assert response.status == 200
    assert server_requests() == ["/probe.png"]


@pytest.mark.slow
def test_cleaned_hostile_book_is_a_valid_epub_and_pdf(workspace: Workspace, tmp_path) -> None:
    """Everything the cleaner, resolver and image checks drop or rewrite, in one book:
    EPUBCheck 0/0/0 and a PDF with all fonts embedded that qpdf accepts."""
    from validators import pdffonts, qpdf_check, run_epubcheck

    ws = workspace
    html_chapter = ('<html><head><script>x()</script></head><body>\n<h1 onclick="x()">Two</h1>\n'
                    '<p>A <a href="javascript:alert(1)">link</a> <a rel="attachment" href="x.txt">file</a></p>\n'
                    '<form><input type="text"/></form><object data="x"></object><svg><circle r="1"/></svg>\n'
                    + "<div>" * 200 + "deep" + "</div>" * 200 + '\n<p style="background:url(http://x/)">s</p>'
                    '<custom-tag>kept</custom-tag><p xml:lang="fr">bonjour</p></body></html>\n')
    files = {
        "book.toml": manifest('"one.md", "two.html"', extra='styles = ["s.css"]\n'),
        "s.css": (f"@import url(file://{ws.secret / 'canary.css'});\n"
                  f"p {{ background: url({ws.url}/bg.png); color: #222; }}\n"
                  "@media print { h1 { background: url(../secret/canary.png); margin: 0 } }\n"
                  "@font-face { font-family: X; src: url(/etc/fonts/x.ttf); }\n"),
        "one.md": (f"# One\n\nText <span onmouseover='x()'>span</span>\x07.\n\n<script>alert(1)</script>\n\n"
                   f"![svg](x.svg) ![bad](photo.jpg) ![out](../secret/canary.png) ![remote]({ws.url}/r.png)\n\n"
                   f"<iframe src='x'></iframe>\n\n- [x] done\n- [ ] open\n"),
        "two.html": html_chapter,
        "x.svg": _svg_scripted(ws),
        "photo.jpg": png_bytes(),
    }
    raw(files)(ws)
    result = ws.run(["build", "book", "--output-dir", "out"])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.output.splitlines() if ": warning: " in line]) >= 16, result.output
    import zipfile

    css = zipfile.ZipFile(ws.out / "hostile.epub").read("EPUB/styles/book-1.css").decode()
    assert "url(" not in css and "file:" not in css and "color: #222" in css and "@import" not in css
    report = run_epubcheck(ws.out / "hostile.epub", tmp_path)
    assert report.problems == [], report.problems
    assert all(font["emb"] == "yes" for font in pdffonts(ws.out / "hostile.pdf"))
    assert qpdf_check(ws.out / "hostile.pdf").returncode == 0
    assert server_requests() == []

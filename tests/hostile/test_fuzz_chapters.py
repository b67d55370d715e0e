"""Random Markdown and HTML into the chapter reader, the transforms and the EPUB writer: always
well-formed XHTML holding no active content, and the only exception ever raised is BookError."""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bookbuild.errors import BookError, Reporter
from bookbuild.config.manifest import load_manifest
from bookbuild.pipeline import assemble, build_context
from bookbuild.render.epub import render_epub
from bookbuild.sources import read_chapter

PIECES = [
    "# ", "## ", "> ", "- ", "1. ", "* ", "**", "_", "`", "```\n", "    ", "\n", "\n\n", "| a | b |\n|---|---|\n",
    "[^1]", "[^1]: note\n", "[link](c.md#x)", "![img](x.png)", "{#id .cls}", "---\n", "title: x\n", ": ",
    "<div>", "</div>", "<p>", "</p>", "<span id='x'>", "</span>", "<script>", "</script>", "<img src=",
    "<a href='javascript:alert(1)'>", "</a>", "<svg>", "<math>", "<table><tr><td>", "</td></tr></table>",
    "<!--", "-->", "<![CDATA[", "]]>", "<?xml ?>", "<!DOCTYPE x [<!ENTITY e 'boom'>]>", "&e;", "&amp;",
    "&#0;", "&#xD800;", "&#x1F600;", "<p onclick=x>", "<x:y>", "<a:b c:d='1'>", "<h1 id='1 2'>", "\x00", "\x0b",
    "\ufffe", "\u2028", "<br/>", "</br>", "<input type=checkbox checked>", "<style>", "<iframe>", "<object>",
    "<body>", "</body>", "<html>", "<li>", "<ul>", "<ol start=x>", "<td colspan=999999999>", "<a rel=attachment>",
    "<p xml:lang='fr' lang='de'>", "<span xml:lang=en>", "<a name=x>", "<img alt=x src='data:image/png;base64,AA'>",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=40).map("".join)
FOLDER = Path(tempfile.mkdtemp(prefix="bookbuild-fuzz-"))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)  # each test process made one and left it in /tmp
(FOLDER / "book.toml").write_text('[book]\ntitle = "Fuzz"\nauthors = ["A"]\nlanguage = "en"\n'
                                  'chapters = ["c.md", "c.html"]\n')


def _check(text: str, name: str) -> None:
    (FOLDER / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    reporter = Reporter()
    try:
        manifest = load_manifest(FOLDER, reporter)
        entry = next(e for e in manifest.chapters if e.path.name == name)
        chapter = read_chapter(entry, 1, reporter)
        book = assemble(manifest, (chapter,), reporter, cache=False)
        epub = render_epub(book, build_context(manifest, cache=False, book=book), reporter)
    except BookError:
        return
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        for entry in archive.namelist():
            if entry.endswith(".xhtml"):
                etree.fromstring(archive.read(entry))  # every EPUB document is well-formed XML
    for chapter in book.chapters:
        for body in (chapter.body, *(note.body for note in chapter.footnotes)):
            root = etree.fromstring(f"<div>{body}</div>")  # raises if not well-formed
            for node in root.iter():
                assert node.tag not in ("script", "iframe", "object", "embed", "style", "svg", "math")
                assert not any(attribute.lower().startswith("on") for attribute in node.attrib)
                assert "javascript:" not in (node.get("href") or "").lower()


@pytest.mark.parametrize("name", ["c.md", "c.html"])
@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_random_chapters_give_well_formed_xhtml(name: str, text: str) -> None:
    _check(text, name)


def _check_pdf(text: str) -> None:
    """Markdown -> model -> PDF: a BookError or a PDF whose text pdftotext can read."""
    from bookbuild.render.pdf.document import render_pdf

    (FOLDER / "c.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    reporter = Reporter()
    try:
        manifest = load_manifest(FOLDER, reporter)
        chapter = read_chapter(manifest.chapters[0], 1, reporter)
        book = assemble(manifest, (chapter,), reporter, cache=False)
        pdf = render_pdf(book, build_context(manifest, cache=False, book=book), reporter)
    except BookError:
        return
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]


@settings(max_examples=int(__import__("os").environ.get("FUZZ_PDF_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_random_chapters_make_a_pdf_or_a_located_error(text: str) -> None:
    """The PDF path too (WeasyPrint lays each random chapter out): no traceback, no hang."""
    _check_pdf(text)


@pytest.mark.parametrize("name", ["c.md", "c.html"])
@pytest.mark.parametrize("text", ["</body><body>", "<p>a</p></body><body>b", "<html><body>x</body></html><body>"])
def test_a_documents_own_tags_twice_are_dropped_not_a_traceback(name: str, text: str) -> None:
    """Found by the fuzzing above: lxml asserts "too many bodies" on a second ``<body>``; the
    document's own tags are dropped and the rest of the chapter is kept."""
    _check(text, name)
    if name == "c.md":
        _check_pdf(text)

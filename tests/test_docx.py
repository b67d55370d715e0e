"""``bookbuild new FOLDER --from-docx manuscript.docx``: a Word document becomes a book.

Real Word documents (tests/real/docx/, with their licences) and one generated manuscript
with everything at once go in; what comes out is checked as an author would: book.toml,
the chapters' Markdown, the pictures and their alternative text, the footnotes, the
warnings naming their paragraph, and the new book built at once and judged by EPUBCheck
and Ace. Hostile documents (not a zip, zip bombs, DTDs, pictures linked outside, pictures
too large) end in a clear message, in bounded memory, with nothing read outside.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
import zlib
from pathlib import Path

import pytest
from clirun import run
from conftest import ROOT
from validators import assert_ace_clean, pdftotext, run_epubchecks, run_measured

REAL = ROOT / "tests" / "real" / "docx"
_spec = importlib.util.spec_from_file_location("make_manuscript", REAL / "make_manuscript.py")
maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(maker)
MANUSCRIPT = REAL / "generated-manuscript.docx"
DOCX_SUFFIX = "generated-manuscript.docx"


def _import(tmp_path: Path, docx: Path, *args: str, folder: str = "book"):
    return run(["new", folder, "--from-docx", str(docx), *args], tmp_path)


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": warning: " in line]


def _chapters(book: Path) -> list:
    return tomllib.loads((book / "book.toml").read_text())["book"]["chapters"]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- the generated manuscript: everything at once ------------------------------------------

def test_a_manuscript_becomes_a_book_with_its_metadata_chapters_and_kinds(tmp_path: Path) -> None:
    assert MANUSCRIPT.read_bytes() == maker.manuscript()  # the committed file is what make_manuscript.py writes
    result = _import(tmp_path, MANUSCRIPT)
    assert result.exit_code == 0, result.output
    meta = tomllib.loads((tmp_path / "book" / "book.toml").read_text())["book"]
    assert meta["title"] == "The Lighthouse Keeper"  # the Title paragraph, not the property
    assert meta["subtitle"] == "A Short Novel of the Sea"
    assert meta["authors"] == ["Mary Shore", "John Tide"]
    assert (meta["language"], meta["date"]) == ("en-GB", "2023-05-17")
    assert meta["description"] == "A keeper, a storm and a lamp." and meta["subjects"] == ["sea", "lighthouses"]
    assert meta["math"] is False
    assert meta["chapters"] == [
        {"file": "chapters/01-dedication.md", "kind": "dedication"},
        {"file": "chapters/02-preface.md", "kind": "preface"},
        "chapters/03-the-storm.md",
        "chapters/04-the-calm.md",
        {"file": "chapters/05-appendix-a-tide-table.md", "kind": "appendix"},
        {"file": "chapters/06-acknowledgements.md", "kind": "acknowledgments"},
    ]
    assert "6 chapter(s) in chapters/ (dedication, preface, appendix, acknowledgments recognised), " \
           "1 picture(s) in images/" in result.output
    assert "note: authors = Mary Shore, John Tide (the document's Author property)" in result.output
    assert (tmp_path / "book" / "images" / "image-01.png").read_bytes() == maker.png()


def test_the_chapters_are_markdown_with_lists_tables_links_pictures_and_notes(tmp_path: Path) -> None:
    assert _import(tmp_path, MANUSCRIPT).exit_code == 0
    chapters = tmp_path / "book" / "chapters"
    storm = (chapters / "03-the-storm.md").read_text()
    for expected in [
        "# The Storm\n",
        "The storm came in at dusk, *without warning*, and the keeper wrote **everything** down.[^1]",
        ("Read the [harbour log](https://example.org/harbour-log) or see "
        "[the tide table](05-appendix-a-tide-table.md#tides)."),
        "- Lamp oil\n  - Two wicks\n  - A spare glass\n- Bread",
        "> The light must not go out.",
        "1. Climb the stairs\n2. Trim the wick\n3. Light the lamp",
        '![The lighthouse at night](../images/image-01.png){alt="A lighthouse on a rock, its beam crossing a dark sea"}',
        "He wrote: very late, and tired.",  # the insertion kept, the deletion gone
        "Beside the map:\n\nKeep the oil dry",  # the text box after its paragraph
        r"Costs were \$5 a week, \*not\* more; see \{\{#include notes\}\} and \<b\>nothing\</b\> else.",
        "[^1]: The log survives in the harbour museum.",
    ]:
        assert expected in storm, expected
    assert storm.count("[^") == 2 and "quite" not in storm and "Is he tired" not in storm
    calm = (chapters / "04-the-calm.md").read_text()
    assert "Morning came[^1]." in calm and "[^1]: At six, as the tide table says." in calm  # an endnote
    assert "| Day | High water |\n|---|---|\n| Monday | 06:10 |\n| Tuesday | 06:55 |" in calm
    assert (chapters / "02-preface.md").read_text() == \
        "# Preface\n\nThis book began as a letter[^1].\n\n[^1]: Written to my sister in 1998.\n"
    assert '<span id="tides"></span>High water is at six.' in (chapters / "05-appendix-a-tide-table.md").read_text()


def test_what_cannot_be_carried_is_a_warning_naming_its_paragraph(tmp_path: Path) -> None:
    result = _import(tmp_path, MANUSCRIPT)
    warnings = _warnings(result.output)
    expected = [
        r"paragraph 22 “He wrote: very late, and tired.”: tracked insertion by Ann Editor accepted: “very”",
        r"paragraph 22 “He wrote: very late, and tired.”: tracked deletion by Ann Editor accepted: “quite” is left out",
        r"paragraph 22 “He wrote: very late, and tired.”: comment by Ann Editor left out: “Is he tired or sleepy\?”",
        r"paragraph 23 “Page 7 of the log.”: a PAGE field is kept as plain text",
        r"paragraph 24 “Beside the map: Keep the oil dry”: a text box: its text “Keep the oil dry”",
        r"paragraph 25 “The light's reach:”: an equation \(Word's Office Math\) is left out",
    ]
    for pattern in expected:
        assert any(re.search(DOCX_SUFFIX + r": warning: " + pattern, line) for line in warnings), pattern
    assert len(warnings) == len(expected), warnings


@pytest.mark.slow
def test_the_new_books_build_at_once_and_pass_epubcheck_and_ace(tmp_path: Path) -> None:
    """The generated manuscript and three real Word documents: EPUBCheck 0/0; Ace 0 on the
    manuscript and on the real document with pictures; the manuscript's PDF too."""
    documents = {"manuscript": MANUSCRIPT, "convert": REAL / "docx4j-convert-out.docx",
                 "sample": REAL / "docx4j-sample.docx", "toc": REAL / "docx4j-un-declaration-toc.docx"}
    epubs = []
    for folder, docx in documents.items():
        assert _import(tmp_path, docx, folder=folder).exit_code == 0
        built = run(["build" if folder == "manuscript" else "epub", folder], tmp_path)
        assert built.exit_code == 0, built.output
        assert _warnings(built.output) == [], built.output
        epubs.append(next((tmp_path / folder / "dist").glob(f"*{_slug(tmp_path / folder)}.epub")))
    for epub, report in zip(epubs, run_epubchecks(epubs, tmp_path)):
        assert report.problems == [], (epub.name, report.problems)
    with zipfile.ZipFile(epubs[0]) as archive:
        storm = archive.read("EPUB/ch03.xhtml").decode()
    assert "{{#include notes}} and &lt;b&gt;nothing&lt;/b&gt; else" in storm and "$5 a week, *not* more" in storm
    assert 'alt="A lighthouse on a rock, its beam crossing a dark sea"' in storm
    text = pdftotext(next((tmp_path / "manuscript" / "dist").glob("the-lighthouse-keeper.pdf")))
    assert "The Storm" in text and "The log survives in the harbour museum." in text
    for epub in epubs[:1] + epubs[2:3]:
        assert_ace_clean(epub, tmp_path)


def _slug(book: Path) -> str:
    from bookbuild.slugs import file_slug

    return file_slug(tomllib.loads((book / "book.toml").read_text())["book"]["title"])


# -- real Word documents -------------------------------------------------------------------

def test_a_real_design_note_keeps_its_title_lists_table_and_language(tmp_path: Path) -> None:
    result = _import(tmp_path, REAL / "docx4j-convert-out.docx")
    assert result.exit_code == 0, result.output
    book = tmp_path / "book"
    meta = tomllib.loads((book / "book.toml").read_text())["book"]
    assert meta["title"] == "Docx4j output conversion - design" and meta["authors"] == ["Zerolo"]
    assert meta["language"] == "en-US"  # what the text is marked with, not the template's de-DE default
    assert [c if isinstance(c, str) else c["file"] for c in meta["chapters"]] == [
        "chapters/00-opening.md", "chapters/01-introduction.md", "chapters/02-headers-footers-generally-and.md",
        "chapters/03-word-versus-xsl-fo.md", "chapters/04-different-count-of-sections.md", "chapters/05-concepts.md"]
    assert meta["chapters"][1] == {"file": "chapters/01-introduction.md", "kind": "introduction"}
    assert (book / "chapters" / "00-opening.md").read_text().startswith("*By Alberto Zerolo, Jason Harrop*\n\n")
    intro = (book / "chapters" / "01-introduction.md").read_text()
    assert "- It works on Android, where the Xalan approach is problematic\n- It is faster\n" in intro
    assert "<table>\n<tr>\n<td></td>\n<td>\n\nvia XSLT\n\n</td>" in intro  # an empty corner: not a header row
    assert "  This creates Section containers to facilitate hierarchical processing" in intro  # a break in an item
    assert "method *process, which does the core conversion*<strong><em>.</em></strong> The method" in intro
    assert "note: chapters/00-opening.md holds the text before the first heading" in result.output


def test_real_pictures_keep_their_alternative_text_and_tracked_changes_are_named(tmp_path: Path) -> None:
    result = _import(tmp_path, REAL / "docx4j-sample.docx")
    assert result.exit_code == 0, result.output
    book = tmp_path / "book"
    assert sorted(p.name for p in (book / "images").iterdir()) == ["image-01.jpg", "image-02.gif", "image-03.png"]
    images = (book / "chapters" / "06-images.md").read_text()
    assert '![](../images/image-02.gif){alt="Escher: Liberation"}' in images
    assert '![](../images/image-03.png){alt="http://davidpritchard.org/images/pacsoc-s1b.png"}' in images
    assert "Here is some change tracking. An insertion Followed by." in images
    tables = (book / "chapters" / "02-tables.md").read_text()
    assert '<td rowspan="2">\n\nVertical merge\n\n</td>' in tables and '<td colspan="2">' in tables
    lists = (book / "chapters" / "05-bullets-numbering.md").read_text()
    assert "1. Level 1\n   1. Level 2\n      1. Level 3" in lists
    warnings = _warnings(result.output)
    assert any("paragraph 71 “Here is some change tracking. An…”: tracked deletion by Jason Harrop accepted: "
               "“A deletion” is left out" in line for line in warnings), warnings


def test_a_word_table_of_contents_is_left_out_for_the_books_own(tmp_path: Path) -> None:
    result = _import(tmp_path, REAL / "docx4j-un-declaration-toc.docx")
    assert result.exit_code == 0, result.output
    book = tmp_path / "book"
    chapters = _chapters(book)
    assert chapters[1:] == [f"chapters/{n:02d}-article-{n}.md" for n in range(1, 12)]
    opening = (book / "chapters" / "00-opening.md").read_text()
    assert "Contents" not in opening and "Article 1" not in opening  # the TOC field's lines
    assert opening.startswith("***Proclaimed by General Assembly resolution 1904 (XVIII) of 20 November 1963***")
    assert any("the table of contents (a TOC field) is left out" in line for line in _warnings(result.output))


@pytest.mark.parametrize(("name", "expected"), [
    ("mammoth-footnotes.docx", "Ouch[^1].[^2]\n\n[^1]: A tachyon walks into a bar.\n\n[^2]: Fin.\n"),
    ("mammoth-endnotes.docx", "Ouch[^1].[^2]\n\n[^1]: A tachyon walks into a bar.\n\n[^2]: Fin.\n"),
    ("mammoth-text-box.docx", "Datum plane\n"),
])
def test_real_notes_and_text_boxes(tmp_path: Path, name: str, expected: str) -> None:
    result = _import(tmp_path, REAL / name)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "book" / "chapters" / "01-text.md").read_text() == expected
    boxes = [line for line in _warnings(result.output) if "text box" in line]
    assert len(boxes) == (1 if "text-box" in name else 0), result.output


SPECIAL = "*_\\`[]{}<>|$#~&"


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.docx")))
def test_every_character_of_the_documents_text_stays_text(tmp_path: Path, name: str) -> None:
    """What Markdown would read as markup (``*``, ``_``, ``[``, ``<``, ``{{#include``, ``$``...)
    appears in the text of the chapters as bookbuild renders them exactly as often as in the
    document's own text: nothing became markup, no escape shows."""
    import mammoth
    from lxml import html as lxml_html

    from bookbuild.sources.markdown import markdown_to_html

    assert _import(tmp_path, REAL / name).exit_code == 0
    source = mammoth.convert_to_html(io.BytesIO((REAL / name).read_bytes()), style_map="p[style-name^='toc '] => !")
    meta = tomllib.loads((tmp_path / "book" / "book.toml").read_text())["book"]
    document = lxml_html.fragment_fromstring(source.value or "<p></p>", create_parent="div")
    for call in document.xpath(".//sup/a[starts-with(@href, '#footnote-') or starts-with(@href, '#endnote-')]"):
        call.text = ""  # mammoth's "[1]": a number the book makes itself
    words = document.text_content()
    for moved in (meta["title"], meta.get("subtitle") or ""):
        words = words.replace(moved, "", 1)
    rendered = "".join(lxml_html.fragment_fromstring(
        markdown_to_html(path.read_text(), path.name, math=False)[0] or "<p></p>", create_parent="div").text_content()
        for path in sorted((tmp_path / "book" / "chapters").glob("*.md")))
    assert {c: rendered.count(c) for c in SPECIAL} == {c: words.count(c) for c in SPECIAL}


def test_real_comments_are_warnings_with_their_words(tmp_path: Path) -> None:
    result = _import(tmp_path, REAL / "mammoth-comments.docx")
    assert result.exit_code == 0
    assert [line.split(": warning: ")[1].split(" (hint")[0] for line in _warnings(result.output)] == [
        "paragraph 1 “Ouch.”: comment by Michael Williamson left out: “A tachyon walks into a bar.”",
        "paragraph 1 “Ouch.”: comment by Michael Williamson left out: “Fin.”"]


# -- hostile documents ---------------------------------------------------------------------

def _patch_central_directory(data: bytes, member: str, offset: int, value: bytes) -> bytes:
    """``data`` with the central directory entry of ``member`` changed at ``offset``."""
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + length] == member.encode():
            return data[:start + offset] + value + data[start + offset + len(value):]
        start += 4
    raise AssertionError(member)


def _members(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for n in range(count):
            archive.writestr(f"word/parts/{n}.xml", "")
    return out.getvalue()


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9))
                  + f']><w:document xmlns:w="{maker.W}"><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>')
SMALL = maker.package(maker.para(maker.run("Hello.")))
HOSTILE = {
    "not a zip": (b"Just some text, saved as .docx by mistake.\n", r"is not a Word document: not a zip archive"),
    "a .doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"is a Word 97-2003 document \(.doc\), not a .docx"),
    "too many members": (_members(5000), r"holds 5,001 files: more than 5,000 \(a zip bomb\?\)"),
    "a lying directory": (_patch_central_directory(SMALL, "word/document.xml", 24, b"\xff\xff\xff\x7f"),
                          r"would unpack to 2,048 MB: more than 256 MB \(a zip bomb\?\)"),
    "an entity bomb": (maker._zip({"word/document.xml": BILLION_LAUGHS.encode()}),
                       r"part 'word/document.xml' declares a DTD or entities, which Word never writes: not read"),
    "an encrypted part": (_patch_central_directory(SMALL, "word/document.xml", 8, b"\x01"),
                          r"part 'word/document.xml' is encrypted"),
    "no document part": (maker._zip({"notes.txt": b"hello"}), r"is not a Word document: it has no main document part"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_package_is_one_clear_error_and_no_book(tmp_path: Path, case: str) -> None:
    data, message = HOSTILE[case]
    docx = _write(tmp_path, "manuscript.docx", data)
    result = _import(tmp_path, docx)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and re.match(r".*manuscript\.docx: error: " + message, errors[0]), result.output
    assert "Traceback" not in result.output and not (tmp_path / "book").exists()


def test_a_zip_bomb_is_refused_before_it_is_inflated_in_bounded_memory(tmp_path: Path) -> None:
    """600 MB of zeros deflated to under a megabyte: refused from the central directory."""
    docx = tmp_path / "bomb.docx"
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", SMALL and zipfile.ZipFile(io.BytesIO(SMALL)).read("word/document.xml"))
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(600):
                member.write(chunk)
    assert docx.stat().st_size < 2 << 20
    code, output, seconds, peak_kib = run_measured(
        [sys.executable, "-c", "from bookbuild.cli import main; main(prog_name='bookbuild')", "new", "book",
         "--from-docx", "bomb.docx"], tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert code == 1, output
    assert "bomb.docx: error: would unpack to 600 MB: more than 256 MB (a zip bomb?)" in output
    assert seconds < 10 and peak_kib < 200 * 1024, peak_kib
    assert not (tmp_path / "book").exists()


class _Heard:
    """What this process opens and connects to while listening (audit hooks stay for good)."""

    listening = False
    opened: list[str] = []
    connected: list[str] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if not cls.listening:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            cls.opened.append(os.fsdecode(args[0]))
        elif event == "socket.connect":
            cls.connected.append(repr(args[1:]))


sys.addaudithook(_Heard.hook)


def _listening(function):
    _Heard.opened, _Heard.connected, _Heard.listening = [], [], True
    try:
        return function()
    finally:
        _Heard.listening = False


def test_pictures_linked_outside_the_document_are_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret" / "passwd.png"
    secret.parent.mkdir()
    secret.write_bytes(maker.png())
    (tmp_path / "tiny-picture.png").write_bytes(maker.png())  # what the real document links to
    real = _write(tmp_path, "real.docx", (REAL / "mammoth-external-picture.docx").read_bytes())
    body = "".join([
        maker.para(maker.run("A file: "), maker.picture("rIdFile", "A secret", attribute="r:link")),
        maker.para(maker.run("A web picture: "), maker.picture("rIdWeb", "A tracker")),
        maker.para(maker.run("A field: "), '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>'
                   ' INCLUDEPICTURE "http://127.0.0.1:9/x.png" </w:instrText></w:r><w:r><w:fldChar w:fldCharType='
                   '"end"/></w:r>'),
    ])
    rels = [f'<Relationship Id="rIdFile" Type="{maker.REL}/image" Target="{secret.as_uri()}" TargetMode="External"/>',
            (f'<Relationship Id="rIdWeb" Type="{maker.REL}/image" Target="http://127.0.0.1:9/x.png" '
            'TargetMode="External"/>')]
    linked = _write(tmp_path, "linked.docx", maker.package(body, relationships=rels))
    results = _listening(lambda: [_import(tmp_path, real, folder="a"), _import(tmp_path, linked, folder="b")])
    assert [r.exit_code for r in results] == [0, 0]
    assert not [p for p in _Heard.opened if p.endswith(("passwd.png", "tiny-picture.png"))], _Heard.opened
    assert any(p.endswith("linked.docx") for p in _Heard.opened), "the hook heard the import's own read"
    assert _Heard.connected == []
    warnings = _warnings(results[0].output + results[1].output)
    assert any("real.docx: warning: paragraph 1: a picture linked to 'tiny-picture.png' is not fetched: left out"
               in line for line in warnings), warnings
    for pattern in [rf"paragraph 1 “A file:”: a picture linked to '{re.escape(secret.as_uri())}' is not fetched",
                    r"paragraph 2 “A web picture:”: a picture linked to 'http://127.0.0.1:9/x.png' is not fetched",
                    r"paragraph 3 “A field:”: a picture linked by an INCLUDEPICTURE field is not fetched"]:
        assert any(re.search(r"linked\.docx: warning: " + pattern, line) for line in warnings), pattern
    assert not (tmp_path / "a" / "images").exists() and not (tmp_path / "b" / "images").exists()


def test_pictures_too_large_or_unshowable_are_left_out_with_a_warning(tmp_path: Path) -> None:
    small = maker.png(1, 1)
    header = b"IHDR" + (30000).to_bytes(4, "big") * 2 + small[24:29]  # 30000 x 30000 declared, 8-bit RGB
    bomb = small[:12] + header + zlib.crc32(header).to_bytes(4, "big") + small[33:]  # with the IDAT of one pixel
    media = {"big.png": bytes(21 << 20), "bomb.png": bomb, "figure.emf": b"\x01\x00\x00\x00" + bytes(80),
             "plain.png": maker.png()}
    body = "".join(maker.para(maker.run(f"Picture {n}: "), maker.picture(f"rIdImg{n}", alt))
                   for n, alt in enumerate(["Big", "Bomb", "Chart", ""], start=1))
    result = _import(tmp_path, _write(tmp_path, "pictures.docx", maker.package(body, media=media)))
    assert result.exit_code == 0, result.output
    warnings = [line.split(": warning: ")[1].split(" (hint")[0] for line in _warnings(result.output)]
    assert warnings == [
        "paragraph 1 “Picture 1:”: picture 'big.png' is larger than 20 MB: left out",
        "paragraph 2 “Picture 2:”: picture 'bomb.png' has too many pixels (a decompression bomb?): left out",
        ("paragraph 3 “Picture 3:”: picture 'figure.emf' is a Windows metafile (EMF/WMF), which e-books cannot "
        "show: left out"),
        ("picture 'images/image-01.png' has no alternative text in Word: describe what it shows "
        "(in chapters/01-text.md)"),
    ], result.output
    assert [p.name for p in (tmp_path / "book" / "images").iterdir()] == ["image-01.png"]
    text = (tmp_path / "book" / "chapters" / "01-text.md").read_text()
    assert text == "Picture 1:\n\nPicture 2:\n\nPicture 3:\n\nPicture 4: ![](../images/image-01.png)\n"


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_document_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, special: str) -> None:
    docx = tmp_path / "manuscript.docx"
    os.mkfifo(docx) if special == "fifo" else os.symlink("/dev/zero", docx)
    started = time.monotonic()
    result = _import(tmp_path, docx)
    assert result.exit_code == 1 and time.monotonic() - started < 5
    assert "error: Word document '" in result.output and "device or special file, not a regular file" in result.output
    assert not (tmp_path / "book").exists()


def test_the_book_folder_must_be_new(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "notes.txt").write_text("mine")
    result = _import(tmp_path, MANUSCRIPT)
    assert result.exit_code == 1 and "error: 'book' is not an empty folder" in result.output
    assert [p.name for p in (tmp_path / "book").iterdir()] == ["notes.txt"]
    usage = run(["new", "--from-docx", str(MANUSCRIPT)], tmp_path)
    assert usage.exit_code == 2 and "--from-docx writes a new book into FOLDER" in usage.output


def test_without_the_docx_extra_the_error_says_how_to_install_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mammoth", None)  # import mammoth now raises ImportError
    result = _import(tmp_path, MANUSCRIPT)
    assert result.exit_code == 1
    assert result.output.strip() == ("bookbuild: error: reading Word documents needs mammoth, which is not "
                                     "installed (hint: install bookbuild's docx extra: pip install 'bookbuild[docx]')")
    assert not (tmp_path / "book").exists()


def test_mammoth_is_not_imported_by_the_command_line_until_a_document_is(tmp_path: Path) -> None:
    probe = "import sys, bookbuild.cli, bookbuild.scaffold.docx; print(sorted(m for m in sys.modules if 'mammoth' in m))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}).stdout
    assert out.strip() == "[]"


# -- headings: the chapter level and parts --------------------------------------------------

def _heading(text: str, level: int) -> str:
    return maker.para(maker.run(text), style=f"Heading{level}")


PARTS = "".join([_heading("Part One", 1), _heading("First", 2), maker.para(maker.run("One.")),
                 maker.para(maker.run("A detail"), style="Heading2").replace("Heading2", "Heading2"),
                 _heading("Part Two", 1), _heading("Second", 2), maker.para(maker.run("Two."))])


def test_the_chapter_level_makes_the_headings_above_it_parts(tmp_path: Path) -> None:
    docx = _write(tmp_path, "parts.docx", maker.package(PARTS, core={"title": "Parts", "creator": "A. Writer"}))
    assert _import(tmp_path, docx, "--chapter-level", "2").exit_code == 0
    assert _chapters(tmp_path / "book") == [
        {"part": "Part One", "chapters": ["chapters/01-first.md", "chapters/02-a-detail.md"]},
        {"part": "Part Two", "chapters": ["chapters/03-second.md"]}]
    assert (tmp_path / "book" / "chapters" / "03-second.md").read_text() == "# Second\n\nTwo.\n"
    assert run(["epub", "book"], tmp_path).exit_code == 0
    assert _import(tmp_path, docx, folder="whole").exit_code == 0  # default: the highest level used
    assert _chapters(tmp_path / "whole") == ["chapters/01-part-one.md", "chapters/02-part-two.md"]
    assert (tmp_path / "whole" / "chapters" / "01-part-one.md").read_text() == \
        "# Part One\n\n## First\n\nOne.\n\n## A detail\n"


def test_front_matter_is_recognised_in_the_language_the_text_is_marked_with(tmp_path: Path) -> None:
    headings = ["Widmung", "Vorwort", "Einleitung", "Kapitel 1: Der Anfang", "Anhang A: Tabellen", "Danksagung"]
    body = "".join(maker.para(maker.run(text, lang="de-DE"), style="Heading1")
                   + maker.para(maker.run("Text.", lang="de-DE")) for text in headings)
    result = _import(tmp_path, _write(tmp_path, "buch.docx", maker.package(body, core={"creator": "A. Autorin"})))
    assert result.exit_code == 0, result.output
    meta = tomllib.loads((tmp_path / "book" / "book.toml").read_text())["book"]
    assert meta["language"] == "de-DE"
    assert [c["kind"] if isinstance(c, dict) else "chapter" for c in meta["chapters"]] == [
        "dedication", "preface", "introduction", "chapter", "appendix", "acknowledgments"]
    assert "note: headings such as 'Kapitel 1: Der Anfang' name their number: bookbuild numbers chapters " \
           "itself" in result.output
    english = _import(tmp_path, _write(tmp_path, "buch2.docx", maker.package(body)), "--language", "en",
                      folder="english")
    assert tomllib.loads((tmp_path / "english" / "book.toml").read_text())["book"]["language"] == "en"
    assert [c for c in _chapters(tmp_path / "english") if isinstance(c, dict)] == []  # German names, English book
    assert english.exit_code == 0


def test_an_unrecognised_heading_before_the_first_numbered_chapter_is_left_to_the_author(tmp_path: Path) -> None:
    body = "".join(maker.para(maker.run(text), style="Heading1") + maker.para(maker.run("Text."))
                   for text in ["A Note on the Text", "Chapter One", "Chapter Two"])
    result = _import(tmp_path, _write(tmp_path, "novel.docx", maker.package(body, core={"creator": "N. Writer"})))
    assert result.exit_code == 0
    assert _chapters(tmp_path / "book")[0] == "chapters/01-a-note-on-the-text.md"
    assert "note: 'A Note on the Text' (chapters/01-a-note-on-the-text.md) is numbered as a chapter; if it is " \
           "front matter, set its kind in book.toml (preface, foreword, introduction...)" in result.output
    assert "note: the document has no title: 'Novel' is made from its file name" in result.output


def test_the_same_document_makes_the_same_book_byte_for_byte(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        assert _import(tmp_path, REAL / "docx4j-sample.docx", folder=folder).exit_code == 0

    def files(book: Path) -> dict[str, bytes]:
        return {p.relative_to(book).as_posix(): p.read_bytes() for p in sorted(book.rglob("*")) if p.is_file()}

    assert files(tmp_path / "one") == files(tmp_path / "two") and len(files(tmp_path / "one")) == 13

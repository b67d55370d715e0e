"""The laid-out pieces of the parallel PDF kept between builds (render/parallel/cache.py).

A wrong hit would print an old chapter, image or style without a word, so every kind of
change is tested for a miss; the hits are tested too (a cache that never hits is no use).
Pieces are read from the entry names in ``.bookbuild-cache/pdf``: the key (the name) covers
the piece's HTML and CSS, options and code; the entry lists the files the layout fetched.
"""

from __future__ import annotations

import re
import shutil
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

import bookbuild
from bookbuild.api import BuildOptions, build
from bookbuild.errors import Reporter
from bookbuild.render.pdf.parallel import cache as pdf_cache
from validators import pdftotext, qpdf_check
from test_pdf_parallel import generate

# The small benchmark book's three chapters at a third of their length: three pieces, as before,
# laid out in a third of the time.
SHORT_WORDS = 800


def _entries(folder: Path) -> dict[str, float]:
    return {path.stem: path.stat().st_mtime_ns for path in (folder / ".bookbuild-cache" / "pdf").glob("*.json")}


def _build(folder: Path, name: str) -> Path:
    reporter = Reporter()
    build(folder, ["pdf"], output=folder / name, options=BuildOptions(parallel=True), reporter=reporter)
    assert reporter.warnings == []
    return folder / name


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """The small benchmark book, short chapters (a front piece and three body pieces),
    built once so that its cache is full."""
    folder = generate("small", tmp_path / "small", words=SHORT_WORDS).parent
    _build(folder, "first.pdf")
    assert len(_entries(folder)) == 4
    return folder


def _cold(folder: Path, tmp_path: Path) -> str:
    """The text of the same book built without any cache, in another folder."""
    copy = tmp_path / "cold"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".bookbuild-cache", "*.pdf"))
    return pdftotext(_build(copy, "cold.pdf"))


def test_unchanged_book_comes_whole_from_the_cache(book: Path) -> None:
    before = _entries(book)
    again = _build(book, "again.pdf")
    assert _entries(book) == before  # no entry written again
    assert again.read_bytes() == (book / "first.pdf").read_bytes()


def test_chapter_edit_lays_out_only_its_piece(book: Path, tmp_path: Path) -> None:
    chapter = sorted((book / "chapters").glob("*.md"))[1]
    text = chapter.read_text(encoding="utf-8")
    paragraph = next(line for line in text.splitlines() if re.match(r"[A-Z][a-z]+ ", line))  # not a heading
    word = re.search(r"\b[a-z]{6,}\b", paragraph).group(0)
    edited_paragraph = paragraph.replace(word, "Zqxjkv"[: len(word)].ljust(len(word), "q"), 1)
    chapter.write_text(text.replace(paragraph, edited_paragraph, 1), encoding="utf-8")
    before = _entries(book)
    edited = pdftotext(_build(book, "edited.pdf"))
    after = _entries(book)
    assert len(after) == 4
    assert len(after.keys() & before.keys()) == 3  # front, chapters 1 and 3 reused
    assert "Zqxjkv"[: len(word)] in edited
    assert edited == _cold(book, tmp_path)


def test_changed_image_is_drawn_again(book: Path) -> None:
    image = book / "images" / "fig-002.png"
    with Image.open(image) as old:
        size = old.size
    Image.new("RGB", size, (230, 20, 20)).save(image)  # same size: the layout cannot tell
    before = _entries(book)
    rebuilt = PdfReader(_build(book, "rebuilt.pdf"))
    after = _entries(book)
    assert after.keys() == before.keys()  # same HTML, so same names ...
    assert sum(after[key] != before[key] for key in after) == 1  # ... but one entry laid out again
    colours = [picture.image.convert("RGB").getpixel((1, 1)) for page in rebuilt.pages for picture in page.images]
    assert (230, 20, 20) in colours


def _font_programs(pdf: Path) -> set[bytes]:
    """The embedded programs of the PDF's "Book Body" fonts."""
    found = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get_object().get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and "Book-Body" in str(font["/BaseFont"]):
                    found.add(descriptor.get_object()["/FontFile2"].get_data())
    return found


def _with_a_font(tmp_path: Path) -> tuple[Path, Path]:
    """The small generated book with a ``[book] fonts`` font: its folder and the font file."""
    from test_scripts import renamed_font

    folder = generate("small", tmp_path / "small", words=SHORT_WORDS).parent
    (folder / "fonts").mkdir()
    font = folder / "fonts" / "Body.ttf"
    serif = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Serif"], capture_output=True, text=True,
                           check=True).stdout
    renamed_font(Path(serif), font, "Book Body")
    manifest = folder / "book.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("chapters = [", 'fonts = ["fonts/Body.ttf"]\nchapters = ['), encoding="utf-8")
    return folder, font


def test_no_copy_of_the_fonts_is_left_in_the_temporary_folder(tmp_path: Path) -> None:
    """WeasyPrint copies the fonts of ``@font-face`` rules into a ``weasyprint-*`` temporary
    folder, removed when the font configuration is freed, which a worker's exit never did:
    every PDF of a book with fonts left them in /tmp (33 folders after one test run). The
    command (its console script, which skips the interpreter's teardown, and ``main`` in a
    program that tears down), and a catalogue whose worker keeps a PDF worker of its own, leave
    the temporary folder as they found it, and print no traceback of WeasyPrint's own removal."""
    folder, _ = _with_a_font(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary), "BOOKBUILD_WORKERS": "2"}
    pdf = ["pdf", str(folder), "-o", str(folder / "out.pdf")]
    catalogue = ("from bookbuild.api import BuildOptions\n"
                 "from bookbuild.catalog import CatalogOptions, build_catalog\n"
                 f"report = build_catalog([{str(folder)!r}], CatalogOptions(formats=('pdf',), jobs=1,"
                 f" output_dir={str(tmp_path / 'shelf')!r}, build=BuildOptions(parallel=True)))\n"
                 "assert report.ok, report.records\n")
    programs = {"command": ["-c", "from bookbuild.cli import run; run()", *pdf, "--parallel"],
                "main, one document": ["-c", "from bookbuild.cli import main; main()", *pdf, "--single-process"],
                "catalogue": ["-c", catalogue]}
    for name, arguments in programs.items():
        shutil.rmtree(folder / ".bookbuild-cache", ignore_errors=True)  # laid out, not read from the cache
        done = subprocess.run([sys.executable, *arguments], env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, (name, done.stderr)
        assert sorted(path.name for path in temporary.iterdir()) == [], name
    assert _font_programs(folder / "out.pdf")
    assert _font_programs(next((tmp_path / "shelf").rglob("*.pdf")))


def test_changed_font_file_lays_out_every_piece_again(tmp_path: Path) -> None:
    """A worker adds a ``[book] fonts`` font once and its next pieces skip the @font-face
    rule (one font configuration a worker: pieces.py); those pieces depend on the font
    file all the same, so a new file under the same name lays out every piece again. (The
    new file differs only in its version string, which the embedded subsets keep: the same
    layout, so the same entry names, and a different font in the PDF.)"""
    from fontTools.ttLib import TTFont

    folder, font = _with_a_font(tmp_path)
    first = _build(folder, "first.pdf")
    before = _entries(folder)
    assert len(before) == 4 and _font_programs(first)
    edited = TTFont(str(font))
    edited["name"].setName("Version 9.99; edited", 5, 3, 1, 0x409)
    edited.save(str(font))
    rebuilt = _build(folder, "rebuilt.pdf")
    after = _entries(folder)
    assert after.keys() == before.keys()  # the same HTML and CSS ...
    assert all(after[key] != before[key] for key in after)  # ... but every piece laid out again
    copy = tmp_path / "cold"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".bookbuild-cache", "*.pdf"))
    assert _font_programs(rebuilt) == _font_programs(_build(copy, "cold.pdf")) != _font_programs(first)


def test_stylesheet_or_option_change_misses_every_piece(book: Path) -> None:
    manifest = book / "book.toml"
    (book / "extra.css").write_text("p { letter-spacing: 0.01em; }\n", encoding="utf-8")
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("chapters = [", 'styles = ["extra.css"]\nchapters = ['),
                        encoding="utf-8")
    first = _entries(book)
    _build(book, "styled.pdf")
    styled = _entries(book)
    assert not styled.keys() & first.keys()
    (book / "extra.css").write_text("p { letter-spacing: 0.02em; }\n", encoding="utf-8")
    _build(book, "restyled.pdf")
    restyled = _entries(book)
    assert not restyled.keys() & styled.keys()
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n[pdf]\nmargin_outer = "30mm"\n', encoding="utf-8")
    _build(book, "margins.pdf")
    assert not _entries(book).keys() & restyled.keys()


def test_tampered_entry_is_not_used(book: Path) -> None:
    folder = book / ".bookbuild-cache" / "pdf"
    for path in folder.glob("*.pdf"):
        data = path.read_bytes()
        path.write_bytes(data.replace(b"/Title", b"/Titel"))
    rebuilt = _build(book, "rebuilt.pdf")
    assert rebuilt.read_bytes() == (book / "first.pdf").read_bytes()


def test_symlinked_pdf_cache_is_never_used(book: Path, tmp_path: Path) -> None:
    folder = book / ".bookbuild-cache" / "pdf"
    outside = tmp_path / "outside"
    shutil.move(folder, outside)
    folder.symlink_to(outside, target_is_directory=True)
    before = {path.name: path.stat().st_mtime_ns for path in outside.iterdir()}
    _build(book, "again.pdf")
    assert {path.name: path.stat().st_mtime_ns for path in outside.iterdir()} == before


def test_key_changes_with_versions_and_source(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bookbuild.pipeline import build_context, load_book
    from bookbuild.config.manifest import load_manifest
    from bookbuild.render.pdf.document import pdf_source

    manifest = load_manifest(book)
    loaded = load_book(manifest, Reporter())
    options, build = manifest.pdf, build_context(manifest)
    source = pdf_source(loaded, options, only=frozenset({loaded.chapters[0].id}), front_matter=False)
    key = pdf_cache.PieceCache(build).key(source)
    assert key == pdf_cache.PieceCache(build).key(source)
    front = pdf_source(loaded, options, only=frozenset(), front_matter=True)
    numbered = pdf_source(loaded, options, only=frozenset(), front_matter=True, page_numbers={loaded.chapters[1].title_id: "9"})
    assert pdf_cache.PieceCache(build).key(numbered) != pdf_cache.PieceCache(build).key(front)
    assert pdf_cache.PieceCache(build).key(source.__class__(source.html, source.css + "/* */", source.sheets)) != key
    monkeypatch.setattr(bookbuild, "__version__", "99.0")
    assert pdf_cache.PieceCache(build).key(source) != key
    monkeypatch.undo()
    real = pdf_cache.metadata.version
    monkeypatch.setattr(pdf_cache.metadata, "version",
                        lambda name: "999" if name == "weasyprint" else real(name))
    pdf_cache.layout_fingerprint.cache_clear()
    try:
        assert pdf_cache.PieceCache(build).key(source) != key
    finally:
        monkeypatch.undo()
        pdf_cache.layout_fingerprint.cache_clear()
    assert pdf_cache.PieceCache(build).key(source) == key


def _joined_by_copy(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[bool]]:
    """Build, noting for each piece whether the join copied it object by object (True) or
    wrote its part of the file again as the memo kept it (parallel/memo.py)."""
    from bookbuild.render.pdf.parallel import join as pdf_join

    copied: list[bool] = []
    add, copy = pdf_join.Joiner.add, pdf_join.Joiner._copy

    def counted_add(self: pdf_join.Joiner, *args: object, **kwargs: object) -> None:
        copied.append(False)
        add(self, *args, **kwargs)

    def counted_copy(self: pdf_join.Joiner, *args: object) -> object:
        copied[-1] = True
        return copy(self, *args)

    with monkeypatch.context() as patch:
        patch.setattr(pdf_join.Joiner, "add", counted_add)
        patch.setattr(pdf_join.Joiner, "_copy", counted_copy)
        return _build(folder, name), copied


def test_the_join_writes_unchanged_pieces_as_it_kept_them(book: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild copies into the joined file only the pieces that changed: every other
    piece's part of the file (its objects, numbered from a base of its own) is written again
    from .bookbuild-cache/pdf-join. The file is the one a cold build makes, byte for byte."""
    memo = book / ".bookbuild-cache" / "pdf-join"
    assert len(list(memo.glob("*.chunk"))) == 4
    again, copied = _joined_by_copy(book, "again.pdf", monkeypatch)
    assert copied == [False] * 4
    assert again.read_bytes() == (book / "first.pdf").read_bytes()
    chapter = sorted((book / "chapters").glob("*.md"))[1]
    text = chapter.read_text(encoding="utf-8")
    paragraph = next(line for line in text.splitlines() if re.match(r"[A-Z][a-z]+ ", line))
    chapter.write_text(text.replace(paragraph, paragraph.replace(" ", " very ", 1), 1), encoding="utf-8")
    edited, copied = _joined_by_copy(book, "edited.pdf", monkeypatch)
    assert copied.count(True) == 1 and copied[1]  # the body in book order, then the contents
    assert len(list(memo.glob("*.chunk"))) == 4  # the old part of the edited piece is dropped
    copy = tmp_path / "cold"
    shutil.copytree(book, copy, ignore=shutil.ignore_patterns(".bookbuild-cache", "*.pdf"))
    assert edited.read_bytes() == _build(copy, "cold.pdf").read_bytes()
    assert qpdf_check(edited).returncode == 0


def test_a_damaged_or_missing_join_entry_is_not_used(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept part whose bytes were changed is a miss (its digest is checked); a font
    program that went missing makes the join start again from the pieces alone."""
    memo = book / ".bookbuild-cache" / "pdf-join"
    first = (book / "first.pdf").read_bytes()
    chunks = sorted(memo.glob("*.chunk"))
    chunks[0].write_bytes(chunks[0].read_bytes().replace(b"/Type", b"/Typo"))
    again, copied = _joined_by_copy(book, "again.pdf", monkeypatch)
    assert copied.count(True) == 1
    assert again.read_bytes() == first
    for program in memo.glob("*.font"):
        program.unlink()
    for merged in memo.glob("*.merged"):
        merged.unlink()
    again, copied = _joined_by_copy(book, "again.pdf", monkeypatch)
    assert again.read_bytes() == first
    assert copied.count(True) == 4  # every piece copied again, and kept again
    assert len(list(memo.glob("*.chunk"))) == 4 and list(memo.glob("*.font"))


def test_fonts_past_the_reserved_numbers_are_copied_per_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The merged fonts' dictionaries take numbers reserved before the first piece
    (join.FONT_SLOTS); a book with more fonts than that has the others copied with each piece
    that uses them: the same text, a valid file, and a rebuild that gives the same bytes."""
    from bookbuild.render.pdf.parallel import join as pdf_join

    folder = generate("small", tmp_path / "small", words=SHORT_WORDS).parent
    merged = _build(folder, "merged.pdf")
    monkeypatch.setattr(pdf_join, "FONT_SLOTS", 1)
    copy = tmp_path / "one-slot"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".bookbuild-cache", "*.pdf"))
    first = _build(copy, "first.pdf")
    assert qpdf_check(first).returncode == 0
    assert pdftotext(first) == pdftotext(merged)
    def font_objects(pdf: Path) -> set[int]:
        return {font.get_object().indirect_reference.idnum for page in PdfReader(pdf).pages
                for font in (page["/Resources"].get_object().get("/Font") or {}).values()}

    assert len(font_objects(first)) > len(font_objects(merged)) > 1
    assert _build(copy, "again.pdf").read_bytes() == first.read_bytes()


def test_pieces_an_edit_moves_are_joined_from_their_kept_parts(book: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit that adds pages to the first chapter moves the pieces after it: each is
    renumbered as drawn (drawn.py), and its part of the joined file is the kept part of the
    piece it came from with the changed content streams written anew (memo.renumbered_part),
    at the same object numbers (memo.JoinMemo.slots). The file reads as a cold build of the
    edited book, and is sound."""
    from bookbuild.render.pdf.parallel import memo as join_memo

    made: list[bool] = []
    renumbered = join_memo.JoinMemo.renumbered

    def counted(self: join_memo.JoinMemo, *args: object) -> object:
        part = renumbered(self, *args)
        made.append(part is not None)
        return part

    chapter = sorted((book / "chapters").glob("*.md"))[0]
    text = chapter.read_text(encoding="utf-8")
    paragraph = next(line for line in text.splitlines() if re.match(r"[A-Z][a-z]+ ", line))
    chapter.write_text(text + "\n\n" + "\n\n".join([paragraph] * 12) + "\n", encoding="utf-8")
    monkeypatch.setattr(join_memo.JoinMemo, "renumbered", counted)
    edited, copied = _joined_by_copy(book, "edited.pdf", monkeypatch)
    assert len(PdfReader(edited).pages) > len(PdfReader(book / "first.pdf").pages)  # pages were added
    assert copied[0]  # the edited chapter's piece, laid out again, is copied
    assert sum(made) >= 1 and copied.count(True) < len(copied)  # moved pieces come from their kept parts
    assert pdftotext(edited) == _cold(book, tmp_path)
    assert qpdf_check(edited).returncode == 0

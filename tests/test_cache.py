"""The parsed-chapter cache: reused only while nothing it depends on changed.

A wrong hit builds an out-of-date book without a word, so most tests here change one
input and check both that the chapter was parsed again and that the output shows it.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path

import pytest

import bookbuild
from bookbuild import cache, files
from bookbuild.sources import cache as chapter_cache
from bookbuild.api import BuildOptions, build, read_book_chapter
from bookbuild.errors import Reporter
from bookbuild.config.manifest import load_manifest
from bookbuild.sources import read_chapter
from conftest import read_pack, write_book, write_in_place, write_pack

MANIFEST = """[book]
title = "Cached Book"
authors = ["A. Writer"]
language = "en"
date = 2024-01-01
styles = ["extra.css"]
chapters = ["chapters/one.md", "chapters/two.md", "chapters/three.md"]
"""
PNG_RED = bytes.fromhex(  # one red pixel, every chunk with its right CRC (images.py reads them all)
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")
PNG_BLUE = bytes.fromhex(  # the same, blue: other bytes, as valid
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c636060f80f00010301000889c2ec0000000049454e44ae426082")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = write_book(tmp_path / "book", MANIFEST, {
        "chapters/one.md": "# One\n\nFirst words.[^a]\n\n[^a]: A note.\n",
        "chapters/two.md": "# Two\n\n![A red dot](../images/dot.png)\n\nSee [one](one.md#one).\n",
        "chapters/three.md": "# Three\n\nLast words.\n",
        "extra.css": "p { color: black; }\n",
    })
    (folder / "images").mkdir()
    (folder / "images" / "dot.png").write_bytes(PNG_RED)
    return folder


class CountingReader:
    """The real reader, remembering which chapters it had to parse."""

    def __init__(self) -> None:
        self.parsed: list[str] = []

    def __call__(self, entry, index, reporter, manifest):  # noqa: ANN001, ANN204 - the ChapterReader signature
        self.parsed.append(entry.path.name)
        return read_book_chapter(entry, index, reporter, manifest)


def parsed_names(folder: Path, options: BuildOptions | None = None) -> list[str]:
    """Which chapters a load of the book parses (rather than takes from the cache)."""
    manifest = load_manifest(folder, None, (options or BuildOptions()).overrides)
    reader = CountingReader()
    store = chapter_cache.ChapterCache(manifest)
    for index, entry in enumerate(manifest.chapters, start=1):
        store.get(entry, index, Reporter(), reader)
    store.save()
    return reader.parsed


def epub_text(folder: Path, name: str = "out.epub", **options: object) -> dict[str, bytes]:
    path = folder.parent / name
    build(folder, ["epub"], output=path, options=BuildOptions(**options))  # type: ignore[arg-type]
    with zipfile.ZipFile(path) as archive:
        return {entry: archive.read(entry) for entry in archive.namelist()}


ALL = ["one.md", "two.md", "three.md"]


def test_unchanged_book_is_not_parsed_again(book: Path) -> None:
    assert parsed_names(book) == ALL
    assert parsed_names(book) == []
    assert len(read_pack(book / ".bookbuild-cache" / "chapters.pack")) == 3


def test_cached_build_is_byte_identical_to_an_uncached_one(book: Path) -> None:
    uncached = epub_text(book, "a.epub", cache=False)
    assert not (book / ".bookbuild-cache").exists()
    epub_text(book, "b.epub")  # fills the cache
    assert parsed_names(book) == []
    assert epub_text(book, "c.epub") == uncached


def test_chapter_edit_reparses_that_chapter_only(book: Path) -> None:
    parsed_names(book)
    (book / "chapters" / "three.md").write_text("# Three\n\nChanged words.\n", encoding="utf-8")
    assert parsed_names(book) == ["three.md"]
    assert b"Changed words." in epub_text(book)["EPUB/ch03.xhtml"]


def test_image_change_reparses_the_chapter_showing_it(book: Path) -> None:
    parsed_names(book)
    changed = PNG_BLUE
    (book / "images" / "dot.png").write_bytes(changed)
    assert parsed_names(book) == ["two.md"]
    (book / "images" / "dot.png").unlink()
    assert parsed_names(book) == ["two.md"]  # a vanished image is a change too


def test_css_change_reparses_everything(book: Path) -> None:
    parsed_names(book)
    (book / "extra.css").write_text("p { color: navy; }\n", encoding="utf-8")
    assert parsed_names(book) == ALL
    assert b"navy" in epub_text(book)["EPUB/styles/book-1.css"]


def test_shared_stylesheet_change_reparses_everything(book: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_names(book)
    styles = tmp_path / "styles"
    styles.mkdir()
    for name in cache.SHARED_SHEETS:
        (styles / name).write_text("/* another shared sheet */\n", encoding="utf-8")
    monkeypatch.setattr(cache, "stylesheet", lambda name: styles / name)
    assert parsed_names(book) == ALL


def test_option_change_reparses_everything(book: Path) -> None:
    parsed_names(book)
    assert parsed_names(book, BuildOptions(page_size="Letter")) == ALL
    assert parsed_names(book, BuildOptions(page_size="Letter")) == []


def test_metadata_change_reparses_everything(book: Path) -> None:
    parsed_names(book)
    manifest = book / "book.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"en"', '"fr"'), encoding="utf-8")
    assert parsed_names(book) == ALL


def test_version_change_reparses_everything(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_names(book)
    monkeypatch.setattr(bookbuild, "__version__", "99.0.0")
    assert parsed_names(book) == ALL


def test_code_change_reparses_everything(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_names(book)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "bookbuild edited by a developer")
    assert parsed_names(book) == ALL


def test_code_fingerprint_covers_the_readers() -> None:
    """The fingerprint hashes the package's sources, so an edit to a reader changes it."""
    sources = {path.name for path in cache.PACKAGE_DIR.rglob("*.py")}
    assert {"markdown.py", "xhtml.py", "cache.py", "model.py"} <= sources
    assert len(cache.code_fingerprint()) == 64


def test_code_fingerprint_is_kept_while_the_files_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fingerprint is kept in the user's cache folder beside the files' identities, and
    made again from the files' bytes when any identity changes, or the kept one is damaged."""
    package = tmp_path / "package"
    (package / "templates").mkdir(parents=True)
    (package / "reader.py").write_text("x = 1\n", encoding="utf-8")
    (package / "templates" / "page.html").write_text("<p>{{ x }}</p>\n", encoding="utf-8")
    monkeypatch.setattr(cache, "PACKAGE_DIR", package)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "bookbuild").mkdir(parents=True)
    kept = tmp_path / "home" / "bookbuild" / "code-fingerprint"
    fingerprint = cache.code_fingerprint.__wrapped__  # not the process's remembered one

    first = fingerprint()
    assert not kept.exists()  # files written just now are "racy": nothing kept yet
    monkeypatch.setattr(files, "RACY_NS", 0)
    assert fingerprint() == first and kept.read_text().split()[1] == first
    state = kept.read_text().split()[0]
    kept.write_text(f"{state} {'0' * 64}\n")
    assert fingerprint() == "0" * 64  # what is kept is what is used while nothing changed

    (package / "reader.py").write_text("x = 2\n", encoding="utf-8")  # same size
    os.utime(package / "reader.py", ns=(10**18, 10**18))
    second = fingerprint()
    assert second not in (first, "0" * 64)
    kept.write_text("damaged")
    assert fingerprint() == second
    (package / "templates" / "page.html").unlink()
    assert fingerprint() not in (first, second)


def test_reordering_and_retitling_chapters_reparses_them(book: Path) -> None:
    parsed_names(book)
    manifest = book / "book.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"chapters/one.md", "chapters/two.md"', '"chapters/two.md", "chapters/one.md"'),
                        encoding="utf-8")
    assert sorted(parsed_names(book)) == ["one.md", "two.md"]
    manifest.write_text(text.replace('"chapters/three.md"', '{ file = "chapters/three.md", title = "Third" }'),
                        encoding="utf-8")
    assert "three.md" in parsed_names(book)
    assert b"Third" in epub_text(book)["EPUB/ch03.xhtml"]


def test_damaged_or_foreign_entries_are_misses(book: Path) -> None:
    parsed_names(book)
    pack = book / ".bookbuild-cache" / "chapters.pack"
    entries = read_pack(pack)
    names = sorted(entries)
    assert len(names) == 3
    entries[names[0]] = b"{not json"
    data = json.loads(entries[names[1]])
    data["chapter"]["__type__"] = "os.system"
    entries[names[1]] = json.dumps(data).encode()
    data = json.loads(entries[names[2]])
    data["key"] = "0" * 64  # an entry copied under another chapter's name
    entries[names[2]] = json.dumps(data).encode()
    write_pack(pack, entries)
    assert sorted(parsed_names(book)) == sorted(ALL)
    assert parsed_names(book) == []
    raw = pack.read_bytes()
    for damaged in (raw[:-10], raw.replace(b"bookbuild-pack 1", b"bookbuild-pack 9"), raw + b"x 99\nshort"):
        write_in_place(pack, damaged)  # cut short, another format, an entry longer than the file: all misses
        assert sorted(parsed_names(book)) == sorted(ALL)


def test_unused_entries_are_pruned(book: Path) -> None:
    parsed_names(book)
    (book / "chapters" / "one.md").write_text("# One\n\nNew.\n", encoding="utf-8")
    parsed_names(book)
    assert len(read_pack(book / ".bookbuild-cache" / "chapters.pack")) == 3


def test_read_only_book_folder_still_builds(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(target: Path, data: bytes) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(cache, "write_atomically", refuse)
    assert parsed_names(book) == ALL
    assert b"Last words." in epub_text(book)["EPUB/ch03.xhtml"]


def test_round_trip_keeps_every_field(book: Path) -> None:
    manifest = load_manifest(book)
    for index, entry in enumerate(manifest.chapters, start=1):
        chapter = read_chapter(entry, index)
        assert chapter_cache.loads(json.dumps(chapter_cache.encode(chapter))) == chapter


def test_epub_zip_is_plain_reproducible_and_survives_a_damaged_deflate_cache(book: Path) -> None:
    first = epub_text(book, "a.epub")
    raw_first = (book.parent / "a.epub").read_bytes()
    pack = book / ".bookbuild-cache" / "deflate.pack"
    streams = read_pack(pack)
    names = sorted(streams)
    assert names
    for name in names[: len(names) // 2]:
        streams[name] = b"\x00garbage" + streams[name][8:]
    for name in names[len(names) // 2:]:  # the tag kept, another stream: "<p>forged</p>"
        streams[name] = streams[name][:32] + zlib.compress(b"<p>forged</p>")[2:-4]
    write_pack(pack, streams)
    assert epub_text(book, "b.epub") == first
    assert (book.parent / "b.epub").read_bytes() == raw_first
    with zipfile.ZipFile(book.parent / "b.epub") as archive:
        assert archive.testzip() is None
        info = archive.infolist()
        assert info[0].filename == "mimetype" and info[0].compress_type == zipfile.ZIP_STORED
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in info[1:])  # the PNG too: see the next test
        assert len({i.date_time for i in info}) == 1  # one fixed timestamp: reproducible


def test_photographs_are_stored_as_they_are_and_everything_else_deflated(book: Path) -> None:
    """A JPEG gains nothing from deflating (container.stored): kept as it is, as the mimetype;
    a PNG (deflated row by row) and the documents are deflated, and the EPUB is valid."""
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.effect_noise((320, 200), 50).convert("RGB").save(photo, format="JPEG", quality=90)
    (book / "images" / "photo.jpg").write_bytes(photo.getvalue())
    (book / "chapters" / "three.md").write_text("# Three\n\n![A photograph](../images/photo.jpg)\n", encoding="utf-8")
    members = epub_text(book, "photo.epub")
    with zipfile.ZipFile(book.parent / "photo.epub") as archive:
        kinds = {i.filename: i.compress_type for i in archive.infolist()}
    (jpeg,) = [name for name in kinds if name.endswith("photo.jpg")]
    (png,) = [name for name in kinds if name.endswith("dot.png")]
    assert members[jpeg] == photo.getvalue()
    assert {name for name, kind in kinds.items() if kind == zipfile.ZIP_STORED} == {"mimetype", jpeg}
    assert kinds[png] == kinds["EPUB/images/cover.png"] == zipfile.ZIP_DEFLATED


def test_a_cached_chapter_gives_the_warnings_it_gave_when_parsed(book: Path) -> None:
    (book / "chapters" / "two.md").write_text("# Two\n\nA bell\x07 rings.\n\n<blink>old</blink>\n", encoding="utf-8")
    first, second = Reporter(), Reporter()
    build(book, ["epub"], output=book.parent / "a.epub", reporter=first)
    assert parsed_names(book) == []  # the next load takes every chapter from the cache
    build(book, ["epub"], output=book.parent / "b.epub", reporter=second)
    assert [d.format() for d in first.warnings] == [d.format() for d in second.warnings]
    assert any("control character U+0007" in d.message for d in second.warnings)
    assert any("<blink>" in d.message for d in second.warnings)


def test_a_chapter_with_includes_is_parsed_every_time(book: Path) -> None:
    (book / "chapters" / "listing.txt").write_text("first version\n", encoding="utf-8")
    (book / "chapters" / "two.md").write_text("# Two\n\n```\n{{#include listing.txt}}\n```\n", encoding="utf-8")
    assert "first version" in epub_text(book)["EPUB/ch02.xhtml"].decode()
    (book / "chapters" / "listing.txt").write_text("second version\n", encoding="utf-8")
    assert "second version" in epub_text(book, "again.epub")["EPUB/ch02.xhtml"].decode()
    assert "two.md" in parsed_names(book)


def test_a_cache_folder_that_is_a_symlink_is_never_used(book: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (book / ".bookbuild-cache").symlink_to(elsewhere, target_is_directory=True)
    assert parsed_names(book) == ALL
    assert b"Last words." in epub_text(book)["EPUB/ch03.xhtml"]
    assert parsed_names(book) == ALL  # no caching at all
    assert list(elsewhere.iterdir()) == []  # nothing written through the link


def test_no_cache_subfolder_that_is_a_symlink_is_written_through(book: Path, tmp_path: Path) -> None:
    """Every folder and pack a build makes in .bookbuild-cache (found by building, so a new kind
    of entry is covered too), swapped for a link to elsewhere, as a shipped book might: nothing
    is written through it, and a linked pack is not read."""
    import shutil

    first = epub_text(book)
    cache_folder = book / ".bookbuild-cache"
    kinds = sorted(path.name for path in cache_folder.iterdir())
    assert {"chapters.pack", "deflate.pack", "epub.pack", "transforms.pack", "words"} <= set(kinds)
    folders = {kind for kind in kinds if (cache_folder / kind).is_dir()}
    packs = {kind: read_pack(cache_folder / kind) for kind in kinds if kind.endswith(".pack")}
    for kind in kinds:
        linked = cache_folder / kind
        folder = kind in folders
        planted = packs.get(kind)
        shutil.rmtree(cache_folder)
        cache_folder.mkdir()
        elsewhere = tmp_path / f"elsewhere-{kind}"
        if folder:
            elsewhere.mkdir()
        elif planted is not None:  # the entries of the book's own pack: what a hit would take
            write_pack(elsewhere, {name: data.replace(b"Last words.", b"FORGED") for name, data in planted.items()})
        else:
            elsewhere.write_bytes(b"someone else's file")
        before = sorted(elsewhere.iterdir()) if folder else elsewhere.read_bytes()
        linked.symlink_to(elsewhere, target_is_directory=folder)
        assert epub_text(book, f"{kind}.epub") == first, kind
        assert (sorted(elsewhere.iterdir()) if folder else elsewhere.read_bytes()) == before, kind


@pytest.mark.parametrize("kind", ["chapters", "deflate"])
def test_a_folder_where_a_pack_goes_turns_the_cache_off(book: Path, kind: str) -> None:
    """A shipped book's ``.bookbuild-cache/chapters.pack/``: no cache, and no error either."""
    (book / ".bookbuild-cache" / f"{kind}.pack").mkdir(parents=True)
    assert parsed_names(book) == ALL
    assert b"Last words." in epub_text(book)["EPUB/ch03.xhtml"]
    assert parsed_names(book) == ALL
    assert sorted(path.name for path in (book / ".bookbuild-cache").iterdir()) == [f"{kind}.pack"]


def test_the_folders_of_a_cache_from_before_the_packs_are_removed(book: Path, tmp_path: Path) -> None:
    """A cache an older bookbuild made kept each entry in a file of a folder: nothing reads
    them now, so a build removes them; a link in a folder's place is left, and what it points
    to untouched."""
    from bookbuild.cache import PACKS as BEFORE_PACKS  # the kinds of the packs, kept in folders before

    cache_folder = book / ".bookbuild-cache"
    for name in BEFORE_PACKS[1:]:
        (cache_folder / name).mkdir(parents=True)
        (cache_folder / name / "0123abcd.json").write_text("{}", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.json").write_text("{}", encoding="utf-8")
    (cache_folder / BEFORE_PACKS[0]).symlink_to(elsewhere, target_is_directory=True)
    assert b"Last words." in epub_text(book)["EPUB/ch03.xhtml"]
    assert not any((cache_folder / name).exists() for name in BEFORE_PACKS[1:])
    assert (cache_folder / BEFORE_PACKS[0]).is_symlink() and (elsewhere / "keep.json").is_file()
    assert (cache_folder / "chapters.pack").is_file()


def test_a_pack_is_only_of_a_kind_the_cache_folder_check_knows(tmp_path: Path) -> None:
    """cache.cache_dir refuses a cache whose pack places hold a folder or a link: a pack of
    another kind would escape that check, so none can be made."""
    from bookbuild.cache.packs import EntryPack

    assert EntryPack(tmp_path, "chapters").path == tmp_path / "chapters.pack"
    with pytest.raises(ValueError):
        EntryPack(tmp_path, "pictures")


def test_an_entry_made_with_another_secret_is_never_used(book: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A book may ship a forged .bookbuild-cache: its entries must not bypass the HTML cleaning."""
    def use_secret(name: str) -> None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / name))
        cache.cache_secret.cache_clear()

    use_secret("author")
    epub_text(book)
    pack = book / ".bookbuild-cache" / "chapters.pack"  # the forger edits every entry
    write_pack(pack, {name: data.replace(b"Last words.", b"FORGED") for name, data in read_pack(pack).items()})
    assert b"FORGED" in epub_text(book, "same.epub")["EPUB/ch03.xhtml"]  # same secret: the entry is used
    use_secret("victim")
    assert b"FORGED" not in epub_text(book, "victim.epub")["EPUB/ch03.xhtml"]
    assert b"Last words." in epub_text(book, "victim2.epub")["EPUB/ch03.xhtml"]
    cache.cache_secret.cache_clear()


def _truncated_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((64, 64), 60).save(out, format="PNG")
    return out.getvalue()[:400]


def _decodes(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Reporter]:
    """How many images the build decoded to check them, and its warnings."""
    from bookbuild.sources import images

    calls = []
    real = images._decode
    monkeypatch.setattr(images, "_decode", lambda data, expected: calls.append(expected) or real(data, expected))
    reporter = Reporter()
    build(folder, ["epub"], output_dir=folder / "dist", reporter=reporter)
    monkeypatch.setattr(images, "_decode", real)
    return len(calls), reporter


def test_an_image_checked_before_is_not_decoded_again(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _decodes(book, monkeypatch)[0] == 1
    assert _decodes(book, monkeypatch)[0] == 0  # same bytes, same code: remembered
    (book / "images" / "dot.png").write_bytes(_truncated_png())  # damaged: other bytes, checked again
    count, reporter = _decodes(book, monkeypatch)
    assert count == 1
    assert any("damaged or truncated" in w.message for w in reporter.warnings)
    # The transforms' memo replays the warning while nothing changed (the bytes are in its key);
    # once the chapter showing the image is edited, the image is checked again: a failed check
    # is never remembered by the image checks.
    chapter = book / "chapters" / "two.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    count, reporter = _decodes(book, monkeypatch)
    assert count == 1
    assert any("damaged or truncated" in w.message for w in reporter.warnings)


def test_a_remembered_check_cannot_be_forged(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """images.json shipped with a book names images by keyed hashes; plain hashes of a bad
    image (all a stranger can compute) do not let it through."""
    import hashlib

    bad = _truncated_png()
    (book / "images" / "dot.png").write_bytes(bad)
    folder = book / ".bookbuild-cache"
    folder.mkdir()
    plain = [hashlib.sha256(bad).hexdigest(), hashlib.sha256(b".png" + bad).hexdigest()]
    (folder / "images.json").write_text(json.dumps({"format": cache.FORMAT, "checked": plain}), encoding="utf-8")
    count, reporter = _decodes(book, monkeypatch)
    assert count == 1
    assert any("damaged or truncated" in w.message for w in reporter.warnings)


def test_highlighted_code_blocks_are_kept_per_chapter(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chapter parsed again highlights only its new or changed blocks: compiling a lexer's
    rules cost a one-chapter rebuild more than the rest of the parse."""
    from bookbuild.sources import code

    chapter = book / "chapters" / "three.md"
    chapter.write_text("# Three\n\n```python\nx = 1\n```\n\n```rust\nfn main() {}\n```\n", encoding="utf-8")
    highlighted: list[str] = []
    real = code.highlight
    monkeypatch.setattr(code, "highlight", lambda c, lang, n=False: highlighted.append(c) or real(c, lang, n))
    first = epub_text(book)
    assert highlighted == ["x = 1\n", "fn main() {}\n"]
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("x = 1", "x = 2") + "\nMore.\n", encoding="utf-8")
    highlighted.clear()
    second = epub_text(book, "second.epub")
    assert highlighted == ["x = 2\n"]  # the Rust block came from the kept ones
    assert second["EPUB/ch03.xhtml"] == epub_text(book, "scratch.epub", cache=False)["EPUB/ch03.xhtml"]
    assert b'<span class="mi">2</span>' in second["EPUB/ch03.xhtml"] and b"fn" in second["EPUB/ch03.xhtml"]
    assert first["EPUB/ch03.xhtml"] != second["EPUB/ch03.xhtml"]
    kept = list(read_pack(book / ".bookbuild-cache" / "code.pack").values())
    assert len(kept) == 1 and len(json.loads(kept[0])) == 2  # the old block is forgotten
    (book / "book.toml").write_text(MANIFEST.replace(', "chapters/three.md"', ""), encoding="utf-8")
    epub_text(book, "third.epub")
    assert read_pack(book / ".bookbuild-cache" / "code.pack") == {}  # not a chapter any more


def test_replayed_parse_warnings_name_files_from_the_working_folder(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (book / "chapters" / "three.md").write_text("# Three\n\n<script>alert(1)</script>\n\nText.\n", encoding="utf-8")

    def warned_files() -> set[str]:
        reporter = Reporter()
        build(book, ["epub"], output=book.parent / "out.epub", reporter=reporter)
        return {d.location.file for d in reporter.warnings if "script" in d.message}

    monkeypatch.chdir(book.parent)
    assert warned_files() == {"book/chapters/three.md"}
    monkeypatch.chdir(book)
    assert warned_files() == {"chapters/three.md"}


def test_a_running_process_decodes_an_entry_once_while_its_bytes_stay(
        book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview and build --watch rebuild in one process: an entry read or written there is
    not decoded again while its file holds the same bytes (a changed or removed file is read
    as any other), and its images are checked on every use all the same."""
    decoded: list[str] = []
    real_loads = chapter_cache.loads
    monkeypatch.setattr(chapter_cache, "loads", lambda text: decoded.append(text) or real_loads(text))
    assert parsed_names(book) == ALL
    assert parsed_names(book) == [] and decoded == []  # written by this process: nothing decoded
    pack = book / ".bookbuild-cache" / "chapters.pack"
    entries = read_pack(pack)
    first = sorted(entries)[0]
    entries[first] = json.dumps(json.loads(entries[first]), indent=1).encode()  # the same entry, other bytes
    write_pack(pack, entries)
    assert parsed_names(book) == [] and len(decoded) == 1
    assert parsed_names(book) == [] and len(decoded) == 1
    (book / "images" / "dot.png").write_bytes(PNG_BLUE)
    assert parsed_names(book) == ["two.md"]  # the remembered entry's image changed: a miss
    pack.unlink()
    assert sorted(parsed_names(book)) == sorted(ALL)  # the pack is gone: so are the hits


def test_deflating_started_early_gives_the_same_streams_and_threads_only_what_is_not_kept(tmp_path: Path) -> None:
    """render/epub/container.py: a member handed to DeflateCache.start is deflated on a thread
    while the build goes on, and comes back as the stream deflate would make; one whose stream
    the cache keeps already is left to be read (no thread); small ones are not started."""
    import zlib

    from bookbuild.render.epub.container import DeflateCache

    members = [bytes(f"<p>chapter {n} ", "ascii") * 2000 for n in range(6)]
    plain = [zlib.compress(data, 6, -15) for data in members]  # the stream, as the zip reads it
    first = DeflateCache(tmp_path)
    for data in members:
        first.start(data)
    assert first.pool is not None and len(first.started) == len(members)
    assert [first.deflate(data) for data in members] == plain
    first.close()
    first.save()
    again = DeflateCache(tmp_path)
    for data in members:
        again.start(data)
    again.start(b"small")
    assert again.pool is None and again.started == {}
    assert [again.deflate(data) for data in members] == plain


WORDS_PROBE = """
import json, sys
from pathlib import Path
from bookbuild.api import build
build(Path(sys.argv[1]), ["epub"], output=Path(sys.argv[2]))
print(json.dumps("babel" in sys.modules))
"""


def test_a_rebuild_takes_the_title_page_words_from_the_cache(book: Path, tmp_path: Path) -> None:
    """The title page's date and list separator come from Babel once, then from the book's
    cache: a rebuild as a new command does not import Babel. A damaged entry means Babel again."""
    import subprocess
    import sys

    def build_in_a_new_process(name: str) -> tuple[bool, str]:
        output = tmp_path / name
        done = subprocess.run([sys.executable, "-c", WORDS_PROBE, str(book), str(output)],
                              capture_output=True, text=True, check=True)
        with zipfile.ZipFile(output) as archive:
            page = archive.read("EPUB/titlepage.xhtml").decode("utf-8")
        return json.loads(done.stdout.strip().splitlines()[-1]), page

    used_babel, first = build_in_a_new_process("one.epub")
    assert used_babel and "January 1, 2024" in first
    used_babel, second = build_in_a_new_process("two.epub")
    assert not used_babel and second == first
    (entry,) = (book / ".bookbuild-cache" / "words").iterdir()
    entry.write_bytes(b"not JSON")
    used_babel, third = build_in_a_new_process("three.epub")
    assert used_babel and third == first


def test_a_rebuild_in_the_same_process_shows_a_new_heading_in_the_ncx_and_nav(book: Path) -> None:
    """The NCX is made again only when the contents change (render/epub _NCX): a retitled
    chapter and a new section appear in it, and in nav.xhtml, on the next build in this process."""
    before = epub_text(book)
    assert b">Three<" in before["EPUB/toc.ncx"]
    (book / "chapters" / "three.md").write_text("# Third and last\n\nLast words.\n\n## A new section\n\nMore.\n",
                                                encoding="utf-8")
    after = epub_text(book)
    ncx = after["EPUB/toc.ncx"].decode("utf-8")
    assert ">Third and last<" in ncx and ">A new section<" in ncx and ">Three<" not in ncx
    assert "A new section" in after["EPUB/nav.xhtml"].decode("utf-8")
    (book / "chapters" / "three.md").write_text("# Three\n\nLast words.\n", encoding="utf-8")
    assert epub_text(book)["EPUB/toc.ncx"] == before["EPUB/toc.ncx"]


def test_an_entry_read_again_in_a_running_process_is_read_only_when_its_file_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cache.read_entry hands back the bytes it read while the file's identity is the same:
    a rename over it, an edit in place, a link put in its place are all seen."""
    import time

    monkeypatch.setattr(files, "RACY_NS", 0)  # the files here were all written just now
    entry = tmp_path / "entry.json"
    entry.write_bytes(b'{"a": 1}')
    first = cache.read_entry(entry)
    assert first == b'{"a": 1}' and cache.read_entry(entry) is first  # not read again
    replacement = tmp_path / "new.json"
    replacement.write_bytes(b'{"a": 2}')
    os.replace(replacement, entry)
    assert cache.read_entry(entry) == b'{"a": 2}'
    time.sleep(0.05)
    with open(entry, "r+b") as stream:  # the same size, in place
        stream.write(b'{"a": 3}')
    assert cache.read_entry(entry) == b'{"a": 3}'
    entry.unlink()
    entry.symlink_to(replacement.parent / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_bytes(b'{"a": 4}')
    assert cache.read_entry(entry) is None
    entry.unlink()
    assert cache.read_entry(entry) is None


def test_an_entry_changed_just_before_it_was_read_is_read_again(tmp_path: Path) -> None:
    """Within the file system clock's tick an edit could keep the identity: such an entry is
    not remembered."""
    entry = tmp_path / "entry.json"
    entry.write_bytes(b"fresh")
    first = cache.read_entry(entry)
    assert first == b"fresh" and cache.read_entry(entry) is not first


def test_a_running_process_sees_the_edit_of_a_chapter_it_knows(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sources.cache.source_facts remembers a settled chapter file's digest by its identity:
    an edit of the same size, in place, is still seen."""
    import time

    monkeypatch.setattr(files, "RACY_NS", 0)  # the book's files were all written just now
    assert parsed_names(book) == ALL
    assert parsed_names(book) == []
    chapter = book / "chapters" / "three.md"
    text = chapter.read_text(encoding="utf-8")
    time.sleep(0.05)
    chapter.write_text(text.replace("Last words.", "Lost words."), encoding="utf-8")
    assert parsed_names(book) == ["three.md"]
    assert b"Lost words." in epub_text(book)["EPUB/ch03.xhtml"]


def test_an_image_digest_is_remembered_only_once_its_file_has_settled(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """cache.remembered_digest keeps a digest by file identity only when the file had not
    changed in the moments before it was read: an edit within the same clock tick is seen."""
    image = tmp_path / "dot.png"
    image.write_bytes(PNG_RED)
    remembered = [key for key in cache._DIGESTS if key[0] == str(image)]
    assert cache.remembered_digest(image, tmp_path) is not None
    assert [key for key in cache._DIGESTS if key[0] == str(image)] == remembered == []  # just written
    monkeypatch.setattr(files, "RACY_NS", 0)
    digest = cache.remembered_digest(image, tmp_path)
    assert [key[0] for key in cache._DIGESTS if key[0] == str(image)] == [str(image)]
    assert cache.remembered_digest(image, tmp_path) == digest


def test_a_pdf_rebuild_takes_the_title_page_words_from_the_cache_too(book: Path, tmp_path: Path) -> None:
    """The words are the same for both formats: a PDF built in a new process after the first
    does not import Babel either, and prints the same date."""
    import subprocess
    import sys

    probe = WORDS_PROBE.replace('["epub"]', '["pdf"]')
    for name, babel in (("one.pdf", True), ("two.pdf", False)):
        done = subprocess.run([sys.executable, "-c", probe, str(book), str(tmp_path / name)],
                              capture_output=True, text=True, check=True)
        assert json.loads(done.stdout.strip().splitlines()[-1]) is babel
    from pypdf import PdfReader

    assert "January 1, 2024" in "".join(page.extract_text() for page in PdfReader(tmp_path / "two.pdf").pages)


def test_a_pack_this_process_wrote_is_not_read_again_until_it_changes(book: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """cache/packs.py: a running process (build --watch) keeps the entries of the packs it wrote,
    by the file's identity; a pack another program changed is read again, and a damaged one is
    all misses, as in a new process."""
    from bookbuild.cache import packs

    read: list[str] = []
    parse = packs._parse
    monkeypatch.setattr(packs, "_parse", lambda path: read.append(path.name) or parse(path))
    epub_text(book)
    (book / "chapters" / "three.md").write_text("# Three\n\nOther words.\n", encoding="utf-8")
    read.clear()
    assert b"Other words." in epub_text(book, "again.epub")["EPUB/ch03.xhtml"]
    assert "chapters.pack" not in read and "transforms.pack" not in read, read  # written by this process
    pack = book / ".bookbuild-cache" / "chapters.pack"
    raw = pack.read_bytes()
    write_in_place(pack, raw.replace(b"bookbuild-pack 1", b"bookbuild-pack 9"))  # the same size, damaged
    assert sorted(parsed_names(book)) == sorted(ALL)
    assert "chapters.pack" in read

"""The cold EPUB build's shortcuts (issue 30) change how fast the book is made, never what is made.

Each shortcut is checked against the long way round: lexers compiled before the workers fork,
cache misses answered without a refusal message, cache entries written under a name of this
process's own, deflated members kept and reused, elements with only harmless
attributes passed by the cleaner at a glance.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import zipfile
from pathlib import Path

import pytest

from bookbuild import cache, files
from bookbuild.api import BuildOptions, build
from bookbuild.cache.packs import EntryPack
from bookbuild.config.manifest import load_manifest
from bookbuild.errors import Diagnostic, Location, Reporter
from bookbuild.render.epub import container
from bookbuild.sources import code, pool
from bookbuild.sources.sanitise import html_to_fragment
from conftest import read_pack, write_book

PNG_RED = bytes.fromhex(  # one red pixel, every chunk with its right CRC (images.py reads them all)
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


def code_book(folder: Path, count: int) -> Path:
    """``count`` chapters with Python, Rust and unnamed fences and an image; C in the first
    chapter only; and an HTML chapter."""
    names = [f"c{n:02d}.md" for n in range(1, count + 1)]
    manifest = ('[book]\ntitle = "Code"\nauthors = ["A"]\nlanguage = "en"\ndate = 2024-01-01\nchapters = ['
                + ", ".join(f'"{name}"' for name in [*names, "page.html"]) + "]\n")
    texts = {name: (f"# Chapter {n}\n\nSome *text* {n}.\n\n```python\ndef f(x):\n    return x + {n}\n```\n\n"
                    f"~~~ {{.rust linenos}}\nfn main() {{ let x = {n}; }}\n~~~\n\n```\nplain\n```\n\n"
                    "![A red dot](images/dot.png)\n")
             for n, name in enumerate(names, start=1)}
    texts[names[0]] += "\n```c\nint main(void) { return 0; }\n```\n"  # a language of one chapter only
    texts["page.html"] = "<h1>Page</h1>\n<pre><code>```javascript\nnot a fence here\n```</code></pre>\n"
    folder = write_book(folder, manifest, texts)
    (folder / "images").mkdir()
    (folder / "images" / "dot.png").write_bytes(PNG_RED)
    return folder


def test_warm_up_compiles_the_lexers_the_fences_name_and_only_those(tmp_path: Path) -> None:
    manifest = load_manifest(code_book(tmp_path / "book", 3))
    code._lexer.cache_clear()
    pool.warm_up(manifest, list(manifest.chapters), EntryPack(None, "code"))
    # python and rust, in every chapter; not c, which one worker alone needs, nor the HTML chapter's text
    assert code._lexer.cache_info().currsize == 2
    hits = code._lexer.cache_info().hits
    assert code._lexer("python") is not None and code._lexer("rust") is not None
    assert code._lexer.cache_info().hits == hits + 2  # the workers find them compiled


def test_warm_up_skips_chapters_whose_highlighted_blocks_are_kept(tmp_path: Path) -> None:
    folder = code_book(tmp_path / "book", 3)
    build(folder, ["epub"], output=tmp_path / "a.epub")  # keeps the blocks in .bookbuild-cache/code.pack
    manifest = load_manifest(folder)
    kept = cache.cache_dir(manifest)
    if kept is None:
        pytest.skip("no cache secret for this user: nothing is kept")
    assert len(read_pack(kept / "code.pack")) == 3  # every chapter's blocks, those the workers made too
    code._lexer.cache_clear()
    pool.warm_up(manifest, list(manifest.chapters), EntryPack(kept, "code"))
    assert code._lexer.cache_info().currsize == 0


def test_a_parallel_cold_build_with_code_and_images_equals_the_serial_one(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the build never starts worker processes")
    book = code_book(tmp_path / "book", pool.PARALLEL_FROM + 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    made = {}
    for workers in ("1", ""):
        monkeypatch.setenv("BOOKBUILD_WORKERS", workers)
        code._lexer.cache_clear()
        out = tmp_path / f"workers-{workers or 'all'}.epub"
        reporter = Reporter()
        build(book, ["epub"], output=out, options=BuildOptions(cache=False), reporter=reporter)
        made[workers] = (out.read_bytes(), [d.format() for d in reporter.diagnostics])
    assert made["1"] == made[""]
    with zipfile.ZipFile(tmp_path / "workers-all.epub") as epub:
        chapter = epub.read("EPUB/ch13.xhtml").decode()
    assert '<code class="language-python">' in chapter and '<span class="k">def</span>' in chapter
    assert '<span class="linenos" aria-hidden="true">1</span>' in chapter  # the Rust block's numbers


def test_the_workers_code_blocks_reach_the_code_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chapters parsed in worker processes hand their highlighted blocks back: the one pack the
    build writes holds every Markdown chapter's, and a rebuild after one edit highlights only
    the edited chapter's changed block, to the same bytes as a build without a cache."""
    if (os.cpu_count() or 1) < 2 or cache.cache_secret() is None:
        pytest.skip("one core, or no cache secret: no workers, or nothing kept")
    book = code_book(tmp_path / "book", pool.PARALLEL_FROM + 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(book, ["epub"], output=tmp_path / "a.epub")
    kept = read_pack(book / ".bookbuild-cache" / "code.pack")
    assert len(kept) == pool.PARALLEL_FROM + 1  # the HTML chapter has none
    assert all(len(json.loads(blocks)) in (3, 4) for blocks in kept.values())  # python, rust, plain (and c)
    chapter = sorted((book).glob("*.md"))[-1]
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("let x =", "let y ="), encoding="utf-8")
    highlighted: list[str] = []
    real = code.highlight
    monkeypatch.setattr(code, "highlight", lambda c, lang, n=False: highlighted.append(c) or real(c, lang, n))
    build(book, ["epub"], output=tmp_path / "b.epub")
    assert len(highlighted) == 1 and "let y =" in highlighted[0]
    monkeypatch.setattr(code, "highlight", real)
    build(book, ["epub"], output=tmp_path / "c.epub", options=BuildOptions(cache=False))
    assert (tmp_path / "b.epub").read_bytes() == (tmp_path / "c.epub").read_bytes()


def test_a_cache_miss_is_none_without_a_refusal_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_message(path: Path) -> str:
        raise AssertionError(f"a message was made for {path}")

    monkeypatch.setattr(files, "display_path", no_message)
    assert cache.read_entry(tmp_path / "missing.json") is None
    (tmp_path / "entry.json").write_bytes(b"{}")
    assert cache.read_entry(tmp_path / "entry.json") == b"{}"


def test_a_cache_entry_linked_out_of_the_book_is_still_a_miss(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_bytes(b"secret")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "entry.json").symlink_to(outside)
    assert cache.read_entry(tmp_path / "book" / "entry.json") is None


def test_write_atomically_makes_the_folder_and_leaves_no_part(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.bin"
    files.write_atomically(target, b"data")
    files.write_atomically(target, b"again")
    assert target.read_bytes() == b"again"
    assert (target.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_write_atomically_never_writes_through_a_link_at_its_temporary_name(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary name is predictable (process id, counter): a link planted there is refused
    by O_EXCL and a random name taken instead."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(files, "_temporary_names", itertools.count(7))
    (folder / f".book.epub.{os.getpid()}-7.part").symlink_to(victim)
    files.write_atomically(folder / "book.epub", b"the book")
    assert (folder / "book.epub").read_bytes() == b"the book"
    assert victim.read_bytes() == b"untouched"
    assert sorted(p.name for p in folder.iterdir()) == [f".book.epub.{os.getpid()}-7.part", "book.epub"]


def test_write_atomically_still_refuses_a_folder(tmp_path: Path) -> None:
    from bookbuild.errors import OutputError

    (tmp_path / "out.epub").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        files.write_atomically(tmp_path / "out.epub", b"x")


MEMBERS = [("mimetype", b"application/epub+zip", True),
           *((f"EPUB/ch{n:02d}.xhtml", (f"<p>chapter {n}</p>\n" * (200 + n)).encode(), False) for n in range(12)),
           ("EPUB/images/dot.png", PNG_RED, False)]
WHEN = dt.datetime(2024, 1, 2, 3, 4, 6)


def test_deflated_streams_are_kept_in_the_cache_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if cache.cache_secret() is None:
        pytest.skip("no cache secret for this user: nothing is kept")
    folder = tmp_path
    first = container.write_zip(MEMBERS, WHEN, container.DeflateCache(folder))
    assert len(read_pack(folder / "deflate.pack")) == len(MEMBERS) - 1  # every deflated member, none pruned as unused
    (tmp_path / "first.zip").write_bytes(first)
    with zipfile.ZipFile(tmp_path / "first.zip") as archive:
        assert archive.testzip() is None
        assert archive.read("EPUB/ch03.xhtml") == MEMBERS[4][1]

    def no_deflating(data: bytes) -> bytes:
        raise AssertionError("deflated again")

    monkeypatch.setattr(container, "_deflate", no_deflating)
    assert container.write_zip(MEMBERS, WHEN, container.DeflateCache(folder)) == first


def test_elements_with_only_plain_attributes_pass_unchanged_and_others_are_still_cleaned() -> None:
    reporter = Reporter()
    html = ('<p id="a" class="b" lang="fr" dir="rtl" title="t" role="note" hidden="" translate="no">x</p>\n'
            '<p class="c" onclick="steal()">y</p>\n'
            '<p title="t" style="background: url(x.png)">z</p>\n'
            '<ul><li><input type="checkbox"> task</li></ul>\n')
    wrapper = html_to_fragment(html, reporter, "ch.md")
    first, second, third = wrapper.findall("p")
    assert dict(first.attrib) == {"id": "a", "class": "b", "lang": "fr", "dir": "rtl", "title": "t",
                                  "role": "note", "hidden": "", "translate": "no"}
    assert dict(second.attrib) == {"class": "c"}
    assert dict(third.attrib) == {"title": "t"}
    assert wrapper.find(".//input").get("disabled") == "disabled"
    messages = [d.message for d in reporter.warnings]
    assert messages == ["event handler 'onclick' removed from <p>",
                        "style attribute with url(), expression() or escapes removed from <p>"]


def test_a_warning_of_the_cleaner_names_the_line_after_the_last_marker() -> None:
    """The line of a removal is counted from the last line marker before it (kept lazily)."""
    reporter = Reporter()
    html = '<p data-bb-line="10">one</p>\n<!--bb-line:20-->\n<div>\n<p>two</p>\n<blink>three</blink></div>\n'
    html_to_fragment(html, reporter, "ch.md")
    [warning] = reporter.warnings
    assert warning.message == "element <blink> removed, its content kept"
    assert (warning.location.file, warning.location.line) == ("ch.md", 23)


def test_the_chapter_readers_run_the_collector_less_often(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pool.collect_less, in every reader process (and only there: this process keeps its setting)."""
    import gc

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the build never starts worker processes")
    book = code_book(tmp_path / "book", pool.PARALLEL_FROM + 1)
    real = pool.parse_chapter

    def parse_and_say(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - parse_chapter's arguments
        chapter, warnings = real(*args, **kwargs)
        said = f"collector {gc.get_threshold()} in chapter {chapter.index}"
        return chapter, [*warnings, Diagnostic("warning", said, Location(None))]

    monkeypatch.setattr(pool, "parse_chapter", parse_and_say)  # the forked readers inherit it
    before = gc.get_threshold()
    reporter = Reporter()
    build(book, ["epub"], output=tmp_path / "a.epub", options=BuildOptions(cache=False), reporter=reporter)
    said = [d.message for d in reporter.warnings if d.message.startswith("collector")]
    chapters = len(load_manifest(book).chapters)  # the Markdown ones and the HTML one
    assert said == [f"collector (10000, 10, 10) in chapter {n}" for n in range(1, chapters + 1)]
    assert gc.get_threshold() == before

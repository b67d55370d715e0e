from __future__ import annotations

import os

import shutil
import sys
from pathlib import Path

import pytest

from bookbuild.api import build
from bookbuild.errors import Reporter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

SAMPLE_BOOK = ROOT / "book"
FEATURES_BOOK = ROOT / "tests" / "books" / "features"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample and the features book, built once per session in both formats."""
    out = tmp_path_factory.mktemp("built")
    books = {}
    for name, path in (("sample", SAMPLE_BOOK), ("features", FEATURES_BOOK)):
        reporter = Reporter()
        results = build(path, ["epub", "pdf"], output_dir=out / name, reporter=reporter)
        books[name] = {r.format: r.path for r in results} | {"warnings": reporter.warnings}
    return books


# What a copy of a book of this repository leaves behind: the outputs and cache a build of the
# same book in place (by a test on another xdist worker) may be writing meanwhile (a copy
# once met a cache file renamed away under it).
IN_PLACE = shutil.ignore_patterns(".bookbuild-cache", "dist")


def write_book(folder: Path, manifest: str, chapters: dict[str, str]) -> Path:
    """A small book in ``folder`` from a manifest text and chapter texts; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(manifest, encoding="utf-8")
    for name, text in chapters.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def laid_out_pdf(folder: Path):  # noqa: ANN201 - a WeasyPrint document
    """The book in ``folder`` laid out as one PDF document, not yet drawn (what
    ``bookbuild pdf --single-process`` writes), without the cache."""
    from bookbuild import pipeline
    from bookbuild.render.pdf.document import layout_pdf
    from bookbuild.transforms.formats import for_format

    reporter = Reporter()
    manifest = pipeline.load_config(folder, reporter)
    book = pipeline.load_book(manifest, reporter, cache=False)
    return layout_pdf(for_format(book, "pdf"), pipeline.build_context(manifest, False, book), reporter)


def read_pack(path: Path) -> dict[str, bytes]:
    """The entries of a cache pack (``.bookbuild-cache/<kind>.pack``), read as a stranger
    would: its format is a header line, then each entry's name and size on a line, and its bytes."""
    raw = path.read_bytes()
    header, _, rest = raw.partition(b"\n")
    assert header == b"bookbuild-pack 1"
    entries = {}
    while rest:
        head, _, rest = rest.partition(b"\n")
        name, size = head.decode("ascii").split(" ")
        entries[name], rest = rest[:int(size)], rest[int(size):]
    return entries


def write_pack(path: Path, entries: dict[str, bytes]) -> None:
    """Write a cache pack by hand, as a forger (or a damaged disk) might."""
    write_in_place(path, b"bookbuild-pack 1\n" + b"".join(b"%s %d\n%s" % (name.encode("ascii"), len(data), data)
                                                           for name, data in entries.items()))


def write_in_place(path: Path, data: bytes) -> None:
    """Write over a file in place, as another program might, and date it a second later than
    it was: a running build knows the packs it wrote by their identity (cache/packs.py), and a
    write of the same size within the same tick of the file system's clock would leave it as
    it was (no program but a test writes a pack in place the moment bookbuild wrote it)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_bytes(data)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


LITTLE_MANIFEST = """[book]
title = "Little Book"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md", "two.md"]
"""


@pytest.fixture
def little_book(tmp_path: Path) -> Path:
    """A two-chapter book in tmp_path/little."""
    return write_book(tmp_path / "little", LITTLE_MANIFEST, {"one.md": "# One\n\nHello.\n", "two.md": "# Two\n\nBye.\n"})


# The suite runs on every core with pytest-xdist (scripts/test.sh: -n auto --dist loadfile),
# a file to a worker. These files each take a minute or more of one worker: they go out
# first, so that the last files left are short ones and no worker waits long for another.
LONG_FILES = ("test_real_books.py", "test_scripts.py", "test_docx.py", "test_pdf_parallel.py", "test_print_presets.py",
              "test_looks.py", "test_epub_accessibility.py", "test_index.py", "test_catalog.py", "test_pdf_cache.py",
              "test_rtl.py", "test_reference_apparatus.py", "test_citations.py", "test_glossary.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long files first (in the order above), every file's tests in their own order."""
    rank = {name: position for position, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))  # stable: the rest keep their order

"""Chapters parsed in worker processes give exactly what a serial build gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bookbuild import chapters as chapter_reading
from bookbuild.api import BuildOptions, build
from bookbuild.errors import BookError, Reporter
from conftest import write_book

COUNT = chapter_reading.PARALLEL_FROM + 2


def long_book(folder: Path) -> Path:
    names = [f"c{n:02d}.md" for n in range(1, COUNT + 1)]
    manifest = ('[book]\ntitle = "Long"\nauthors = ["A"]\nlanguage = "en"\nchapters = ['
                + ", ".join(f'"{name}"' for name in names) + "]\n")
    texts = {name: f"# Chapter {n}\n\nText of chapter {n}, see [the next](c{n + 1:02d}.md).\n"
             for n, name in enumerate(names, start=1)}
    texts[names[3]] += "\n<blink>old markup</blink>\n"  # a warning from the reader
    texts[names[9]] += "\nA bell\x07 rings.\n"
    return write_book(folder, manifest, texts)


def build_with(book: Path, out: Path, workers: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, list[str]]:
    monkeypatch.setenv("BOOKBUILD_WORKERS", workers)
    reporter = Reporter()
    build(book, ["epub"], output=out, options=BuildOptions(cache=False), reporter=reporter)
    return out.read_bytes(), [d.format() for d in reporter.warnings]


def test_parallel_and_serial_parsing_give_the_same_book_and_warnings(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the build never starts worker processes")
    book = long_book(tmp_path / "book")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert chapter_reading._workers(COUNT) > 1  # this book does take the parallel path
    serial = build_with(book, tmp_path / "serial.epub", "1", monkeypatch)
    parallel = build_with(book, tmp_path / "parallel.epub", "", monkeypatch)
    assert parallel == serial
    assert len(serial[1]) == 3  # blink removed; control character removed; last chapter's link
    assert serial[1][0].startswith(str(Path("book/c04.md"))) or "c04.md" in serial[1][0]
    assert "c10.md" in serial[1][1]


def test_an_error_in_a_worker_keeps_its_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = long_book(tmp_path / "book")
    (book / "c13.md").write_bytes(b"# Thirteen\n\nfine\n\xff broken\n")
    monkeypatch.setenv("BOOKBUILD_WORKERS", "")
    with pytest.raises(BookError) as caught:
        build(book, ["epub"], output=tmp_path / "x.epub", options=BuildOptions(cache=False))
    assert "c13.md:4: error: not valid UTF-8" in str(caught.value)
    assert not (tmp_path / "x.epub").exists()

"""Chapters parsed in worker processes give exactly what a serial build gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bookbuild.sources import pool as chapter_reading
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


def test_workers_check_the_images_and_the_link_stage_reports_the_bad_one(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A chapter's raster images are decoded in the worker that parsed it (sources/pool.py); the
    main process decodes again only what did not pass, and warns about it where it is."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the build never starts worker processes")
    import io

    from PIL import Image

    from bookbuild.sources import images

    book = long_book(tmp_path / "book")
    (book / "images").mkdir()
    for n in range(1, COUNT + 1):
        out = io.BytesIO()
        Image.new("RGB", (4, 4), (n * 10, 0, 0)).save(out, format="PNG")  # each image other bytes
        (book / "images" / f"p{n}.png").write_bytes(out.getvalue() if n != 7 else out.getvalue()[:30])
        with (book / f"c{n:02d}.md").open("a", encoding="utf-8") as text:
            text.write(f"\n![Picture {n}](images/p{n}.png)\n")
    decoded: list[str] = []
    real = images._decode
    monkeypatch.setenv("BOOKBUILD_WORKERS", "")
    monkeypatch.setattr(images, "_decode", lambda data, expected: decoded.append(expected) or real(data, expected))
    reporter = Reporter()
    build(book, ["epub"], output=tmp_path / "book.epub", reporter=reporter)
    # The workers decoded the 13 good images and the bad one (counted in their own copies of
    # the list); the main process only the bad one, again, to report it.
    assert decoded == ["PNG"]
    bad = [d.format() for d in reporter.warnings if "p7.png" in d.message]
    assert len(bad) == 1 and "c07.md:" in bad[0] and "is not a readable PNG image" in bad[0]

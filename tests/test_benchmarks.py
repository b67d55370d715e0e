"""The benchmark generator writes real books: deterministic, buildable, EPUBCheck-clean.

Only the small size, once; the timings themselves are never part of the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bookbuild.api import build
from bookbuild.errors import Reporter
from validators import run_epubcheck

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import generate, word_count  # noqa: E402


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_small_benchmark_book_is_deterministic_and_valid(tmp_path: Path) -> None:
    first = generate("small", tmp_path / "a").parent
    second = generate("small", tmp_path / "b").parent
    assert _files(first) == _files(second)
    assert len(list((first / "chapters").glob("*.md"))) == 3
    assert 8000 < word_count(first) < 11000
    text = "\n".join(p.read_text(encoding="utf-8") for p in (first / "chapters").glob("*.md"))
    for construct in ("```", "|---|", "[^n", "![Figure", "](../chapters/", "## "):
        assert construct in text, construct
    reporter = Reporter()
    (result,) = build(first, ["epub"], output=tmp_path / "small.epub", reporter=reporter)
    assert reporter.warnings == []
    report = run_epubcheck(result.path, tmp_path)
    assert report.problems == []

from __future__ import annotations

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


def write_book(folder: Path, manifest: str, chapters: dict[str, str]) -> Path:
    """A small book in ``folder`` from a manifest text and chapter texts; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(manifest, encoding="utf-8")
    for name, text in chapters.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


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

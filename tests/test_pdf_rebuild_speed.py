"""A chapter-parallel PDF rebuilt after one chapter is edited equals a cold build of the
edited book (issue 30): the same pages, text, page labels, outline and link destinations,
whether the edit keeps the chapter's page count or changes it; and the rebuild lays out only
what it must (render/pdf/parallel/: one chapter a piece, the rest from the cache).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_book
from pdfbook import bookmarks
from pypdf import PdfReader
from validators import qpdf_check

from bookbuild.api import BuildOptions, build
from bookbuild.errors import Reporter
from bookbuild.render.pdf.parallel import order


def _build(folder: Path, name: str) -> Path:
    reporter = Reporter()
    build(folder, ["pdf"], output=folder / name, options=BuildOptions(parallel=True), reporter=reporter)
    assert reporter.warnings == []
    return folder / name


def _entries(folder: Path) -> set[str]:
    return {path.stem for path in (folder / ".bookbuild-cache" / "pdf").glob("*.json")}


def _digests(folder: Path) -> dict[str, str]:
    return json.loads((folder / ".bookbuild-cache" / order.DIGESTS).read_text())


def _cold(folder: Path, copy: Path) -> Path:
    """The same book built without any cache, in another folder."""
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".bookbuild-cache", "*.pdf"))
    return _build(copy, "cold.pdf")


def _what_a_reader_sees(pdf: Path) -> dict:
    """Everything the rebuild must agree on, from the PDF alone (pypdf)."""
    reader = PdfReader(pdf)
    return {
        "pages": len(reader.pages),
        "text": [page.extract_text() for page in reader.pages],
        "labels": list(reader.page_labels),
        "outline": bookmarks(reader),
        "destinations": {name: reader.get_destination_page_number(dest)
                         for name, dest in reader.named_destinations.items()},
    }


def _append(chapter: Path, paragraphs: int) -> None:
    text = chapter.read_text(encoding="utf-8").rstrip("\n")
    added = "".join(f"\n\nAn edited paragraph, number {n}, with a few more words than the last one had."
                    for n in range(paragraphs))
    chapter.write_text(text + added + "\n", encoding="utf-8")


CHAPTERS = 6
WORDS = ("river", "stone", "lantern", "harbour", "meadow", "copper", "window", "orchard", "signal", "winter")


def _chapter(number: int) -> str:
    """A chapter of a page and a half: two sections, a footnote, a link to a section of the
    next chapter (a "see page N" of another piece) and one to its own second section."""
    def paragraph(seed: int) -> str:
        return " ".join(WORDS[(seed * 7 + n * 3) % len(WORDS)] for n in range(70)).capitalize() + "."

    following = number % CHAPTERS + 1
    body = "\n\n".join(paragraph(number * 10 + n) for n in range(4))
    return (f"# Chapter {number} {{#chapter-{number}}}\n\n{body}\n\n## First part {{#part-{number}-1}}\n\n"
            f"{paragraph(number)}[^n{number}] See [the next chapter](ch{following}.md#part-{following}-2) "
            f"and [the second part](#part-{number}-2).\n\n[^n{number}]: A note of chapter {number}.\n\n"
            f"## Second part {{#part-{number}-2}}\n\n{body}\n")


@pytest.fixture(scope="module")
def rebuilds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A book of six chapters built cold, then edited twice: one short paragraph added to
    its second chapter (its page count stays), then two pages of them added to its first
    (every later chapter moves); each rebuild beside a cold build of the same text. One
    worker: before a piece held one chapter, six chapters made pieces of two."""
    base = tmp_path_factory.mktemp("rebuild")
    names = [f"ch{n}.md" for n in range(1, CHAPTERS + 1)]
    manifest = ('[book]\ntitle = "Rebuilt Book"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
                f"chapters = {names!r}\n".replace("'", '"'))
    folder = write_book(base / "book", manifest, {name: _chapter(n) for n, name in enumerate(names, start=1)})
    workers = os.environ.get("BOOKBUILD_WORKERS")
    os.environ["BOOKBUILD_WORKERS"] = "1"
    rounds = _Rounds()
    plan_log = logging.getLogger("bookbuild.render.pdf.parallel.plan")
    plan_log.addHandler(rounds)
    level = plan_log.level
    plan_log.setLevel(logging.INFO)  # setLevel, not .level: the logger caches what it let through
    try:
        first = _build(folder, "first.pdf")
        found: dict = {"first": _what_a_reader_sees(first), "entries": _entries(folder), "digests": _digests(folder)}
        for name, chapter, paragraphs in (("same pages", "ch2.md", 1), ("more pages", "ch1.md", 30)):
            before = _entries(folder)
            _append(folder / chapter, paragraphs)
            rounds.lines = []
            rebuilt = _build(folder, f"{name}.pdf")
            made = rounds.made()
            found[name] = {"rebuilt": rebuilt, "cold": _cold(folder, base / name.replace(" ", "-")),
                           "new entries": _entries(folder) - before, "kept entries": _entries(folder) & before,
                           "digests": _digests(folder), "rounds": made}
    finally:
        plan_log.removeHandler(rounds)
        plan_log.setLevel(level)
        if workers is None:
            del os.environ["BOOKBUILD_WORKERS"]
        else:
            os.environ["BOOKBUILD_WORKERS"] = workers
    return found


class _Rounds(logging.Handler):
    """The parallel PDF's rounds, as plan.py logs them: how each piece was made."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def made(self) -> list[dict[str, int]]:
        made = [line.split(" pieces; ", 1)[1].rsplit(";", 1)[0] for line in self.lines if " round " in line]
        return [{how: int(n) for n, how in re.findall(r"(\d+) ([a-z ]+)", counts)} for counts in made]


@pytest.mark.parametrize("edit", ["same pages", "more pages"])
def test_the_rebuilt_pdf_is_the_cold_build_of_the_edited_book(rebuilds: dict, edit: str) -> None:
    rebuilt, cold = _what_a_reader_sees(rebuilds[edit]["rebuilt"]), _what_a_reader_sees(rebuilds[edit]["cold"])
    for what in ("pages", "labels", "outline", "destinations", "text"):
        assert rebuilt[what] == cold[what], what
    assert "An edited paragraph, number 0" in "".join(rebuilt["text"])
    checked = qpdf_check(rebuilds[edit]["rebuilt"])
    assert checked.returncode == 0, checked.stdout


def test_an_edit_that_keeps_the_page_count_lays_out_only_its_chapter(rebuilds: dict) -> None:
    first, edited = rebuilds["first"], _what_a_reader_sees(rebuilds["same pages"]["rebuilt"])
    assert edited["pages"] == first["pages"] and edited["labels"] == first["labels"]
    # one body piece a chapter: the edited chapter's piece is the one entry made again
    assert len(rebuilds["entries"]) == CHAPTERS + 1  # and the front piece
    assert len(rebuilds["same pages"]["new entries"]) == 1
    assert len(rebuilds["same pages"]["kept entries"]) == CHAPTERS  # the front piece and the other chapters


def test_an_edit_that_adds_pages_renumbers_the_pieces_it_moves_as_they_were_drawn(rebuilds: dict) -> None:
    """Every later chapter moves by whole pages; a piece whose numbers keep their width is
    renumbered in its drawn PDF (drawn.py), not laid out again: only the edited chapter is,
    and the pieces where a number gains a digit (9 to 11: its line would change)."""
    first, second = rebuilds["more pages"]["rounds"]
    assert first == {"from the cache": CHAPTERS, "laid out": 1}  # the edited chapter, on the last numbers
    assert second.get("renumbered as drawn", 0) >= 3, second
    assert sum(second.values()) == CHAPTERS + 1 and second.get("laid out", 0) <= 3, second


def test_the_edited_chapter_is_laid_out_first(rebuilds: dict, tmp_path: Path) -> None:
    """A rebuild sends the piece of the edited chapter first (order.py): its digest is the one
    that changed, and the others are the same from one build to the next."""
    first, edited = rebuilds["digests"], rebuilds["same pages"]["digests"]
    assert len(first) == CHAPTERS and first.keys() == edited.keys()
    assert [chapter for chapter in first if first[chapter] != edited[chapter]] == ["ch02"]
    pieces = [(), ("ch01",), ("ch02",), ("ch03",)]  # the front piece holds no chapter here
    assert order.changed_first(pieces, edited, None) == [0, 1, 2, 3]  # no last build: book order
    order.remember(tmp_path, order.DIGESTS, first)
    assert order.changed_first(pieces, edited, tmp_path) == [2, 0, 1, 3]
    (tmp_path / order.DIGESTS).write_text("[1, 2]")  # not what a build writes: book order
    assert order.changed_first(pieces, edited, tmp_path) == [0, 1, 2, 3]


def test_an_edit_that_adds_pages_moves_the_later_chapters(rebuilds: dict) -> None:
    first, edited = rebuilds["first"], _what_a_reader_sees(rebuilds["more pages"]["rebuilt"])
    assert edited["pages"] > first["pages"]
    moved = [page for name, page in edited["destinations"].items() if first["destinations"].get(name) != page]
    assert moved, "the later chapters start on later pages"


def test_the_design_fonts_check_leaves_weasyprint_to_the_workers_once_it_is_remembered(tmp_path: Path) -> None:
    """Asking fontconfig which family the design's fonts resolve to loads WeasyPrint's Pango
    and fontconfig in the main process (a second of a rebuild): the answer is kept in the
    user's cache folder while fontconfig's caches and configuration stay the same."""
    script = ("import sys; from bookbuild.render.pdf.design_fonts import remembered_matches\n"
              "found = remembered_matches((('Noto Serif', 'serif'), ('DejaVu Sans Mono', 'monospace')))\n"
              "print(sorted(found.items()), 'weasyprint' in sys.modules)\n")
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
            for _ in range(2)]
    assert runs[0].endswith(" True\n") and runs[1].endswith(" False\n"), runs
    assert runs[0].rsplit(" ", 1)[0] == runs[1].rsplit(" ", 1)[0]  # the same families
    (tmp_path / "fonts.conf").write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n')
    other = env | {"FONTCONFIG_FILE": str(tmp_path / "fonts.conf")}  # another configuration: asked again
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=other, check=True)
    assert again.stdout.endswith(" True\n"), again.stdout

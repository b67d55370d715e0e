"""An mdBook project built as it is (issue 25, items 2, 3 and 5): its book.toml and SUMMARY.md
read by config/mdbook.py, nested entries as sections, mdBook's heading ids."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from bookbuild.api import build
from bookbuild.config.manifest import load_manifest
from bookbuild.errors import ManifestErrors, Reporter
from bookbuild.slugs import mdbook_id

RUST_BOOK = ROOT / "tests" / "real" / "rust-book"
SUMMARY = """# Summary

[Foreword](foreword.md)
[Introduction](intro.md)

- [Start](start.md)
  - [Install](start/install.md)
    - [Deeper](start/deeper.md)
  - [Draft]()

# Reference

- [Strings](strings.md)

---

[Contributors](contributors.md)
"""


def project(folder: Path, summary: str = SUMMARY, config: str = "", files: dict[str, str] | None = None) -> Path:
    """An mdBook project: book.toml, src/SUMMARY.md and every chapter it names."""
    (folder / "src" / "start").mkdir(parents=True)
    (folder / "book.toml").write_text('[book]\ntitle = "Small"\nauthors = ["Ferris"]\n' + config)
    (folder / "src" / "SUMMARY.md").write_text(summary)
    for name in re.findall(r"\]\(([^)]+)\)", summary):
        (folder / "src" / name).write_text(f"# {Path(name).stem.title()}\n\nText of {name}.\n")
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_summary_gives_front_matter_sections_parts_and_back_matter(tmp_path: Path) -> None:
    reporter = Reporter()
    manifest = load_manifest(project(tmp_path / "p"), reporter)
    assert manifest.root == tmp_path / "p"  # the project folder, not src/
    entries = [(e.path.relative_to(tmp_path / "p" / "src").as_posix(), e.kind, e.part) for e in manifest.chapters]
    assert entries == [
        ("foreword.md", "foreword", None), ("intro.md", "introduction", None),
        ("start.md", "chapter", None), ("start/install.md", "section", None), ("start/deeper.md", "section", None),
        ("strings.md", "chapter", "Reference"),
        ("contributors.md", "afterword", None),  # a suffix chapter is not the last part's
    ]
    assert {e.ids for e in manifest.chapters} == {"mdbook"}
    assert manifest.math is False  # mdBook reads no $ math without mathjax-support
    assert [(d.location.line, d.message) for d in reporter.diagnostics] == [(9, "draft chapter 'Draft' skipped")]


def test_output_bookbuild_holds_bookbuilds_settings(tmp_path: Path) -> None:
    config = ('language = "fr"\ntext-direction = "ltr"\n\n[output.html]\nmathjax-support = true\n\n'
              '[output.bookbuild]\noptional = true\nrights = "CC BY 4.0"\nstyles = ["theme/print.css"]\n\n'
              '[output.bookbuild.pdf]\npage_size = "A5"\n')
    folder = project(tmp_path / "p", config=config, files={"theme/print.css": "p { color: black }\n"})
    manifest = load_manifest(folder)
    assert manifest.meta.language == "fr" and manifest.meta.rights == "CC BY 4.0" and manifest.direction == "ltr"
    assert manifest.styles == (folder / "theme" / "print.css",) and manifest.math is True
    assert manifest.pdf.page_size == "A5"


@pytest.mark.parametrize(("config", "summary", "expected"), [
    ('\n[output.bookbuild.pdf]\npage_size = "B7"\n', SUMMARY,
     "book.toml:6: error: [output.bookbuild.pdf] page_size: "),
    ('language = "english"\n', SUMMARY, "book.toml:4: error: [book] language: 'english' is not a BCP 47"),
    ("", SUMMARY + "- [Missing](missing.md)\n", "SUMMARY.md:18: error: chapter 'missing.md' not found"),
    ("", SUMMARY + "- [Outside](../../secret.md)\n", "SUMMARY.md:18: error: chapter '../../secret.md'"),
])
def test_errors_name_the_mdbook_file_and_line(tmp_path: Path, config: str, summary: str, expected: str) -> None:
    folder = project(tmp_path / "p", summary=SUMMARY, config=config)
    (folder / "src" / "SUMMARY.md").write_text(summary)
    with pytest.raises(ManifestErrors) as raised:
        load_manifest(folder)
    assert expected in str(raised.value)


def test_rust_book_excerpt_is_read_as_the_mdbook_project_it_is() -> None:
    """tests/real/rust-book's book.toml is mdBook's own, unchanged."""
    manifest = load_manifest(RUST_BOOK)
    assert manifest.root == RUST_BOOK and manifest.meta.title == "The Rust Programming Language"
    kinds = [(e.path.stem, e.kind) for e in manifest.chapters]
    assert kinds[:5] == [("foreword", "foreword"), ("ch01-00-getting-started", "chapter"),
                         ("ch01-01-installation", "section"), ("ch01-02-hello-world", "section"),
                         ("ch01-03-hello-cargo", "section")]
    assert [stem for stem, kind in kinds if kind == "chapter"] == [
        "ch01-00-getting-started", "ch02-00-guessing-game-tutorial", "ch03-00-common-programming-concepts",
        "ch14-00-more-about-cargo", "appendix-00"]


def test_mdbook_ids_keep_double_hyphens() -> None:
    """mdBook's rule (its utils normalize_id), as its book's links use it."""
    assert mdbook_id("Concatenating with + or format!") == "concatenating-with--or-format"
    assert mdbook_id("--passes: add more rustdoc passes") == "--passes-add-more-rustdoc-passes"
    assert mdbook_id("中文標題 CJK Über") == "中文標題-cjk-Über"
    assert mdbook_id("Method-call 🐙 expressions") == "method-call--expressions"


def test_links_written_for_mdbooks_ids_resolve(tmp_path: Path) -> None:
    strings = ("## Concatenating with `+` or `format!`\n\nText.\n\n## Setup\n\nOne.\n\n## Setup\n\nTwo.\n\n"
               "See [above](#concatenating-with--or-format) and [the second](#setup-1).\n")
    folder = project(tmp_path / "p", files={"src/strings.md": "# Strings\n\n" + strings,
                                            "src/start.md": "# Start\n\nSee [strings](strings.md#setup-1).\n"})
    reporter = Reporter()
    (epub,) = build(folder, ["epub"], output=tmp_path / "p.epub", reporter=reporter)
    assert [d.message for d in reporter.diagnostics if "link" in d.message] == []
    with zipfile.ZipFile(epub.path) as archive:
        text = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".xhtml"))
    assert 'id="concatenating-with--or-format"' in text and 'id="setup-1"' in text
    assert 'href="#concatenating-with--or-format"' in text


def test_sections_continue_their_chapter_in_nav_and_ncx(tmp_path: Path) -> None:
    """Installation, Hello World and Hello Cargo one level below Getting Started, in both
    contents of the EPUB; no 'Chapter' label on them."""
    (epub,) = build(RUST_BOOK, ["epub"], output=tmp_path / "rust.epub", reporter=Reporter())
    with zipfile.ZipFile(epub.path) as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
        ncx = archive.read("EPUB/toc.ncx").decode()
        chapters = {n: archive.read(n).decode() for n in archive.namelist() if re.search(r"ch\d+\.xhtml$", n)}
    getting_started = re.search(r">Getting Started</a>\s*<ol>(.*?)</ol>", nav, re.S).group(1)
    assert re.findall(r">([^<>]+)</a>", getting_started) == ["Installation", "Hello, World!", "Hello, Cargo!"]
    point = re.search(r"<text>Getting Started</text>.*?(?=<navPoint[^>]*>\s*<navLabel>\s*<text>Programming)", ncx,
                      re.S).group(0)
    assert re.findall(r"<text>([^<]+)</text>", point)[1:] == ["Installation", "Hello, World!", "Hello, Cargo!"]
    labels = [re.search(r'class="chapter-label">([^<]+)<', body) for body in chapters.values()]
    assert sorted(label.group(1) for label in labels if label) == ["Chapter 1", "Chapter 2", "Chapter 3",
                                                                   "Chapter 4", "Chapter 5"]

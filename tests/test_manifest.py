from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import ManifestError, Reporter
from bookbuild.config.manifest import default_identifier, find_manifest, load_manifest
from conftest import write_book

GOOD = """[book]
title = "A Book"
authors = ["An Author"]
language = "en"
chapters = ["one.md", { file = "two.md", title = "Second" }]
"""


def make(tmp_path: Path, manifest: str, chapters: tuple[str, ...] = ("one.md", "two.md")) -> Path:
    return write_book(tmp_path / "book", manifest, {name: "# Hello\n" for name in chapters})


def test_valid_manifest_loads_with_defaults(tmp_path: Path) -> None:
    manifest = load_manifest(make(tmp_path, GOOD))
    assert manifest.meta.title == "A Book"
    assert manifest.meta.authors == ("An Author",)
    assert [c.path.name for c in manifest.chapters] == ["one.md", "two.md"]
    assert manifest.chapters[1].title == "Second"
    assert manifest.meta.identifier == default_identifier("A Book", ["An Author"])
    assert manifest.meta.identifier.startswith("urn:uuid:")
    assert manifest.pdf.page_size_css == "210mm 297mm"
    assert manifest.slug == "a-book"


def test_identifier_is_stable_and_depends_on_title_and_authors() -> None:
    assert default_identifier("T", ["A"]) == default_identifier("T", ["A"])
    assert default_identifier("T", ["A"]) != default_identifier("T", ["B"])


def test_find_manifest_in_folder_file_and_book_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make(tmp_path, GOOD)
    assert find_manifest(folder) == (folder / "book.toml").resolve()
    assert find_manifest(folder / "book.toml") == (folder / "book.toml").resolve()
    monkeypatch.chdir(tmp_path)
    assert find_manifest() == (folder / "book.toml").resolve()


def test_no_manifest_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestError, match="no book.toml"):
        find_manifest()


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (GOOD.replace('title = "A Book"\n', ""), ":1: error: [book] title: required key missing"),
        (GOOD.replace('title = "A Book"', "title = 42"), ":2: error: [book] title: expected a string, got an integer"),
        (GOOD.replace('["An Author"]', "[]"), ":3: error: [book] authors: list at least one author"),
        (GOOD.replace('language = "en"', 'language = "not a tag!"'), ":4: error: [book] language: 'not a tag!'"),
        (GOOD.replace('"one.md", ', '"missing.md", '), ":5: error: [book] chapters: chapter 'missing.md' not found"),
        (GOOD.replace('"one.md", ', '"../outside.md", '), "is outside the book folder"),
        (GOOD.replace("chapters = [", "chapters = ]"), ":5:12: error: malformed TOML"),
        (GOOD.replace("[book]", "[boo]"), "error: missing [book] table"),
        (GOOD + 'date = "June"\n', ":6: error: [book] date: expected a date"),
    ],
)
def test_bad_manifest_is_one_line_with_file_and_line(tmp_path: Path, manifest: str, expected: str) -> None:
    (tmp_path / "outside.md").write_text("# Out\n")
    folder = make(tmp_path, manifest)
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(Path("book.toml"))) or "book.toml" in message
    assert expected in message


def test_unknown_keys_warn_with_line(tmp_path: Path) -> None:
    reporter = Reporter()
    load_manifest(make(tmp_path, GOOD + 'colour = "blue"\n\n[pdf]\npage_size = "A5"\npaper_colour = "cream"\n'), reporter)
    messages = [d.format() for d in reporter.warnings]
    assert any(":6: warning: [book] unknown key 'colour'" in m for m in messages), messages
    assert any(":10: warning: [pdf] unknown key 'paper_colour'" in m for m in messages), messages


def test_page_size_presets_and_custom(tmp_path: Path) -> None:
    manifest = load_manifest(make(tmp_path, GOOD + '\n[pdf]\npage_size = "Letter"\n'))
    assert manifest.pdf.page_size_css == "8.5in 11in"
    manifest = load_manifest(make(tmp_path, GOOD + '\n[pdf]\npage_size = "100mm 150mm"\n'))
    assert manifest.pdf.page_size_css == "100mm 150mm"

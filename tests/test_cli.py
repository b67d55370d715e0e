"""The command line as a user meets it: no arguments, -o, bad input, kept outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clirun import run
from conftest import IN_PLACE, FEATURES_BOOK, LITTLE_MANIFEST as MANIFEST, write_book


def test_help_on_every_command(tmp_path: Path) -> None:
    for args in ([], ["epub"], ["pdf"], ["build"]):
        result = run([*args, "--help"], tmp_path)
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_epub_with_no_arguments_finds_book_subfolder(tmp_path: Path) -> None:
    shutil.copytree(FEATURES_BOOK, tmp_path / "book", ignore=IN_PLACE)
    result = run(["epub"], tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "book" / "dist" / "features-of-the-skeleton.epub").is_file()  # beside book.toml
    assert "book/dist/features-of-the-skeleton.epub" in result.output and not (tmp_path / "dist").exists()
    assert " s" in result.output and "KB" in result.output


def test_build_writes_every_format_and_output_option(tmp_path: Path, little_book: Path) -> None:
    result = run(["build", str(little_book)], tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (little_book / "dist").iterdir()) == ["little-book.epub", "little-book.pdf"]
    assert "little/dist/little-book.epub  " in result.output and not (tmp_path / "dist").exists()
    result = run(["epub", str(little_book / "book.toml"), "-o", "out/x.epub"], tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "x.epub").is_file()
    # --output-dir is the working folder's; the bytes do not depend on where they go
    result = run(["build", "little", "--output-dir", "elsewhere"], tmp_path)
    assert result.exit_code == 0 and result.output.startswith("elsewhere/little-book.epub  "), result.output
    for name in ("little-book.epub", "little-book.pdf"):
        assert (tmp_path / "elsewhere" / name).read_bytes() == (little_book / "dist" / name).read_bytes()
    assert (tmp_path / "out" / "x.epub").read_bytes() == (little_book / "dist" / "little-book.epub").read_bytes()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: (b / "book.toml").write_text(MANIFEST.replace("chapters = [", "chapters = [[")),
         "book.toml:5:"),
        (lambda b: (b / "two.md").unlink(), "book.toml:5: error: [book] chapters: chapter 'two.md' not found"),
        (lambda b: (b / "book.toml").write_text(MANIFEST.replace('language = "en"\n', "")),
         "error: [book] language: required key missing"),
        (lambda b: (b / "one.md").write_bytes(b"# One\n\xc3\x28\n"), "one.md:2: error: not valid UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_previous_output_kept(
    tmp_path: Path, little_book: Path, change, expected: str
) -> None:
    assert run(["epub", str(little_book), "-o", "book.epub"], tmp_path).exit_code == 0
    before = (tmp_path / "book.epub").read_bytes()
    change(little_book)
    result = run(["epub", str(little_book), "-o", "book.epub"], tmp_path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert (tmp_path / "book.epub").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_broken_link_and_missing_image_warn_with_file_and_line(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", MANIFEST, {
        "one.md": "# One\n\nSee [gone](nowhere.md) and [bad](two.md#nope).\n\n![pic](missing.png)\n",
        "two.md": "# Two\n",
    })
    result = run(["epub", str(book), "-o", "x.epub"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "one.md:3:12: warning: link target 'nowhere.md' is not a chapter of this book" in result.output
    assert "one.md:3:34: warning: link target 'two.md#nope' not found" in result.output
    assert "one.md:5:8: warning: image 'missing.png' not found" in result.output


def test_output_that_is_a_folder_or_a_source_is_refused(tmp_path: Path, little_book: Path) -> None:
    (tmp_path / "adir").mkdir()
    result = run(["epub", str(little_book), "-o", "adir"], tmp_path)
    assert result.exit_code == 1 and "is a folder" in result.output
    result = run(["epub", str(little_book), "-o", str(little_book / "one.md")], tmp_path)
    assert result.exit_code == 1 and "would overwrite a source file" in result.output
    assert (little_book / "one.md").read_text().startswith("# One")


def test_page_size_option_overrides_manifest(tmp_path: Path, little_book: Path) -> None:
    from pypdf import PdfReader

    result = run(["pdf", str(little_book), "--page-size", "letter", "-o", "l.pdf"], tmp_path)
    assert result.exit_code == 0, result.output
    box = PdfReader(tmp_path / "l.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_unknown_format_of_chapter_is_reported(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", MANIFEST.replace("two.md", "two.rst"), {"one.md": "# One\n", "two.rst": "x"})
    result = run(["epub", str(book)], tmp_path)
    assert result.exit_code == 1
    assert "two.rst: error: unknown chapter type '.rst'" in result.output

"""``bookbuild new``: a book that builds at once; ``--from-mdbook``: an mdBook in two commands."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from clirun import run
from validators import pdffonts, run_epubcheck


def test_new_book_builds_at_once_and_passes_epubcheck(tmp_path: Path) -> None:
    result = run(["new", "my-book", "--title", "Stars & Stones", "--author", "Ada Writer", "--language", "fr"],
                 tmp_path)
    assert result.exit_code == 0, result.output
    book = tmp_path / "my-book"
    names = sorted(p.relative_to(book).as_posix() for p in book.rglob("*") if p.is_file())
    assert names == [".gitignore", "book.toml", "chapters/01-getting-started.md", "chapters/02-next-steps.md",
                     "images/figure.png", "styles/book.css"]
    manifest = tomllib.loads((book / "book.toml").read_text())
    assert manifest["book"]["title"] == "Stars & Stones"
    assert manifest["book"]["authors"] == ["Ada Writer"] and manifest["book"]["language"] == "fr"
    assert "cd my-book && bookbuild preview" in result.output

    check = run(["check"], book)
    assert check.exit_code == 0 and "no problems" in check.output, check.output
    built = run(["build"], book)
    assert built.exit_code == 0, built.output
    assert "warning" not in built.output
    epub = book / "dist" / "stars-stones.epub"
    assert (book / ".gitignore").read_text() == "dist/\n"  # the outputs, beside book.toml, stay out of git
    report = run_epubcheck(epub, tmp_path)
    assert report.problems == []
    with zipfile.ZipFile(epub) as archive:
        assert any(name.endswith(".png") for name in archive.namelist())
        ch1 = archive.read("EPUB/ch01.xhtml").decode()
    assert 'href="ch02.xhtml#where-to-go-from-here"' in ch1
    assert 'alt="A page with lines of text"' in ch1
    assert all(font["emb"] == "yes" for font in pdffonts(book / "dist" / "stars-stones.pdf"))


def test_new_title_defaults_to_the_folder_name(tmp_path: Path) -> None:
    assert run(["new", "my-first_book"], tmp_path).exit_code == 0
    assert 'title = "My First Book"' in (tmp_path / "my-first_book" / "book.toml").read_text()


def test_new_refuses_a_non_empty_folder_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    result = run(["new", "full"], tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == ("bookbuild: error: 'full' is not an empty folder "
                                     "(hint: name a folder that does not exist yet: bookbuild new full-2)")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["notes.txt"]


def test_new_with_a_bad_language_writes_nothing(tmp_path: Path) -> None:
    result = run(["new", "b", "--language", "en_US"], tmp_path)
    assert result.exit_code == 1
    assert "error: --language: 'en_US' is not a BCP 47 language tag" in result.output
    assert not (tmp_path / "b").exists()


def test_new_needs_a_folder_or_an_mdbook(tmp_path: Path) -> None:
    result = run(["new"], tmp_path)
    assert result.exit_code == 2 and "name a FOLDER" in result.output


def _mdbook(folder: Path, summary: str, chapters: list[str], config: str | None = None) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "book.toml").write_text(config or '[book]\ntitle = "Rusty Tales"\nauthors = ["Ferris"]\n'
                                      'language = "en"\nsrc = "src"\n\n[output.html]\n')
    (folder / "src" / "SUMMARY.md").write_text(summary)
    for name in chapters:
        path = folder / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {Path(name).stem.title()}\n\nText of {name}.\n")
    return folder


def test_from_mdbook_gives_an_epub_and_a_pdf_in_two_commands(tmp_path: Path) -> None:
    summary = ("# Summary\n\n[Preface](preface.md)\n\n- [Start](start.md)\n  - [Details](guide/details.md)\n"
               "- [Not yet]()\n\n---\n\n[Thanks](thanks.md)\n")
    project = _mdbook(tmp_path / "rusty", summary, ["preface.md", "start.md", "guide/details.md", "thanks.md"])
    result = run(["new", "--from-mdbook", "rusty"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "SUMMARY.md:7: warning: draft chapter 'Not yet' skipped" in result.output
    # mdBook keeps its book.toml: bookbuild's settings are added in [output.bookbuild], and the
    # project folder is the book folder (issue 25, item 2)
    assert "wrote rusty/book.toml; build it with: bookbuild build rusty" in result.output
    config = tomllib.loads((project / "book.toml").read_text())
    assert config["book"]["title"] == "Rusty Tales" and config["book"]["authors"] == ["Ferris"]
    assert config["output"]["bookbuild"]["optional"] is True and config["output"]["bookbuild"]["math"] is False
    assert "html" in config["output"]  # mdBook still makes its HTML
    assert not (project / "src" / "book.toml").exists()
    built = run(["build", "rusty"], tmp_path)
    assert built.exit_code == 0, built.output
    assert (project / "dist" / "rusty-tales.epub").is_file() and (project / "dist" / "rusty-tales.pdf").is_file()
    with zipfile.ZipFile(project / "dist" / "rusty-tales.epub") as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
    assert nav.index("Start") < nav.index("Details") < nav.index("Thanks")  # the nested entry is a section
    again = run(["new", "--from-mdbook", "rusty"], tmp_path)
    assert again.exit_code == 1 and "already has [output.bookbuild]" in again.output


def test_from_mdbook_part_headings_become_parts(tmp_path: Path) -> None:
    summary = "# Summary\n\n[Intro](intro.md)\n\n# User Guide\n\n- [Install](install.md)\n- [Use](use.md)\n"
    project = _mdbook(tmp_path / "p", summary, ["intro.md", "install.md", "use.md"],
                      config='[book]\ntitle = "Parts"\n')
    assert run(["new", "--from-mdbook", "p"], tmp_path).exit_code == 0
    config = tomllib.loads((project / "book.toml").read_text())
    assert config["output"]["bookbuild"]["authors"] == ["Unknown Author"]  # mdBook's [book] names none
    assert "html" in config["output"]  # added with [output.bookbuild], so that mdBook still makes HTML
    built = run(["epub", "p", "-o", "parts.epub"], tmp_path)  # the parts build too
    assert built.exit_code == 0, built.output
    with zipfile.ZipFile(tmp_path / "parts.epub") as archive:
        assert "EPUB/part01.xhtml" in archive.namelist()
        assert b"User Guide" in archive.read("EPUB/part01.xhtml")


@pytest.mark.parametrize(("files", "expected"), [
    ({}, "no mdBook book.toml here"),
    ({"book.toml": "[book]\n"}, "SUMMARY.md' not found"),
])
def test_from_mdbook_explains_what_is_missing(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    (tmp_path / "m").mkdir()
    for name, text in files.items():
        (tmp_path / "m" / name).write_text(text)
    result = run(["new", "--from-mdbook", "m"], tmp_path)
    assert result.exit_code == 1 and expected in result.output
    assert "Traceback" not in result.output

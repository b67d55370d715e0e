"""``bookbuild new``: a ready book that builds at once, or bookbuild's table in an mdBook
project's book.toml.

The new book shows the features an author needs first (two chapters, a link between them,
an image with alternative text, a footnote, a table, a stylesheet to override), so the
first ``bookbuild build`` succeeds and every file is an example to edit. A Word manuscript
(``new --from-docx``) is laid out as a book by docx.py, imported only by that option.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

from ..errors import BookError, Reporter
from ..files import read_book_text
from ..resources import display_path, templates_dir

NEW_BOOK_FILES = {  # packaged template -> path in the new book
    "01-getting-started.md": "chapters/01-getting-started.md",
    "02-next-steps.md": "chapters/02-next-steps.md",
    "figure.png": "images/figure.png",
    "book.css": "styles/book.css",
}


class ScaffoldError(BookError):
    """The new book cannot be written where it was asked for."""


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are all valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def title_from_folder(folder: Path) -> str:
    """``my-first-book`` -> ``My First Book``: a title to start from."""
    words = re.split(r"[-_\s]+", folder.resolve().name)
    return " ".join(word.capitalize() for word in words if word) or "My Book"


def new_book(folder: Path, title: str | None = None, author: str | None = None, language: str = "en") -> list[Path]:
    """Write a new book into ``folder`` (missing or empty); return the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"'{display_path(folder)}' is not an empty folder", hint=f"name a folder that does not exist yet: bookbuild new {folder.name}-2")
    title = title or title_from_folder(folder)
    manifest = "\n".join([
        "# The book's manifest: metadata and the chapters in reading order.",
        "[book]",
        f"title = {toml_string(title)}",
        f"authors = [{toml_string(author or 'Your Name')}]",
        f"language = {toml_string(language)}",
        'styles = ["styles/book.css"]',
        "chapters = [",
        *(f'    "{target}",' for target in NEW_BOOK_FILES.values() if target.startswith("chapters/")),
        "]",
        "",
        "[pdf]",
        'page_size = "A5"',
        "",
    ])
    written = [folder / "book.toml"]
    folder.mkdir(parents=True, exist_ok=True)
    written[0].write_text(manifest, encoding="utf-8")
    for template, target in NEW_BOOK_FILES.items():
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates_dir() / "new" / template, path)
        written.append(path)
    (folder / ".gitignore").write_text("dist/\n", encoding="utf-8")
    _validate(folder)
    return written


def _validate(folder: Path) -> None:
    """Load the new manifest as a build would; a bad --title or --language leaves no book behind."""
    from ..config.manifest import load_manifest

    try:
        load_manifest(folder)
    except BookError as exc:
        shutil.rmtree(folder)
        message = exc.diagnostic.message.replace("[book] ", "--")
        raise ScaffoldError(message, hint=exc.diagnostic.hint) from None


def book_from_mdbook(project: Path, reporter: Reporter) -> Path:
    """Add bookbuild's table, ``[output.bookbuild]``, to an mdBook project's book.toml; return
    the book.toml's path.

    bookbuild reads an mdBook project as it is (config/mdbook.py): the chapters stay in
    SUMMARY.md, the project folder is the book folder (so listings beside ``src/`` may be
    included), and mdBook keeps its book.toml, where a renderer's settings belong in
    ``[output.<renderer>]``. The table says ``optional = true``, so that ``mdbook build`` does
    not stop for want of an ``mdbook-bookbuild`` command; an ``[output.html]`` is added when
    the file had no ``[output]`` table, so that mdBook goes on making its HTML.
    """
    from ..config.mdbook import mdbook_math, renderer_table

    config_path = project / "book.toml"
    try:
        original = read_book_text(config_path, project, "manifest")
        config = tomllib.loads(original)
    except BookError:
        raise ScaffoldError(f"'{display_path(config_path)}': no mdBook book.toml here",
                            hint="name the mdBook project folder, the one holding book.toml and src/") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScaffoldError(f"malformed TOML: {exc}", display_path(config_path)) from None
    meta = config.get("book", {}) if isinstance(config.get("book"), dict) else {}
    summary = project / str(meta.get("src", "src")) / "SUMMARY.md"
    if not summary.is_file():
        raise ScaffoldError(f"'{display_path(summary)}' not found", hint="an mdBook project lists its chapters there")
    if renderer_table(config) is not None:
        raise ScaffoldError(f"'{display_path(config_path)}' already has [output.bookbuild]",
                            hint="bookbuild builds it as it is: bookbuild build " + display_path(project))
    table = _renderer_table(meta, mdbook_math(config), no_output=not isinstance(config.get("output"), dict))
    config_path.write_text(original.rstrip("\n") + "\n\n" + table, encoding="utf-8")
    try:
        from ..config.manifest import load_manifest

        load_manifest(config_path, reporter)
    except BookError:
        config_path.write_text(original, encoding="utf-8")  # leave the project as it was
        raise
    return config_path


def _renderer_table(meta: dict, math: bool, no_output: bool) -> str:
    """``[output.bookbuild]``: what bookbuild needs besides mdBook's ``[book]``, and the
    settings an author reaches for first, as comments."""
    lines = ["# bookbuild (EPUB and PDF): `bookbuild build` reads [book] and src/SUMMARY.md as mdBook does."]
    if no_output:
        lines += ["[output.html]  # mdBook makes its HTML only when [output.html] is listed with another", ""]
    lines += ["[output.bookbuild]", "optional = true  # mdbook build goes on without an mdbook-bookbuild command"]
    if not [a for a in meta.get("authors", []) if isinstance(a, str)]:
        lines.append('authors = ["Unknown Author"]  # mdBook\'s [book] names none; bookbuild needs one')
    if not math:
        lines.append("math = false  # as mdBook without mathjax-support: $ is a dollar sign, not TeX")
    lines += ['# styles = ["theme/print.css"]', '# cover = "images/cover.png"', "",
              "[output.bookbuild.pdf]", '# page_size = "A5"', ""]
    return "\n".join(lines)

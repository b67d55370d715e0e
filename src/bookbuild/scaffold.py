"""``bookbuild new``: a ready book that builds at once, or a book.toml for an mdBook project.

The new book shows the features an author needs first (two chapters, a link between them,
an image with alternative text, a footnote, a table, a stylesheet to override), so the
first ``bookbuild build`` succeeds and every file is an example to edit.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .errors import BookError, Reporter
from .resources import display_path, templates_dir

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
        raise ScaffoldError(f"'{display_path(folder)}' is not an empty folder", hint="name a new folder: bookbuild new my-book")
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
    from .config.manifest import load_manifest

    try:
        load_manifest(folder)
    except BookError as exc:
        shutil.rmtree(folder)
        message = exc.diagnostic.message.replace("[book] ", "--")
        raise ScaffoldError(message, hint=exc.diagnostic.hint) from None


@dataclass
class SummaryEntry:
    """A chapter of an mdBook SUMMARY.md, or a part (a title over the chapters that follow)."""

    title: str
    file: str | None = None
    chapters: list[SummaryEntry] = field(default_factory=list)


_LINK = re.compile(r"^\[(?P<title>[^\]]*)\]\((?P<target>[^)]*)\)\s*$")
_ITEM = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<link>\[.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


def parse_summary(text: str, file: str, src: Path, reporter: Reporter) -> list[SummaryEntry]:
    """Chapters in order, nested chapters flattened, ``# Part`` headings as parts, drafts skipped."""
    top: list[SummaryEntry] = []
    current = top
    seen_content = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            if seen_content:
                part = SummaryEntry(heading.group("title"))
                top.append(part)
                current = part.chapters
            seen_content = True  # the first heading is the summary's own title
            continue
        item = _ITEM.match(line)
        link = _LINK.match(item.group("link").strip() if item else line.strip())
        if not link:
            continue
        seen_content = True
        target = unquote(link.group("target").strip().strip("<>"))
        if not target:
            reporter.warn(f"draft chapter '{link.group('title')}' skipped", file, number)
            continue
        if not (src / target).is_file():
            reporter.warn(f"chapter '{target}' not found; left out", file, number,
                          hint="mdBook creates missing chapters; create the file, then run again")
            continue
        current.append(SummaryEntry(link.group("title").strip(), target))
    return top


def book_from_mdbook(project: Path, reporter: Reporter) -> Path:
    """Write ``<src>/book.toml`` for an mdBook project; return its path.

    It goes next to SUMMARY.md because mdBook's chapter paths are relative to ``src/``
    and every file a book uses must be inside the book's folder.
    """
    config_path = project / "book.toml"
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except OSError:
        raise ScaffoldError(f"'{display_path(config_path)}': no mdBook book.toml here",
                            hint="name the mdBook project folder, the one holding book.toml and src/") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScaffoldError(f"malformed TOML: {exc}", display_path(config_path)) from None
    meta = config.get("book", {}) if isinstance(config.get("book"), dict) else {}
    src = project / str(meta.get("src", "src"))
    summary = src / "SUMMARY.md"
    if not summary.is_file():
        raise ScaffoldError(f"'{display_path(summary)}' not found", hint="an mdBook project lists its chapters there")
    target = src / "book.toml"
    if target.exists():
        raise ScaffoldError(f"'{display_path(target)}' already exists", hint="remove it to write it again")
    entries = parse_summary(summary.read_text(encoding="utf-8"), display_path(summary), src, reporter)
    if not any(entry.file or entry.chapters for entry in entries):
        raise ScaffoldError("SUMMARY.md lists no chapter file", display_path(summary))
    target.write_text(_mdbook_manifest(meta, entries, project), encoding="utf-8")
    return target


def _mdbook_manifest(meta: dict, entries: list[SummaryEntry], project: Path) -> str:
    authors = [a for a in meta.get("authors", []) if isinstance(a, str)] or ["Unknown Author"]
    lines = [
        "# Written by `bookbuild new --from-mdbook` from the mdBook project's book.toml and SUMMARY.md.",
        "[book]",
        f"title = {toml_string(str(meta.get('title') or title_from_folder(project)))}",
        f"authors = [{', '.join(toml_string(a) for a in authors)}]",
        f"language = {toml_string(str(meta.get('language') or 'en'))}",
    ]
    if meta.get("description"):
        lines.append(f"description = {toml_string(str(meta['description']))}")
    lines.append("chapters = [")
    for entry in entries:
        if entry.file is None:
            lines.append(f"    {{ part = {toml_string(entry.title)}, chapters = [")
            lines += [f"        {_chapter(child)}," for child in entry.chapters]
            lines.append("    ] },")
        else:
            lines.append(f"    {_chapter(entry)},")
    lines += ["]", ""]
    return "\n".join(lines)


def _chapter(entry: SummaryEntry) -> str:
    return f"{{ file = {toml_string(entry.file or '')}, title = {toml_string(entry.title)} }}"

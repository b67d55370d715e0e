"""An mdBook project read as it is: its book.toml and src/SUMMARY.md, the project folder as
the book folder (issue 25, item 2).

mdBook owns book.toml: ``[book]`` gives title, authors, language, description, ``src`` and
``text-direction``; a renderer's own settings live in ``[output.<renderer>]``. bookbuild's are
in ``[output.bookbuild]``: the extras of bookbuild's ``[book]`` (styles, cover, fonts, math,
rights...) as its keys, and its ``[pdf]``, ``[epub]`` and ``[build]`` tables as
``[output.bookbuild.pdf]`` and so on. :func:`MdbookProject.tables` turns the file into
bookbuild's tables, so that the readers of config/manifest.py validate them as they validate
bookbuild's own book.toml; :class:`MdbookText` points their errors at the lines where mdBook's
file writes each key. The chapters come from SUMMARY.md: numbered chapters, their nested
entries as sections, ``# Part`` headings as parts, prefix chapters as front matter and
suffix chapters as back matter, each error at its SUMMARY.md line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import BookError, ManifestError, Reporter
from ..files import read_book_text
from ..resources import display_path, resolve_in_book
from .chapters import BACK_KINDS, FRONT_KINDS, SECTION, ChapterEntry, refuse_repeats
from .toml import ManifestText

RENDERER = "bookbuild"
# mdBook's [book] keys that bookbuild reads, by bookbuild's name for them
MDBOOK_BOOK_KEYS = {"title": "title", "authors": "authors", "language": "language",
                    "description": "description", "direction": "text-direction"}
# keys mdBook itself reads in every [output.<renderer>] table
MDBOOK_RENDERER_KEYS = {"command", "optional", "renderers"}


def mdbook_math(config: dict[str, Any]) -> bool:
    """mdBook reads no ``$`` math unless ``[output.html] mathjax-support = true``: its books
    write prices and ``$HOME`` in prose, which bookbuild would otherwise take for TeX."""
    output = config.get("output")
    html = output.get("html") if isinstance(output, dict) else None
    return isinstance(html, dict) and html.get("mathjax-support") is True


def renderer_table(config: dict[str, Any]) -> dict[str, Any] | None:
    """``[output.bookbuild]``, or None when the book.toml has none."""
    output = config.get("output")
    table = output.get(RENDERER) if isinstance(output, dict) else None
    return table if isinstance(table, dict) else None


@dataclass(frozen=True)
class MdbookProject:
    """An mdBook project: its book.toml, and the SUMMARY.md in its ``src`` folder."""

    manifest: Path
    src: Path

    @property
    def summary(self) -> Path:
        return self.src / "SUMMARY.md"

    def tables(self, source: ManifestText, config: dict[str, Any]) -> tuple[MdbookText, dict[str, Any]]:
        """mdBook's ``[book]`` and ``[output.bookbuild]`` as bookbuild's tables; the errors of
        their readers name the mdBook file's lines. mdBook's other tables are mdBook's business."""
        mdbook = config.get("book") if isinstance(config.get("book"), dict) else {}
        own = renderer_table(config) or {}
        book = {ours: mdbook[theirs] for ours, theirs in MDBOOK_BOOK_KEYS.items() if theirs in mdbook}
        written = set(book)
        book.setdefault("language", "en")  # mdBook's default
        book.update({key: value for key, value in own.items()
                     if not isinstance(value, dict) and key not in MDBOOK_RENDERER_KEYS})
        book.setdefault("math", mdbook_math(config))
        tables: dict[str, Any] = {"book": book}
        tables.update({name: value for name, value in own.items() if isinstance(value, dict)})
        in_book = frozenset(key for key in written if key not in own)
        return MdbookText(source, in_book), tables

    def chapters(self, reporter: Reporter) -> tuple[ChapterEntry, ...]:
        """SUMMARY.md's files in reading order, as chapter entries (sections after their
        chapter), their ids made as mdBook makes them."""
        name = display_path(self.summary)
        text = read_book_text(self.summary, self.manifest.parent, "chapter")
        entries = parse_summary(text, name, reporter)
        chapters = [entry for item in entries for entry in self._entries(item, None, name)]
        if not chapters:
            raise ManifestError("SUMMARY.md lists no chapter file", name,
                                hint="list the chapters: - [Introduction](intro.md)")
        refuse_repeats(chapters, lambda entry: ManifestError(
            f"'{display_path(entry.path)}' is listed twice", name, hint="a file is one chapter or section of the book"))
        return tuple(chapters)

    def _entries(self, item: SummaryEntry, part: str | None, name: str) -> list[ChapterEntry]:
        if item.file is None:  # a part: its chapters
            return [entry for child in item.chapters for entry in self._entries(child, item.title, name)]
        chapter = ChapterEntry(self._file(item, name), kind=item.kind, part=part, ids="mdbook")
        return [chapter, *(ChapterEntry(self._file(section, name), kind=SECTION, part=part, ids="mdbook")
                           for section in item.sections)]

    def _file(self, item: SummaryEntry, name: str) -> Path:
        root = self.manifest.parent
        try:
            return resolve_in_book(root, self.src, item.file or "", what="chapter", file=name, line=item.line,
                                   error=ManifestError)
        except BookError as exc:
            if (self.src / (item.file or "")).exists():
                raise
            raise ManifestError(f"chapter '{item.file}' not found", name, item.line,
                                hint="mdBook creates missing chapters; create the file, or take the line out") from exc


def mdbook_project(manifest: Path, config: dict[str, Any]) -> MdbookProject | None:
    """The mdBook project whose book.toml this is, or None for bookbuild's own manifest: mdBook's
    ``[book]`` lists no ``chapters``, and ``<src>/SUMMARY.md`` lists them instead."""
    book = config.get("book")
    if not isinstance(book, dict) or "chapters" in book:
        return None
    src_name = book.get("src", "src")
    src = manifest.parent / (src_name if isinstance(src_name, str) else "src")
    return MdbookProject(manifest, src) if (src / "SUMMARY.md").is_file() else None


class MdbookText(ManifestText):
    """An mdBook book.toml, for the readers of bookbuild's tables: ``[book] styles`` is written
    in ``[output.bookbuild]``, ``[pdf]`` in ``[output.bookbuild.pdf]``, ``[book] direction`` as
    mdBook's ``text-direction``; lines and messages name the place where the key is written."""

    def __init__(self, source: ManifestText, in_book: frozenset[str]) -> None:
        self.path, self.name, self.lines = source.path, source.name, source.lines
        self.in_book = in_book

    def written(self, table: str | None, key: str | None) -> tuple[str | None, str | None]:
        if table == "book":
            if key in self.in_book:
                return "book", MDBOOK_BOOK_KEYS.get(key, key)
            return f"output.{RENDERER}", key
        if table is None:
            return table, key
        return f"output.{RENDERER}.{table}", key

    def line_of(self, table: str | None, key: str | None = None, needle: str | None = None) -> int | None:
        where, name = self.written(table, key)
        return super().line_of(where, name, needle)

    def error(self, message: str, table: str | None, key: str | None = None,
              needle: str | None = None, hint: str | None = None) -> ManifestError:
        where, name = self.written(table, key)
        if table is not None:
            message = message.replace(f"[{table}] {key}:" if key else f"[{table}]", f"[{where}] {name}:" if key
                                      else f"[{where}]", 1)
        return ManifestError(message, self.name, self.line_of(table, key, needle), hint=hint)

    def shown(self, table: str, key: str | None = None) -> str:
        return self.written(table, key)[0] or table


# --- SUMMARY.md -------------------------------------------------------------------------------

@dataclass
class SummaryEntry:
    """A chapter of SUMMARY.md with its nested entries (sections), or a part (no file: a
    title over the chapters that follow)."""

    title: str
    file: str | None = None
    line: int = 0
    kind: str = "chapter"
    sections: list[SummaryEntry] = field(default_factory=list)
    chapters: list[SummaryEntry] = field(default_factory=list)


_LINK = re.compile(r"^\[(?P<title>[^\]]*)\]\((?P<target>[^)]*)\)\s*$")
_ITEM = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<link>\[.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


class _Summary:
    """The reading of one SUMMARY.md, line by line (mdBook's grammar: a title, prefix
    chapters, numbered chapters in lists under optional part headings, suffix chapters)."""

    def __init__(self, file: str, reporter: Reporter) -> None:
        self.file, self.reporter = file, reporter
        self.top: list[SummaryEntry] = []
        self.current = self.top  # the list new chapters go in: the book's, or a part's
        self.chapter: SummaryEntry | None = None  # the numbered chapter nested items belong to
        self.indent = 0
        self.started = self.numbered = False

    def heading(self, title: str) -> None:
        if self.started:  # the first heading is the summary's own title
            part = SummaryEntry(title)
            self.top.append(part)
            self.current, self.chapter = part.chapters, None
        self.started = True

    def link(self, title: str, target: str, number: int, indent: int | None) -> None:
        self.started = True
        target = unquote(target.strip().strip("<>"))
        entry = SummaryEntry(title.strip(), target, number)
        if not target:
            self.reporter.warn(f"draft chapter '{title}' skipped", self.file, number)
            if indent is not None and (self.chapter is None or indent <= self.indent):
                self.chapter = None
            return
        if indent is None:  # prefix (before the numbered chapters) or suffix (after them)
            entry.kind = matter_kind(entry, FRONT_KINDS if not self.numbered else BACK_KINDS,
                                     "preface" if not self.numbered else "afterword")
            (self.top if self.numbered else self.current).append(entry)
            self.chapter = None
        elif self.chapter is not None and indent > self.indent:
            self.chapter.sections.append(entry)
        else:
            self.numbered, self.chapter, self.indent = True, entry, indent
            self.current.append(entry)


def parse_summary(text: str, file: str, reporter: Reporter) -> list[SummaryEntry]:
    """SUMMARY.md's chapters in order: nested entries as sections of their numbered chapter,
    ``# Part`` headings as parts, drafts (``[Title]()``) skipped with a warning."""
    summary = _Summary(file, reporter)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip().replace("\t", "    ")
        heading = _HEADING.match(line)
        if heading:
            summary.heading(heading.group("title"))
            continue
        item = _ITEM.match(line)
        link = _LINK.match(item.group("link").strip() if item else line.strip())
        if link:
            indent = len(item.group("indent")) if item else None
            summary.link(link.group("title"), link.group("target"), number, indent)
    return summary.top


def matter_kind(entry: SummaryEntry, kinds: tuple[str, ...], default: str) -> str:
    """The kind an unnumbered chapter's title or file names (``Foreword``, ``glossary.md``),
    else ``default``: prefix chapters are front matter, suffix chapters back matter."""
    words = set(re.findall(r"[a-z]+", f"{entry.title} {Path(entry.file or '').stem}".casefold()))
    words |= {"acknowledgments" for word in words if word.startswith("acknowledg")}
    return next((kind for kind in kinds if kind in words), default)

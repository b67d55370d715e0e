"""``[book] chapters``: the book's files in reading order, with their kinds, parts and sections.

A chapter entry may hold ``sections``: files that continue their chapter (mdBook's nested
SUMMARY entries), with no number and no page of their own. They are listed flat, each right
after its chapter, with the kind :data:`SECTION`, so that every stage that walks the chapters
in order sees them where a reader does; the chapter a section continues is the nearest one
before it that is not a section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..resources import display_path
from .toml import ManifestText, TableReader, type_name

# What a chapter file can be besides a numbered chapter (EPUB structural semantics and
# DPUB-ARIA roles share these names). Front matter kinds before the first chapter are
# unnumbered and roman-paged in the PDF; every kind but "chapter" is unnumbered.
FRONT_KINDS = ("dedication", "epigraph", "foreword", "preface", "acknowledgments", "introduction", "prologue")
BACK_KINDS = ("afterword", "epilogue", "appendix", "glossary", "bibliography", "colophon", "acknowledgments",
              "endnotes", "index")  # index: where the generated index goes (transforms/index.py)
CHAPTER_KINDS = ("chapter", *FRONT_KINDS, *(kind for kind in BACK_KINDS if kind not in FRONT_KINDS))
SECTION = "section"  # a file that continues the chapter before it (never written as a kind)
ID_STYLES = ("bookbuild", "mdbook")  # how heading ids are made from heading text (slugs.py)


@dataclass(frozen=True)
class ChapterEntry:
    """One file of the book: the resolved path, an optional title, its kind and part.

    ``ids`` names the rule that makes its heading ids: ``"mdbook"`` for a file written for
    mdBook, whose links use mdBook's ids (``#concatenating-with--or-format``).
    """

    path: Path
    title: str | None = None
    kind: str = "chapter"
    part: str | None = None
    ids: str = "bookbuild"

    @property
    def is_section(self) -> bool:
        return self.kind == SECTION


def read_chapters(source: ManifestText, reader: TableReader, book: dict[str, Any]) -> tuple[ChapterEntry, ...]:
    """``[book] chapters``, every file resolved inside the book folder, none listed twice."""
    entries = book.get("chapters")
    if entries is None:
        raise source.error("[book] chapters: required key missing", "book",
                           hint='list the chapter files in reading order: chapters = ["chapters/01.md"]')
    if not isinstance(entries, list) or not entries:
        raise source.error("[book] chapters: expected a non-empty list of files", "book", "chapters")
    chapters = _chapter_entries(source, reader, entries, part=None)
    refuse_repeats(chapters, lambda entry: source.error(
        f"[book] chapters: '{display_path(entry.path)}' is listed twice", "book", needle=entry.path.name))
    return tuple(chapters)


def refuse_repeats(chapters: list[ChapterEntry] | tuple[ChapterEntry, ...], error: Any) -> None:
    """Raise ``error(entry)`` for the first file listed a second time: one file, one place."""
    seen: set[Path] = set()
    for chapter in chapters:
        if chapter.path in seen:
            raise error(chapter)
        seen.add(chapter.path)


def _chapter_entries(source: ManifestText, reader: TableReader, entries: list[Any],
                     part: str | None) -> list[ChapterEntry]:
    chapters: list[ChapterEntry] = []
    for entry in entries:
        if isinstance(entry, str):
            chapters.append(ChapterEntry(reader.file(entry, "chapters", what="chapter"), part=part))
        elif isinstance(entry, dict) and "part" in entry:
            chapters += _part_entries(source, reader, entry, part)
        elif isinstance(entry, dict):
            chapters += _chapter_table(source, reader, entry, part)
        else:
            raise source.error(f"[book] chapters: entries are file names or tables, not {type_name(entry)}",
                               "book", "chapters")
    return chapters


def _part_entries(source: ManifestText, reader: TableReader, entry: dict[str, Any],
                  outer: str | None) -> list[ChapterEntry]:
    """``{ part = "Part One", chapters = [...] }``: the chapters of one part (parts do not nest)."""
    title = entry["part"]
    if not isinstance(title, str) or not title.strip():
        raise source.error("[book] chapters: part = \"...\" must be a non-empty title", "book", "chapters")
    if outer is not None:
        raise source.error(f"[book] chapters: part '{title}' is inside part '{outer}'; parts do not nest",
                           "book", needle=title)
    unknown = set(entry) - {"part", "chapters"}
    if unknown:
        raise source.error(f"[book] chapters: unknown key '{sorted(unknown)[0]}' in part '{title}'",
                           "book", needle=title)
    inner = entry.get("chapters")
    if not isinstance(inner, list) or not inner:
        raise source.error(f"[book] chapters: part '{title}' needs chapters = [...] with at least one file",
                           "book", needle=title)
    return _chapter_entries(source, reader, inner, part=title)


def _chapter_table(source: ManifestText, reader: TableReader, entry: dict[str, Any],
                   part: str | None) -> list[ChapterEntry]:
    """``{ file = "...", title = "...", kind = "...", sections = [...] }``: the chapter, then
    its sections."""
    name = entry.get("file")
    if not isinstance(name, str):
        raise source.error("[book] chapters: a table entry needs file = \"...\"", "book", "chapters")
    title = entry.get("title")
    if title is not None and not isinstance(title, str):
        raise source.error(f"[book] chapters: title of '{name}' must be a string", "book", needle=name)
    unknown = set(entry) - {"file", "title", "kind", "sections"}
    if unknown:
        raise source.error(f"[book] chapters: unknown key '{sorted(unknown)[0]}' in entry for '{name}'",
                           "book", needle=name)
    kind = entry.get("kind", "chapter")
    if kind not in CHAPTER_KINDS:
        raise source.error(f"[book] chapters: unknown kind '{kind}' for '{name}'", "book", needle=name,
                           hint=f"one of {', '.join(CHAPTER_KINDS)}")
    sections = entry.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        raise source.error(f"[book] chapters: sections of '{name}' must be a list of files", "book", needle=name,
                           hint=f'{{ file = "{name}", sections = ["more.md"] }}')
    chapter = ChapterEntry(reader.file(name, "chapters", what="chapter"), title, kind=kind, part=part)
    return [chapter, *(ChapterEntry(reader.file(section, "chapters", what="section"), kind=SECTION, part=part)
                       for section in sections)]

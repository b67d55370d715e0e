"""Find, load and validate book.toml into frozen dataclasses (house rule 3).

Defaults live here and nowhere else; after loading, the rest of the code trusts its inputs.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError, Reporter
from ..resources import display_path
from ..slugs import file_slug
from .languages import LanguageFacts, language_facts
from .overrides import CommandLine, Overrides
from .pdf import (  # noqa: F401 - re-exported
    PAGE_SIZES,
    PDF_KEYS,
    PDF_VARIANTS,
    PdfOptions,
    chapter_selection,
    page_size_value,
    read_pdf_options,
)
from .toml import ManifestText, TableReader, read_toml, type_name

MANIFEST_NAME = "book.toml"

# BCP 47, loosely: a primary language subtag and optional subtags (en, en-GB, zh-Hans-CN, ...).
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$|^[A-Za-z]{4,8}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class BookMeta:
    """What the package metadata and the title pages say about the book."""

    title: str
    authors: tuple[str, ...]
    language: str
    identifier: str
    subtitle: str | None = None
    date: str | None = None
    publisher: str | None = None
    description: str | None = None
    rights: str | None = None
    subjects: tuple[str, ...] = ()


# What a chapter file can be besides a numbered chapter (EPUB structural semantics and
# DPUB-ARIA roles share these names). Front matter kinds before the first chapter are
# unnumbered and roman-paged in the PDF; every kind but "chapter" is unnumbered.
FRONT_KINDS = ("dedication", "epigraph", "foreword", "preface", "acknowledgments", "introduction", "prologue")
BACK_KINDS = ("afterword", "epilogue", "appendix", "glossary", "bibliography", "colophon", "acknowledgments")
CHAPTER_KINDS = ("chapter", *FRONT_KINDS, *(kind for kind in BACK_KINDS if kind not in FRONT_KINDS))


@dataclass(frozen=True)
class ChapterEntry:
    """One entry of ``chapters``: the resolved file, an optional title, its kind and part."""

    path: Path
    title: str | None = None
    kind: str = "chapter"
    part: str | None = None


@dataclass(frozen=True)
class EpubOptions:
    """The ``[epub]`` table.

    ``generate_cover``: draw a typographic cover when ``[book] cover`` is not given, so the
    book has a face in every library view. ``accessibility_summary``: replaces the generated
    ``schema:accessibilitySummary``. ``page_list``: lay the book out as the PDF would and
    record its page breaks in the EPUB (costs one PDF layout per EPUB build).
    """

    generate_cover: bool = True
    accessibility_summary: str | None = None
    page_list: bool = False
    writing_mode: str = "horizontal-tb"  # or "vertical-rl" (EPUB only; the PDF stays horizontal)
    subset_fonts: bool = False  # subset [book] fonts to the book's characters with fontTools


@dataclass(frozen=True)
class Manifest:
    """A validated book.toml."""

    path: Path
    meta: BookMeta
    chapters: tuple[ChapterEntry, ...]
    cover: Path | None = None
    styles: tuple[Path, ...] = ()
    pdf: PdfOptions = field(default_factory=PdfOptions)
    epub: EpubOptions = field(default_factory=EpubOptions)
    allow_remote: bool = False  # [build] allow_remote: fetch http(s) images and CSS resources
    direction: str | None = None  # [book] direction: overrides the language's direction
    fonts: tuple[Path, ...] = ()  # [book] fonts: font files embedded in the EPUB, used in the PDF

    @property
    def language(self) -> LanguageFacts:
        """Direction, hyphenation, quotation marks and labels of the book's language."""
        return language_facts(self.meta.language, self.direction)

    @property
    def root(self) -> Path:
        """The book folder: every file the book uses lives below it."""
        return self.path.parent

    @property
    def slug(self) -> str:
        """The base name of the outputs, from the title."""
        return file_slug(self.meta.title)


def find_manifest(location: str | Path | None = None) -> Path:
    """The book.toml for a folder, a file, or (with no argument) ./ or ./book/."""
    if location is None:
        for candidate in (Path(MANIFEST_NAME), Path("book") / MANIFEST_NAME):
            if candidate.is_file():
                return candidate.resolve()
        raise ManifestError(
            f"no {MANIFEST_NAME} in this folder or in ./book/",
            hint="run in a book folder, or name one: bookbuild epub path/to/book",
        )
    path = Path(location)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{display_path(path)}: no such book manifest")
    return path.resolve()


_BOOK_KEYS = {
    "title", "subtitle", "authors", "language", "identifier", "date", "publisher",
    "description", "rights", "subjects", "cover", "chapters", "styles", "direction", "fonts",
}
_TABLES = {"book", "pdf", "epub", "build"}
_EPUB_KEYS = {"generate_cover", "accessibility_summary", "page_list", "writing_mode", "subset_fonts"}
DIRECTIONS = ("ltr", "rtl")
WRITING_MODES = ("horizontal-tb", "vertical-rl")
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
_BUILD_KEYS = {"allow_remote"}


def load_manifest(location: str | Path | None = None, reporter: Reporter | None = None,
                  overrides: Overrides | None = None) -> Manifest:
    """Load book.toml, merge the command line's ``overrides``, and validate everything once.

    A problem of the file is a :class:`ManifestError` with its line; an override the same
    readers refuse is a :class:`UsageError` naming its flag. Nothing is read but book.toml.
    """
    reporter = reporter or Reporter()
    overrides = overrides or Overrides()
    path = find_manifest(location)
    source, data = read_toml(path)
    for key in data:
        if key not in _TABLES:
            reporter.warn(f"unknown table or key '{key}' ignored", source.name,
                          source.line_of(None, key, needle=f"[{key}]") or source.line_of(None, key))
    book = data.get("book")
    if not isinstance(book, dict):
        raise source.error("missing [book] table", None,
                           hint="start book.toml with [book] and title, authors, language, chapters")
    for key in book:
        if key not in _BOOK_KEYS:
            reporter.warn(f"[book] unknown key '{key}' ignored", source.name, source.line_of("book", key))

    reader = TableReader(source, "book", book)
    meta = _book_meta(source, reader)
    cover_name = reader.string("cover")
    cover = reader.file(cover_name, "cover", what="cover image") if cover_name else None
    styles = tuple(reader.file(name, "styles", what="stylesheet") for name in reader.string_list("styles"))
    chapters = _chapters(source, reader, book)

    pdf_table = _table(source, data, "pdf", PDF_KEYS, reporter)
    pdf = _pdf_options(source, pdf_table, overrides, chapters)
    epub_reader = TableReader(source, "epub", _table(source, data, "epub", _EPUB_KEYS, reporter))
    epub = EpubOptions(
        generate_cover=epub_reader.boolean("generate_cover", default=True),
        accessibility_summary=epub_reader.string("accessibility_summary"),
        page_list=epub_reader.boolean("page_list", default=False),
        writing_mode=epub_reader.choice("writing_mode", WRITING_MODES) or "horizontal-tb",
        subset_fonts=epub_reader.boolean("subset_fonts", default=False),
    )
    build_reader = TableReader(source, "build", _table(source, data, "build", _BUILD_KEYS, reporter))
    return Manifest(path=path, meta=meta, chapters=chapters, cover=cover, styles=styles, pdf=pdf, epub=epub,
                    direction=reader.choice("direction", DIRECTIONS), fonts=_fonts(source, reader),
                    allow_remote=bool(build_reader.boolean("allow_remote", default=False)) or overrides.allow_remote)


def _pdf_options(source: ManifestText, table: dict[str, Any], overrides: Overrides,
                 chapters: tuple[ChapterEntry, ...]) -> PdfOptions:
    """The ``[pdf]`` table with the command line's PDF options over it, both read by
    :func:`read_pdf_options`; a ``--chapters`` selection must name chapters of this book."""
    pdf = read_pdf_options(TableReader(source, "pdf", table))
    given = overrides.tables()["pdf"]
    if not given:
        return pdf
    command_line = read_pdf_options(TableReader(CommandLine(), "pdf", given), command_line=True)
    pdf = dataclasses.replace(pdf, **{key: getattr(command_line, key) for key in given})
    if pdf.chapters is not None:
        chapter_selection(pdf.chapters, tuple(entry.path.stem for entry in chapters))
    return pdf


def _book_meta(source: ManifestText, reader: TableReader) -> BookMeta:
    """The [book] table's metadata: title, authors and language required."""
    title = reader.string("title", required=True)
    authors = reader.string_list("authors", required=True)
    if not authors:
        raise source.error("[book] authors: list at least one author", "book", "authors")
    language = reader.string("language", required=True)
    if not _BCP47.match(language):
        raise source.error(f"[book] language: '{language}' is not a BCP 47 language tag", "book",
                           "language", hint="for example en, en-GB, fr, zh-Hans")
    return BookMeta(
        title=title,
        authors=tuple(authors),
        language=language,
        identifier=reader.string("identifier") or default_identifier(title, authors),
        subtitle=reader.string("subtitle"),
        date=reader.date("date"),
        publisher=reader.string("publisher"),
        description=reader.string("description"),
        rights=reader.string("rights"),
        subjects=tuple(reader.string_list("subjects")),
    )


def _fonts(source: ManifestText, reader: TableReader) -> tuple[Path, ...]:
    """``[book] fonts``: font files inside the book folder, by suffix (the renderers need the format)."""
    fonts = []
    for name in reader.string_list("fonts"):
        font = reader.file(name, "fonts", what="font")
        if font.suffix.lower() not in FONT_SUFFIXES:
            raise source.error(f"[book] fonts: '{name}' is not a font file", "book", "fonts",
                               hint="name .ttf, .otf, .woff or .woff2 files")
        fonts.append(font)
    return tuple(fonts)


def default_identifier(title: str, authors: list[str] | tuple[str, ...]) -> str:
    """A stable UUID from title and authors, so rebuilds keep the same identifier."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'bookbuild:' + title + chr(10) + chr(10).join(authors))}"


def _table(source: ManifestText, data: dict[str, Any], name: str, known: set[str],
           reporter: Reporter) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise source.error(f"'{name}' must be a table ([{name}])", None, name)
    for key in table:
        if key not in known:
            reporter.warn(f"[{name}] unknown key '{key}' ignored", source.name, source.line_of(name, key))
    return table


def _chapters(source: ManifestText, reader: TableReader, book: dict[str, Any]) -> tuple[ChapterEntry, ...]:
    entries = book.get("chapters")
    if entries is None:
        raise source.error("[book] chapters: required key missing", "book",
                           hint='list the chapter files in reading order: chapters = ["chapters/01.md"]')
    if not isinstance(entries, list) or not entries:
        raise source.error("[book] chapters: expected a non-empty list of files", "book", "chapters")
    chapters = _chapter_entries(source, reader, entries, part=None)
    seen: set[Path] = set()
    for chapter in chapters:
        if chapter.path in seen:
            raise source.error(f"[book] chapters: '{display_path(chapter.path)}' is listed twice", "book",
                               needle=chapter.path.name)
        seen.add(chapter.path)
    return tuple(chapters)


def _chapter_entries(source: ManifestText, reader: TableReader, entries: list[Any],
                     part: str | None) -> list[ChapterEntry]:
    chapters = []
    for entry in entries:
        if isinstance(entry, str):
            chapters.append(ChapterEntry(reader.file(entry, "chapters", what="chapter"), part=part))
        elif isinstance(entry, dict) and "part" in entry:
            chapters += _part_entries(source, reader, entry, part)
        elif isinstance(entry, dict):
            chapters.append(_chapter_table(source, reader, entry, part))
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
                   part: str | None) -> ChapterEntry:
    name = entry.get("file")
    if not isinstance(name, str):
        raise source.error("[book] chapters: a table entry needs file = \"...\"", "book", "chapters")
    title = entry.get("title")
    if title is not None and not isinstance(title, str):
        raise source.error(f"[book] chapters: title of '{name}' must be a string", "book", needle=name)
    unknown = set(entry) - {"file", "title", "kind"}
    if unknown:
        raise source.error(f"[book] chapters: unknown key '{sorted(unknown)[0]}' in entry for '{name}'",
                           "book", needle=name)
    kind = entry.get("kind", "chapter")
    if kind not in CHAPTER_KINDS:
        raise source.error(f"[book] chapters: unknown kind '{kind}' for '{name}'", "book", needle=name,
                           hint=f"one of {', '.join(CHAPTER_KINDS)}")
    return ChapterEntry(reader.file(name, "chapters", what="chapter"), title, kind=kind, part=part)



"""Find, load and validate book.toml into frozen dataclasses (house rule 3).

Defaults live here and nowhere else; after loading, the rest of the code trusts its inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BookError, Diagnostic, ManifestError, ManifestErrors, Reporter, UsageError
from ..resources import display_path
from ..slugs import file_slug
from .chapters import (  # noqa: F401 - re-exported
    BACK_KINDS,
    CHAPTER_KINDS,
    FRONT_KINDS,
    SECTION,
    ChapterEntry,
    read_chapters,
)
from .isbn import isbn_problem, prose_isbn
from .language_tags import language_problem
from .languages import LanguageFacts, language_facts
from .mdbook import mdbook_project
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
from .print import PRINT_KEYS, PrintOptions, print_options
from .themes import DEFAULT_THEME, read_theme
from .citations import CITATION_KEYS, CitationOptions, read_citation_options
from .toml import ManifestText, TableReader, closest, read_toml

MANIFEST_NAME = "book.toml"



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
    edition: str | None = None  # "Second edition": printed on the copyright page


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
    math: bool = True  # [book] math: $...$ and $$...$$ in Markdown are TeX (false: dollars are text)
    print: PrintOptions = field(default_factory=PrintOptions)  # [print] / --for: a print-on-demand preset
    citations: CitationOptions = field(default_factory=CitationOptions)  # [citations] (config/citations.py)
    theme: str = DEFAULT_THEME  # [book] theme: a built-in design (config/themes.py)

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
            hint="run in a book folder, or name one: bookbuild <command> path/to/book",
        )
    path = Path(location)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{display_path(path)}: no such book manifest")
    return path.resolve()


_BOOK_KEYS = {
    "title", "subtitle", "authors", "language", "identifier", "date", "publisher",
    "description", "rights", "subjects", "cover", "chapters", "styles", "direction", "fonts", "math",
    "theme", "edition",
}
_TABLES = {"book", "pdf", "epub", "build", "citations", "print"}
_EPUB_KEYS = {"generate_cover", "accessibility_summary", "page_list", "writing_mode", "subset_fonts"}
DIRECTIONS = ("ltr", "rtl")
WRITING_MODES = ("horizontal-tb", "vertical-rl")
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
_BUILD_KEYS = {"allow_remote"}


def load_manifest(location: str | Path | None = None, reporter: Reporter | None = None,
                  overrides: Overrides | None = None) -> Manifest:
    """Load book.toml, merge the command line's ``overrides``, and validate everything once.

    Every problem of the file is found in one run: a :class:`ManifestErrors` holds them all,
    each with its line, with the warnings of the file, in the order of their lines (a TOML
    syntax error stops at once: nothing after it can be read). An override the same readers
    refuse is a :class:`UsageError` naming its flag. Nothing is read but book.toml.
    """
    reporter = reporter or Reporter()
    overrides = overrides or Overrides()
    path = find_manifest(location)
    source, data = read_toml(path)
    project = mdbook_project(path, data)  # an mdBook project's book.toml, read as it is
    if project is not None:
        source, data = project.tables(source, data)
    found = _Findings(source)
    for key in data:
        if key not in _TABLES:
            found.warn(f"unknown table or key '{source.shown(key)}' ignored",
                       source.line_of(None, key, needle=f"[{source.shown(key)}]") or source.line_of(None, key),
                       hint=did_you_mean(key, _TABLES))
    book = data.get("book")
    if not isinstance(book, dict):
        found.errors.append(source.error("missing [book] table", None, hint="start book.toml with [book] and "
                                         "title, authors, language, chapters").diagnostic)
        found.finish(reporter)
    for key in book:
        if key not in _BOOK_KEYS:
            found.warn(f"[{source.shown('book', key)}] unknown key '{key}' ignored", source.line_of("book", key),
                       hint=did_you_mean(key, _BOOK_KEYS))
    read = found.read
    reader = TableReader(source, "book", book)
    meta = _book_meta(source, reader, read)
    if meta is not None and (isbn := prose_isbn(meta.identifier)):
        found.warn(f"[book] identifier: '{meta.identifier}' is not read as an ISBN: the copyright page leaves it out",
                   source.line_of("book", "identifier"), hint=f'write identifier = "{isbn}"')
    cover_name = read(lambda: reader.string("cover"))
    cover = read(lambda: reader.file(cover_name, "cover", what="cover image")) if cover_name else None
    styles = tuple(style for name in read(lambda: reader.string_list("styles"), [])
                   if (style := read(lambda name=name: reader.file(name, "styles", what="stylesheet"))))
    chapters = read(lambda: project.chapters(found.warnings) if project else read_chapters(source, reader, book), ())
    pdf = read(lambda: _pdf_options(source, _table(source, data, "pdf", PDF_KEYS, found), overrides, chapters))
    printing, pdf = read(lambda: print_options(source, _table(source, data, "print", PRINT_KEYS, found),
                                           data.get("pdf"), overrides.printer, pdf), (PrintOptions(), None))
    epub = read(lambda: _epub_options(TableReader(source, "epub", _table(source, data, "epub", _EPUB_KEYS, found)),
                                      read))
    build_reader = TableReader(source, "build", read(lambda: _table(source, data, "build", _BUILD_KEYS, found), {}))
    direction = read(lambda: reader.choice("direction", DIRECTIONS))
    fonts = read(lambda: _fonts(source, reader), ())
    math = read(lambda: reader.boolean("math", default=True), True)
    theme = read(lambda: read_theme(reader), DEFAULT_THEME)
    allow_remote = read(lambda: build_reader.boolean("allow_remote", default=False), False)
    citations = read(lambda: read_citation_options(source, _table(source, data, "citations", CITATION_KEYS, found)),
                     CitationOptions())
    manifest = Manifest(path=path, meta=meta, chapters=chapters, cover=cover, styles=styles,
                        pdf=pdf or PdfOptions(), epub=epub or EpubOptions(), direction=direction, fonts=fonts,
                        math=bool(math), theme=theme, allow_remote=bool(allow_remote) or overrides.allow_remote,
                        citations=citations, print=printing)
    try:
        found.finish(reporter)
    except ManifestErrors as exc:  # `check` goes on to the chapters with what could be read
        exc.partial = manifest if meta is not None and chapters else None
        raise
    return manifest


class _Findings:
    """The problems of one book.toml, gathered so that all of them are told in one run."""

    def __init__(self, source: ManifestText) -> None:
        self.source = source
        self.errors: list[Diagnostic] = []
        self.warnings = Reporter()

    def warn(self, message: str, line: int | None, hint: str | None = None) -> None:
        self.warnings.warn(message, self.source.name, line, hint=hint)

    def read(self, step: Callable[[], Any], default: Any = None) -> Any:
        """``step()``, or ``default`` with its error kept (a command-line error stops at once)."""
        try:
            return step()
        except UsageError:
            raise
        except BookError as exc:
            self.errors.extend(exc.diagnostics)
            return default

    def finish(self, reporter: Reporter) -> None:
        """Raise every error with the warnings, in line order; else hand the warnings on."""
        order = sorted(self.warnings.diagnostics + self.errors, key=lambda d: (d.location.line or 0, d.location.col or 0))
        if self.errors:
            raise ManifestErrors(order)
        for diagnostic in order:
            location = diagnostic.location
            reporter.warn(diagnostic.message, location.file, location.line, location.col, diagnostic.hint)


def did_you_mean(key: str, known: set[str] | frozenset[str]) -> str | None:
    """"did you mean 'title'?" for a key written nearly as a known one."""
    close = closest(key, sorted(known))
    return f"did you mean '{close}'?" if close else None


def _epub_options(reader: TableReader, read: Callable[..., Any]) -> EpubOptions:
    """The ``[epub]`` table, each key on its own, so that every wrong one is told."""
    return EpubOptions(
        generate_cover=read(lambda: reader.boolean("generate_cover", default=True), True),
        accessibility_summary=read(lambda: reader.string("accessibility_summary")),
        page_list=read(lambda: reader.boolean("page_list", default=False), False),
        writing_mode=read(lambda: reader.choice("writing_mode", WRITING_MODES)) or "horizontal-tb",
        subset_fonts=read(lambda: reader.boolean("subset_fonts", default=False), False),
    )


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
    if pdf.chapters is not None and chapters:
        chapter_selection(pdf.chapters, tuple((entry.path.stem, entry.kind) for entry in chapters))
    return pdf


def _book_meta(source: ManifestText, reader: TableReader, read: Callable[..., Any]) -> BookMeta | None:
    """The [book] table's metadata: title, authors and language required; each key read on
    its own (``read`` keeps its error and goes on)."""
    title = read(lambda: reader.string("title", required=True))
    authors = read(lambda: reader.string_list("authors", required=True), [])
    if not authors and "authors" in reader.values:
        read(lambda: _raise(source.error("[book] authors: list at least one author", "book", "authors")))
    language = read(lambda: _language(source, reader))
    meta = dict(
        subtitle=read(lambda: reader.string("subtitle")),
        date=read(lambda: reader.date("date")),
        publisher=read(lambda: reader.string("publisher")),
        description=read(lambda: reader.string("description")),
        rights=read(lambda: reader.string("rights")),
        edition=read(lambda: reader.string("edition")),
        subjects=tuple(read(lambda: reader.string_list("subjects"), [])),
        identifier=read(lambda: _identifier(source, reader)),
    )
    if title is None or not authors or language is None:
        return None  # the errors say why
    meta["identifier"] = meta["identifier"] or default_identifier(title, authors)
    return BookMeta(title=title, authors=tuple(authors), language=language, **meta)


def _identifier(source: ManifestText, reader: TableReader) -> str | None:
    """``[book] identifier``; one written ``isbn:``/``urn:isbn:`` must be an ISBN (config/isbn.py)."""
    identifier = reader.string("identifier")
    problem = isbn_problem(identifier) if identifier else None
    if problem:
        raise source.error(f"[book] identifier: {problem}", "book", "identifier",
                           hint="copy the ISBN from the agency's record, such as identifier = \"isbn:9780306406157\"")
    return identifier


def _language(source: ManifestText, reader: TableReader) -> str:
    """``[book] language``: a BCP 47 tag the IANA registry knows (language_tags.py)."""
    language = reader.string("language", required=True)
    hint = language_problem(language)
    if hint is not None:
        raise source.error(f"[book] language: '{language}' is not a BCP 47 language tag", "book", "language", hint=hint)
    return language


def _raise(error: BookError) -> None:
    raise error


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
           found: _Findings) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise source.error(f"'{name}' must be a table ([{name}])", None, name)
    for key in table:
        if key not in known:
            found.warn(f"[{source.shown(name, key)}] unknown key '{key}' ignored", source.line_of(name, key),
                       hint=did_you_mean(key, known))
    return table



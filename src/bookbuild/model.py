"""The neutral book model: what every renderer consumes, with nothing format-specific in it.

Bodies are well-formed XHTML fragments without a namespace; links inside the book are
book-global fragment references (``#some-id``), images refer to assets by ``Asset.href``.
Roles are ARIA ``doc-*`` roles; renderers translate them (the EPUB adds ``epub:type``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .config.languages import LanguageFacts
from .config.manifest import BookMeta
from .files import read_book_file


@dataclass(frozen=True)
class Heading:
    """A heading of a chapter body, as it appears in the contents."""

    level: int
    text: str
    id: str


@dataclass(frozen=True)
class Footnote:
    """A note called from the body by ``<a role="doc-noteref" href="#id">number</a>``."""

    id: str
    number: int
    body: str
    ref_ids: tuple[str, ...] = ()

    def with_body(self, body: str) -> Footnote:
        """The same note with another body (the transforms rewrite notes as they do chapters):
        made directly, since ``dataclasses.replace`` checks every field, 3 ms for the thousand
        notes of the large benchmark book."""
        return Footnote(self.id, self.number, body, self.ref_ids)


@dataclass(frozen=True)
class Asset:
    """A file packed with the book (image, font); ``href`` is its generated internal name."""

    href: str
    source: Path
    media_type: str
    data: bytes | None = field(default=None, repr=False)  # fetched remote content (--allow-remote)
    root: Path | None = None  # the folder a local file must stay in (the book folder)

    def content(self) -> bytes:
        """The content to pack: fetched (or cleaned) bytes, else the local file, read through
        the one reader of book files (files.py), contained in ``root``."""
        if self.data is not None:
            return self.data
        kind = "font" if self.media_type.startswith("font/") else "image"
        return read_book_file(self.source, self.root or self.source.parent, kind)


@dataclass(frozen=True)
class Part:
    """A part of the book: a title page before its first chapter, a level in the contents."""

    id: str
    number: int
    title: str


@dataclass(frozen=True)
class Chapter:
    """One chapter: parsed once, rendered by every format."""

    index: int
    id: str
    source: Path
    title: str
    body: str
    headings: tuple[Heading, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    anchors: tuple[tuple[str, str], ...] = ()  # (id as written in the source, id in the book)
    images: tuple[str, ...] = ()  # asset hrefs this chapter shows
    title_id: str = ""
    # or a front/back matter kind (manifest.CHAPTER_KINDS), or "section": a file that continues
    # the chapter before it (no number, no new page; in the contents one level below it)
    kind: str = "chapter"
    part: Part | None = None
    matter: str = "body"  # "front", "body" or "back" (transforms/structure.py)
    number: str | None = None  # "3" for a chapter, "A" for an appendix, None when unnumbered

    @property
    def file_stem(self) -> str:
        return self.source.stem

    @property
    def is_section(self) -> bool:
        return self.kind == "section"

    @property
    def role(self) -> str:
        """The DPUB-ARIA role of the chapter's section (``doc-chapter``, ``doc-preface``...);
        none for a section, which is part of its chapter."""
        return "" if self.is_section else f"doc-{self.kind}"

    def replace(self, **changes: object) -> Chapter:
        return replace(self, **changes)


def part_openers(chapters: tuple[Chapter, ...] | list[Chapter]) -> set[str]:
    """The ids of the chapters that open a part among ``chapters`` (the whole book, or the
    chapters a PDF prints): each is preceded by its part's title page."""
    return {chapter.id for n, chapter in enumerate(chapters)
            if chapter.part is not None and (n == 0 or chapters[n - 1].part != chapter.part)}


# Text the page list does not count: footnotes float to the page foot in the PDF and stand at
# the chapter end in the EPUB; a repeated note call is the PDF's alone.
NOT_COUNTED = frozenset({"footnote", "noteref-again"})


@dataclass(frozen=True)
class PageStart:
    """Printed page ``label`` begins in the block at ``path`` (child-element indices from its
    container: a chapter's section, the title page, the contents), ``chars`` non-space
    characters into that block's text. Made from the PDF's layout, placed in the EPUB."""

    label: str
    path: tuple[int, ...]
    chars: int = 0

    @property
    def id(self) -> str:
        return f"page-{self.label}"


@dataclass(frozen=True)
class Book:
    """Metadata, chapters in reading order, assets and the author's extra stylesheets.

    Only the book: how it is built (the ``[epub]`` and ``[pdf]`` options, the cache) travels
    beside it, in a :class:`~bookbuild.config.BuildContext`.
    """

    meta: BookMeta
    language: LanguageFacts  # direction, hyphenation, quotation marks and labels of meta.language
    source: Path  # book.toml: where problems of the book as a whole are reported
    chapters: tuple[Chapter, ...]
    styles: tuple[Path, ...] = ()  # the author's stylesheets, in order (inside the book folder)
    assets: tuple[Asset, ...] = ()
    cover: Asset | None = None
    id_owner: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # id -> "Figure 3"
    # chapter id -> a keyed hash of its transformed content and everything it was transformed
    # against (transforms/memo.py): renderers key their own per-chapter caches by it
    chapter_keys: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def root(self) -> Path:
        """The book folder: every file the book uses lives below it."""
        return self.source.parent

    def chapter_of(self, anchor: str) -> Chapter | None:
        """The chapter holding a book-global id, for renderers that split files."""
        index = self.id_owner.get(anchor)
        return self.chapters[index] if index is not None else None

    def other_chapter(self, href: str, chapter: Chapter) -> Chapter | None:
        """The chapter holding the book-wide ``#id`` that ``href`` names, when that is not
        ``chapter`` itself: where a renderer that splits files must point the link."""
        if not href.startswith("#"):
            return None
        owner = self.chapter_of(href[1:])
        return owner if owner is not None and owner.id != chapter.id else None

    def starts_part(self, position: int) -> bool:
        """True when the chapter at ``position`` (0-based) is the first of its part."""
        return self.chapters[position].id in part_openers(self.chapters)

    def replace(self, **changes: object) -> Book:
        return replace(self, **changes)

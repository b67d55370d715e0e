"""The neutral book model: what every renderer consumes, with nothing format-specific in it.

Bodies are well-formed XHTML fragments without a namespace; links inside the book are
book-global fragment references (``#some-id``), images refer to assets by ``Asset.href``.
Roles are ARIA ``doc-*`` roles; renderers translate them (the EPUB adds ``epub:type``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .manifest import Manifest


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


@dataclass(frozen=True)
class Asset:
    """A file packed with the book (image, font); ``href`` is its generated internal name."""

    href: str
    source: Path
    media_type: str
    data: bytes | None = field(default=None, repr=False)  # fetched remote content (--allow-remote)

    def read_bytes(self) -> bytes:
        """The content to pack: fetched bytes, else the (already resolved) local file."""
        return self.data if self.data is not None else self.source.read_bytes()


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
    kind: str = "chapter"  # or a front/back matter kind: manifest.CHAPTER_KINDS
    part: Part | None = None
    matter: str = "body"  # "front", "body" or "back" (transforms/structure.py)
    number: str | None = None  # "3" for a chapter, "A" for an appendix, None when unnumbered

    @property
    def file_stem(self) -> str:
        return self.source.stem

    @property
    def role(self) -> str:
        """The DPUB-ARIA role of the chapter's section (``doc-chapter``, ``doc-preface``...)."""
        return f"doc-{self.kind}"

    def replace(self, **changes: object) -> Chapter:
        return replace(self, **changes)


@dataclass(frozen=True)
class Book:
    """Metadata, chapters in reading order, assets and the author's extra stylesheets."""

    manifest: Manifest
    chapters: tuple[Chapter, ...]
    assets: tuple[Asset, ...] = ()
    cover: Asset | None = None
    source_mtime: float = 0.0
    cache_dir: Path | None = None  # where renderers may keep derived data (cache.py); None: do not
    id_owner: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # id -> "Figure 3"
    # chapter id -> a keyed hash of its transformed content and everything it was transformed
    # against (transforms/memo.py): renderers key their own per-chapter caches by it
    chapter_keys: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def meta(self):  # noqa: ANN201 - BookMeta, re-exported for renderers' convenience
        return self.manifest.meta

    def chapter_of(self, anchor: str) -> Chapter | None:
        """The chapter holding a book-global id, for renderers that split files."""
        index = self.id_owner.get(anchor)
        return self.chapters[index] if index is not None else None

    def starts_part(self, position: int) -> bool:
        """True when the chapter at ``position`` (0-based) is the first of its part."""
        part = self.chapters[position].part
        return part is not None and (position == 0 or self.chapters[position - 1].part != part)

    def replace(self, **changes: object) -> Book:
        return replace(self, **changes)

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

    @property
    def file_stem(self) -> str:
        return self.source.stem

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

    @property
    def meta(self):  # noqa: ANN201 - BookMeta, re-exported for renderers' convenience
        return self.manifest.meta

    def chapter_of(self, anchor: str) -> Chapter | None:
        """The chapter holding a book-global id, for renderers that split files."""
        index = self.id_owner.get(anchor)
        return self.chapters[index] if index is not None else None

    def replace(self, **changes: object) -> Book:
        return replace(self, **changes)

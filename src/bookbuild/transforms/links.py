"""Resolve links between chapters to book-wide ids, and images to packed assets.

Paths inside a chapter are relative to that chapter's file, as in any Markdown viewer.
A link or image that cannot be resolved is a warning naming ``file:line``; the link
keeps its text and the image its alternative text, so the book still builds.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ..errors import BookError, Reporter
from ..model import Asset, Book, Chapter
from ..resources import display_path, is_external, resolve_in_book, split_reference
from ..slugs import file_slug
from ..xhtml import parse_fragment, serialize_fragment, source_line

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


class _Assets:
    """Assets in order of first use, each with a generated ASCII internal name."""

    def __init__(self) -> None:
        self.by_source: dict[Path, Asset] = {}

    def add(self, source: Path, folder: str) -> Asset:
        asset = self.by_source.get(source)
        if asset is None:
            number = len(self.by_source) + 1
            suffix = source.suffix.lower()
            href = f"{folder}/{number:03d}-{file_slug(source.stem, default='file', max_length=40)}{suffix}"
            asset = Asset(href=href, source=source, media_type=IMAGE_TYPES[suffix])
            self.by_source[source] = asset
        return asset


def resolve_links(book: Book, reporter: Reporter) -> Book:
    """Rewrite ``a/@href`` to ``#book-id`` and ``img/@src`` to asset hrefs."""
    by_path: dict[Path, Chapter | None] = {chapter.source.resolve(): chapter for chapter in book.chapters}
    assets = _Assets()
    chapters = []
    for chapter in book.chapters:
        wrapper = parse_fragment(chapter.body)
        for link in list(wrapper.iter("a")):
            _resolve_link(link, chapter, by_path, reporter)
        images = []
        for image in list(wrapper.iter("img")):
            asset = _resolve_image(image, chapter, book.manifest.root, assets, reporter)
            if asset is not None:
                images.append(asset.href)
        chapters.append(chapter.replace(body=serialize_fragment(wrapper), images=tuple(images)))
    return book.replace(chapters=tuple(chapters), assets=tuple(assets.by_source.values()))


def _resolve_link(link: etree._Element, chapter: Chapter, by_path: dict[Path, Chapter | None],
                  reporter: Reporter) -> None:
    href = link.get("href")
    if href is None or is_external(href):
        return
    if link.get("role") == "doc-noteref":
        return
    path, fragment = split_reference(href)
    target: Chapter | None = chapter
    if path:
        target = _chapter_at(chapter.source.parent / path, by_path)
        if target is None:
            reporter.warn(f"link target '{href}' is not a chapter of this book",
                          display_path(chapter.source), source_line(link),
                          hint="link to a chapter file listed in book.toml, relative to this file")
            _unwrap(link)
            return
    if not fragment:
        link.set("href", f"#{target.title_id}")
        return
    book_id = dict(target.anchors).get(fragment)
    if book_id is None:
        reporter.warn(f"link target '{href}' not found: no id '{fragment}' in {display_path(target.source)}",
                      display_path(chapter.source), source_line(link))
        _unwrap(link)
        return
    link.set("href", f"#{book_id}")


def _chapter_at(candidate: Path, by_path: dict[Path, Chapter | None]) -> Chapter | None:
    """The chapter a path names; each distinct path is resolved once (resolving is slow)."""
    if candidate not in by_path:
        by_path[candidate] = by_path.get(candidate.resolve())
    return by_path[candidate]


def _resolve_image(image: etree._Element, chapter: Chapter, root: Path, assets: _Assets,
                   reporter: Reporter) -> Asset | None:
    src = image.get("src") or ""

    def where() -> tuple[str, int | None]:  # only on a warning: display_path is slow
        return display_path(chapter.source), source_line(image)

    if is_external(src):
        reporter.warn(f"remote image '{src}' not fetched", *where(),
                      hint="download it into the book folder and link it by a relative path")
        _replace_with_alt(image)
        return None
    path, _fragment = split_reference(src)
    try:
        source = resolve_in_book(root, chapter.source.parent, path, what="image")
    except BookError as exc:
        reporter.warn(exc.diagnostic.message, *where(), hint=exc.diagnostic.hint)
        _replace_with_alt(image)
        return None
    if source.suffix.lower() not in IMAGE_TYPES:
        reporter.warn(f"image '{src}' is not PNG, JPEG, GIF, SVG or WebP", *where())
        _replace_with_alt(image)
        return None
    asset = assets.add(source, "images")
    image.set("src", asset.href)
    if image.get("alt") is None:
        reporter.warn(f"image '{src}' has no alternative text", *where(),
                      hint='describe it: ![what it shows](...), or write alt="" if it is decorative')
        image.set("alt", "")
    return asset


def _unwrap(link: etree._Element) -> None:
    """Keep a broken link's text, drop the link."""
    span = etree.Element("span")
    span.text, span.tail = link.text, link.tail
    for child in link:
        span.append(child)
    link.getparent().replace(link, span)


def _replace_with_alt(image: etree._Element) -> None:
    span = etree.Element("span", {"class": "missing-image"})
    span.text, span.tail = image.get("alt") or "", image.tail
    image.getparent().replace(image, span)

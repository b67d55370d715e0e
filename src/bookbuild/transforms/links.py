"""Resolve links between chapters to book-wide ids, and images to packed assets.

Paths inside a chapter are relative to that chapter's file, as in any Markdown viewer.
A link or image that cannot be resolved is a warning naming ``file:line``; the link
keeps its text and the image its alternative text, so the book still builds.
"""

from __future__ import annotations

import difflib
import re
from functools import partial
from pathlib import Path

from lxml import etree

from ..cache import CheckedImages
from ..config import BuildContext
from ..config.manifest import Manifest
from ..errors import BookError, Reporter, SourceError, SpecialFile, UnreadableFile
from ..files import read_book_file
from ..model import Asset, Book, Chapter
from ..resources import display_path, is_external, real_path, resolve_in_book, split_reference
from ..slugs import file_slug
from ..sources.images import (  # noqa: F401 - IMAGE_TYPES re-exported
    MislabeledImage,
    IMAGE_TYPES,
    MEDIA_TYPE_SUFFIXES,
    check_image,
    svg_warnings,
)
from ..xhtml import source_line
from .bodies import Bodies
from .memo import TransformMemo


def asset_href(folder: str, number: int, source: Path, suffix: str) -> str:
    """The internal name of the ``number``-th file packed in ``folder``: ASCII, ordered, and
    recognisable by its original name (``images/003-diagram.png``)."""
    return f"{folder}/{number:03d}-{file_slug(source.stem, default='file', max_length=40)}{suffix}"


class _Assets:
    """Assets in order of first use, each with a generated ASCII internal name."""

    def __init__(self, checked: CheckedImages, root: Path) -> None:
        self.by_source: dict[Path, Asset] = {}
        self.checked = checked  # images that passed the check in an earlier build
        self.root = root  # the book folder: local images are read inside it

    def add(self, source: Path, folder: str, data: bytes | None = None, suffix: str | None = None) -> Asset:
        """The asset for ``source`` (a resolved file, or a remote URL with fetched ``data``)."""
        asset = self.by_source.get(source)
        if asset is None:
            number = len(self.by_source) + 1
            suffix = suffix or source.suffix.lower()
            href = asset_href(folder, number, source, suffix)
            asset = Asset(href=href, source=source, media_type=IMAGE_TYPES[suffix], data=data, root=self.root)
            self.by_source[source] = asset
        return asset


def resolve_links(book: Book, context: BuildContext, reporter: Reporter, bodies: Bodies,
                  memo: TransformMemo) -> Book:
    """Rewrite ``a/@href`` to ``#book-id`` and ``img/@src`` to asset hrefs."""
    by_path: dict[Path, Chapter | None] = {Path(real_path(chapter.source)): chapter for chapter in book.chapters}
    targets = _Targets(by_path)
    assets = _Assets(CheckedImages(context.cache_dir), book.root)
    chapters = []
    for chapter in book.chapters:
        stored = memo.stored(chapter)
        if stored is not None:  # its images take their places in the assets' order, as in a full run
            for source in stored.image_sources:
                if Path(source) not in assets.by_source:
                    try:
                        _add_checked(Path(source), assets)
                    except (BookError, OSError):  # changed during this build: its next build tells
                        pass
            memo.report_warnings(stored, "links", reporter)
            chapters.append(chapter.replace(images=stored.images))
            continue
        wrapper = bodies.chapter(chapter)
        sources: list[str] = []
        with memo.stage(chapter, "links", reporter) as chapter_reporter:
            for link in list(wrapper.iter("a")):
                _resolve_link(link, chapter, targets, chapter_reporter)
            images = []
            for image in list(wrapper.iter("img")):
                asset = _resolve_image(image, chapter, context.config, assets, chapter_reporter)
                if asset is not None:
                    images.append(asset.href)
                    if asset.source.is_absolute():
                        sources.append(str(asset.source))
            for note in chapter.footnotes:  # links inside a note resolve like the chapter's own
                for link in list(bodies.note(chapter, note).iter("a")):
                    _resolve_link(link, chapter, targets, chapter_reporter)
        memo.entry(chapter).image_sources = tuple(sources)
        chapters.append(chapter.replace(images=tuple(images)))
    assets.checked.save()
    return book.replace(chapters=tuple(chapters), assets=tuple(assets.by_source.values()))


class _Targets:
    """Where the links of one build lead: chapters by the path a link names (_chapter_at
    keeps each path it resolved), and each chapter's ids as written -> ids in the book, made
    a mapping once per chapter, not again for every link to it."""

    def __init__(self, by_path: dict[Path, Chapter | None]) -> None:
        self.by_path = by_path
        self.anchors: dict[str, dict[str, str]] = {}

    def chapter(self, folder: Path, path: str) -> Chapter | None:
        return _chapter_at(folder / path, self.by_path)

    def anchor(self, target: Chapter, fragment: str) -> str | None:
        anchors = self.anchors.get(target.id)
        if anchors is None:
            anchors = self.anchors[target.id] = dict(target.anchors)
        return anchors.get(fragment)


def _resolve_link(link: etree._Element, chapter: Chapter, targets: _Targets, reporter: Reporter) -> None:
    href = link.get("href")
    if href is None or is_external(href):
        return
    if link.get("role") == "doc-noteref":
        return
    path, fragment = split_reference(href)
    target: Chapter | None = chapter
    if path:
        target = targets.chapter(chapter.source.parent, path)
        if target is None:
            reporter.warn(f"link target '{href}' is not a chapter of this book",
                          display_path(chapter.source), source_line(link),
                          hint="link to a chapter file listed in book.toml, relative to this file")
            _unwrap(link)
            return
    if not fragment:
        link.set("href", f"#{target.title_id}")
        return
    book_id = targets.anchor(target, fragment)
    if book_id is None:
        reporter.warn(f"link target '{href}' not found: no id '{fragment}' in {display_path(target.source)}",
                      display_path(chapter.source), source_line(link), hint=_ids_hint(fragment, target))
        _unwrap(link)
        return
    link.set("href", f"#{book_id}")


# Ids bookbuild makes, not the author: footnotes and their references (fn-1, ch02-fnref-1), the
# glossary's back-link targets (gloss-ref-ch02-1; glossary_marks.REF_PREFIX), index marks (ch02-ix3).
_MADE_IDS = re.compile(r"^((ch\d+-)?fn(ref)?-\d+|gloss-ref-|ch\d+-ix\d+x*$)")


def _ids_hint(fragment: str, target: Chapter) -> str | None:
    """For a link to a missing id, the ids the target has that look alike, else its first
    ones; only those an author wrote (or a heading's, a glossary term's): never one bookbuild made."""
    known = list(dict.fromkeys(written for written, _ in target.anchors if not _MADE_IDS.match(written)))
    close = difflib.get_close_matches(fragment, known, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f"'#{name}'" for name in close) + "?"
    if known:
        return "its ids: " + ", ".join(f"'#{name}'" for name in known[:6]) + (", ..." if len(known) > 6 else "")
    return None


def _chapter_at(path: Path, by_path: dict[Path, Chapter | None]) -> Chapter | None:
    """The chapter at ``path``; ``other.html`` finds ``other.md`` (links of books made for the web).

    Each distinct path is resolved once: resolving is slow, and a long book repeats its links.
    """
    if path not in by_path:
        resolved = Path(real_path(path))
        target = by_path.get(resolved)
        if target is None and resolved.suffix.lower() in (".html", ".htm", ".xhtml"):
            for suffix in (".md", ".markdown"):
                target = target or by_path.get(resolved.with_suffix(suffix))
        by_path[path] = target
    return by_path[path]


def _resolve_image(image: etree._Element, chapter: Chapter, manifest: Manifest, assets: _Assets,
                   reporter: Reporter) -> Asset | None:
    src = image.get("src") or ""
    where = (display_path(chapter.source), source_line(image))
    if is_external(src):
        asset = _remote_image(src, manifest, assets, reporter, where)
    else:
        asset = _local_image(src, chapter, manifest.root, assets, reporter, where)
    if asset is None:
        _replace_with_alt(image)
        return None
    image.set("src", asset.href)
    _check_alt(image, src, where, reporter)
    return asset


def _check_alt(image: etree._Element, src: str, where: tuple[str, int | None], reporter: Reporter) -> None:
    """Warn about an image without alternative text; mark a declared decorative one.

    Decorative means ``![](x.png){.decorative}`` in Markdown or ``alt=""`` in HTML; it gets
    ``role="presentation"`` so renderers (and the EPUB's accessibility metadata) can tell it
    from an image whose description was forgotten, which keeps a bare ``alt=""``.
    """
    classes = (image.get("class") or "").split()
    if "decorative" in classes:
        image.set("alt", "")
    if image.get("alt") is None:
        reporter.warn(f"image '{src}' has no alternative text", *where,
                      hint="describe it: ![what it shows](...), or mark it ![](...){.decorative}")
        image.set("alt", "")
    elif image.get("alt") == "" and image.get("role") is None:
        image.set("role", "presentation")


def _local_image(src: str, chapter: Chapter, root: Path, assets: _Assets, reporter: Reporter,
                 where: tuple[str, int | None]) -> Asset | None:
    """An image file inside the book, resolved by the one resolver and checked by Pillow."""
    path, _fragment = split_reference(src)
    try:
        source = resolve_in_book(root, chapter.source.parent, path, what="image")
    except SpecialFile as exc:  # never a mistake: the build stops here
        raise SourceError(exc.diagnostic.message, *where, hint=exc.diagnostic.hint) from None
    except BookError as exc:
        reporter.warn(exc.diagnostic.message, *where, hint=exc.diagnostic.hint)
        return None
    if source.suffix.lower() not in IMAGE_TYPES:
        reporter.warn(f"image '{src}' is not PNG, JPEG, GIF, SVG or WebP", *where)
        return None
    if source in assets.by_source:
        return assets.by_source[source]
    try:
        asset = _add_checked(source, assets, reporter)
        if Path(asset.href).suffix != source.suffix.lower() and source.suffix.lower() != ".jpeg":
            reporter.warn(f"image '{src}' is really {asset.media_type.split('/')[1].upper()}, not what its name "
                          f"says: packed as {Path(asset.href).suffix}", *where,
                          hint=f"rename it {source.stem}{Path(asset.href).suffix}")
        return asset
    except SpecialFile as exc:
        raise SourceError(exc.diagnostic.message, *where, hint=exc.diagnostic.hint) from None
    except UnreadableFile as exc:  # its message names the file
        reporter.warn(f"{exc.diagnostic.message}: left out", *where, hint=exc.diagnostic.hint)
        return None
    except BookError as exc:
        reporter.warn(f"image '{src}' {exc.diagnostic.message}: left out", *where, hint=exc.diagnostic.hint)
        return None


def _add_checked(source: Path, assets: _Assets, reporter: Reporter | None = None) -> Asset:
    """A local image file as the next asset, once it passes the check (else BookError, OSError).

    What the check removes from an SVG is reported to ``reporter`` at the drawing's file and
    line: once per build, by the first chapter that shows it (a chapter taken from the memo
    replays its warnings, so its images are added with no reporter).
    """
    if assets.checked.passed(source, assets.root, source.suffix.lower()):  # good bytes, seen before: not read
        return assets.add(source, "images", suffix=source.suffix.lower())
    check = check_image
    if reporter is not None:
        check = partial(check_image, warn=svg_warnings(reporter, display_path(source)))
    raw, suffix = read_book_file(source, assets.root, "image"), source.suffix.lower()
    try:
        data = assets.checked.check(raw, suffix, check)
    except MislabeledImage as exc:  # a PNG named .jpg: packed as what it is (_local_image says so)
        suffix = exc.real_suffix
        data = assets.checked.check(raw, suffix, check)
    return assets.add(source, "images", data=data if suffix == ".svg" else None, suffix=suffix)


def _remote_image(src: str, manifest: Manifest, assets: _Assets, reporter: Reporter,
                  where: tuple[str, int | None]) -> Asset | None:
    """A remote image: only with ``allow_remote``, fetched under remote.py's rules and checked."""
    if not manifest.allow_remote:
        reporter.warn(f"remote image '{src[:200]}' not fetched", *where,
                      hint="download it into the book folder and link it by a relative path, "
                           "or build with --allow-remote")
        return None
    key = Path(src)
    if key in assets.by_source:
        return assets.by_source[key]
    from ..sources.remote import (
        fetch_remote,  # http.client and ssl: only for a book that fetches
    )

    try:
        resource = fetch_remote(src)
        suffix = MEDIA_TYPE_SUFFIXES.get(resource.media_type) or Path(split_reference(src)[0]).suffix.lower()
        if suffix not in IMAGE_TYPES:
            raise BookError("is not PNG, JPEG, GIF, SVG or WebP")
        data = check_image(resource.data, suffix, svg_warnings(reporter, src[:200]))
    except BookError as exc:
        reporter.warn(f"remote image '{src[:200]}': {exc.diagnostic.message}: left out", *where,
                      hint=exc.diagnostic.hint)
        return None
    return assets.add(key, "images", data=data, suffix=suffix)


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

"""Book -> EPUB 3 through ebooklib.

ebooklib writes the package (OPF metadata, manifest, spine, NCX); the documents are ours,
rendered from jinja2 templates, so their markup is exactly what the shared CSS expects.
Front matter (cover, title page, copyright page), the contents, landmarks and NCX tree
(navigation.py), accessibility metadata and the page list come from the modules beside this
one; archive.py re-packs the zip so that unchanged
sources give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol
from pathlib import Path

from ebooklib import epub
from lxml import etree

from ...cache import derived_file, fontconfig_state
from ...config import BuildContext
from ...config.manifest import CHAPTER_KINDS, Manifest
from ...config.themes import theme_sheets
from ...errors import Reporter
from ...files import read_own_file
from ...model import Book, Chapter, PageStart, Part
from ...resources import display_path, stylesheet
from ...xhtml import XHTML_NS
from ..author_styles import epub_stylesheets
from ..front_matter import remember_title_page_words
from ..scripts import epub_options_sheet, page_progression
from ..templates import render_template
from .accessibility import accessibility_metadata, book_facts, document_facts
from .archive import modified_time, repack
from .container import DeflateCache, stored
from .cover import cover_alt_text, generate_cover
from .documents import KeptDocuments
from .fonts import font_content
from .navigation import PageEntry, chapter_file, contents, finish_ncx, navigation_document, ncx_toc
from .index import index_with_pages
from .pagelist import insert_page_breaks, serialize_document, with_page_breaks
from .semantics import EPUB_TYPE, authors_semantics

# DPUB-ARIA roles and the EPUB structural semantics they correspond to.
ROLE_TO_EPUB_TYPE = {
    "doc-chapter": "chapter",
    "doc-noteref": "noteref",
    "doc-footnote": "footnote",
    "doc-toc": "toc",
    "doc-part": "part",
    "doc-pagebreak": "pagebreak",
    "doc-tip": "tip",
    **{f"doc-{kind}": kind for kind in CHAPTER_KINDS},
}
SHARED_SHEETS = ("base.css", "epub.css")
DOCUMENT = "application/xhtml+xml"
# Core media types an EPUB reading system must show (EPUB 3.3, 3.2).
class EarlyCover(Protocol):
    """The generated cover, being drawn during the build: a thread's future, or a forked
    process (render/early_cover.py)."""

    def result(self) -> bytes: ...


COVER_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/svg+xml"})


@dataclass(frozen=True)
class Cover:
    """The cover image as packed: the author's, or one drawn from the metadata."""

    href: str
    media_type: str
    content: bytes
    alt: str


def render_epub(book: Book, build: BuildContext, reporter: Reporter, early_cover: EarlyCover | None = None,
                page_starts: dict[str, tuple[PageStart, ...]] | None = None) -> bytes:
    """The EPUB as bytes; byte-identical for unchanged sources. ``build`` carries the options
    (``build.config.epub``) and the cache folder; ``early_cover`` is the generated cover from
    :func:`start_cover`, when it was started during the build; ``page_starts``
    (``[epub] page_list``) where the PDF's pages begin, per container id."""
    deflater = DeflateCache(build.cache_dir)
    try:
        return _render_epub(book, build, reporter, early_cover, page_starts or {}, deflater)
    finally:
        deflater.close()  # a build that failed leaves no thread deflating


def _render_epub(book: Book, build: BuildContext, reporter: Reporter, early_cover: EarlyCover | None,
                 breaks: dict[str, tuple[PageStart, ...]], deflater: DeflateCache) -> bytes:
    options = build.config.epub
    kept = KeptDocuments(book, build.cache_dir)
    package = _package(book)
    language = book.language
    context = {"lang": book.meta.language, "direction": language.direction, "meta": book.meta,
               "label": language.label, "stylesheets": _stylesheets(book, build, package, reporter)}
    if page_progression(book, options.writing_mode):
        package.set_direction(page_progression(book, options.writing_mode))

    cover = _cover(book, build, reporter, early_cover)
    front, title_pages = _front_matter(book, package, context, breaks, cover)

    book = index_with_pages(book, breaks)  # the index's locators as the PDF's page numbers
    chapter_items, chapter_pages, counted = _chapter_documents(book, context, breaks, kept, deflater)
    # what the chapters contain, counted in their finished documents (the accessibility metadata)
    _describe(package, book.meta.identifier,
              accessibility_metadata(book_facts(book, bool(breaks), counted), options.accessibility_summary),
              build.config.pdf.page_size if breaks else None)
    toc = contents(book)
    nav_xhtml = navigation_document(book, context, toc, cover is not None, (title_pages, chapter_pages),
                                    breaks.get("toc", ()))
    nav = _document("nav", "nav.xhtml", nav_xhtml, properties=["nav"])
    for item in (*front, nav, *chapter_items):
        package.add_item(item)
    for asset in book.assets:
        content = font_content(asset, book, options.subset_fonts) if asset.href.startswith("fonts/") else asset.content()
        if not stored(asset.href):
            deflater.start(content)
        package.add_item(_image(asset.href, asset.media_type, content))

    package.toc = ncx_toc(toc)
    package.add_item(epub.EpubNcx())
    package.spine = [*front, nav, *chapter_items]
    modified = modified_time(build.source_mtime)
    return repack(_members(package, modified), modified, book.meta.language, deflater)


def _chapter_documents(book: Book, context: dict, breaks: dict[str, tuple[PageStart, ...]],
                       kept: KeptDocuments, deflater: DeflateCache,
                       ) -> tuple[list[epub.EpubItem], list[PageEntry], list[dict[str, int]]]:
    """The chapters in reading order, each part's title page before its first chapter.

    Also returns the parts' and chapters' page-list entries (file, label, id), and what each
    chapter contains (accessibility.document_facts; kept beside a kept document). ``kept`` has
    the documents of unchanged chapters; each document is handed to ``deflater`` as soon as it
    is made.
    """
    items, pages, facts = [], [], []
    for position, chapter in enumerate(book.chapters):
        if book.starts_part(position):
            part_item, part_ids = _part_document(chapter.part, context, breaks.get(chapter.part.id, ()))
            items.append(part_item)
            pages += [(part_item.file_name, label, page_id) for label, page_id in part_ids]
        chapter_breaks = breaks.get(chapter.id, ())
        finished, page_ids = None if chapter_breaks else kept.document(chapter, context), []
        counted = kept.facts(chapter) if finished is not None else None
        if finished is None or counted is None:
            xhtml = render_template("epub/chapter.xhtml", chapter=chapter, **context)
            finished, page_ids, counted = _finish_document(xhtml, chapter, book, chapter_breaks)
            if not chapter_breaks:
                kept.put(chapter, counted, context, finished)
        facts.append(counted)
        properties = ["mathml"] if counted["mathml"] else []  # the manifest says what the document holds
        items.append(item := _document(chapter.id, chapter_file(chapter), finished, properties))
        deflater.start(item.content)  # the bytes the zip gets
        pages += [(chapter_file(chapter), label, page_id) for label, page_id in page_ids]
    kept.save()
    return items, pages, facts


def _part_document(part: Part, context: dict,
                   breaks: tuple[PageStart, ...]) -> tuple[epub.EpubItem, list[tuple[str, str]]]:
    """A part's title page: its own document, so reading systems start it on a new screen;
    with the (label, id) of its page-break marker (the PDF prints a page for it too)."""
    xhtml, page_ids = with_page_breaks(render_template("epub/part.xhtml", part=part, **context), part.id, breaks)
    return _document(part.id, f"{part.id}.xhtml", xhtml), page_ids


def _front_matter(book: Book, package: epub.EpubBook, context: dict, breaks: dict[str, tuple[PageStart, ...]],
                  cover: Cover | None) -> tuple[list[epub.EpubItem], list[PageEntry]]:
    """Cover page (with its image), title page and copyright page, in reading order.

    Also returns the title page's page-list entries (file, label, id).
    """
    front = []
    if cover is not None:
        package.add_item(_image(cover.href, cover.media_type, cover.content, properties=["cover-image"]))
        package.add_metadata(None, "meta", "", {"name": "cover", "content": _item_id(cover.href)})
        front.append(_document("cover", "cover.xhtml", render_template(
            "epub/cover.xhtml", cover_href=cover.href, cover_alt=cover.alt, **context)))
    title_xhtml, title_ids = with_page_breaks(render_template("epub/titlepage.xhtml", **context),
                                              "titlepage", breaks.get("titlepage", ()))
    front.append(_document("titlepage", "titlepage.xhtml", title_xhtml))
    front.append(_document("copyright", "copyright.xhtml", render_template(
        "epub/copyright.xhtml", copyright_title=book.language.label("copyright"), **context)))
    return front, [("titlepage.xhtml", label, page_id) for label, page_id in title_ids]


class _MemberWriter(epub.EpubWriter):
    """ebooklib's writer, keeping the members it writes instead of zipping them: the zip is
    written once, by archive.py (zipping and reading it back cost time on every rebuild)."""

    def write(self) -> None:  # EpubWriter.write's steps, into a list
        self.out = self.members = _Members()
        self.out.writestr("mimetype", "application/epub+zip")
        self._write_container()
        self._write_opf()
        self._write_items()

    def _get_ncx(self) -> bytes:
        """The NCX, made again only when what it shows changed: ebooklib builds it element by
        element (a twentieth of a one-chapter rebuild of a long book, in a running process)."""
        key = (self.book.uid, self.book.title, self.book.get_template("ncx"), repr(self._play_order),
               _toc_key(self.book.toc))
        ncx = _NCX.get(key)
        if ncx is None:
            _NCX.clear()
            ncx = _NCX[key] = finish_ncx(super()._get_ncx())
        return ncx


# The last NCX made, by what it was made from (_MemberWriter._get_ncx).
_NCX: dict[tuple, bytes] = {}


def _toc_key(items: list) -> tuple:
    """Everything of ebooklib's contents that its NCX shows, as a value."""
    key = []
    for item in items:
        if isinstance(item, (tuple, list)):
            key.append(("section", _toc_key([item[0]]), _toc_key(item[1])))
        elif isinstance(item, epub.EpubHtml):
            key.append(("document", item.get_id(), item.file_name, item.title))
        else:  # a Link or a Section
            key.append((type(item).__name__, getattr(item, "uid", None), item.href, item.title))
    return tuple(key)


class _Members(list):
    """Stands in for ebooklib's ``zipfile.ZipFile``: (name, bytes) in the order written."""

    def writestr(self, name: str, data: str | bytes, compress_type: int | None = None) -> None:
        self.append((name, data.encode("utf-8") if isinstance(data, str) else bytes(data)))


def _members(package: epub.EpubBook, modified: dt.datetime) -> list[tuple[str, bytes]]:
    """The files of the EPUB as ebooklib makes them (package document, nav, NCX, items)."""
    writer = _MemberWriter(None, package, {"mtime": modified, "epub2_guide": False, "raise_exceptions": True})
    writer.process()
    writer.write()
    return writer.members


def _package(book: Book) -> epub.EpubBook:
    """The package with its Dublin Core metadata (:func:`_describe` adds the rest once the
    chapters are made); ebooklib adds ``dcterms:modified``."""
    meta = book.meta
    package = epub.EpubBook()
    package.set_identifier(meta.identifier)
    package.title = meta.title  # the NCX's docTitle
    if meta.subtitle:
        # EPUB 3: a dc:title each, the main one first, refined by what kind of title it is.
        for uid, text, kind in (("book-title", meta.title, "main"), ("book-subtitle", meta.subtitle, "subtitle")):
            package.add_metadata("DC", "title", text, {"id": uid})
            package.add_metadata(None, "meta", kind, {"refines": f"#{uid}", "property": "title-type"})
    else:
        package.add_metadata("DC", "title", meta.title)
    package.set_language(meta.language)
    for number, author in enumerate(meta.authors, start=1):
        package.add_author(author, uid=f"creator-{number}")
    for name in ("date", "publisher", "description", "rights"):
        value = getattr(meta, name)
        if value:
            package.add_metadata("DC", name, value)
    for subject in meta.subjects:
        package.add_metadata("DC", "subject", subject)
    return package


def _describe(package: epub.EpubBook, identifier: str, accessibility: list[tuple[str, str]],
              page_list_size: str | None) -> None:
    """The accessibility metadata; ``page_list_size``: the PDF's page size when the EPUB has a
    page list from it."""
    for prop, value in accessibility:
        package.add_metadata(None, "meta", value, {"property": prop})
    if page_list_size is not None:
        # The PDF has no identifier of its own: name the edition by the book's and its page size.
        source = f"{identifier} (PDF edition, page size {page_list_size})"
        package.add_metadata(None, "meta", source, {"property": "pageBreakSource"})


def _cover(book: Book, build: BuildContext, reporter: Reporter, early_cover: EarlyCover | None) -> Cover | None:
    """The manifest's cover image, else a generated one unless ``[epub] generate_cover = false``."""
    if book.cover is not None and book.cover.media_type not in COVER_TYPES:
        reporter.warn(f"cover '{book.cover.source.name}' is not a JPEG, PNG, GIF, WebP or SVG image: not used",
                      display_path(book.source), hint="convert it to JPEG or PNG")
    if book.cover is not None and book.cover.media_type in COVER_TYPES:
        return Cover(book.cover.href, book.cover.media_type, book.cover.content(),
                     book.language.label("cover_of", title=book.meta.title))
    if not build.config.epub.generate_cover:
        return None
    data = early_cover.result() if early_cover is not None else generated_cover(build.config, build.cache_dir)
    return Cover("images/cover.png", "image/png", data, cover_alt_text(book.meta))


def generated_cover(manifest: Manifest, cache_dir: Path | None) -> bytes:
    """The typographic cover drawn from the metadata (kept in the book's cache)."""
    from PIL import __version__ as pillow

    meta = manifest.meta
    parts = [pillow, meta.title, meta.subtitle or "", "\0".join(meta.authors), meta.language, fontconfig_state()]
    return derived_file(cache_dir, "cover", parts, lambda: generate_cover(meta))


def start_cover(manifest: Manifest, cache_dir: Path | None, drawn: EarlyCover | None = None) -> EarlyCover | None:
    """The generated cover, drawn on a thread (None: the book has its own or wants none);
    ``drawn``, when a forked process draws it already (render/early_cover.py).

    Drawing and encoding it took a tenth of a cold build after the chapters were read;
    Pillow lets go of the GIL for much of it, so it can be made while they are read.
    The same thread first finds the title page's words (its date and list of authors) in the
    cache, or makes them with Babel, which the EPUB otherwise waited for after the chapters.
    Call this once no process will be forked any more (threads and fork do not mix).
    """
    pool = ThreadPoolExecutor(1, thread_name_prefix="bookbuild-cover")
    pool.submit(remember_title_page_words, manifest.meta, cache_dir)
    future = drawn
    if future is None and manifest.cover is None and manifest.epub.generate_cover:
        future = pool.submit(generated_cover, manifest, cache_dir)
    pool.shutdown(wait=False)
    return future


def _document(uid: str, file_name: str, content: str, properties: list[str] | None = None) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=file_name, media_type=DOCUMENT, content=content.encode("utf-8"))
    item.properties = properties or []
    return item


def _image(href: str, media_type: str, content: bytes, properties: list[str] | None = None) -> epub.EpubItem:
    item = epub.EpubItem(uid=_item_id(href), file_name=href, media_type=media_type, content=content)
    item.properties = properties or []
    return item


def _stylesheets(book: Book, build: BuildContext, package: epub.EpubBook, reporter: Reporter) -> list[str]:
    """Pack the stylesheets, shared ones first, then the ``[book] theme``'s; the hrefs every
    document links."""
    hrefs = []
    files = [(f"styles/{name}", read_own_file(stylesheet(name))) for name in SHARED_SHEETS]
    files += [(f"styles/theme-{path.name}", read_own_file(path)) for path in theme_sheets(build.config.theme)]
    sheet = epub_options_sheet(book, build.config.epub.writing_mode)
    if sheet:
        files.append(("styles/options.css", sheet.encode("utf-8")))
    for href, content in files:
        package.add_item(epub.EpubItem(uid=_item_id(href), file_name=href, media_type="text/css",
                                       content=content))
        hrefs.append(href)
    # the author's sheets, with the sheets, images and fonts they use from the book
    for packed in epub_stylesheets(book, reporter):
        package.add_item(epub.EpubItem(uid=_item_id(packed.href), file_name=packed.href,
                                       media_type=packed.media_type, content=packed.data))
        if packed.href.startswith("styles/book-"):
            hrefs.append(packed.href)
    return hrefs


def _finish_document(xhtml: str, chapter: Chapter, book: Book, breaks: tuple[PageStart, ...],
                     ) -> tuple[str, list[tuple[str, str]], dict[str, int]]:
    """Add page-break markers, ``epub:type`` for ARIA roles, and point ``#id`` links at their files.

    Also returns the (label, id) of each page-break marker, for the page list, and what the
    chapter contains (accessibility.document_facts), counted in this parse of it.
    """
    root = etree.fromstring(xhtml.encode("utf-8"))
    page_ids = insert_page_breaks(root, chapter.id, breaks) if breaks else []
    if "data-epub-type" in xhtml:  # the author's semantics, as data-epub-type (semantics.py)
        authors_semantics(root, chapter.id)
    # only an element with a role, or a link, is changed: found by XPath, not by visiting all
    for node in _ROLES_AND_LINKS(root):
        epub_type = ROLE_TO_EPUB_TYPE.get(node.get("role", ""))
        have = (node.get(EPUB_TYPE) or "").split()
        if epub_type and epub_type not in have:
            node.set(EPUB_TYPE, " ".join([*have, epub_type]))
        if node.tag == f"{{{XHTML_NS}}}a":
            href = node.get("href", "")
            owner = book.other_chapter(href, chapter)
            if owner is not None:
                node.set("href", chapter_file(owner) + href)
    return serialize_document(root), page_ids, document_facts(root)


_ROLES_AND_LINKS = etree.XPath("descendant-or-self::x:*[@role] | descendant-or-self::x:a[@href]",
                               namespaces={"x": XHTML_NS})


def _item_id(href: str) -> str:
    return "item-" + "".join(c if c.isalnum() else "-" for c in href)

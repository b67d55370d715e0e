"""Book -> EPUB 3 through ebooklib.

ebooklib writes the package (OPF metadata, manifest, spine, NCX); the documents are ours,
rendered from jinja2 templates, so their markup is exactly what the shared CSS expects.
The zip is then re-packed with fixed timestamps so unchanged sources give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass

from ebooklib import epub
from lxml import etree

from ..errors import Reporter
from ..model import Book, Chapter
from ..resources import stylesheet
from .epub_zip import DeflateCache, write_zip
from .templates import render_template

OPS_NS = "http://www.idpf.org/2007/ops"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_TYPE = f"{{{OPS_NS}}}type"
# DPUB-ARIA roles and the EPUB structural semantics they correspond to.
ROLE_TO_EPUB_TYPE = {
    "doc-chapter": "chapter",
    "doc-noteref": "noteref",
    "doc-footnote": "footnote",
    "doc-toc": "toc",
    "doc-part": "part",
}
SHARED_SHEETS = ("base.css", "epub.css")


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str
    children: tuple[TocEntry, ...] = ()


def chapter_file(chapter: Chapter) -> str:
    return f"{chapter.id}.xhtml"


def render_epub(book: Book, reporter: Reporter) -> bytes:
    """The EPUB as bytes; byte-identical for unchanged sources."""
    meta = book.meta
    modified = _modified(book)
    package = epub.EpubBook()
    package.set_identifier(meta.identifier)
    package.set_title(meta.title)
    package.set_language(meta.language)
    for number, author in enumerate(meta.authors, start=1):
        package.add_author(author, uid=f"creator-{number}")
    for name in ("date", "publisher", "description", "rights"):
        value = getattr(meta, name)
        if value:
            package.add_metadata("DC", name, value)
    for subject in meta.subjects:
        package.add_metadata("DC", "subject", subject)

    sheets = _stylesheets(book, package)
    context = {"lang": meta.language, "meta": meta, "stylesheets": sheets}

    title_page = _document("titlepage", "titlepage.xhtml", render_template("epub/titlepage.xhtml", **context))
    package.add_item(title_page)
    toc = tuple(_toc_entry(chapter) for chapter in book.chapters)
    landmarks = (
        {"type": "toc", "href": "nav.xhtml#toc", "title": "Contents"},
        {"type": "bodymatter", "href": chapter_file(book.chapters[0]), "title": "Start of content"},
    )
    nav_xhtml = render_template("epub/nav.xhtml", toc=toc, landmarks=landmarks, contents_title="Contents", **context)
    nav = _document("nav", "nav.xhtml", nav_xhtml, properties=["nav"])
    package.add_item(nav)

    chapter_items = []
    for chapter in book.chapters:
        xhtml = render_template("epub/chapter.xhtml", chapter=chapter, **context)
        item = _document(chapter.id, chapter_file(chapter), _finish_document(xhtml, chapter, book))
        package.add_item(item)
        chapter_items.append(item)
    for asset in book.assets:
        package.add_item(epub.EpubItem(uid=_item_id(asset.href), file_name=asset.href,
                                       media_type=asset.media_type, content=asset.source.read_bytes()))

    package.toc = [epub.Link(entry.href, entry.title, f"toc-{n}") for n, entry in enumerate(toc, start=1)]
    package.add_item(epub.EpubNcx())
    package.spine = [title_page, nav, *chapter_items]

    raw = io.BytesIO()
    # Level 0: _repack compresses once, for real; deflating twice was a third of a large build.
    epub.write_epub(raw, package, {"mtime": modified, "epub2_guide": False, "raise_exceptions": True,
                                   "compresslevel": 0})
    return _repack(raw.getvalue(), modified, book)


def _document(uid: str, file_name: str, content: str, properties: list[str] | None = None) -> epub.EpubItem:
    item = epub.EpubItem(uid=uid, file_name=file_name, media_type="application/xhtml+xml",
                         content=content.encode("utf-8"))
    item.properties = properties or []
    return item


def _stylesheets(book: Book, package: epub.EpubBook) -> list[str]:
    hrefs = []
    files = [(f"styles/{name}", stylesheet(name)) for name in SHARED_SHEETS]
    files += [(f"styles/book-{n}.css", path) for n, path in enumerate(book.manifest.styles, start=1)]
    for href, path in files:
        package.add_item(epub.EpubItem(uid=_item_id(href), file_name=href, media_type="text/css",
                                       content=path.read_bytes()))
        hrefs.append(href)
    return hrefs


def _toc_entry(chapter: Chapter) -> TocEntry:
    file = chapter_file(chapter)
    children = tuple(
        TocEntry(h.text, f"{file}#{h.id}") for h in chapter.headings if h.level == 2
    )
    return TocEntry(chapter.title, f"{file}#{chapter.title_id}", children)


def _finish_document(xhtml: str, chapter: Chapter, book: Book) -> str:
    """Add ``epub:type`` for ARIA roles and point book-wide ``#id`` links at their files."""
    root = etree.fromstring(xhtml.encode("utf-8"))
    for node in root.iter(f"{{{XHTML_NS}}}*"):
        epub_type = ROLE_TO_EPUB_TYPE.get(node.get("role", ""))
        if epub_type:
            node.set(EPUB_TYPE, epub_type)
        if node.tag == f"{{{XHTML_NS}}}a":
            href = node.get("href", "")
            if href.startswith("#"):
                owner = book.chapter_of(href[1:])
                if owner is not None and owner.id != chapter.id:
                    node.set("href", chapter_file(owner) + href)
    body = etree.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def _item_id(href: str) -> str:
    return "item-" + "".join(c if c.isalnum() else "-" for c in href)


def _modified(book: Book) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible-builds.org), else the newest source's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else int(book.source_mtime)
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)


def _repack(data: bytes, modified: dt.datetime, book: Book) -> bytes:
    """The same entries, ``mimetype`` first and stored, every timestamp set to ``modified``.

    Entries are deflated once (see epub_zip), reusing the cached deflate of unchanged bytes.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    names.sort(key=lambda name: name != "mimetype")
    members = ((name, source.read(name), name == "mimetype") for name in names)
    deflater = DeflateCache(book.cache_dir / "deflate" if book.cache_dir is not None else None)
    return write_zip(members, modified, deflater)

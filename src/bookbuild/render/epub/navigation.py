"""The EPUB's ways around the book: the contents (nav.xhtml and toc.ncx), landmarks, page list.

Reading systems show either the EPUB 3 navigation document or, older ones, the NCX; both must
show the same tree: parts holding their chapters, chapters holding their sections (``##``).
ebooklib writes the NCX from ``package.toc`` given as nested ``(Link, [children])`` pairs, but
always with ``dtb:depth`` 0 and made-up ids for the nested entries; :func:`finish_ncx` sets the
depth of the tree it wrote (NCX 2005-1: the levels of nested ``navPoint``) and numbers the ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from ebooklib import epub
from lxml import etree

from ...model import Book, Chapter, PageStart
from ..templates import render_template
from .pagelist import with_page_breaks

NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"
# A page-list entry before its link is made: (document file, printed label, marker id).
PageEntry = tuple[str, str, str]


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str
    children: tuple[TocEntry, ...] = ()


def chapter_file(chapter: Chapter) -> str:
    """The generated internal name of a chapter's XHTML file."""
    return f"{chapter.id}.xhtml"


def contents(book: Book) -> tuple[TocEntry, ...]:
    """Chapters in reading order; those of a part nested under the part's entry; a section
    (a file that continues its chapter) under its chapter's entry, after the chapter's own
    ``##`` headings, as the PDF's contents show it."""
    entries: list[TocEntry] = []
    for position, chapter in enumerate(book.chapters):
        if chapter.is_section and entries:
            entries[-1] = _with_section(entries[-1], _toc_entry(chapter), inside=chapter.part is not None)
        elif chapter.part is None:
            entries.append(_toc_entry(chapter))
        elif book.starts_part(position):
            part = chapter.part
            entries.append(TocEntry(part.title, f"{part.id}.xhtml#{part.id}", (_toc_entry(chapter),)))
        else:
            last = entries[-1]
            entries[-1] = TocEntry(last.title, last.href, (*last.children, _toc_entry(chapter)))
    return tuple(entries)


def _toc_entry(chapter: Chapter) -> TocEntry:
    """A chapter with its ``##`` headings; a section alone (its ``##`` is its own title)."""
    file = chapter_file(chapter)
    children = () if chapter.is_section else tuple(
        TocEntry(h.text, f"{file}#{h.id}") for h in chapter.headings if h.level == 2)
    return TocEntry(chapter.title, f"{file}#{chapter.title_id}", children)


def _with_section(entry: TocEntry, section: TocEntry, inside: bool) -> TocEntry:
    """``entry`` (a chapter, or with ``inside`` the part whose last chapter the section
    continues) with ``section`` as its chapter's last child."""
    if inside:
        *chapters, last = entry.children
        return TocEntry(entry.title, entry.href, (*chapters, _with_section(last, section, False)))
    return TocEntry(entry.title, entry.href, (*entry.children, section))


def ncx_toc(entries: tuple[TocEntry, ...]) -> list:
    """The contents in ebooklib's form for the NCX: a ``Link``, or ``(Link, [children])``."""
    links = [epub.Link(entry.href, entry.title, "navpoint") for entry in entries]  # ids: finish_ncx
    return [(link, ncx_toc(entry.children)) if entry.children else link for link, entry in zip(links, entries)]


def finish_ncx(ncx: bytes) -> bytes:
    """ebooklib's NCX with ``dtb:depth`` the depth of its tree, and its entries' ids numbered
    in reading order (``navpoint-1``, ...)."""
    root = etree.fromstring(ncx)
    points = list(root.iter(f"{{{NCX_NS}}}navPoint"))
    for number, point in enumerate(points, start=1):
        point.set("id", f"navpoint-{number}")
    depth = max((sum(1 for a in p.iterancestors(f"{{{NCX_NS}}}navPoint")) + 1 for p in points), default=1)
    root.find(f"{{{NCX_NS}}}head/{{{NCX_NS}}}meta[@name='dtb:depth']").set("content", str(depth))
    return etree.tostring(root, pretty_print=True, encoding="utf-8", xml_declaration=True)


def navigation_document(book: Book, context: dict, toc: tuple[TocEntry, ...], has_cover: bool,
                        pages: tuple[list[PageEntry], list[PageEntry]], breaks: tuple[PageStart, ...]) -> str:
    """nav.xhtml: the contents, the landmarks and the page list.

    ``pages`` are the page-list entries of the documents before the contents (the title page)
    and after it (parts and chapters); ``breaks`` where the PDF's pages begin in its contents.
    The contents' own markers belong in the page list too: they are placed once to learn
    their ids, then the nav is rendered with the full list and they are placed again (same ids).
    """
    nav_context = {"toc": toc, "landmarks": _landmarks(book, has_cover),
                   "contents_title": book.language.label("contents"), **context}
    toc_ids: list[tuple[str, str]] = []
    if breaks:  # without the PDF's pages the contents has no markers: one rendering is enough
        _, toc_ids = with_page_breaks(render_template("epub/nav.xhtml", page_list=[], **nav_context), "toc", breaks)
    before, after = pages
    listed = before + [("nav.xhtml", label, page_id) for label, page_id in toc_ids] + after
    page_list = [{"href": f"{file}#{page_id}", "label": label} for file, label, page_id in listed]
    xhtml, _ = with_page_breaks(render_template("epub/nav.xhtml", page_list=page_list, **nav_context), "toc", breaks)
    return xhtml


def _landmarks(book: Book, has_cover: bool) -> list[dict[str, str]]:
    label = book.language.label
    landmarks = [{"type": "cover", "href": "cover.xhtml", "title": label("cover")}] if has_cover else []
    landmarks += [
        {"type": "titlepage", "href": "titlepage.xhtml", "title": label("title_page")},
        {"type": "toc", "href": "nav.xhtml#toc", "title": label("contents")},
        {"type": "bodymatter", "href": chapter_file(_body_start(book)), "title": label("start")},
        {"type": "copyright-page", "href": "copyright.xhtml", "title": label("copyright")},
    ]
    return landmarks


def _body_start(book: Book) -> Chapter:
    """The first chapter of the body matter (front matter such as a preface comes before it)."""
    return next((chapter for chapter in book.chapters if chapter.matter == "body"), book.chapters[0])

"""The EPUB's index with the printed page numbers (``[epub] page_list = true``).

With a page list, the EPUB knows where each page of the PDF begins in its chapters (the
PDF's page starts, placed by pagelist.py). A mark's page is the last page start before it in
reading order; the index's locators then print those numbers, merged as the PDF merges them
(render/index_locators.py), so the EPUB's index and the printed one agree. Without a page
list the locators keep the numbers the index stage gave them: 1, 2, 3 within each entry, in
reading order, each a link to its mark (its title attribute names the chapter).
"""

from __future__ import annotations

from lxml import etree

from ...model import Book, PageStart
from ..index_locators import print_page_numbers
from .pagelist import XHTML_NS, insert_page_breaks


def index_with_pages(book: Book, breaks: dict[str, tuple[PageStart, ...]]) -> Book:
    """The book with its index's locators as printed page numbers, when ``breaks`` are known."""
    place = next((n for n, chapter in enumerate(book.chapters) if chapter.kind == "index"), None)
    if place is None or not breaks:
        return book
    pages: dict[str, str] = {}
    current: str | None = None  # the page the reading has reached
    for chapter in book.chapters:
        if "data-index" not in chapter.body:
            for start in breaks.get(chapter.id, ())[-1:]:
                current = start.label
            continue
        root = etree.fromstring(f'<section xmlns="{XHTML_NS}" id="{chapter.id}">{chapter.body}</section>')
        insert_page_breaks(root, chapter.id, breaks.get(chapter.id, ()))
        for node in root.iter():
            if node.get("role") == "doc-pagebreak":
                current = node.get("aria-label")
            elif current is not None and node.get("id") and (node.get("data-index") is not None
                                                             or node.get("data-index-start") is not None
                                                             or node.get("data-index-end") is not None):
                pages[node.get("id")] = current
    index = book.chapters[place]
    chapters = list(book.chapters)
    chapters[place] = index.replace(body=print_page_numbers(index.body, pages))
    return book.replace(chapters=tuple(chapters))

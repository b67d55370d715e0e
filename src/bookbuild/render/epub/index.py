"""The EPUB's index with the printed page numbers (``[epub] page_list = true``).

With a page list, the EPUB knows where each page of the PDF begins in its chapters (the
PDF's page starts, placed by pagelist.py). A mark's page is the last page start before it in
reading order; the index's locators then print those numbers, merged as the PDF merges them
(render/index_locators.py), so the EPUB's index and the printed one agree. Without a page
list the locators keep the numbers the index stage gave them: 1, 2, 3 within each entry, in
reading order (a range's start and end are two of them: ``2–3``), each a link to its mark
(its title attribute names the mark's chapter). A mark in a footnote is on the page of the
note's first call.
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
        in_notes = {note.id: _mark_ids(etree.fromstring(f'<div xmlns="{XHTML_NS}">{note.body}</div>'))
                    for note in chapter.footnotes if "data-index" in note.body}
        if "data-index" not in chapter.body and not in_notes:
            for start in breaks.get(chapter.id, ())[-1:]:
                current = start.label
            continue
        root = etree.fromstring(f'<section xmlns="{XHTML_NS}" id="{chapter.id}">{chapter.body}</section>')
        insert_page_breaks(root, chapter.id, breaks.get(chapter.id, ()))
        for node in root.iter():
            if node.get("role") == "doc-pagebreak":
                current = node.get("aria-label")
            elif current is not None and node.get("id") and _is_mark(node):
                pages[node.get("id")] = current
            elif current is not None and node.get("role") == "doc-noteref":  # a note prints where it is called
                for mark in in_notes.pop(node.get("href", "")[1:], ()):
                    pages[mark] = current
    index = book.chapters[place]
    chapters = list(book.chapters)
    chapters[place] = index.replace(body=print_page_numbers(index.body, pages))
    return book.replace(chapters=tuple(chapters))


def _is_mark(node: etree._Element) -> bool:
    return any(node.get(name) is not None for name in ("data-index", "data-index-start", "data-index-end"))


def _mark_ids(root: etree._Element) -> list[str]:
    return [node.get("id") for node in root.iter() if node.get("id") and _is_mark(node)]

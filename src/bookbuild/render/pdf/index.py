"""The index of the PDF: its locators as the printed page numbers of the marks.

The numbers exist only once the pages before the index are laid out; the book is not laid
out twice for them. The chapter-parallel PDF lays the index out as a piece of its own, last,
when every other piece's pages are known (parallel/plan.py), and prints those numbers
(``page_numbers``, the anchor -> page number map every piece gets). The single document is
laid out once with the index's title and none of its entries, which gives every mark's page;
then only the index is laid out, numbered on from where it starts, and its pages take the
place of that title page (``Document.copy``: one document again, drawn, tagged and labelled
as one). When chapters follow the index, their page numbers move with its length: that book is
laid out a second time with the numbers found (a rare order, and still right), and so is a
handout, whose index does not start on a page of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...config import BuildContext
from ...errors import Reporter
from ...model import Book, Chapter
from ...xhtml import parse_fragment, serialize_fragment
from ..index_locators import BODY_PAGES, label_order, print_page_numbers
from .page_labels import label_ranges, printed_folios, roman
from .page_setup import print_layout, select_chapters

INDEX = "index"


def for_print(chapter: Chapter, numbers: Mapping[str, str] | None) -> Chapter:
    """The index chapter with its locators as the page numbers in ``numbers`` (anchor -> page
    number, from the parallel PDF's pieces); every other chapter as it is."""
    if chapter.kind != INDEX or not numbers:
        return chapter
    return chapter.replace(body=print_page_numbers(chapter.body, numbers))


def index_piece(chapters: tuple[Chapter, ...] | list[Chapter]) -> bool:
    """Whether these chapters hold the index: the parallel PDF lays it out alone and last, and
    it prints the page number of every mark whatever ``[pdf] page_references`` says."""
    return any(chapter.kind == INDEX for chapter in chapters)


def index_alone(groups: list[tuple[Chapter, ...]]) -> list[tuple[Chapter, ...]]:
    """The parallel PDF's groups of chapters with the index in a piece of its own."""
    alone: list[tuple[Chapter, ...]] = []
    for group in groups:
        run: list[Chapter] = []
        for chapter in group:
            if chapter.kind == INDEX:
                alone += [tuple(run)] if run else []
                alone.append((chapter,))
                run = []
            else:
                run.append(chapter)
        alone += [tuple(run)] if run else []
    return alone


def layout_with_index(book: Book, build: BuildContext, reporter: Reporter, layout_pdf: Callable[..., Any]) -> Any:
    """The single document with its index's page numbers, laid out once (see the module text);
    ``layout_pdf`` is document.py's (passed in: that module imports this one)."""
    printed = select_chapters(book.chapters, build.config.pdf.chapters)
    place = next((n for n, chapter in enumerate(printed) if chapter.kind == INDEX), None)
    if place is None:
        return layout_pdf(book, build, reporter)
    index = printed[place]
    first = layout_pdf(_with_body(book, index.id, _title_only(index.body)), build, reporter)
    labels, pages = page_labels(first, book)
    filled = _with_body(book, index.id, print_page_numbers(index.body, labels))
    start = pages.get(index.id)
    order = label_order(labels.get(index.id, ""))
    if place != len(printed) - 1 or start is None or order is None or order < BODY_PAGES \
            or print_layout(build.config.pdf).handout:  # a handout's index shares its first page
        return _laid_out_again(book, index, filled, build, reporter, layout_pdf)
    css = f"@page :first {{ counter-reset: page {order - BODY_PAGES}; }}\n"
    tail = layout_pdf(filled, build, reporter, only=frozenset({index.id}), front_matter=False, extra_css=css)
    return first.copy(first.pages[:start] + tail.pages)


def _laid_out_again(book: Book, index: Chapter, filled: Book, build: BuildContext, reporter: Reporter,
                    layout_pdf: Callable[..., Any]) -> Any:
    """The whole book laid out again with the index's numbers, until the numbers it prints
    are those of its pages (marks after the index move with the index's length)."""
    body = next(c.body for c in filled.chapters if c.id == index.id)
    for _ in range(3):
        document = layout_pdf(filled, build, reporter)
        found = print_page_numbers(index.body, page_labels(document, book)[0])
        if found == body:
            break
        body, filled = found, _with_body(book, index.id, found)
    return document


def page_labels(document: Any, book: Book) -> tuple[dict[str, str], dict[str, int]]:
    """Every anchor's printed page number (as the page's label: roman in the front matter, the
    book's digits elsewhere) and page index in a laid-out document."""
    ranges = label_ranges(printed_folios(document))
    labels: dict[str, str] = {}
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        first, style, value = next(r for r in reversed(ranges) if r[0] <= number)
        value += number - first
        label = book.language.number(value) if style == "D" else roman(value)
        label = label.upper() if style == "R" else label
        for anchor in page.anchors:
            labels.setdefault(anchor, label)
            pages.setdefault(anchor, number)
    return labels, pages


def _title_only(body: str) -> str:
    """The index chapter without its entries: its title and the author's own text."""
    wrapper = parse_fragment(body)
    for group in wrapper.xpath("./section[@class='index-group']"):
        wrapper.remove(group)
    return serialize_fragment(wrapper)


def _with_body(book: Book, chapter_id: str, body: str) -> Book:
    return book.replace(chapters=tuple(c.replace(body=body) if c.id == chapter_id else c for c in book.chapters))

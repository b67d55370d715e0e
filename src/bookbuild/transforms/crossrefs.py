"""Cross-references: a link with no text shows its target's label ("Figure 3", "Chapter 2").

Runs after links are resolved to book-wide ``#id`` fragments and after numbering.
"""

from __future__ import annotations

from lxml import etree

from ..errors import Reporter
from ..model import Book
from ..resources import display_path
from ..xhtml import source_line
from .bodies import Bodies
from .memo import TransformMemo


def fill_cross_references(book: Book, reporter: Reporter, bodies: Bodies, memo: TransformMemo) -> Book:
    """Give every empty in-book link the label of what it points at."""
    for chapter in book.chapters:
        stored = memo.stored(chapter)
        if stored is not None:
            memo.report_warnings(stored, "crossrefs", reporter)
            continue
        file = display_path(chapter.source)
        with memo.stage(chapter, "crossrefs", reporter) as chapter_reporter:
            _fill(bodies.chapter(chapter), book, chapter_reporter, file)
            for note in chapter.footnotes:
                _fill(bodies.note(chapter, note), book, chapter_reporter, file)
    return book


def _fill(wrapper: etree._Element, book: Book, reporter: Reporter, file: str) -> None:
    for link in wrapper.iter("a"):
        href = link.get("href") or ""
        if not href.startswith("#") or len(link) or (link.text or "").strip():
            continue
        label = book.labels.get(href[1:])
        if label is None:
            reporter.warn(f"link to '{href}' has no text and its target has no label", file, source_line(link),
                          hint="write the link text: [the text](#id)")
            label = href[1:]
        link.text = label

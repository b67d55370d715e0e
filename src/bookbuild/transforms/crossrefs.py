"""Cross-references: a link with no text shows its target's label ("Figure 3", "Chapter 2").

Runs after links are resolved to book-wide ``#id`` fragments and after numbering.
"""

from __future__ import annotations

import dataclasses

from ..errors import Reporter
from ..model import Book
from ..resources import display_path
from ..xhtml import parse_fragment, serialize_fragment, source_line


def fill_cross_references(book: Book, reporter: Reporter) -> Book:
    """Give every empty in-book link the label of what it points at."""
    chapters = []
    for chapter in book.chapters:
        file = display_path(chapter.source)
        footnotes = tuple(dataclasses.replace(note, body=_fill(note.body, book, reporter, file))
                          for note in chapter.footnotes)
        chapters.append(chapter.replace(body=_fill(chapter.body, book, reporter, file), footnotes=footnotes))
    return book.replace(chapters=tuple(chapters))


def _fill(body: str, book: Book, reporter: Reporter, file: str) -> str:
    if "<a" not in body:
        return body
    wrapper = parse_fragment(body)
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
    return serialize_fragment(wrapper)

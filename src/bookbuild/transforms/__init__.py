"""Book -> Book stages run after every chapter is read, in this order."""

from __future__ import annotations

import dataclasses

from ..errors import Reporter
from ..model import Book
from ..xhtml import serialize_fragment, strip_line_numbers
from .bidi import isolate_ltr_runs
from .bodies import Bodies
from .crossrefs import fill_cross_references
from .ids import unique_ids
from .links import resolve_links
from .numbering import number_things
from .structure import assign_structure


def apply_transforms(book: Book, reporter: Reporter) -> Book:
    """Run every stage: parts and matter, book-wide ids, numbers and labels, links and
    images, cross-reference texts, then drop bookkeeping. The stages share one parse of
    each body (bodies.py)."""
    bodies = Bodies()
    book = assign_structure(book)
    book = unique_ids(book, bodies)
    book = number_things(book, bodies)
    book = resolve_links(book, reporter, bodies)
    book = fill_cross_references(book, reporter, bodies)
    book = isolate_ltr_runs(book, bodies)
    return finish(book, bodies)


def finish(book: Book, bodies: Bodies) -> Book:
    """Write the stages' trees back into the book, without the source-line attributes: they
    served warnings and must not reach the output."""
    written: dict[tuple[str, str | None], str] = {}
    for chapter, note, tree in bodies.trees(book):
        strip_line_numbers(tree)
        written[chapter.id, note.id if note else None] = serialize_fragment(tree)
    chapters = []
    for chapter in book.chapters:
        footnotes = tuple(dataclasses.replace(note, body=written[chapter.id, note.id]) for note in chapter.footnotes)
        chapters.append(chapter.replace(body=written[chapter.id, None], footnotes=footnotes))
    return book.replace(chapters=tuple(chapters))

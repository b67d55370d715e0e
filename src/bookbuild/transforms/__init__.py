"""Book -> Book stages run after every chapter is read, in this order."""

from __future__ import annotations

import dataclasses

from ..errors import Reporter
from ..model import Book
from ..xhtml import parse_fragment, serialize_fragment, strip_line_numbers
from .crossrefs import fill_cross_references
from .bidi import isolate_ltr_runs
from .ids import unique_ids
from .links import resolve_links
from .numbering import number_things
from .structure import assign_structure


def apply_transforms(book: Book, reporter: Reporter) -> Book:
    """Run every stage: parts and matter, book-wide ids, numbers and labels, links and
    images, cross-reference texts, then drop bookkeeping."""
    book = assign_structure(book)
    book = unique_ids(book)
    book = number_things(book)
    book = resolve_links(book, reporter)
    book = fill_cross_references(book, reporter)
    book = isolate_ltr_runs(book)
    return finish(book)


def finish(book: Book) -> Book:
    """Remove source-line attributes: they served warnings and must not reach the output."""
    chapters = []
    for chapter in book.chapters:
        footnotes = tuple(dataclasses.replace(note, body=_without_lines(note.body)) for note in chapter.footnotes)
        chapters.append(chapter.replace(body=_without_lines(chapter.body), footnotes=footnotes))
    return book.replace(chapters=tuple(chapters))


def _without_lines(body: str) -> str:
    wrapper = parse_fragment(body)
    strip_line_numbers(wrapper)
    return serialize_fragment(wrapper)

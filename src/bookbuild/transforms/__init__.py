"""Book -> Book stages run after every chapter is read, in this order."""

from __future__ import annotations

from lxml import etree

from ..config import BuildContext
from ..errors import Reporter
from ..model import Book
from ..xhtml import serialize_fragment, strip_line_numbers
from .bidi import isolate_ltr_runs
from .citations import place_citations
from .bodies import Bodies
from .crossrefs import fill_cross_references
from .glossary import link_glossary, mark_glossary
from .ids import unique_ids
from .index import build_index
from .links import resolve_links
from .memo import TransformMemo
from .numbering import number_things
from .structure import assign_structure


def apply_transforms(book: Book, context: BuildContext, reporter: Reporter) -> Book:
    """Run every stage (the options and cache folder of ``context`` beside the book): parts and matter, book-wide ids, numbers and labels, links and
    images, cross-reference texts, then drop bookkeeping. The stages share one parse of
    each body (bodies.py). A chapter whose result the memo holds (memo.py) is not parsed:
    the stages only advance their book-wide state past it."""
    bodies = Bodies()
    book = assign_structure(book, context.config.chapters)
    book = place_citations(book, context, reporter)  # before the memo: its output is chapter content
    memo = TransformMemo(book, context, bodies)
    book, glossary = mark_glossary(book, reporter, bodies, memo)  # its ids, before the book-wide ids
    book = unique_ids(book, bodies, memo)
    book = number_things(book, bodies, memo)
    book = link_glossary(book, glossary, reporter, bodies, memo)  # links that resolve_links resolves
    book = resolve_links(book, context, reporter, bodies, memo)
    book = fill_cross_references(book, reporter, bodies, memo)
    book = isolate_ltr_runs(book, bodies, memo)
    book = finish(book, bodies, memo)
    memo.save(book)
    # the index gathers the marks of the whole book, once every chapter is finished (index.py)
    return build_index(book.replace(chapter_keys=dict(memo.keys)), reporter)


def finish(book: Book, bodies: Bodies, memo: TransformMemo) -> Book:
    """Write the stages' trees back into the book, without the source-line attributes: they
    served warnings and must not reach the output. A chapter the memo holds brings its own text."""
    chapters = []
    for chapter in book.chapters:
        stored = memo.stored(chapter)
        if stored is not None:
            footnotes = tuple(note.with_body(body) for note, body in zip(chapter.footnotes, stored.notes))
            chapters.append(chapter.replace(body=stored.body, footnotes=footnotes))
            continue
        footnotes = tuple(note.with_body(_written(bodies.note(chapter, note))) for note in chapter.footnotes)
        chapters.append(chapter.replace(body=_written(bodies.chapter(chapter)), footnotes=footnotes))
    return book.replace(chapters=tuple(chapters))


def _written(tree: etree._Element) -> str:
    strip_line_numbers(tree)
    return serialize_fragment(tree)

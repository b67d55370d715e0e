"""Chapter and footnote bodies parsed once for all the stages, and written back once.

Every stage edits XHTML trees. Parsing each body again in each stage, and serializing it
after, was two thirds of the stages' time on the large benchmark book.
A stage asks :class:`Bodies` for the tree of a chapter or a note and edits it in place;
:func:`bookbuild.transforms.finish` writes every tree back into the book. In between, a
chapter's ``body`` string is the text as read: stages must not look at it.
"""

from __future__ import annotations

from collections.abc import Iterator

import re

from lxml import etree

from ..model import Book, Chapter, Footnote
from ..xhtml import parse_fragment, text_of


# "Figure 17-6:", "示例 1-1：", "الشكل 4-1:": a word or two and a chapter-style number.
OWN_LABEL = re.compile(r"^\s*((?:[^\W\d_]+\s?){1,2}\d+(?:[-.]\d+)+)\s*[:：.]\s*")


class Bodies:
    """The parsed bodies of one book, made on first use."""

    def __init__(self) -> None:
        self._trees: dict[tuple[str, str | None], etree._Element] = {}

    def chapter(self, chapter: Chapter) -> etree._Element:
        return self._tree((chapter.id, None), chapter.body)

    def note(self, chapter: Chapter, note: Footnote) -> etree._Element:
        return self._tree((chapter.id, note.id), note.body)

    def _tree(self, key: tuple[str, str | None], body: str) -> etree._Element:
        tree = self._trees.get(key)
        if tree is None:
            tree = self._trees[key] = parse_fragment(body)
        return tree

    def trees(self, book: Book) -> Iterator[tuple[Chapter, Footnote | None, etree._Element]]:
        """Every body of the book as a tree (parsed now if no stage asked for it)."""
        for chapter in book.chapters:
            yield chapter, None, self.chapter(chapter)
            for note in chapter.footnotes:
                yield chapter, note, self.note(chapter, note)


def numbered_kind(node: etree._Element) -> str | None:
    """"figure", "listing", "table" or "equation" when the stage numbers this node (numbering.py;
    memo.py reads it too). A caption that carries its author's label ("Figure 17-6: ...") or a
    listing with its author's number is labelled as written, not numbered again."""
    if node.tag == "figure" and node.find("figcaption") is not None and text_of(node.find("figcaption")):
        if node.get("data-bb-number") or OWN_LABEL.match(text_of(node.find("figcaption"))):
            return None
        return "listing" if "listing" in (node.get("class") or "").split() else "figure"
    if node.tag == "table" and node.find("caption") is not None:
        return "table"
    if node.tag == "div" and "math-display" in (node.get("class") or "").split() and node.get("id"):
        return "equation"
    return None

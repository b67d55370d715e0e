"""Keep code and addresses left to right inside right-to-left books (bidi isolation).

In an Arabic, Persian or Hebrew book, ``x = f(1)`` or ``https://example.org/a-b`` would
otherwise be reordered by the Unicode bidi algorithm and read wrongly. Marking them
``dir="ltr"`` isolates them (HTML maps ``[dir]`` to ``unicode-bidi: isolate``) in every
reading system, and base.css repeats the rule for those that ignore the attribute.
"""

from __future__ import annotations

import re

from lxml import etree

from ..model import Book
from .bodies import Bodies
from .memo import TransformMemo

LTR_TAGS = frozenset({"pre", "code", "kbd", "samp", "var"})
_ADDRESS = re.compile(r"^(https?://|mailto:|www\.|ftp://)|^[\w.+-]+@[\w-]+\.[\w.]+$")


def isolate_ltr_runs(book: Book, bodies: Bodies, memo: TransformMemo) -> Book:
    """Mark code, keyboard input and written-out addresses ``dir="ltr"`` in RTL books."""
    if book.language.is_rtl:
        for chapter in book.chapters:
            if memo.stored(chapter) is None:
                _isolate(bodies.chapter(chapter))
    return book


def _isolate(wrapper: etree._Element) -> None:
    for node in wrapper.iter():
        if not isinstance(node.tag, str) or node.get("dir"):
            continue
        if node.tag in LTR_TAGS and not _inside_ltr(node):
            node.set("dir", "ltr")
        elif node.tag == "a" and _ADDRESS.match("".join(node.itertext()).strip()):
            node.set("dir", "ltr")


def _inside_ltr(node: object) -> bool:
    parent = node.getparent()  # type: ignore[attr-defined]
    while parent is not None:
        if parent.tag in LTR_TAGS:
            return True
        parent = parent.getparent()
    return False

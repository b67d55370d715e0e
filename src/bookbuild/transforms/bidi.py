"""Keep code and addresses left to right inside right-to-left books (bidi isolation).

In an Arabic, Persian or Hebrew book, ``x = f(1)`` or ``https://example.org/a-b`` would
otherwise be reordered by the Unicode bidi algorithm and read wrongly. Marking them
``dir="ltr"`` isolates them (HTML maps ``[dir]`` to ``unicode-bidi: isolate``) in every
reading system, and base.css repeats the rule for those that ignore the attribute.
"""

from __future__ import annotations

import re

from ..model import Book
from ..xhtml import parse_fragment, serialize_fragment

LTR_TAGS = frozenset({"pre", "code", "kbd", "samp", "var"})
_ADDRESS = re.compile(r"^(https?://|mailto:|www\.|ftp://)|^[\w.+-]+@[\w-]+\.[\w.]+$")


def isolate_ltr_runs(book: Book) -> Book:
    """Mark code, keyboard input and written-out addresses ``dir="ltr"`` in RTL books."""
    if not book.manifest.language.is_rtl:
        return book
    chapters = tuple(chapter.replace(body=_isolate(chapter.body)) for chapter in book.chapters)
    return book.replace(chapters=chapters)


def _isolate(body: str) -> str:
    wrapper = parse_fragment(body)
    for node in wrapper.iter():
        if not isinstance(node.tag, str) or node.get("dir"):
            continue
        if node.tag in LTR_TAGS and not _inside_ltr(node):
            node.set("dir", "ltr")
        elif node.tag == "a" and _ADDRESS.match("".join(node.itertext()).strip()):
            node.set("dir", "ltr")
    return serialize_fragment(wrapper)


def _inside_ltr(node: object) -> bool:
    parent = node.getparent()  # type: ignore[attr-defined]
    while parent is not None:
        if parent.tag in LTR_TAGS:
            return True
        parent = parent.getparent()
    return False

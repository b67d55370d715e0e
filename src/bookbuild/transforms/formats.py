"""Per-format content: ``::: only-epub`` and ``::: only-pdf`` blocks.

The model keeps both, as ``<div class="only-epub">``/``<div class="only-pdf">``; just
before a renderer runs, the blocks meant for other formats are removed (not hidden), so
no reader and no screen reader meets them.
"""

from __future__ import annotations

from lxml import etree

from ..model import Book
from ..xhtml import parse_fragment, serialize_fragment

FORMAT_CLASSES = {"epub": "only-epub", "pdf": "only-pdf"}


def for_format(book: Book, fmt: str) -> Book:
    """The book as one format shows it: other formats' blocks gone, its own unwrapped."""
    if not any("only-" in chapter.body for chapter in book.chapters):
        return book
    drop = {css for name, css in FORMAT_CLASSES.items() if name != fmt}
    chapters = []
    for chapter in book.chapters:
        if "only-" not in chapter.body:
            chapters.append(chapter)
            continue
        wrapper = parse_fragment(chapter.body)
        for node in list(wrapper.iter("div")):
            classes = set((node.get("class") or "").split())
            if classes & drop:
                _remove(node)
            elif FORMAT_CLASSES.get(fmt) in classes:
                _unwrap(node)
        chapters.append(chapter.replace(body=serialize_fragment(wrapper)))
    return book.replace(chapters=tuple(chapters))


def _remove(node: etree._Element) -> None:
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def _unwrap(node: etree._Element) -> None:
    """Replace the element by its content."""
    parent = node.getparent()
    index = parent.index(node)
    previous = node.getprevious()
    head = node.text or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + head
    else:
        parent.text = (parent.text or "") + head
    children = list(node)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else previous
    if last is not None:
        last.tail = (last.tail or "") + (node.tail or "")
    else:
        parent.text = (parent.text or "") + (node.tail or "")
    parent.remove(node)

"""Per-format content: ``::: only-epub`` and ``::: only-pdf`` blocks.

The model keeps both, as ``<div class="only-epub">``/``<div class="only-pdf">``; just
before a renderer runs, the blocks meant for other formats are removed (not hidden), so
no reader and no screen reader meets them.
"""

from __future__ import annotations


from ..model import Book
from ..xhtml import parse_fragment, remove_keep_tail, serialize_fragment, unwrap

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
                remove_keep_tail(node)
            elif FORMAT_CLASSES.get(fmt) in classes:
                unwrap(node)
        chapters.append(chapter.replace(body=serialize_fragment(wrapper)))
    return book.replace(chapters=tuple(chapters))

"""Where each printed page of the PDF begins, as positions that survive the change of format.

The book is laid out (not written) as its PDF; for each page, the first piece of chapter
text on it is found in WeasyPrint's boxes and recorded as a :class:`~bookbuild.model.PageStart`:
the path of child-element indices from the chapter's ``<section>`` (or the title page's
section, or the contents' ``<nav>``: the EPUB has the same containers with the same ids) to
the innermost block (``p``, ``li``, ``td``, ...) and the count of non-space characters of that
block laid out on earlier pages. Non-space characters are counted because whitespace
collapses and lines split differently in the two formats. Footnote text (floated to the page
foot in the PDF, at the chapter end in the EPUB) is not counted.

The printed label is read from the page's own margin boxes (the page number the reader
sees, roman in the front matter); a page that prints no number (half-title, title and
copyright pages, blank versos) gets no entry, since no reader can cite it. The EPUB renderer
places the markers (render/epub/pagelist.py); the pipeline hands these starts to it as data.
"""

from __future__ import annotations

import re
from typing import Any

from ...config import BuildContext
from ...errors import Reporter
from ...model import NOT_COUNTED, Book, PageStart
from ...xhtml import BLOCK_TAGS

FRONT_CONTAINERS = frozenset({"titlepage", "toc"})
PAGE_NUMBER = re.compile(r"^(\d+|[ivxlcdm]+|[IVXLCDM]+)$")


def page_starts(book: Book, build: BuildContext, reporter: Reporter) -> dict[str, tuple[PageStart, ...]]:
    """Lay the book out as its PDF and return, per container id, where each page begins."""
    from .document import layout_pdf

    return pdf_page_starts(layout_pdf(book, build, Reporter()))


def pdf_page_starts(document: Any) -> dict[str, tuple[PageStart, ...]]:
    """Per container id, the start of every page of a rendered WeasyPrint ``Document``.

    Containers are the chapters (``<section id="chNN" class="chapter">``), the title page
    (``id="titlepage"``) and the contents (``id="toc"``) of the PDF's HTML; a page that
    begins elsewhere (a blank page) gets no entry.
    """
    root = _root_element(document)
    parents = {child: parent for parent in root.iter() for child in parent}
    seen_chars: dict[int, int] = {}
    starts: dict[str, list[PageStart]] = {}
    used_labels: set[str] = set()
    for number, page in enumerate(document.pages, start=1):
        label = _page_label(page._page_box)
        if label is None:
            continue  # no printed folio (title pages, blank versos): nothing a reader can cite
        started = False
        for box in page._page_box.descendants():
            place = _place(box, parents)
            if place is None:
                continue
            chapter_id, block, path = place
            if not started and label not in used_labels:
                starts.setdefault(chapter_id, []).append(PageStart(label, path, seen_chars.get(id(block), 0)))
                used_labels.add(label)
            started = True
            seen_chars[id(block)] = seen_chars.get(id(block), 0) + len("".join((getattr(box, "text", "") or "").split()))
    return {chapter: tuple(found) for chapter, found in starts.items()}


def _root_element(document: Any) -> Any:
    for page in document.pages:
        for box in page._page_box.descendants():
            if getattr(box, "is_for_root_element", False) and box.element is not None:
                return box.element
    raise ValueError("the PDF document has no root element")


def _place(box: Any, parents: dict[Any, Any]) -> tuple[str, Any, tuple[int, ...]] | None:
    """(chapter id, innermost block element, its path) for a box of chapter text, else None."""
    text = getattr(box, "text", None)
    is_image = type(box).__name__.endswith("ReplacedBox")
    if not is_image and not (text and text.strip()):
        return None
    if box.element is None or "::" in (box.element_tag or ""):
        return None  # margin boxes, list markers, footnote calls, generated content
    node, block = box.element, None
    while node is not None:
        classes = set((node.get("class") or "").split())
        if classes & NOT_COUNTED or node.get("role") == "doc-noteref":
            return None
        if _is_container(node, classes):
            if block is None:
                return None
            return node.get("id"), block, _path(block, node, parents)
        if block is None and node.tag in BLOCK_TAGS:
            block = node
        node = parents.get(node)
    return None


def _is_container(node: Any, classes: set[str]) -> bool:
    if node.tag == "section" and "chapter" in classes and node.get("id"):
        return True
    return node.get("id") in FRONT_CONTAINERS


def _path(block: Any, section: Any, parents: dict[Any, Any]) -> tuple[int, ...]:
    path = []
    node = block
    while node is not section:
        parent = parents[node]
        path.append([child for child in parent if isinstance(child.tag, str)].index(node))
        node = parent
    return tuple(reversed(path))


def _page_label(page_box: Any) -> str | None:
    """The page number printed in a margin box of this page, if any."""
    for box in page_box.children:
        if type(box).__name__ != "MarginBox":
            continue
        text = "".join(getattr(d, "text", "") or "" for d in box.descendants()).strip()
        if PAGE_NUMBER.match(text):
            return text
    return None

"""Page list: where the PDF's pages begin, marked in the EPUB chapters (``doc-pagebreak``).

A student with the EPUB and a teacher with the printed PDF should mean the same text by
"page 12". The PDF is laid out (not written) from the same book; for each page, the first
piece of chapter text on it is found in WeasyPrint's boxes and recorded as a position that
survives the change of format: the path of child-element indices from the chapter's
``<section>`` (or the title page's section, or the contents' ``<nav>``: the EPUB has the
same containers with the same ids) to the innermost block (``p``, ``li``, ``td``, ...) and the count of
non-space characters of that block laid out on earlier pages. Non-space characters are
counted because whitespace collapses and lines split differently in the two formats; the
EPUB marker is then placed at the start of the word holding that character. Footnote text
(floated to the page foot in the PDF, at the chapter end in the EPUB) is not counted.

The printed label is read from the page's own margin boxes (the page number the reader
sees, roman in the front matter); a page that prints no number (half-title, title and
copyright pages, blank versos) gets no entry, since no reader can cite it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ...errors import Reporter
from ...model import Book
from ...slugs import unique
from ...xhtml import BLOCK_TAGS

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
# Containers where a marker may stand between blocks; elsewhere it goes inside the block.
FLOW_PARENTS = frozenset("section div blockquote aside figure li dd td th".split())
NO_PHRASING = frozenset("ul ol dl table thead tbody tfoot tr colgroup hr img".split())
FRONT_CONTAINERS = frozenset({"titlepage", "toc"})
PAGE_NUMBER = re.compile(r"^(\d+|[ivxlcdm]+|[IVXLCDM]+)$")
SKIPPED_CLASSES = frozenset({"footnote", "noteref-again"})


@dataclass(frozen=True)
class PageBreak:
    """Page ``label`` begins in the chapter's block at ``path``, ``chars`` non-space characters in."""

    label: str
    path: tuple[int, ...]
    chars: int = 0

    @property
    def id(self) -> str:
        return f"page-{self.label}"


def page_breaks(book: Book) -> dict[str, tuple[PageBreak, ...]]:
    """Lay the book out as its PDF and return, per container id, where each page begins."""
    from ..pdf import layout_pdf

    return pdf_page_starts(layout_pdf(book, Reporter()))


def pdf_page_starts(document: Any) -> dict[str, tuple[PageBreak, ...]]:
    """Per container id, the start of every page of a rendered WeasyPrint ``Document``.

    Containers are the chapters (``<section id="chNN" class="chapter">``), the title page
    (``id="titlepage"``) and the contents (``id="toc"``) of the PDF's HTML; a page that
    begins elsewhere (a blank page) gets no entry.
    """
    root = _root_element(document)
    parents = {child: parent for parent in root.iter() for child in parent}
    seen_chars: dict[int, int] = {}
    starts: dict[str, list[PageBreak]] = {}
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
                starts.setdefault(chapter_id, []).append(PageBreak(label, path, seen_chars.get(id(block), 0)))
                used_labels.add(label)
            started = True
            seen_chars[id(block)] = seen_chars.get(id(block), 0) + len("".join((getattr(box, "text", "") or "").split()))
    return {chapter: tuple(found) for chapter, found in starts.items()}


def insert_page_breaks(document: etree._Element, container_id: str,
                       breaks: tuple[PageBreak, ...]) -> list[tuple[str, str]]:
    """Put a ``<span role="doc-pagebreak">`` where each page begins in an EPUB document.

    Returns (label, id) per marker; ids avoid every id the document already has.
    """
    section = next((node for node in document.iter() if node.get("id") == container_id), None)
    if section is None:
        return []
    taken = {node.get("id").casefold() for node in document.iter() if isinstance(node.tag, str) and node.get("id")}
    placed = []
    # Find every block before inserting anything: a marker shifts its siblings' indices.
    for page, block in [(page, _block_at(section, page.path)) for page in breaks]:
        marker_id = unique(page.id, taken)
        marker = etree.Element(f"{{{XHTML_NS}}}span", {
            "id": marker_id, "role": "doc-pagebreak", f"{{{OPS_NS}}}type": "pagebreak", "aria-label": page.label})
        if page.chars == 0 or not _insert_in_text(block, marker, page.chars):
            _insert_before(block, marker)
        placed.append((page.label, marker_id))
    return placed


def _block_at(section: etree._Element, path: tuple[int, ...]) -> etree._Element:
    """The element at ``path`` below the section, or the deepest one that exists."""
    block = section
    for index in path:
        children = [child for child in block if isinstance(child.tag, str)]
        if index >= len(children):
            break
        block = children[index]
    return block


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
        if classes & SKIPPED_CLASSES or node.get("role") == "doc-noteref":
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


def _skipped(node: etree._Element) -> bool:
    return node.get("role") == "doc-noteref" or bool(set((node.get("class") or "").split()) & SKIPPED_CLASSES)


def _insert_in_text(block: etree._Element, marker: etree._Element, chars: int) -> bool:
    """Insert ``marker`` at the start of the word holding non-space character ``chars``."""
    remaining = chars
    for owner, attr in _text_slots(block):
        text = getattr(owner, attr) or ""
        count = len("".join(text.split()))
        if remaining >= count:
            remaining -= count
            continue
        seen, cut = 0, 0
        for match in re.finditer(r"\S+", text):
            if seen + len(match.group()) > remaining:
                cut = match.start()
                break
            seen += len(match.group())
        _split_slot(owner, attr, text, cut, marker)
        return True
    return False


def _text_slots(block: etree._Element) -> list[tuple[etree._Element, str]]:
    """The text nodes of a block in reading order, as (element, "text" | "tail"), skipping note calls."""
    slots: list[tuple[etree._Element, str]] = [(block, "text")]
    for child in block:
        if not isinstance(child.tag, str):
            slots.append((child, "tail"))
            continue
        if not _skipped(child):
            slots.extend(_text_slots(child))
        slots.append((child, "tail"))
    return slots


def _split_slot(owner: etree._Element, attr: str, text: str, cut: int, marker: etree._Element) -> None:
    before, after = text[:cut], text[cut:]
    marker.tail = after
    if attr == "text":
        owner.text = before
        owner.insert(0, marker)
    else:
        owner.tail = before
        owner.addnext(marker)


def _insert_before(block: etree._Element, marker: etree._Element) -> None:
    """Before the block where phrasing content may stand, else at the start of the nearest
    element that accepts it (never directly in ``ul``, ``table``, ``tr``, ``hr`` ...)."""
    node = block
    while node is not None:
        parent = node.getparent()
        if parent is not None and etree.QName(parent).localname in FLOW_PARENTS:
            node.addprevious(marker)
            marker.tail = "\n"
            return
        if etree.QName(node).localname not in NO_PHRASING:
            marker.tail, node.text = node.text, None
            node.insert(0, marker)
            return
        node = parent

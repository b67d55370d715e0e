"""Page list: where the PDF's pages begin, marked in the EPUB chapters (``doc-pagebreak``).

A student with the EPUB and a teacher with the printed PDF should mean the same text by
"page 12". The pipeline lays the PDF's own book out and hands the starts of its pages to the
EPUB renderer as data (render/pdf/page_starts.py, translated to the EPUB's text by
transforms/formats.py); here each becomes a marker at the start of the word holding the
counted character.

Some places cannot hold a marker: in a contents list (EPUB 3.3 navigation document) an entry's
``li`` holds only its link and the list below it, so the marker goes at the start of the link;
between table rows nothing may stand, so a page that begins with a row has its marker at the
start of the row's first cell (before the table when it is the table's first row).
"""

from __future__ import annotations

import re

from lxml import etree

from ...model import NOT_COUNTED, PageStart
from ...slugs import unique
from ...xhtml import XHTML_NS
from .semantics import EPUB_TYPE

# Containers where a marker may stand between blocks; elsewhere it goes inside the block.
FLOW_PARENTS = frozenset("section div blockquote aside figure li dd td th".split())
NO_PHRASING = frozenset("ul ol dl table thead tbody tfoot tr colgroup hr img".split())


def with_page_breaks(xhtml: str, container_id: str,
                     breaks: tuple[PageStart, ...]) -> tuple[str, list[tuple[str, str]]]:
    """An XHTML document (title page, contents, part page) with its page-break markers, and
    their (label, id)."""
    if not breaks:
        return xhtml, []
    root = etree.fromstring(xhtml.encode("utf-8"))
    page_ids = insert_page_breaks(root, container_id, breaks)
    return serialize_document(root), page_ids


def serialize_document(root: etree._Element) -> str:
    """A parsed XHTML document as the EPUB packs it: XML declaration, HTML doctype."""
    body = etree.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def insert_page_breaks(document: etree._Element, container_id: str,
                       breaks: tuple[PageStart, ...]) -> list[tuple[str, str]]:
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
            "id": marker_id, "role": "doc-pagebreak", EPUB_TYPE: "pagebreak", "aria-label": page.label})
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


def _skipped(node: etree._Element) -> bool:
    return node.get("role") == "doc-noteref" or bool(set((node.get("class") or "").split()) & NOT_COUNTED)


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
    element that accepts it (never directly in ``ul``, ``table``, ``tr``, ``hr`` ...); in a
    contents entry, at the start of its link; in a table row, at the start of its first cell."""
    holder = _entry_link(block) if _in_nav(block) else _first_cell(block)
    if holder is not None:
        marker.tail, holder.text = holder.text, None
        holder.insert(0, marker)
        return
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


def _in_nav(block: etree._Element) -> bool:
    return any(etree.QName(node).localname == "nav" for node in block.iterancestors())


def _entry_link(block: etree._Element) -> etree._Element | None:
    """The ``a`` (or ``span``) of the contents entry ``block`` is, or lies in."""
    entry = next((node for node in (block, *block.iterancestors()) if etree.QName(node).localname == "li"), None)
    children = [child for child in entry if isinstance(child.tag, str)] if entry is not None else []
    return children[0] if children and etree.QName(children[0]).localname in ("a", "span") else None


def _first_cell(block: etree._Element) -> etree._Element | None:
    """The first cell of table row ``block``, unless it is its table's first row (or no row)."""
    if etree.QName(block).localname != "tr":
        return None
    table = next((node for node in block.iterancestors() if etree.QName(node).localname == "table"), None)
    if table is None or next(table.iter(f"{{{XHTML_NS}}}tr", "tr"), None) is block:
        return None
    return next((child for child in block if isinstance(child.tag, str)), None)

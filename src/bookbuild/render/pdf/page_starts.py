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
copyright pages, blank versos) gets no entry, since no reader can cite it, except a part's
title page: the EPUB has a document for it, and its number is the one its place implies (the
next printed folio less the pages between), as a printed book's pages are counted.

A table's header row is printed again at the top of each page the table runs onto: those
repeats are not the page's start (the first row under them is). A page that begins with a
table row points at the row (at the table, for its first row), where the EPUB can mark it.

Laying the whole book out takes seconds, so the starts are kept in the book's cache folder
under a keyed hash of everything the layout is given (:class:`KeptStarts`), and laid out
again only when that changes. The EPUB renderer places the markers
(render/epub/pagelist.py); the pipeline hands these starts to it as data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from ...cache import cache_secret, context_fingerprint, keep, keyed_hash, prune_folder, read_entry
from ...config import BuildContext
from ...errors import Reporter
from ...model import NOT_COUNTED, Book, PageStart
from ...xhtml import BLOCK_TAGS

FRONT_CONTAINERS = frozenset({"titlepage", "toc"})
PAGE_NUMBER = re.compile(r"^(\d+|[ivxlcdm]+|[IVXLCDM]+)$")
TABLE_GROUPS = frozenset({"thead", "tfoot"})  # printed again on every page a table runs onto
CELLS = frozenset({"td", "th"})
FOLDER, FORMAT = "page-starts", 1


class _Place(NamedTuple):
    """Where a box of text stands: its container, innermost block, and table header or footer."""

    container: Any
    block: Any
    group: Any


class _Start(NamedTuple):
    """Where a page begins, before its label is known."""

    container: str
    path: tuple[int, ...]
    chars: int
    is_part: bool


def page_starts(book: Book, build: BuildContext, reporter: Reporter) -> dict[str, tuple[PageStart, ...]]:
    """Where each printed page of the book's PDF begins, per container id: kept from the last
    layout of the same PDF source (:class:`KeptStarts`), else laid out now."""
    from .document import book_fetcher, layout_pdf, pdf_source

    source = pdf_source(book, build.config.pdf, theme=build.config.theme)
    fetcher = book_fetcher(book, build.config.allow_remote)
    kept = KeptStarts(build, source.html, source.css, source.sheets)
    starts = kept.load(fetcher)
    if starts is None:
        starts = pdf_page_starts(layout_pdf(book, build, Reporter(), source=source, fetcher=fetcher))
        kept.store(starts, fetcher.fetched)
    return starts


def pdf_page_starts(document: Any) -> dict[str, tuple[PageStart, ...]]:
    """Per container id, the start of every page of a rendered WeasyPrint ``Document``.

    Containers are the chapters (``<section id="chNN" class="chapter">``), the parts' title
    pages (``<section id="partNN" class="part">``), the title page (``id="titlepage"``) and
    the contents (``id="toc"``) of the PDF's HTML; a page that begins elsewhere (a blank
    page) gets no entry.
    """
    root = _root_element(document)
    parents = {child: parent for parent in root.iter() for child in parent}
    seen_chars: dict[int, int] = {}
    repeated: set[Any] = set()  # table headers and footers laid out on an earlier page
    pages: list[tuple[str | None, _Start | None]] = []
    for page in document.pages:
        first, groups = None, set()
        for box in page._page_box.descendants():
            place = _place(box, parents)
            if place is None or place.group in repeated:
                continue
            if place.group is not None:
                groups.add(place.group)
            counted = seen_chars.get(id(place.block), 0)
            if first is None:
                first = _start(place, counted, parents)
            seen_chars[id(place.block)] = counted + len("".join((getattr(box, "text", "") or "").split()))
        repeated |= groups
        pages.append((_page_label(page._page_box), first))
    starts: dict[str, list[PageStart]] = {}
    used_labels: set[str] = set()
    for label, (_, first) in zip(_labels(pages), pages):
        if label is None or first is None or label in used_labels:
            continue  # no folio (title pages, blank versos): nothing a reader can cite
        starts.setdefault(first.container, []).append(PageStart(label, first.path, first.chars))
        used_labels.add(label)
    return {container: tuple(found) for container, found in starts.items()}


def _start(place: _Place, chars: int, parents: dict[Any, Any]) -> _Start:
    """The page's start at ``place``, ``chars`` into its block; a page that begins with a table
    row points at the row (at the table, for its first row) rather than at one of its cells."""
    block, container = place.block, place.container
    if chars == 0 and block.tag in CELLS and block in parents:
        row = table = parents[block]
        while table is not None and table.tag != "table":
            table = parents.get(table)
        first_row = next(table.iter("tr"), None) if table is not None else None
        block = table if first_row is row else row
    is_part = container.tag == "section" and "part" in (container.get("class") or "").split()
    return _Start(container.get("id"), _path(block, container, parents), chars, is_part)


def _labels(pages: list[tuple[str | None, _Start | None]]) -> list[str | None]:
    """Each page's label: the folio it prints, or for a part's title page, which prints none,
    the number its place implies (the next printed folio, if arabic, less the pages between)."""
    labels = [label for label, _ in pages]
    for number, (label, first) in enumerate(pages):
        if label is not None or first is None or not first.is_part:
            continue
        later = next((n for n in range(number + 1, len(pages)) if pages[n][0] is not None), None)
        folio = pages[later][0] if later is not None else None
        if folio is not None and folio.isdigit() and int(folio) - (later - number) >= 1:
            labels[number] = str(int(folio) - (later - number))
    return labels


class KeptStarts:
    """The page starts of the last layout, in ``.bookbuild-cache/page-starts/``.

    An entry is named by a keyed hash (cache.keyed_hash: the user's secret and bookbuild's
    code) of what WeasyPrint is given: the HTML, the generated CSS, the stylesheets, the book's
    options and sheets (cache.context_fingerprint), and the layout libraries and fonts (the
    PDF piece cache's ``layout_fingerprint``). The files the layout fetched (images, fonts)
    are listed with their SHA-256 and checked again before an entry is used; a layout that
    fetched over the network is not kept.
    """

    def __init__(self, build: BuildContext, html: str, css: str, sheets: tuple[Path, ...]) -> None:
        self.path: Path | None = None
        if build.cache_dir is not None and cache_secret() is not None:
            from .parallel.cache import layout_fingerprint

            key = keyed_hash(FOLDER, context_fingerprint(build.config), layout_fingerprint(), css,
                             *(str(path) for path in sheets), html)
            self.path = build.cache_dir / FOLDER / f"{key}.json"

    def load(self, fetcher: Any) -> dict[str, tuple[PageStart, ...]] | None:
        """The kept starts, if every file their layout fetched still gives the same bytes."""
        raw = read_entry(self.path) if self.path is not None else None
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            if entry["format"] != FORMAT or any(_digest_of(fetcher, url) != digest
                                                for url, digest in entry["fetched"].items()):
                return None
            return {container: tuple(PageStart(label, tuple(path), chars) for label, path, chars in found)
                    for container, found in entry["starts"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, starts: dict[str, tuple[PageStart, ...]], fetched: dict[str, str | None]) -> None:
        """Keep these starts (the only entry: older ones are removed)."""
        if self.path is None or any(url.split(":", 1)[0].lower() in ("http", "https") for url in fetched):
            return
        found = {container: [[page.label, list(page.path), page.chars] for page in pages]
                 for container, pages in starts.items()}
        entry = {"format": FORMAT, "fetched": fetched, "starts": found}
        if keep(self.path, json.dumps(entry, sort_keys=True).encode("utf-8"), "the page starts"):
            prune_folder(self.path.parent, {self.path.stem}, (".json",))


def _digest_of(fetcher: Any, url: str) -> str | None:
    """The SHA-256 of what the book's fetcher serves for ``url`` now (None: refused)."""
    try:
        fetcher.fetch(url)
    except ValueError:
        return None
    return fetcher.fetched.get(url)


def _root_element(document: Any) -> Any:
    for page in document.pages:
        for box in page._page_box.descendants():
            if getattr(box, "is_for_root_element", False) and box.element is not None:
                return box.element
    raise ValueError("the PDF document has no root element")


def _place(box: Any, parents: dict[Any, Any]) -> _Place | None:
    """Where a box of the book's text stands (container, innermost block, table header or
    footer), else None."""
    text = getattr(box, "text", None)
    is_image = type(box).__name__.endswith("ReplacedBox")
    if not is_image and not (text and text.strip()):
        return None
    if box.element is None or "::" in (box.element_tag or ""):
        return None  # margin boxes, list markers, footnote calls, generated content
    node, block, group = box.element, None, None
    while node is not None:
        classes = set((node.get("class") or "").split())
        if classes & NOT_COUNTED or node.get("role") == "doc-noteref":
            return None
        if _is_container(node, classes):
            return None if block is None else _Place(node, block, group)
        if block is None and node.tag in BLOCK_TAGS:
            block = node
        if group is None and node.tag in TABLE_GROUPS:
            group = node
        node = parents.get(node)
    return None


def _is_container(node: Any, classes: set[str]) -> bool:
    if node.tag == "section" and classes & {"chapter", "part"} and node.get("id"):
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

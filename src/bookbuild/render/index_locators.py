"""The index's locators as printed page numbers, for the PDF and the EPUB's page list.

The index chapter (transforms/index.py) links each locator to its mark, numbered in order.
A renderer that knows the printed page of every mark (the PDF once its pages are laid out;
the EPUB with ``[epub] page_list``, from the PDF's page starts) replaces each entry's
locators here: page numbers in page order, a page named once however many marks it holds,
pages that follow each other (and ranges: ``12–14``) merged into one range. Every number
stays a link: to the first mark on its page, a range to its first and last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

from lxml import etree

from ..xhtml import parse_fragment, serialize_fragment

_ROMAN = re.compile(r"^[ivxlcdm]+$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
BODY_PAGES = 1_000_000  # arabic pages come after every roman one


def label_order(label: str) -> int | None:
    """Where a printed page number stands among the book's pages: roman front matter first,
    then the body in any decimal digits (``۱۲`` is 12); None when it is no page number."""
    text = label.strip()
    if text and all(c.isdigit() for c in text):
        return BODY_PAGES + int("".join(str(unicodedata.digit(c)) for c in text))
    if _ROMAN.match(text.lower()):
        values = [_ROMAN_VALUES[c] for c in text.lower()]
        return sum(-v if n + 1 < len(values) and v < values[n + 1] else v for n, v in enumerate(values))
    return None


def print_page_numbers(body: str, pages: Mapping[str, str] | Callable[[str], str | None]) -> str:
    """The index chapter's ``body`` with each entry's locators as the page numbers of their
    marks (``pages``: mark id -> printed page number); marks on no known page are left out."""
    page_of = pages.get if isinstance(pages, Mapping) else pages
    wrapper = parse_fragment(body)
    for span in wrapper.xpath(".//span[@class='index-locators']"):
        runs = _runs(span, page_of)
        for child in list(span):
            span.remove(child)
        span.text = None
        if not runs:
            span.getparent().remove(span)
            continue
        _write_runs(span, runs)
    return serialize_fragment(wrapper)


Run = tuple[int, str, str, int, str, str]  # first page's order, label, mark; last page's order, label, mark


def _runs(span: etree._Element, page_of: Callable[[str], str | None]) -> list[Run]:
    found: list[Run] = []
    for child in span:
        links = [child] if child.tag == "a" else list(child.iter("a"))
        marks = [link.get("href", "")[1:] for link in links]
        labels = [page_of(mark) for mark in marks]
        if not marks or any(label is None for label in labels):
            continue
        orders = [label_order(label) for label in labels]
        if any(order is None for order in orders):
            continue
        found.append((orders[0], labels[0], marks[0], orders[-1], labels[-1], marks[-1]))
    found.sort(key=lambda run: run[0])
    merged: list[Run] = []
    for run in found:
        if merged and run[0] <= merged[-1][3] + 1 and _same_kind(merged[-1][4], run[1]):
            last = merged[-1]
            if run[3] > last[3]:
                merged[-1] = (*last[:3], *run[3:])
            continue
        merged.append(run)
    return merged


def _same_kind(one: str, other: str) -> bool:
    """Two numbers of one numbering: no range from the front matter's xii to the body's 1."""
    return (label_order(one) or 0) >= BODY_PAGES and (label_order(other) or 0) >= BODY_PAGES or \
        (label_order(one) or 0) < BODY_PAGES and (label_order(other) or 0) < BODY_PAGES


def _write_runs(span: etree._Element, runs: list[Run]) -> None:
    span.text = ", "
    last: etree._Element | None = None
    for start_order, start_label, start_mark, end_order, end_label, end_mark in runs:
        if last is not None:
            last.tail = ", "
        if start_order == end_order:
            last = _link(span, start_mark, start_label)
            continue
        last = etree.SubElement(span, "span", {"data-epub-type": "index-locator-range", "class": "index-range"})
        _link(last, start_mark, start_label).tail = "\u2013"
        _link(last, end_mark, end_label)


def _link(parent: etree._Element, mark: str, label: str) -> etree._Element:
    link = etree.SubElement(parent, "a", {"href": f"#{mark}", "data-epub-type": "index-locator",
                                          "class": "index-locator"})
    link.text = label
    return link

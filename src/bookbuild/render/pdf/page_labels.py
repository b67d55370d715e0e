"""The PDF's ``/PageLabels``: the page numbers a viewer shows, made from the ones the pages print.

print.css numbers the pages (house rule 5): roman in the front matter, arabic from where the
body starts, one run from 1 in a handout. A viewer shows its own count (1 to N) unless the PDF
labels its pages, so the labels are read from what the layout printed in each page's folio
box, never worked out again from the CSS. Pages that print no number (title pages, blank
versos, part title pages) take the number their place in the count gives them: counted back
from the next printed folio when that stays at 1 or more, else on from the one before (a
blank verso before the body's page 1 belongs to the front matter's count).

The single document writes the labels through WeasyPrint's ``finisher`` (document.py); the
chapter-parallel PDF joins each piece's folios and writes them in its catalog (parallel/join.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

FOLIO_BOX = "@bottom-center"  # print.css prints the page number there
ROMAN_NUMERALS = (("m", 1000), ("cm", 900), ("d", 500), ("cd", 400), ("c", 100), ("xc", 90), ("l", 50),
                  ("xl", 40), ("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1))
_ROMAN = re.compile(r"^m*(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
# (first page index, PDF numbering style: D arabic, r lower roman, R upper roman, first number)
LabelRange = tuple[int, str, int]


def roman(number: int) -> str:
    """``number`` in lower-case roman numerals, as CSS ``lower-roman`` prints it."""
    text = ""
    for numeral, value in ROMAN_NUMERALS:
        count, number = divmod(number, value)
        text += numeral * count
    return text


def printed_folios(document: Any) -> list[str | None]:
    """The page number each page of a laid-out WeasyPrint document prints in its folio box
    (None: none printed)."""
    folios: list[str | None] = []
    for page in document.pages:
        text = None
        for box in page._page_box.children:
            if type(box).__name__ == "MarginBox" and box.at_keyword == FOLIO_BOX:
                text = "".join(getattr(d, "text", "") or "" for d in box.descendants()).strip() or None
        folios.append(text)
    return folios


def label_ranges(folios: Sequence[str | None]) -> list[LabelRange]:
    """The ``/PageLabels`` ranges of pages that print these ``folios``."""
    printed = [_number(folio) if folio else None for folio in folios]
    following: list[tuple[int, tuple[str, int]] | None] = [None] * len(printed)
    ahead = None
    for index in range(len(printed) - 1, -1, -1):
        number = printed[index]
        ahead = (index, number) if number is not None else ahead
        following[index] = ahead
    labels: list[tuple[str, int]] = []
    behind: tuple[int, tuple[str, int]] | None = None
    for index, number in enumerate(printed):
        if number is not None:
            behind = (index, number)
            labels.append(number)
            continue
        after = following[index]
        if after is not None and after[1][1] - (after[0] - index) >= 1:
            labels.append((after[1][0], after[1][1] - (after[0] - index)))
        elif behind is not None:
            labels.append((behind[1][0], behind[1][1] + index - behind[0]))
        else:
            labels.append(("D", index + 1))
    ranges: list[LabelRange] = []
    for index, (style, value) in enumerate(labels):
        if not ranges or labels[index - 1] != (style, value - 1):
            ranges.append((index, style, value))
    return ranges


def page_labels_pdf(ranges: Sequence[LabelRange]) -> bytes:
    """The ``/PageLabels`` number tree of these ranges, in PDF syntax."""
    items = b"".join(b"%d<</S/%s%s>>" % (first, style.encode(), b"/St %d" % value if value != 1 else b"")
                     for first, style, value in ranges)
    return b"<</Nums[%s]>>" % items


def write_page_labels(document: Any, pdf: Any) -> None:
    """WeasyPrint's ``finisher``: the document's page labels in the catalog of its ``pdf``
    (a pydyf PDF, which writes bytes as they are), read from the pages it laid out."""
    pdf.catalog["PageLabels"] = page_labels_pdf(label_ranges(printed_folios(document)))


def _number(folio: str) -> tuple[str, int] | None:
    """(style, value) of a printed page number; None for text that is not one."""
    if folio.isdigit():
        return ("D", int(folio)) if int(folio) else None
    style = "r" if folio.islower() else "R" if folio.isupper() else None
    text = folio.lower()
    if style is None or not _ROMAN.match(text):
        return None
    value = 0
    for numeral, worth in ROMAN_NUMERALS:
        while text.startswith(numeral):
            value, text = value + worth, text[len(numeral):]
    return style, value

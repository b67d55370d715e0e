"""Print the right page numbers on a piece laid out with guessed ones, without laying it out again.

A piece of the parallel PDF is laid out before the page counts of the pieces before it are
known, so it prints guessed numbers: its folios and the "see page N" of links inside the
piece (``target-counter``), both counted from a guessed first page, and the numbers of
"see page N" and of the contents that name other pieces (``data-page``). Once every piece has been
laid out the true numbers are known. Where a true number takes exactly the width of the
guess (the same digits count, and print.css asks for tabular figures), the layout with the
true number is the layout with the guess, so only the text of those boxes needs to change:
WeasyPrint shapes a text box again from its text when it draws it. A folio of another width
is moved to stay centred (its margin box is as wide as it is). Anything else (a number that
appears, disappears, or changes width inside a line of text) means the piece must be laid
out again, and :func:`patch_numbers` says so without changing anything.

This reads WeasyPrint's box tree (``formatting_structure.boxes``) and its Pango layouts;
tests/test_pdf_parallel.py holds the result to the single-document PDF page by page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from ..page_labels import FOLIO_BOX

_DIGITS = re.compile(r"\d+")


def patch_numbers(document: Any, *, folio_shift: int, old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """Give the laid-out ``document`` its true numbers: folios moved on by ``folio_shift``,
    each ``data-page`` number of anchor ``a`` printed as ``new[a]`` instead of ``old[a]``.
    True when done; False (the document untouched) when the layout would change. The caller
    makes sure the document has the same numbers in the same places (:func:`same_but_numbers`)."""
    changes: list[tuple[Any, str]] = []
    folios: set[Any] = set()
    for _page, box, kind, anchor in number_boxes(document):
        patched = renumbered(box.text, kind, anchor, folio_shift, old, new)
        if patched is None:
            return False
        if patched != box.text:
            changes.append((box, patched))
            if kind == "folio":
                folios.add(box)
    moves: list[float] = []
    for box, text in changes:
        old_width, new_width = _width(box.style, box.text), _width(box.style, text)
        if abs(old_width - new_width) < 1e-3:
            moves.append(0.0)
        elif box in folios and box.style["text_align_all"] == "center":
            # a folio of more or fewer digits: its margin box is as wide as its text, centred
            moves.append((old_width - new_width) / 2)
        else:
            return False  # a number in a line of text: the line would break otherwise
    for (box, text), move in zip(changes, moves):
        box.text = text
        box.pango_layout.text = text  # what the drawing shapes (text/line_break.Layout.reactivate)
        box.position_x += move
        box.width -= 2 * move
    return True


def number_boxes(document: Any) -> Iterator[tuple[int, Any, str, str]]:
    """Each text box of the laid-out ``document`` that prints a page number, as (page index,
    box, kind, anchor): kind "folio" (the page's own number), "own" (``target-counter``: a
    page of this piece) or "page" (``data-page``: the page of ``anchor``, in another piece)."""
    for index, page in enumerate(document.pages):
        for box, margin in _text_boxes(page._page_box, None):
            if margin == FOLIO_BOX:
                if box.text.isdigit():
                    yield index, box, "folio", ""
            elif margin is None and box.element_tag and box.element_tag.endswith("::after"):
                element = box.element
                anchor = (element.get("href") or "")[1:] if element is not None else ""
                if element is not None and anchor:
                    yield index, box, "own" if element.get("data-page") is None else "page", anchor


def renumbered(text: str, kind: str, anchor: str, folio_shift: int, old: Mapping[str, str],
               new: Mapping[str, str]) -> str | None:
    """The ``text`` of a box of :func:`number_boxes` with the true numbers: folios and pages
    of this piece moved on by ``folio_shift``, a page of another piece printed as ``new``
    instead of ``old`` says; None when the numbers of its anchor are not known."""
    if kind == "folio":
        return _in_digits_of(int(text) + folio_shift, text) if folio_shift else text
    if kind == "own":
        return _DIGITS.sub(lambda m: _in_digits_of(int(m.group(0)) + folio_shift, m.group(0)), text) \
            if folio_shift else text
    if anchor not in old or anchor not in new:
        return None
    if old[anchor] == new[anchor]:  # arabic, or roman for a page of the front matter
        return text
    return re.sub(rf"(?<!\w){re.escape(old[anchor])}(?!\w)", new[anchor], text)


def _in_digits_of(number: int, like: str) -> str:
    """``number`` in the digits ``like`` is written in (Arabic-Indic ١٢ stays Arabic-Indic:
    int() reads any decimal digits, str() writes only 0-9)."""
    zero = next((ord(c) - unicodedata.digit(c) for c in like if c.isdigit()), ord("0"))
    return "".join(chr(zero + int(d)) for d in str(number))


def same_but_numbers(laid_out: tuple[str, str], wanted: tuple[str, str]) -> bool:
    """Whether two pieces' (HTML, CSS) differ in page numbers only: the same ``data-page``
    attributes (with other values) and the same rules (with another first page number)."""
    return all(without_numbers(a) == without_numbers(b) for a, b in zip(laid_out, wanted))


def without_numbers(text: str) -> str:
    """A piece's HTML or CSS with the page numbers it is given taken out."""
    return _NUMBERS.sub("#", text)


_NUMBERS = re.compile(r'(?<=data-page=")[\divxlcdm]+(?=")|(?<=counter-reset: page )\d+')  # roman: front matter


def _text_boxes(box: Any, margin: str | None) -> Iterator[tuple[Any, str | None]]:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.MarginBox):
        margin = box.at_keyword
    if isinstance(box, boxes.TextBox):
        yield box, margin
        return
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child, margin)


def _width(style: Any, text: str) -> float:
    from weasyprint.text.line_break import Layout, line_size

    layout = Layout(style)
    layout.set_text(text)
    line, _ = layout.get_first_line()
    return line_size(line, style)[0]

"""Dot leaders laid out as a few text boxes, not one box per unit of dots.

WeasyPrint fills a ``leader()`` with copies of one text box, a unit of dots each, lined up
from the end of the line (``weasyprint.layout.leader.handle_leader``). Each copy is shaped
and written to the page on its own: the contents of the large benchmark book (23 pages,
some 700 entries) had 21,000 of them, and laying it out and drawing it took 4.4 s instead of
1.7 s without leaders. It is the last piece of a parallel build, laid out by one worker
while the other waits.

Here the copies of each leader become a box for every GLYPHS_PER_BOX characters of them, at the
place of the first, holding the unit that many times. The copies touch (each starts where the next
ends), so the text shaped from the joined units puts the dots where the copies had them:
the same pages, pixel for pixel, and the same text (tests/test_pdf_leaders.py: the sample
book, a Chinese book; the large benchmark book's contents). Left as WeasyPrint made them:
a leader in a justified line, whose spaces the drawing widens, and one in right-to-left
text, where the joined units' dots land a fraction of a pixel from the copies' (the Persian
and Hebrew test books), even two units to a box.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Glyphs a box. The drawing writes each glyph's advance rounded, and a box starts where it was
# laid out: within a box, the rounding adds up from glyph to glyph. One box for a whole
# leader moved the last dots of the Chinese test book's leaders by a pixel at 50 dpi; 32
# glyphs a box (16 units of " .") keep every dot on its pixel there and in the other test books.
GLYPHS_PER_BOX = 32


@contextmanager
def joined_leaders() -> Iterator[None]:
    """While a document is laid out in this thread, each leader's units are joined."""
    from weasyprint.layout import inline
    from weasyprint.layout.leader import leader_index

    original = inline.handle_leader

    def handle_leader(context: Any, line: Any, containing_block: Any) -> None:
        original(context, line, containing_block)
        _index, leader = leader_index(line)
        if leader is not None:
            join_units(leader)

    inline.handle_leader = handle_leader
    try:
        yield
    finally:
        inline.handle_leader = original


def join_units(leader: Any) -> None:
    """The leader box's copies of its unit, joined GLYPHS_PER_BOX characters at a time (see the
    module's docstring)."""
    units = sorted(leader.children, key=lambda box: box.position_x)
    if len(units) < 2:
        return
    first = units[0]
    layout = first.pango_layout
    if first.style["direction"] != "ltr" or getattr(layout, "justification_spacing", 0) or any(
            box.text != first.text or box.pango_layout is not layout for box in units):
        return
    for before, after in zip(units, units[1:]):
        if abs(before.position_x + before.width - after.position_x) > 1e-3:
            return  # not side by side: left as they are
    per_box = max(1, GLYPHS_PER_BOX // len(first.text))
    leader.children = tuple(_joined(units[start:start + per_box]) for start in range(0, len(units), per_box))


def _joined(units: list) -> Any:
    first = units[0]
    if len(units) == 1:
        return first
    joined = first.copy()
    joined.text = first.text * len(units)
    joined.width = units[-1].position_x + units[-1].width - first.position_x
    joined.pango_layout = copy.copy(first.pango_layout)  # what the drawing shapes (line_break.Layout.reactivate)
    joined.pango_layout.text = joined.text
    return joined

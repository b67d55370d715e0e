"""Heading levels without gaps: an ``h4`` right under an ``h1`` becomes an ``h2``.

Authors skip levels for the look (the Rust book's ``# Common Programming Concepts`` then
``> #### Keywords`` in a note). A screen reader's outline then has a hole, and Ace reports
"heading-order"; EPUB's accessibility claim is that the outline is whole. The levels are
closed up, as pandoc's ``--shift-heading-level-by`` would be asked to by hand: the look stays
the author's CSS business, the structure becomes sound. Said once per chapter, with the line.
"""

from __future__ import annotations

from lxml import etree

from ..errors import Reporter
from ..xhtml import iter_elements, source_line

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def close_heading_gaps(wrapper: etree._Element, reporter: Reporter | None, file: str) -> None:
    """Each heading at most one level below the heading it follows; siblings stay siblings."""
    stack: list[tuple[int, int]] = []  # (level written, level set) of the open headings
    first: tuple[etree._Element, int, int] | None = None
    for node in iter_elements(wrapper):
        if node.tag not in HEADING_TAGS:
            continue
        level = int(node.tag[1])
        while stack and stack[-1][0] > level:
            stack.pop()
        if stack and stack[-1][0] == level:
            shifted = stack.pop()[1]
        else:
            shifted = stack[-1][1] + 1 if stack else level
        stack.append((level, shifted))
        if shifted != level:
            first = first or (node, level, stack[-2][1] if len(stack) > 1 else shifted)
            node.tag = f"h{shifted}"
    if first is not None and reporter is not None:
        node, level, above = first
        reporter.warn(f"heading level {level} follows a level {above} heading: set one level below it "
                      "(and the levels after it likewise), so that the outline has no gap", file,
                      source_line(node), hint="use the next level down; style headings with CSS")

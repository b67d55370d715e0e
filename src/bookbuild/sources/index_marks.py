"""Index marks in a chapter: the author's ``[term]{index="main!sub"}`` as model attributes.

In Markdown a mark is a bracketed span (or a link) with attributes (mdit-py-plugins' attrs):
``[Mercury]{index="planets!Mercury"}`` marks the text, ``[]{index="Hg" see="mercury"}`` is an
invisible mark (a term not in the text, here a "see" reference), ``see-also`` a related entry,
and ``[]{index-start="orbits"}`` ... ``[]{index-end="orbits"}`` a range. HTML and XHTML
chapters write the model's own attributes: ``data-index``, ``data-index-see``,
``data-index-see-also``, ``data-index-start``, ``data-index-end``.

Each mark also keeps its source line (``data-index-line``: its own line in a Markdown
paragraph of several lines, through inline_lines.py; its block's in an HTML chapter), so that the index
stage (transforms/index.py), which runs after the line numbers are dropped, still warns at
``file:line``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..xhtml import source_line
from .inline_lines import mark_lines as inline_mark_lines

# Markdown attribute -> the model's attribute
MARKDOWN_ATTRS = {
    "index": "data-index",
    "see": "data-index-see",
    "see-also": "data-index-see-also",
    "index-start": "data-index-start",
    "index-end": "data-index-end",
}
MARK_ATTRS = tuple(MARKDOWN_ATTRS.values())
LINE = "data-index-line"
_MARK_KEYS = ("data-index", "data-index-start", "data-index-end")
_XPATH = " or ".join(f"@{name}" for name in ("data-index", "data-index-start", "data-index-end"))


def index_attributes(state: Any) -> None:
    """markdown-it core rule: ``index=`` and its companions on a span or link become the
    model's ``data-index*`` attributes (the cleaner keeps ``data-*`` and drops unknown ones).
    ``see`` and ``see-also`` are renamed only beside an ``index`` key."""
    if "index" not in state.src:  # every key of a mark says "index"; most chapters have none
        return
    for token in state.tokens:
        for child in token.children or ():
            attrs = child.attrs
            if not attrs or not any(name in attrs for name in ("index", "index-start", "index-end")):
                continue
            child.attrs = {MARKDOWN_ATTRS.get(name, name): value for name, value in attrs.items()}
    # Each mark's own line, not its paragraph's (read by mark_lines below as its source line).
    inline_mark_lines(state, lambda child: any(name in (child.attrs or {}) for name in _MARK_KEYS))


def mark_lines(wrapper: etree._Element) -> None:
    """Record on each index mark the source line of the block it stands in."""
    for mark in wrapper.xpath(f".//*[{_XPATH}]"):
        line = source_line(mark)
        if line is not None:
            mark.set(LINE, str(line))

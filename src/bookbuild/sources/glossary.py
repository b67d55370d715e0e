"""The glossary's Markdown syntax: ``[widget]{.gloss}`` and ``[widgets]{gloss="widget"}``.

Both are bracketed spans (mdit-py-plugins' attrs, as pandoc writes them). The ``gloss``
attribute names the term when the text is another form of it; it becomes ``data-gloss``
here, the name HTML chapters use too (``<span data-gloss="widget">widgets</span>``), so the
sanitiser keeps it. transforms/glossary.py turns each span into a link to the term.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .inline_lines import mark_lines


def use_glossary(md: MarkdownIt) -> None:
    """Register the rule that keeps ``{gloss="term"}`` as ``data-gloss``."""
    md.core.ruler.push("bookbuild_glossary", _gloss_attribute)
    md.core.ruler.push("bookbuild_glossary_lines", _reference_lines)


def _reference_lines(state: Any) -> None:
    if "gloss" in state.src:  # a reference says gloss= or .gloss; most chapters have none
        mark_lines(state, is_reference)


def is_reference(token: Token) -> bool:
    """A span that refers to a glossary term (it gets its own line: inline_lines.py)."""
    attrs = token.attrs or {}
    return token.type == "span_open" and ("data-gloss" in attrs or "gloss" in str(attrs.get("class", "")).split())


def _gloss_attribute(state: Any) -> None:
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type == "span_open" and "gloss" in child.attrs:
                child.attrs["data-gloss"] = child.attrs.pop("gloss")

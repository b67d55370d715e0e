"""The source line of an inline mark inside a paragraph of several lines.

markdown-it gives a line range (``map``) to blocks only; a mark in the fourth line of a
paragraph would otherwise report the paragraph's first line. Citations, index marks and
glossary references all ask this module, so that their warnings name the mark's own line
(and, through ``files.with_column``, the column of what they quote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..xhtml import LINE_ATTR

# A child that holds line breaks of the source in its content (a code span's are spaces).
_BREAKS = {"softbreak": 1, "hardbreak": 1}
_WITH_TEXT = ("text", "html_inline", "citation")


def use_mark_offsets(md: MarkdownIt, rules: tuple[str, ...] = ("link", "span")) -> None:
    """Make the inline rules that open a bracketed span or a link (the tokens an index mark
    or a glossary reference sits on) record where they start in the block's content, as the
    citation rules do: ``child_lines`` then places them exactly, whatever comes before them
    (a code span turns its line breaks into spaces, so counting breaks would miss them)."""
    for rule in md.inline.ruler.__rules__:
        if rule.name in rules:
            md.inline.ruler.at(rule.name, _recording(rule.fn))


def _recording(rule: Callable[[Any, bool], bool]) -> Callable[[Any, bool], bool]:
    def recorded(state: Any, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        matched = rule(state, silent)
        if matched and not silent and len(state.tokens) > count:
            state.tokens[count].meta["offset"] = start
        return matched
    return recorded


def child_lines(inline: Token) -> Iterator[tuple[Token, int]]:
    """Each child of an ``inline`` token with the line of the file it starts on.

    A child that knows its offset in the block's content (``meta["offset"]``, as the citation
    rules and ``use_mark_offsets`` record it) is placed exactly; the others by the line
    breaks before them."""
    if not inline.map or not inline.children:
        return
    first = inline.map[0] + 1
    line = first
    for child in inline.children:
        offset = child.meta.get("offset") if isinstance(child.meta, dict) else None
        if isinstance(offset, int):
            line = first + inline.content.count("\n", 0, offset)
        yield child, line
        line += _BREAKS.get(child.type, 0)
        if child.type in _WITH_TEXT:
            line += child.content.count("\n")


def mark_lines(state: Any, is_mark: Callable[[Token], bool]) -> None:
    """markdown-it core rule body: write the line on each child ``is_mark`` accepts as the
    shared ``data-bb-line`` attribute (``xhtml.source_line`` then finds it on the element
    itself before its block; the transforms strip it before output)."""
    for token in state.tokens:
        # most paragraphs hold no mark: looked for first, lines counted only where there is one
        if token.type != "inline" or not token.children or not any(map(is_mark, token.children)):
            continue
        for child, line in child_lines(token):
            if is_mark(child):
                child.attrSet(LINE_ATTR, str(line))

"""Markdown chapters -> XHTML fragments, through markdown-it-py and mdit-py-plugins.

CommonMark plus GFM tables, strikethrough and alerts, footnotes, front matter, attributes,
definition lists, task lists, fenced divs, TeX math and smart typography (curly quotes of
the book's language, dashes, ellipses; never inside code). Every block element carries
its source line in ``data-bb-line`` so later stages can name ``file:line`` in warnings.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import smartquotes
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from ..config.languages import CJK_CHARACTER, language_facts
from ..errors import SourceError
from ..xhtml import LINE_ATTR, line_marker
from .blocks import use_blocks
from .citations import use_citations
from .code import Highlights, render_fence
from .index_marks import index_attributes
from .glossary import use_glossary
from .inline_lines import use_mark_offsets
from .listings import report_dropped
from .math import Warn, convert_math, math_inline, render_block_math, render_inline_math

# `# Heading {#id .class}`: pandoc's and kramdown's heading attributes.
_HEADING_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")
_ATTR_TOKEN = re.compile(r"""#([\w:.\-]+)|\.([\w\-]+)|([\w\-]+)=("[^"]*"|'[^']*'|\S+)""")
# What a CJK character is while the quotes are set: punctuation (category So) to markdown-it.
_STAND_IN = "\u3013"
_LATIN_APOSTROPHE = re.compile(r"(?<=[A-Za-z\u00c0-\u024f])\u2019(?=[A-Za-z\u00c0-\u024f])")


def quotes_for(language: str) -> list[str]:
    """The curly quotes of a BCP 47 language in markdown-it's order (double open/close, single
    open/close): config/languages.py's, so the text gets the marks its fonts are subset for."""
    marks = language_facts(language).quotes
    return [marks.open, marks.close, marks.inner_open, marks.inner_close]


def _smartquotes(state: Any) -> None:
    """markdown-it's smart quotes, with each CJK character counted as punctuation.

    markdown-it opens or closes a quote by its neighbours: a space or punctuation on one side,
    a letter on the other. CJK text has no spaces, so in 他说"你好"。 both quotes sit between
    letters, "inside a word", and stay straight. Taken as punctuation, as its role between
    words is, a CJK character lets the quotes pair as they do in spaced text. The characters
    are swapped for a stand-in for the call and put back in order (quotes change nothing else).
    """
    swapped = []
    for token in state.tokens:
        if token.type != "inline" or not token.children or not CJK_CHARACTER.search(token.content):
            continue
        for child in token.children:
            if child.type == "text" and CJK_CHARACTER.search(child.content):
                originals = [c for c in child.content if c == _STAND_IN or CJK_CHARACTER.match(c)]
                child.content = CJK_CHARACTER.sub(_STAND_IN, child.content)
                swapped.append((child, originals))
    smartquotes(state)
    for child, originals in swapped:
        pieces = child.content.split(_STAND_IN)
        child.content = pieces[0] + "".join(original + piece for original, piece in zip(originals, pieces[1:]))
    if language_facts(state.env.get("language", "en")).is_cjk:
        _latin_apostrophes(state)


def _latin_apostrophes(state: Any) -> None:
    """In CJK text, an apostrophe inside a Latin word (two’s complement) is set in a Latin face.

    The CJK face comes first in a CJK book so that quotes around CJK text are full width; its
    ’ is full width too, which tears a Latin word apart ("two’ s"). The character stays U+2019
    (searched, copied and read as typed); a span lets the stylesheet give it the Latin glyph.
    """
    for token in state.tokens:
        if token.type != "inline" or not token.children or "\u2019" not in token.content and "'" not in token.content:
            continue
        children = []
        for child in token.children:
            pieces = _LATIN_APOSTROPHE.split(child.content) if child.type == "text" else [child.content]
            if len(pieces) == 1:
                children.append(child)
                continue
            for number, piece in enumerate(pieces):
                if number:
                    children.append(_html_inline('<span class="latin-apostrophe">\u2019</span>'))
                if piece:
                    text = Token("text", "", 0)
                    text.content = piece
                    children.append(text)
        token.children = children


def _html_inline(html: str) -> Token:
    token = Token("html_inline", "", 0)
    token.content = html
    return token


@cache
def _parser(language: str = "en", math: bool = True) -> MarkdownIt:
    options = {"html": True, "typographer": True, "alerts": True, "quotes": quotes_for(language)}
    md = (
        MarkdownIt("commonmark", options)
        .enable(["table", "strikethrough", "replacements", "smartquotes"])
        .use(front_matter_plugin)
        .use(footnote_plugin)
        .use(attrs_plugin, spans=True)  # [text]{.class}: bracketed spans (the glossary's [term]{.gloss})
        .use(attrs_block_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin, label=True)  # the box inside a <label> with the item's text: its name
    )
    if math:
        md.use(dollarmath_plugin, double_inline=True)
        md.inline.ruler.at("math_inline", math_inline)  # pandoc's rules, not the plugin's
    use_blocks(md)
    use_citations(md)  # [@key], @key: markers for transforms/citations.py
    use_glossary(md)
    use_mark_offsets(md)  # spans and links know their place in a paragraph: inline_lines.py
    if math:
        md.core.ruler.push("bookbuild_math", convert_math)  # after the captions the blocks make
    md.core.ruler.at("smartquotes", _smartquotes)
    # Before smartquotes, so that {key="value"} still has straight quotes.
    md.core.ruler.before("smartquotes", "bookbuild_heading_attrs", _heading_attrs)
    md.core.ruler.push("bookbuild_source_lines", _source_lines)
    md.core.ruler.push("bookbuild_index_attrs", index_attributes)  # {index="..."}: index_marks.py
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    md.add_render_rule("footnote_block_open", lambda *a: '<div data-bb-footnotes="">')
    md.add_render_rule("footnote_block_close", lambda *a: "</div>")
    md.add_render_rule("footnote_open", _render_footnote_open)
    md.add_render_rule("footnote_close", lambda *a: "</div>")
    md.add_render_rule("footnote_anchor", lambda *a: "")
    md.add_render_rule("fence", render_fence)
    md.add_render_rule("code_block", render_fence)
    md.add_render_rule("math_inline", render_inline_math)
    md.add_render_rule("math_inline_double", render_inline_math)
    md.add_render_rule("math_block", render_block_math)
    md.add_render_rule("math_block_label", render_block_math)
    md.add_render_rule("html_block", _render_html_block)
    return md


def markdown_to_html(text: str, file: str, language: str = "en", highlights: Highlights | None = None,
                     math: bool = True, warn: Warn | None = None) -> tuple[str, dict[str, Any]]:
    """Render one chapter's Markdown to HTML; also return its front matter as a dict.
    ``highlights`` keeps the chapter's highlighted code blocks from one parse to the next;
    ``math`` (``[book] math``) reads ``$...$`` as TeX; ``warn(message, line, hint)`` is told
    what the reader doubts, with the line of ``text``."""
    md = _parser(language, math)
    env: dict[str, Any] = {"file": file, "language": language, "highlights": highlights, "warn": warn}
    tokens = md.parse(text, env)
    if warn is not None:
        for message, line in report_dropped(env):
            warn(message, line, None)
    front_matter: dict[str, Any] = {}
    for token in tokens:
        if token.type == "front_matter":
            front_matter = _front_matter(token, file)
    return md.renderer.render(tokens, md.options, env), front_matter


def _front_matter(token: Token, file: str) -> dict[str, Any]:
    import yaml  # a tenth of the imports of a rebuild, for the chapters that have front matter

    try:
        data = yaml.safe_load(token.content) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise SourceError(f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}", file, line,
                          hint='put quotes around a value holding : [ ] { } or #: title: "[Draft] One"') from None
    if not isinstance(data, dict):
        raise SourceError("front matter must be a mapping of keys to values", file, 2)
    return data


def _heading_attrs(state: Any) -> None:
    tokens = state.tokens
    for index, token in enumerate(tokens[:-1]):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        if not inline.children:
            continue
        last = inline.children[-1]
        if last.type != "text":
            continue
        match = _HEADING_ATTRS.search(last.content)
        if not match or not _ATTR_TOKEN.search(match.group(1)):
            continue
        for ident, cls, key, value in _ATTR_TOKEN.findall(match.group(1)):
            if ident:
                token.attrSet("id", ident)
            elif cls:
                existing = token.attrGet("class")
                token.attrSet("class", f"{existing} {cls}" if existing else cls)
            elif key:
                token.attrSet(key, value.strip("'\""))
        last.content = last.content[: match.start()]
        inline.content = _HEADING_ATTRS.sub("", inline.content)


def _source_lines(state: Any) -> None:
    for token in state.tokens:
        if token.map and token.nesting >= 0 and token.type != "inline":
            token.attrSet(LINE_ATTR, str(token.map[0] + 1))


def _render_html_block(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Raw HTML as written, after a marker with its source line (for the cleaner's warnings)."""
    token = tokens[idx]
    return (line_marker(token.map[0] + 1) if token.map else "") + token.content


def _render_footnote_ref(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    meta = tokens[idx].meta
    number = meta["id"] + 1
    ref_id = f"fnref-{number}" + (f"-{meta['subId'] + 1}" if meta.get("subId") else "")
    return f'<a href="#fn-{number}" id="{ref_id}" role="doc-noteref" class="noteref">{number}</a>'


def _render_footnote_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f'<div data-bb-footnote="{tokens[idx].meta["id"] + 1}">'

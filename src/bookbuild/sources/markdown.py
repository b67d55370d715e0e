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
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from ..errors import SourceError
from ..xhtml import LINE_ATTR, line_marker
from .blocks import use_blocks
from .code import Highlights, render_fence
from .math import convert_math, render_block_math, render_inline_math

# `# Heading {#id .class}`: pandoc's and kramdown's heading attributes.
_HEADING_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")
_ATTR_TOKEN = re.compile(r"""#([\w:.\-]+)|\.([\w\-]+)|([\w\-]+)=("[^"]*"|'[^']*'|\S+)""")


# Quotation marks per language: double open/close, single open/close (markdown-it's order).
QUOTES = {
    "en": "“”‘’",
    "fr": ["«\u00a0", "\u00a0»", "‹\u00a0", "\u00a0›"],
    "de": "„“‚‘",
    "es": "«»“”",
    "it": "«»“”",
    "pt": "«»“”",
    "ru": "«»„“",
    "pl": "„”‚’",
    "nl": "“”‘’",
    "ja": "「」『』",
    "zh": "「」『』",
}


def quotes_for(language: str) -> str | list[str]:
    """The curly quotes of a BCP 47 language (``en-GB`` -> en); English ones by default.

    Chinese: corner brackets in Traditional script (zh, zh-Hant, zh-TW, zh-HK), the
    English-shaped marks Simplified Chinese uses (zh-Hans, zh-CN, zh-SG).
    """
    subtags = language.lower().split("-")
    if subtags[0] == "zh" and ({"hans", "cn", "sg"} & set(subtags[1:])):
        return QUOTES["en"]
    return QUOTES.get(subtags[0], QUOTES["en"])


@cache
def _parser(language: str = "en") -> MarkdownIt:
    options = {"html": True, "typographer": True, "alerts": True, "quotes": quotes_for(language)}
    md = (
        MarkdownIt("commonmark", options)
        .enable(["table", "strikethrough", "replacements", "smartquotes"])
        .use(front_matter_plugin)
        .use(footnote_plugin)
        .use(attrs_plugin)
        .use(attrs_block_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin)
        .use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    )
    use_blocks(md)
    md.core.ruler.push("bookbuild_math", convert_math)
    # Before smartquotes, so that {key="value"} still has straight quotes.
    md.core.ruler.before("smartquotes", "bookbuild_heading_attrs", _heading_attrs)
    md.core.ruler.push("bookbuild_source_lines", _source_lines)
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


def markdown_to_html(text: str, file: str, language: str = "en",
                     highlights: Highlights | None = None) -> tuple[str, dict[str, Any]]:
    """Render one chapter's Markdown to HTML; also return its front matter as a dict.
    ``highlights`` keeps the chapter's highlighted code blocks from one parse to the next."""
    md = _parser(language)
    env: dict[str, Any] = {"file": file, "language": language, "highlights": highlights}
    tokens = md.parse(text, env)
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

"""pandoc's citation syntax in Markdown, as neutral markers for the citation stage.

``[@key]``, ``[@key, p. 12]``, ``[see @a; @b]``, ``[-@key]`` (the author left out) and the
narrative ``@key`` (also ``@key [p. 12]``) become
``<span data-bb-cite='[{"key": ..., "prefix": ..., "suffix": ..., "suppress": ...}]'>`` with
the text as written inside it and the source line on it. Reading a chapter stays a function
of the chapter alone (house rule 8): the bibliography, the style and the numbers come in
transforms/citations.py, which replaces each marker by its formatted, linked citation, or by
the text as written when the book has no ``[citations]`` (so "@jack" stays "@jack").

Not citations: an e-mail address (a word character before the ``@``), ``@`` in code (the code
span is read first), a bracket followed by ``(``, ``[`` or ``{`` (a link, a reference or an
attribute span), and ``@`` inside the text of a link.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from ..xhtml import LINE_ATTR
from .inline_lines import child_lines

CITE_ATTR = "data-bb-cite"
NARRATIVE_ATTR = "data-bb-cite-narrative"
# pandoc's keys: a word character, then word characters and single inner punctuation; or {any}.
KEY = r"(?:\w(?:\w|[:.#$%&\-+?<>~/](?=\w))*|\{[^{}\s]+\})"
_ITEM = re.compile(rf"^(?P<prefix>(?:.*?\s)?)(?P<minus>-)?@(?P<key>{KEY})(?P<suffix>.*)$", re.DOTALL)
_NARRATIVE = re.compile(rf"@(?P<key>{KEY})(?:\s\[(?P<suffix>[^\[\]@`]*)\](?![(\[{{]))?")
_NOT_BEFORE_KEY = re.compile(r"[\w.\-+@/:]")  # me@example.com, a.b@c: not a citation


def use_citations(md: MarkdownIt) -> None:
    """Add the two inline rules, their renderer and the rule that gives each its line."""
    md.inline.ruler.before("link", "bookbuild_citation", _bracketed)
    md.inline.ruler.before("link", "bookbuild_narrative_citation", _narrative)
    md.core.ruler.after("inline", "bookbuild_citation_lines", _citation_lines)
    md.add_render_rule("citation", _render_citation)


def _bracketed(state: Any, silent: bool) -> bool:
    start = state.pos
    if state.src[start] != "[" or state.linkLevel > 0:
        return False
    end = state.src.find("]", start + 1)
    if end < 0 or end + 1 < state.posMax and state.src[end + 1] in "([{":
        return False
    inner = state.src[start + 1:end]
    if "@" not in inner or "[" in inner or "`" in inner:
        return False
    items = []
    for part in inner.split(";"):
        match = _ITEM.match(part.strip())
        if match is None:
            return False
        items.append(_item(match.group("key"), match.group("prefix"), match.group("suffix"),
                           bool(match.group("minus"))))
    if not silent:
        _push(state, items, state.src[start:end + 1], narrative=False)
    state.pos = end + 1
    return True


def _narrative(state: Any, silent: bool) -> bool:
    start = state.pos
    if state.src[start] != "@" or state.linkLevel > 0:
        return False
    if start > 0 and _NOT_BEFORE_KEY.match(state.src[start - 1]):
        return False
    match = _NARRATIVE.match(state.src, start)
    if match is None:
        return False
    if not silent:
        item = _item(match.group("key"), "", match.group("suffix") or "", False)
        _push(state, [item], match.group(0), narrative=True)
    state.pos = match.end()
    return True


def _item(key: str, prefix: str, suffix: str, suppress: bool) -> dict[str, Any]:
    key = key[1:-1] if key.startswith("{") else key
    return {"key": key, "prefix": " ".join(prefix.split()), "suffix": " ".join(suffix.split()),
            "suppress": suppress}


def _push(state: Any, items: list[dict[str, Any]], written: str, narrative: bool) -> None:
    token = state.push("citation", "span", 0)
    token.content = written
    token.meta = {"items": items, "narrative": narrative, "offset": state.pos}


def _citation_lines(state: Any) -> None:
    """Each citation's line in the file: its block's first line and the line breaks before it
    (inline_lines.py, shared with the index marks and the glossary's references)."""
    if "@" not in state.src:  # every citation has an @key
        return
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child, line in child_lines(token):
            if child.type == "citation":
                child.meta["line"] = line


def _render_citation(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    attrs = f' {CITE_ATTR}="{escapeHtml(json.dumps(token.meta["items"], ensure_ascii=False))}"'
    if token.meta["narrative"]:
        attrs += f' {NARRATIVE_ATTR}="true"'
    if token.meta.get("line"):
        attrs += f' {LINE_ATTR}="{token.meta["line"]}"'
    return f"<span{attrs}>{escapeHtml(token.content)}</span>"

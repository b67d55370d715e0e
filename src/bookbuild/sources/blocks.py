"""Block constructs of the Markdown reader: figures, table captions, call-outs, fenced divs.

Each becomes neutral XHTML that both formats show as it is: ``<figure>`` with
``<figcaption>``, ``<table>`` with ``<caption>``, ``<aside role="note">`` for call-outs,
``<div class="...">`` for any other fenced div (``only-epub``/``only-pdf`` are dropped per
format later, in transforms/formats.py). These are markdown-it core rules (token rewrites)
and render rules; they know nothing about output formats.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from .listings import listings, render_listing_open

# Call-out kinds (GitHub alerts, plus the usual admonition names of MyST and Sphinx) and
# their visible, accessible titles per language; other languages fall back to English.
CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution", "danger", "hint", "info", "attention")
CALLOUT_TITLES = {
    "en": {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning",
           "caution": "Caution", "danger": "Danger", "hint": "Hint", "info": "Info", "attention": "Attention"},
    "fr": {"note": "Remarque", "tip": "Astuce", "important": "Important", "warning": "Avertissement",
           "caution": "Attention", "danger": "Danger", "hint": "Conseil", "info": "Info", "attention": "Attention"},
    "de": {"note": "Hinweis", "tip": "Tipp", "important": "Wichtig", "warning": "Warnung",
           "caution": "Vorsicht", "danger": "Gefahr", "hint": "Hinweis", "info": "Info", "attention": "Achtung"},
}
# The DPUB-ARIA role that fits best; `note` is the generic one allowed on <aside>.
_CALLOUT_ROLES = {"tip": "doc-tip", "hint": "doc-tip"}
_TABLE_CAPTION = re.compile(r"^(?::|Table:)\s+(.*?)\s*$", re.DOTALL)
_TRAILING_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")
_ATTR_TOKEN = re.compile(r"""#([\w:.\-]+)|\.([\w\-]+)|([\w\-]+)=("[^"]*"|'[^']*'|\S+)""")


def use_blocks(md: MarkdownIt) -> None:
    """Install the block rules on a parser (alerts need ``options["alerts"] = True``)."""
    container_plugin(md, "div", validate=lambda params, *args: bool(params.strip()), render=_render_div)
    # Before "inline": the captions it makes are parsed, typeset and quoted as any text is.
    md.core.ruler.after("block", "bookbuild_listings", listings)
    md.add_render_rule("listing_open", render_listing_open)
    md.core.ruler.push("bookbuild_figures", _figures)
    md.core.ruler.push("bookbuild_table_captions", _table_captions)
    md.core.ruler.push("bookbuild_alert_titles", _alert_titles)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("alert_open", _render_alert_open)
    md.add_render_rule("alert_close", lambda *a: "</aside>\n")
    md.add_render_rule("alert_title_open", lambda *a: "")
    md.add_render_rule("alert_title_close", lambda *a: "")


def parse_attrs(text: str) -> tuple[str | None, list[str], dict[str, str]]:
    """``#id .class key=value`` (pandoc/kramdown attributes) -> id, classes, other attributes."""
    ident, classes, others = None, [], {}
    for found_id, found_class, key, value in _ATTR_TOKEN.findall(text):
        if found_id:
            ident = found_id
        elif found_class:
            classes.append(found_class)
        elif key:
            others[key] = value.strip("'\"")
    return ident, classes, others


def callout_title(kind: str, language: str) -> str:
    """The visible label of a call-out in the book's language."""
    titles = CALLOUT_TITLES.get(language.split("-")[0].lower(), CALLOUT_TITLES["en"])
    return titles.get(kind, CALLOUT_TITLES["en"].get(kind, kind.capitalize()))


def _callout_open(kind: str, title: str, attrs: str = "") -> str:
    role = _CALLOUT_ROLES.get(kind, "note")
    label = escape(title, quote=True)
    return (f'<aside class="callout callout-{kind}" role="{role}" aria-label="{label}"{attrs}>\n'
            f'<p class="callout-title">{escape(title, quote=False)}</p>\n')


def _line_attr(token: Token) -> str:
    line = token.attrGet("data-bb-line")
    return f' data-bb-line="{line}"' if line else ""


def _render_alert_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    kind = tokens[idx].info.lower()
    return _callout_open(kind, callout_title(kind, env.get("language", "en")), _line_attr(tokens[idx]))


def _alert_titles(state: Any) -> None:
    """markdown-it writes an English title; ours comes from the render rule, in the book's language."""
    for index, token in enumerate(state.tokens[:-2]):
        if token.type == "alert_open" and state.tokens[index + 2].type == "inline":
            state.tokens[index + 2].children = []
            state.tokens[index + 2].content = ""


def _render_div(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """``::: warning`` / ``::: {.sidebar #id}`` / ``::: note Custom title``."""
    token = tokens[idx]
    if token.nesting != 1:
        return "</aside>\n" if token.meta.get("callout") else "</div>\n"
    info = token.info.strip()
    if info.startswith("{"):
        ident, classes, others = parse_attrs(info.strip("{}"))
        title = others.pop("title", None)
    else:
        name, _, rest = info.partition(" ")
        ident, classes, others, title = None, [name.lstrip(".")], {}, rest.strip() or None
    extra = _line_attr(token) + (f' id="{escape(ident, quote=True)}"' if ident else "")
    extra += "".join(f' {key}="{escape(value, quote=True)}"' for key, value in others.items())
    kind = classes[0].lower() if classes else ""
    if kind in CALLOUT_KINDS:
        # The matching close token is found by nesting level; remember the element used.
        _closing(tokens, idx).meta["callout"] = True
        return _callout_open(kind, title or callout_title(kind, env.get("language", "en")), extra)
    css = escape(" ".join(classes), quote=True)
    return f'<div class="{css}"{extra}>\n' if css else f"<div{extra}>\n"


def _closing(tokens: list[Token], idx: int) -> Token:
    depth = 0
    for token in tokens[idx:]:
        depth += token.nesting if token.type.startswith("container_div") else 0
        if depth == 0:
            return token
    return tokens[idx]


def _figures(state: Any) -> None:
    """A paragraph holding one image and nothing else becomes a figure; its text the caption."""
    tokens = state.tokens
    for index in range(len(tokens) - 2):
        opening, inline, closing = tokens[index:index + 3]
        if opening.type != "paragraph_open" or inline.type != "inline" or closing.type != "paragraph_close":
            continue
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        if len(children) != 1 or children[0].type != "image" or not children[0].children:
            continue
        image = children[0]
        image.meta["figure"] = True
        opening.tag = closing.tag = "figure"
        for name in ("id", "class"):
            value = image.attrGet(name)
            if value is not None:
                opening.attrSet(name, str(value))
                del image.attrs[name]


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """An image; in a figure, followed by its caption (the alt text unless ``{alt="..."}``).

    ``![](x.png)`` has no alternative text (warned later); ``{.decorative}`` says none is needed.
    """
    token = tokens[idx]
    caption_text = self.renderInlineAsText(token.children or [], options, env)
    alt = token.attrGet("alt")
    attrs = dict(token.attrs)
    decorative = "decorative" in str(attrs.get("class") or "").split()
    # markdown-it always sets alt=""; a non-empty one came from ``{alt="..."}``.
    if alt or caption_text or decorative:
        attrs["alt"] = str(alt) if alt else ("" if decorative else caption_text)
    else:
        # ``![](x.png)``: no alternative text; the image resolver warns with file:line.
        attrs.pop("alt", None)
    html = "<img" + "".join(f' {k}="{escape(str(v), quote=True)}"' for k, v in attrs.items()) + " />"
    if token.meta.get("figure"):
        html += f"<figcaption>{self.renderInline(token.children or [], options, env)}</figcaption>"
    return html


def _table_captions(state: Any) -> None:
    """``: Caption {#tbl-id}`` (or ``Table: ...``) right after a table, or a caption attribute."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "table_open":
            caption = token.attrGet("caption")
            if caption is not None:
                del token.attrs["caption"]
                _insert_caption(state, index, _text_inline(state, str(caption)))
        if token.type == "table_close":
            _caption_after(state, index)
        index += 1


def _caption_after(state: Any, close_index: int) -> None:
    tokens = state.tokens
    following = tokens[close_index + 1:close_index + 4]
    if len(following) < 3 or following[0].type != "paragraph_open" or following[1].type != "inline":
        return
    inline = following[1]
    match = _TABLE_CAPTION.match(inline.content)
    if not match or not inline.children or inline.children[0].type != "text":
        return
    opening = _table_open_of(tokens, close_index)
    if tokens[tokens.index(opening) + 1].type == "caption_open":
        return
    first = inline.children[0]
    first.content = re.sub(r"^(?::|Table:)\s+", "", first.content)
    last = inline.children[-1]
    if last.type == "text":
        attrs = _TRAILING_ATTRS.search(last.content)
        if attrs:
            ident, classes, _others = parse_attrs(attrs.group(1))
            if ident:
                opening.attrSet("id", ident)
            if classes:
                opening.attrJoin("class", " ".join(classes))
            last.content = last.content[:attrs.start()]
    del tokens[close_index + 1:close_index + 4]
    _insert_caption(state, tokens.index(opening), inline)


def _table_open_of(tokens: list[Token], close_index: int) -> Token:
    depth = 0
    for index in range(close_index, -1, -1):
        if tokens[index].type == "table_close":
            depth += 1
        elif tokens[index].type == "table_open":
            depth -= 1
            if depth == 0:
                return tokens[index]
    raise AssertionError("table_close without table_open")


def _text_inline(state: Any, text: str) -> Token:
    inline = Token("inline", "", 0)
    inline.content = text
    inline.children = []
    state.md.inline.parse(text, state.md, state.env, inline.children)
    return inline


def _insert_caption(state: Any, open_index: int, inline: Token) -> None:
    opening = Token("caption_open", "caption", 1)
    closing = Token("caption_close", "caption", -1)
    opening.block = closing.block = True
    state.tokens[open_index + 1:open_index + 1] = [opening, inline, closing]

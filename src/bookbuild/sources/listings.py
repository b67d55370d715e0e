"""Numbered code listings and captions written as raw HTML in Markdown (mdBook books).

The Rust book writes ``<Listing number="1-1" file-name="src/main.rs" caption="...">`` around
a code block (its preprocessor turns it into a figure); its translations keep the figure the
preprocessor made (``<figure class="listing">`` ... ``<figcaption>示例 1-1：...</figcaption>``),
and chapters name the file above a block with ``<span class="filename">Filename: ...</span>``.
Each becomes the one neutral construct both formats show:

    <figure class="listing" data-bb-number="1-1" data-bb-label="Listing">
      <p class="code-filename">Filename: <span class="file-name">src/main.rs</span></p>
      <pre>...</pre>
      <figcaption>A program that prints <code>Hello, world!</code></figcaption>
    </figure>

transforms/numbering.py writes the label ("Listing 1-1:") into the caption. Any element of
a name HTML does not have, with a ``caption``, ``number`` or ``file-name``, is read the same
way (its name is its label), so other books' caption elements work too. A caption, written
in an attribute or in a one-line ``<figcaption>``, is Markdown, as the preprocessors read it.
"""

from __future__ import annotations

import re
from html import escape, unescape
from typing import Any

from markdown_it.token import Token

_OPEN_TAG = re.compile(r"""^\s*<([A-Za-z][\w-]*)((?:\s+[\w:-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*>\s*$""")
_CLOSE_TAG = re.compile(r"^\s*</([A-Za-z][\w-]*)\s*>\s*$")
_ATTRIBUTE = re.compile(r"""([\w:-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_FIGCAPTION = re.compile(r"^\s*<figcaption>(.*)</figcaption>\s*$", re.DOTALL)
_FILENAME = re.compile(r"""^\s*<span\s+class=["'](?:filename|file-name)["']\s*>.*</span>\s*$""", re.DOTALL)
# What a caption element may say; anything else is dropped, with one warning per kind.
_UNDERSTOOD = frozenset({"number", "caption", "file-name", "filename", "id"})
_CAPTION_KEYS = frozenset({"number", "caption", "file-name", "filename"})
# The words a listing's file name is introduced with (the Rust book's and its translation's).
FILE_NAME_WORDS = {"en": "Filename: ", "zh": "文件名：", "ja": "ファイル名：", "fr": "Fichier : ",
                   "de": "Dateiname: "}


def _html_names() -> frozenset[str]:
    from .sanitise import HTML_ELEMENTS  # sanitise imports nothing of the Markdown reader

    return HTML_ELEMENTS


def listings(state: Any) -> None:
    """Caption elements become listing figures; one-line figcaptions and file-name lines are
    marked, so that their Markdown is read and print keeps them with their code."""
    tokens, result, stack = state.tokens, [], []
    for token in tokens:
        if token.type == "html_block":
            opened = _caption_element(token, state.env)
            if opened is not None:
                stack.append(opened)
                result.append(opened)
                continue
            closing = _CLOSE_TAG.match(token.content)
            if closing and stack and closing.group(1).lower() == stack[-1].meta["name"].lower():
                result += _close(stack.pop())
                continue
            caption = _FIGCAPTION.match(token.content)
            if caption and "<figcaption" not in caption.group(1):
                result += _caption_tokens(caption.group(1).strip(), token.map)
                continue
        elif token.type == "inline" and result and result[-1].type == "paragraph_open" \
                and _FILENAME.match(token.content):
            result[-1].attrJoin("class", "code-filename")
        result.append(token)
    state.tokens = result + [tok for opened in reversed(stack) for tok in _close(opened)]


def _caption_element(token: Token, env: dict) -> Token | None:
    """The figure an opening tag such as ``<Listing number="1-1" caption="...">`` stands for."""
    match = _OPEN_TAG.match(token.content)
    if match is None or match.group(1).lower() in _html_names():
        return None
    attributes = {name.lower(): unescape((value or "").strip("\"'"))
                  for name, value in _ATTRIBUTE.findall(match.group(2))}
    if not _CAPTION_KEYS & attributes.keys():
        return None
    name = match.group(1)
    opened = Token("listing_open", "figure", 1)
    opened.block, opened.map = True, token.map
    opened.meta = {"name": name, "attributes": attributes}
    kind = name.lower()
    opened.attrSet("class", "listing" if kind == "listing" else f"listing {kind}")
    if attributes.get("id"):
        opened.attrSet("id", attributes["id"])
    if attributes.get("number"):
        opened.attrSet("data-bb-number", attributes["number"])
    if kind != "listing":  # its own name labels it; a listing's label is the language's word
        opened.attrSet("data-bb-label", name)
    for dropped in sorted(attributes.keys() - _UNDERSTOOD):
        _note_dropped(env, f"attribute '{dropped}' of <{name}> dropped (bookbuild reads number, caption "
                           f"and file-name)", token.map[0] + 1 if token.map else None)
    return opened


def _close(opened: Token) -> list[Token]:
    attributes = opened.meta["attributes"]
    caption = attributes.get("caption", "")
    tokens = _caption_tokens(caption, opened.map) if caption or attributes.get("number") else []
    closing = Token("listing_close", "figure", -1)
    closing.block = True
    return tokens + [closing]


def _caption_tokens(text: str, line_map: list[int] | None) -> list[Token]:
    """``<figcaption>`` with ``text`` as Markdown: parsed by the "inline" rule that follows."""
    opening = Token("figcaption_open", "figcaption", 1)
    inline = Token("inline", "", 0)
    closing = Token("figcaption_close", "figcaption", -1)
    opening.block = closing.block = True
    inline.content, inline.children, inline.map = text, [], line_map
    return [opening, inline, closing]


def render_listing_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """The figure, and the file name above the code (in the book's language)."""
    token = tokens[idx]
    attrs = "".join(f' {name}="{escape(str(value), quote=True)}"' for name, value in token.attrs.items())
    html = f"<figure{attrs}>\n"
    attributes = token.meta["attributes"]
    file_name = attributes.get("file-name") or attributes.get("filename")
    if file_name:
        language = str(env.get("language", "en")).split("-")[0].lower()
        word = FILE_NAME_WORDS.get(language, FILE_NAME_WORDS["en"])
        html += (f'<p class="code-filename">{escape(word, quote=False)}'
                 f'<span class="file-name">{escape(file_name, quote=False)}</span></p>\n')
    return html


def _note_dropped(env: dict, message: str, line: int | None) -> None:
    """Counted, and said once per chapter with the count (markdown.py reports them)."""
    dropped = env.setdefault("dropped", {})
    count, first = dropped.get(message, (0, line))
    dropped[message] = (count + 1, first)


def report_dropped(env: dict) -> list[tuple[str, int | None]]:
    """Each thing dropped while reading, once: its message with a count, and its first line."""
    return [(message + (f" ({count} times)" if count > 1 else ""), first)
            for message, (count, first) in sorted(env.get("dropped", {}).items())]

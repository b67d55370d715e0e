"""Fenced code -> ``<pre class="highlight"><code>`` with Pygments' CSS classes (no inline styles).

The classes are styled once, in base.css, so both formats show the same colours. The
language is the first word of the info string (``rust,ignore`` -> rust, as mdBook writes
it) or the first class of an attribute block (``{.python linenos}``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from typing import Any

import pygments  # only the package (its version); its lexers are imported when a block is highlighted
from markdown_it.token import Token

from ..cache import keyed_hash
from ..cache.packs import EntryPack
from .blocks import parse_attrs

PYGMENTS_STYLE = "xcode"  # every token colour >= 4.5:1 on the code background (WCAG AA)
_FIRST_WORD = re.compile(r"[^\s,{}]+")
_INFO_WORD = re.compile(r"[^\s,{}]+")
_KEY_VALUE = re.compile(r"""[\w-]+=("[^"]*"|'[^']*'|[^\s,}]*)""")
# rustdoc's rule, which mdBook follows: in Rust code a line whose text starts with "# " (or is
# "#") is compiled but not shown; "##" at that place stands for a shown "#".
_HIDDEN_RUST_LINE = re.compile(r"^\s*#(?: |$)")
_ESCAPED_HASH = re.compile(r"^(\s*)##")
# What a marker in the info string tells a reader (rustdoc's and the Rust book's words): the
# strongest first; "ignore" is shown only when no other marker says more.
MARKERS = ("does_not_compile", "compile_fail", "panics", "should_panic", "not_desired_behavior", "ignore")
MARKER_TEXTS = {
    "en": {"does_not_compile": "This code does not compile!", "compile_fail": "This code does not compile!",
           "panics": "This code panics!", "should_panic": "This code panics!",
           "not_desired_behavior": "This code does not produce the desired behavior.",
           "ignore": "This example is not tested"},
    "zh": {"does_not_compile": "这些代码不能编译！", "compile_fail": "这些代码不能编译！",
           "panics": "这些代码会 panic！", "should_panic": "这些代码会 panic！",
           "not_desired_behavior": "这些代码不会产生期望的行为。", "ignore": "此示例未经测试"},
}


def fence_options(info: str) -> tuple[str, bool]:
    """The language and whether line numbers were asked for, from a fence's info string."""
    info = info.strip()
    if info.startswith("{"):
        _ident, classes, others = parse_attrs(info.strip("{}"))
        words = info.strip("{}").split()
        return (classes[0] if classes else ""), "linenos" in words or "linenos" in others
    match = _FIRST_WORD.match(info)
    return (match.group(0) if match else ""), bool(re.search(r"\blinenos\b", info))


def fence_title(info: str) -> str | None:
    """``title="example.py"`` after the language (MkDocs Material's, Docusaurus' and
    Hugo's spelling), or inside an attribute block: the file name shown above the code."""
    _ident, _classes, others = parse_attrs(info.strip().strip("{}"))
    title = others.get("title", "").strip()
    return title or None


def fence_markers(info: str) -> list[str]:
    """The markers a reader is told about (``rust,ignore,does_not_compile``), strongest first.

    rustdoc and the Rust book say them with a badge or an image; a book must say them in words,
    or the reader types in code that was never meant to compile. ``ignore`` alone says the
    example is not tested; beside a stronger marker it adds nothing and is left out.
    """
    bare = _KEY_VALUE.sub(" ", info.strip().strip("{}"))  # title="ignore" is a title
    words = {word.lstrip(".") for word in _INFO_WORD.findall(bare)}
    found = [marker for marker in MARKERS if marker in words]
    return [marker for marker in found if marker != "ignore"] or found


def marker_text(marker: str, language: str) -> str:
    """The words of a marker in the book's language (English when it has none)."""
    primary = language.split("-")[0].lower()
    return MARKER_TEXTS.get(primary, MARKER_TEXTS["en"])[marker]


def hide_rust_lines(code: str) -> str:
    """The lines of Rust code a reader sees: rustdoc's hidden lines removed, ``##`` made ``#``.

    Removed from the text, not hidden by CSS: a hidden line is neither read aloud nor copied,
    in any reading system, and the PDF has no hidden text.
    """
    lines = code.split("\n")
    shown = [_ESCAPED_HASH.sub(r"\1#", line) for line in lines if not _HIDDEN_RUST_LINE.match(line)]
    return "\n".join(shown)


@cache
def _lexer(language: str) -> Any:
    # Pygments is imported when a block is highlighted: a rebuild finds most blocks kept.
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def warm_lexer(language: str) -> None:
    """Compile the lexer of ``language`` (lower case) now: sources/pool.py does, before it
    forks the workers that would each compile it again."""
    _lexer(language)
    _formatter()


@cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE)


def highlight(code: str, language: str, linenos: bool = False) -> str:
    """The code as escaped HTML lines, tokens wrapped in Pygments' ``<span class>``."""
    from pygments import highlight as pygmentize

    lexer = _lexer(language.lower()) if language else None
    html = pygmentize(code, lexer, _formatter()) if lexer is not None else escape(code, quote=False)
    if linenos:
        lines = html.rstrip("\n").split("\n")
        width = len(str(len(lines)))
        html = "".join(
            f'<span class="linenos" aria-hidden="true">{n:>{width}}</span>{line}\n'
            for n, line in enumerate(lines, start=1)
        )
    return html


class Highlights:
    """The highlighted blocks of one chapter, kept from its last parse (``.bookbuild-cache/code.pack``).

    Highlighting is a pure function of the code, the language and Pygments; but the first
    block of a language in a process compiles the lexer's rules, which cost a rebuild after
    one chapter edit more than parsing the whole chapter. So the blocks are kept per chapter
    file (``name``: cache.code_name), under keyed hashes (HMAC with the cache secret) of their
    inputs and of bookbuild's code; each parse replaces the entry with the blocks the chapter
    has now.
    """

    def __init__(self, pack: EntryPack | None, name: str = "") -> None:
        self.pack = pack if pack is not None and pack.path is not None else None
        self.name = name
        self.known: dict[str, str] = {}
        self.used: dict[str, str] = {}
        try:
            data = json.loads((self.pack.get(name) if self.pack is not None else None) or b"{}")
            self.known = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        except (ValueError, AttributeError):
            pass

    def highlight(self, code: str, language: str, linenos: bool) -> str:
        if self.pack is None:
            return highlight(code, language, linenos)
        key = keyed_hash("code", pygments.__version__, PYGMENTS_STYLE, language, str(linenos), code)
        html = self.known.get(key)
        if html is None:
            html = highlight(code, language, linenos)
        self.used[key] = html
        return html

    def save(self) -> None:
        """Keep the blocks this parse used (only those: the entry never grows past its chapter)."""
        if self.pack is not None and self.used != self.known:
            self.pack.put(self.name, json.dumps(self.used, ensure_ascii=False).encode("utf-8"))


def render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """markdown-it render rule for ``fence`` and ``code_block``."""
    token = tokens[idx]
    language, linenos = fence_options(token.info) if token.type == "fence" else ("", False)
    highlights = env.get("highlights")
    classes = ["highlight"] + (["linenos"] if linenos else [])
    line = token.attrGet("data-bb-line")
    attrs = f' data-bb-line="{line}"' if line else ""
    code_class = f' class="language-{escape(language, quote=True)}"' if language else ""
    title = fence_title(token.info) if token.type == "fence" else None
    markers = fence_markers(token.info) if token.type == "fence" else []
    code = hide_rust_lines(token.content) if language.lower() == "rust" else token.content
    wrapped = title is not None or bool(markers)
    pre = (f'<pre class="{" ".join(classes)}"{"" if wrapped else attrs}><code{code_class}>'
           f"{(highlights.highlight if highlights else highlight)(code, language, linenos)}</code></pre>")
    if not wrapped:
        return pre + "\n"
    # The title is a caption above the block, the markers a note above the code, in both
    # formats: one element holds them all, so the print style can keep them together.
    head = f'<p class="code-title">{escape(title, quote=False)}</p>\n' if title else ""
    head += "".join(f'<p class="code-marker code-marker-{marker.replace("_", "-")}">'
                    f'{escape(marker_text(marker, env.get("language", "en")), quote=False)}</p>\n'
                    for marker in markers)
    kinds = "".join(f" code-{marker.replace('_', '-')}" for marker in markers)
    return f'<div class="code-block{kinds}"{attrs}>\n{head}{pre}\n</div>\n'


def pygments_css() -> str:
    """The rules for Pygments' token classes, scoped to ``pre.highlight``.

    base.css holds their output between the PYGMENTS markers (regenerate it with
    ``python -m bookbuild.sources.code``); Pygments' unscoped rules are left out.
    """
    rules = _formatter().get_style_defs("pre.highlight").splitlines()
    return "\n".join(rule for rule in rules if rule.startswith("pre.highlight .")) + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    print(pygments_css(), end="")

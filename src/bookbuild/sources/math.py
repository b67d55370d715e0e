"""TeX math (``$...$``, ``$$...$$``) -> MathML, the neutral form both formats start from.

The EPUB shows the MathML as it is; the PDF renderer turns it into SVG (WeasyPrint has no
MathML). The TeX source is shown to no reader: it stays as the formula's ``alttext``, what
assistive technology reads when it cannot read MathML (and the PDF's alternative text). A
formula that does not convert is an error naming ``file:line``.

Dollars are read by pandoc's rules, so prose with prices and shell variables stays prose:
the opening ``$`` is not followed by a space, the closing one is not preceded by a space nor
followed by a digit, and (as CommonMark gives code spans precedence) a ``$`` inside a code
span never closes a formula. A formula that still reads like prose is warned about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import Any

from markdown_it.token import Token

from ..config.languages import CJK_CHARACTER
from ..errors import SourceError
from ..xhtml import MATHML_NS

# warn(message, line, hint): how the reader reports a doubt about the chapter's text.
Warn = Callable[[str, int | None, str | None], None]
_WORD = re.compile(r"[^\W\d_]{2,}")


def tex_to_mathml(tex: str, display: bool) -> str:
    """One formula as a ``<math>`` element (MathML namespace declared on it).

    latex2mathml is lenient: it closes unbalanced braces and passes unknown commands
    through as text. Both would put TeX in front of the reader, so both are refused here.
    """
    from latex2mathml.converter import convert

    _check_braces(tex)
    mathml = convert(tex.strip(), display="block" if display else "inline")
    leaked = _LEAKED_COMMAND.search(mathml)
    if leaked:
        raise ValueError(f"unknown command {leaked.group(0)}")
    return mathml


_LEAKED_COMMAND = re.compile(r"\\[A-Za-z]+")


def _check_braces(tex: str) -> None:
    depth = 0
    for char in re.sub(r"\\[{}\\]", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            raise ValueError("a '}' closes nothing")
    if depth:
        raise ValueError("a '{' is never closed")


def math_inline(state: Any, silent: bool) -> bool:
    """Inline rule for ``$...$`` and ``$$...$$`` inside a paragraph, by pandoc's rules (above)."""
    src, start = state.src, state.pos
    if src[start] != "$" or _escaped(src, start):
        return False
    marker = "$$" if src.startswith("$$", start) else "$"
    single = marker == "$"  # $$...$$ may have spaces inside its delimiters
    opening = start + len(marker)
    if opening >= len(src) or (single and src[opening].isspace()):
        return False
    closing = src.find(marker, opening)
    while closing != -1 and _escaped(src, closing):
        closing = src.find(marker, closing + 1)
    if closing == -1:
        return False
    tex, after = src[opening:closing], closing + len(marker)
    if not tex.strip() or "`" in tex or (single and (tex[-1].isspace() or src[after:after + 1].isdigit())):
        return False
    if not silent:
        token = state.push("math_inline_double" if marker == "$$" else "math_inline", "math", 0)
        token.content, token.markup = tex, marker
    state.pos = after
    return True


def _escaped(src: str, index: int) -> bool:
    """An odd number of backslashes before ``index``."""
    back = index
    while back > 0 and src[back - 1] == "\\":
        back -= 1
    return (index - back) % 2 == 1


def looks_like_prose(tex: str) -> bool:
    """No TeX command, and CJK characters or several words with spaces: text a pair of dollars
    took for a formula (``$HOME ... your$PATH``), not mathematics."""
    if "\\" in tex:
        return False
    return bool(CJK_CHARACTER.search(tex)) or (len(_WORD.findall(tex)) >= 3 and len(tex.split()) >= 3)


def convert_math(state: Any) -> None:
    """Core rule: convert every formula once, so errors can name the block's line."""
    file, warn = state.env.get("file"), state.env.get("warn")
    for token in state.tokens:
        if token.type in ("math_block", "math_block_label"):
            token.meta["mathml"] = _convert(token.content, True, file, _line(token.map))
        elif token.type == "inline":
            for child in token.children or []:
                if child.type in ("math_inline", "math_inline_double"):
                    line = _line(token.map, token.content, child.markup + child.content)
                    if warn is not None and looks_like_prose(child.content):
                        warn(f"formula '{' '.join(child.content.split())[:60]}' looks like text, not math",
                             line, "write \\$ for a dollar sign; if the book has no math, set [book] math = false")
                    child.meta["mathml"] = _convert(child.content, child.type == "math_inline_double", file, line)


def _line(where: list[int] | None, paragraph: str = "", written: str = "") -> int | None:
    """The source line of a block, or of ``written`` inside the block's text ``paragraph``."""
    if not where:
        return None
    found = paragraph.find(written) if written else -1
    return where[0] + 1 + (paragraph.count("\n", 0, found) if found > 0 else 0)


def _convert(tex: str, display: bool, file: str | None, line: int | None) -> str:
    if not tex.strip():
        raise SourceError("empty formula", file, line)
    try:
        mathml = tex_to_mathml(tex, display)
    except Exception as exc:  # latex2mathml raises many kinds for bad TeX
        raise SourceError(f"formula '{tex.strip()[:40]}' is not valid TeX: {exc}", file, line,
                          hint="check braces and command names; see Math in docs/authoring.md") from None
    # The source, whitespace collapsed, as MathML's own text alternative.
    return mathml.replace("<math", f'<math alttext="{escape(" ".join(tex.split()), quote=True)}"', 1)


def render_inline_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return tokens[idx].meta["mathml"]


def render_block_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    line = token.attrGet("data-bb-line")
    attrs = f' data-bb-line="{line}"' if line else ""
    ident = f' id="{escape(token.info, quote=True)}"' if token.type == "math_block_label" and token.info else ""
    return f'<div class="math-display"{ident}{attrs}>{token.meta["mathml"]}</div>\n'

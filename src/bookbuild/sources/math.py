"""TeX math (``$...$``, ``$$...$$``) -> MathML, the neutral form both formats start from.

The EPUB shows the MathML as it is; the PDF renderer turns it into SVG (WeasyPrint has no
MathML). The TeX source never reaches an output: a formula that does not convert is an
error naming ``file:line``.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from markdown_it.token import Token

from ..errors import SourceError

MATHML_NS = "http://www.w3.org/1998/Math/MathML"


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


def convert_math(state: Any) -> None:
    """Core rule: convert every formula once, so errors can name the block's line."""
    file = state.env.get("file")
    for token in state.tokens:
        if token.type in ("math_block", "math_block_label"):
            token.meta["mathml"] = _convert(token.content, True, file, token.map)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type in ("math_inline", "math_inline_double"):
                    display = child.type == "math_inline_double"
                    child.meta["mathml"] = _convert(child.content, display, file, token.map)


def _convert(tex: str, display: bool, file: str | None, where: list[int] | None) -> str:
    line = where[0] + 1 if where else None
    if not tex.strip():
        raise SourceError("empty formula", file, line)
    try:
        return tex_to_mathml(tex, display)
    except Exception as exc:  # latex2mathml raises many kinds for bad TeX
        raise SourceError(f"formula '{tex.strip()[:40]}' is not valid TeX: {exc}", file, line,
                          hint="check braces and command names; see Math in docs/authoring.md") from None


def render_inline_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return tokens[idx].meta["mathml"]


def render_block_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    line = token.attrGet("data-bb-line")
    attrs = f' data-bb-line="{line}"' if line else ""
    ident = f' id="{escape(token.info, quote=True)}"' if token.type == "math_block_label" and token.info else ""
    return f'<div class="math-display"{ident}{attrs}>{token.meta["mathml"]}</div>\n'

"""The author's stylesheets checked for what Kindle does not support, at their own file:line.

The EPUB packs the author's sheets under generated names (``styles/book-1.css``), so a
warning found in the EPUB would name a file the author does not have. These checks read
the sheets as written (``[book] styles`` and the in-book sheets they ``@import``), so
``bookbuild kindle`` and ``bookbuild check`` point at ``styles/book.css:12:5``. Cheap: one
tinycss2 parse per sheet, no EPUB built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import tinycss2
from tinycss2 import ast

from ..errors import BookError, Reporter
from ..files import read_book_file
from ..resources import display_path, is_external, resolve_in_book, split_reference
from .stylesheets import MAX_NESTING, MAX_STYLESHEETS, RULE_BLOCKS, url_of

NEGATIVE_LINE_HEIGHT = ("Kindle: negative line-height '{value}', which Kindle does not support "
                        "(KPG, HTML Guideline: avoid negative values for line height)")
NEGATIVE_LINE_HEIGHT_HINT = "use a positive line-height (CSS does not allow a negative one either)"


def warn_kindle_styles(styles: Sequence[Path], root: Path, reporter: Reporter) -> None:
    """Warn at ``file:line:col`` of each declaration in the author's sheets Kindle rejects."""
    for path, line, col, value in kindle_style_problems(styles, root):
        reporter.warn(NEGATIVE_LINE_HEIGHT.format(value=value), display_path(path), line, col,
                      hint=NEGATIVE_LINE_HEIGHT_HINT)


def kindle_style_problems(styles: Sequence[Path], root: Path) -> list[tuple[Path, int, int, str]]:
    """(sheet, line, column, value) of every negative ``line-height``, sheets in order, each once.

    A sheet that cannot be read or parsed is skipped: the build's own stylesheet checks
    (sources/stylesheets.py) report it."""
    problems: list[tuple[Path, int, int, str]] = []
    queue, seen = list(styles), set(styles)
    while queue:
        path = queue.pop(0)
        try:
            data = read_book_file(path, root, "stylesheet")
        except BookError:
            continue
        rules = tinycss2.parse_stylesheet_bytes(data, skip_comments=True, skip_whitespace=True)[0]
        for node in _nodes(rules):
            if isinstance(node, ast.AtRule) and node.lower_at_keyword == "import":
                imported = _imported(node, path, root)
                if imported is not None and imported not in seen and len(seen) < MAX_STYLESHEETS:
                    seen.add(imported)
                    queue.append(imported)
            elif isinstance(node, ast.Declaration) and node.lower_name == "line-height":
                value = next((token for token in node.value if not isinstance(token, ast.WhitespaceToken)), None)
                if isinstance(value, (ast.NumberToken, ast.DimensionToken, ast.PercentageToken)) and value.value < 0:
                    problems.append((path, node.source_line, node.source_column, tinycss2.serialize([value])))
    return problems


def _nodes(rules: list, depth: int = 1) -> Iterator[object]:
    """The rules, at-rules and declarations of a sheet, into blocks and nested rules."""
    if depth > MAX_NESTING:  # sources/stylesheets.py refuses the sheet; nothing to add here
        return
    for rule in rules:
        yield rule
        if isinstance(rule, ast.QualifiedRule) or (isinstance(rule, ast.AtRule) and rule.content is not None):
            if isinstance(rule, ast.AtRule) and rule.lower_at_keyword in RULE_BLOCKS:
                inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            else:
                inner = tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True)
            yield from _nodes(inner, depth + 1)


def _imported(node: ast.AtRule, path: Path, root: Path) -> Path | None:
    """The in-book sheet an ``@import`` names, or None (remote, refused: warned elsewhere)."""
    for token in node.prelude:
        if isinstance(token, ast.StringToken):
            url = token.value
        elif isinstance(token, ast.URLToken) or (isinstance(token, ast.FunctionBlock) and token.lower_name == "url"):
            url = url_of(token)
        else:
            continue
        if not url or is_external(url) or url.lower().startswith("data:"):
            return None
        try:
            return resolve_in_book(root, path.parent, split_reference(url)[0], what="stylesheet")
        except BookError:
            return None
    return None

"""Checks on the author's stylesheets before any renderer sees them.

The book's CSS goes to WeasyPrint (which lays it out) and into the EPUB (where reading
systems do). Two things in it can hurt: references that leave the book folder or reach the
network (WeasyPrint's fetcher refuses them; here they get a warning naming ``file:line``),
and absurd numbers (``letter-spacing: 1e9px`` makes WeasyPrint overflow, a million columns
make it crawl), which fail the build cleanly instead. tinycss2 is WeasyPrint's own parser.
"""

from __future__ import annotations

from pathlib import Path

import tinycss2
from tinycss2 import ast

from ..config.manifest import Manifest
from ..errors import BookError, Reporter, SourceError, SpecialFile
from ..files import read_book_file
from ..resources import display_path, is_external, resolve_in_book, split_reference

MAX_DIMENSION = 10_000  # in any unit: 10,000 mm is ten metres, 10,000 em is no book
MAX_PERCENTAGE = 10_000
MAX_NUMBER = 1_000_000
MAX_CSS_BYTES = 2 * 1024 * 1024
MAX_NESTING = 32
RULE_BLOCKS = frozenset({"media", "supports", "layer", "container", "document", "scope", "starting-style"})


MAX_STYLESHEETS = 100


def check_stylesheets(manifest: Manifest, reporter: Reporter) -> None:
    """Warn about references that will not be loaded; fail on values no layout can honour.

    Sheets the author's sheets ``@import`` from inside the book are checked too, since
    WeasyPrint will load them.
    """
    queue, seen = list(manifest.styles), set(manifest.styles)
    while queue:
        path = queue.pop(0)
        for imported in _check_sheet(path, manifest, reporter):
            if imported not in seen and len(seen) < MAX_STYLESHEETS:
                seen.add(imported)
                queue.append(imported)


def _check_sheet(path: Path, manifest: Manifest, reporter: Reporter) -> list[Path]:
    """Check one sheet; return the in-book sheets it imports."""
    name = display_path(path)
    data = read_book_file(path, manifest.root, "stylesheet")
    rules = tinycss2.parse_stylesheet_bytes(data, skip_comments=True, skip_whitespace=True)[0]
    imports = []
    for node in _walk(rules, name):
        target = _check_node(node, path, name, manifest, reporter)
        if target is not None:
            imports.append(target)
    return imports


def _walk(nodes: list, name: str | None = None) -> list:
    """Every token below ``nodes``, iteratively, refusing blocks nested deeper than
    :data:`MAX_NESTING` (WeasyPrint processes nested rules and functions recursively)."""
    found, stack = [], [(node, 1) for node in reversed(nodes)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise SourceError(f"CSS nested deeper than {MAX_NESTING} levels", name,
                              getattr(node, "source_line", None))
        found.append(node)
        for attribute in ("prelude", "content", "arguments"):
            children = getattr(node, attribute, None)
            if isinstance(children, list):
                nested = _nested_rules(node, attribute, children)
                stack.extend((child, depth + 1) for child in reversed(nested))
    return found


def _nested_rules(node: object, attribute: str, children: list) -> list:
    """The content of an at-rule block holds rules: parse it so nesting is seen and checked."""
    if isinstance(node, ast.AtRule) and attribute == "content" and node.lower_at_keyword in RULE_BLOCKS:
        return tinycss2.parse_rule_list(children, skip_comments=True, skip_whitespace=True)
    return children


def _check_node(node: object, path: Path, name: str, manifest: Manifest, reporter: Reporter) -> Path | None:
    """Check one token or rule; an ``@import`` of a sheet inside the book returns that sheet."""
    line = getattr(node, "source_line", None)
    if isinstance(node, ast.AtRule) and node.lower_at_keyword == "import":
        for value in _urls_in(node.prelude, strings=True):
            return _check_reference(value, path, name, line, manifest, reporter)
    elif isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
        _check_reference(url_of(node), path, name, line, manifest, reporter)
    else:
        value = out_of_range(node)
        if value is not None:
            raise _out_of_range(value, name, line)
    return None


def out_of_range(node: object) -> str | None:
    """The token as written if it is a number no layout can honour, else None."""
    if isinstance(node, ast.DimensionToken) and abs(node.value) > MAX_DIMENSION:
        return node.representation + node.unit
    if isinstance(node, ast.PercentageToken) and abs(node.value) > MAX_PERCENTAGE:
        return node.representation + "%"
    if isinstance(node, ast.NumberToken) and abs(node.value) > MAX_NUMBER:
        return node.representation
    return None


def style_attribute_problem(style: str) -> str | None:
    """The first out-of-range value in a ``style`` attribute, for the HTML cleaner."""
    try:
        nodes = _walk(tinycss2.parse_component_value_list(style, skip_comments=True))
    except SourceError:
        return f"nested deeper than {MAX_NESTING} levels"
    for node in nodes:
        value = out_of_range(node)
        if value is not None:
            return value
    return None


def url_of(node: object) -> str:
    """The URL a ``url()`` token or function names."""
    if isinstance(node, ast.URLToken):
        return node.value
    strings = [t.value for t in node.arguments if isinstance(t, ast.StringToken)]  # type: ignore[attr-defined]
    return strings[0] if strings else ""


def _check_reference(url: str, path: Path, name: str, line: int | None, manifest: Manifest,
                     reporter: Reporter) -> Path | None:
    """The in-book file ``url`` names, or None (with a warning when it will not be loaded)."""
    if not url or url.startswith("#") or url.lower().startswith("data:"):
        return None
    if is_external(url) and not url.lower().startswith("file:"):
        if not manifest.allow_remote:
            reporter.warn(f"remote resource '{url[:200]}' not fetched", name, line,
                          hint="copy it into the book folder, or build with --allow-remote")
        return None
    written = url if url.lower().startswith("file:") else split_reference(url)[0]
    try:
        return resolve_in_book(manifest.root, path.parent, written, what="stylesheet resource", file=name,
                               line=line)
    except SpecialFile:
        raise
    except BookError as exc:
        reporter.warn(exc.diagnostic.message + ": not loaded", name, line, hint=exc.diagnostic.hint)
        return None


def _out_of_range(value: str, name: str, line: int | None) -> SourceError:
    return SourceError(f"CSS value '{value[:40]}' is out of range", name, line,
                       hint=f"lengths up to {MAX_DIMENSION:,} in any unit are accepted")


def _urls_in(nodes: list, strings: bool = False) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
            found.append(url_of(node))
        elif strings and isinstance(node, ast.StringToken):
            found.append(node.value)
    return found

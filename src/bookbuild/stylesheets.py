"""Checks on the author's stylesheets before any renderer sees them.

The book's CSS goes to WeasyPrint (which lays it out) and into the EPUB (where reading
systems do). Two things in it can hurt: references that leave the book folder or reach the
network (WeasyPrint's fetcher refuses them; here they get a warning naming ``file:line``),
and absurd numbers (``letter-spacing: 1e9px`` makes WeasyPrint overflow, a million columns
make it crawl), which fail the build cleanly instead. tinycss2 is WeasyPrint's own parser.
"""

from __future__ import annotations

import re
from pathlib import Path

import tinycss2
from tinycss2 import ast

from .errors import BookError, Reporter, SourceError
from .manifest import Manifest
from .resources import display_path, is_external, resolve_in_book, split_reference

MAX_DIMENSION = 10_000  # in any unit: 10,000 mm is ten metres, 10,000 em is no book
MAX_PERCENTAGE = 10_000
MAX_NUMBER = 1_000_000
MAX_CSS_BYTES = 2 * 1024 * 1024
_PAGE_SIZE = re.compile(r"^[A-Za-z0-9.\s-]{1,60}$")


def check_stylesheets(manifest: Manifest, reporter: Reporter) -> None:
    """Warn about references that will not be loaded; fail on values no layout can honour."""
    for path in manifest.styles:
        name = display_path(path)
        data = path.read_bytes()
        if len(data) > MAX_CSS_BYTES:
            raise SourceError(f"stylesheet is larger than {MAX_CSS_BYTES // (1024 * 1024)} MB", name)
        rules = tinycss2.parse_stylesheet_bytes(data, skip_comments=True, skip_whitespace=True)[0]
        for node in _walk(rules):
            _check_node(node, path, name, manifest, reporter)
    _check_page_size(manifest)


def _walk(nodes: list) -> list:
    """Every token below ``nodes``, iteratively (deeply nested blocks must not recurse)."""
    found, stack = [], list(reversed(nodes))
    while stack:
        node = stack.pop()
        found.append(node)
        for attribute in ("prelude", "content", "arguments"):
            children = getattr(node, attribute, None)
            if isinstance(children, list):
                stack.extend(reversed(children))
    return found


def _check_node(node: object, path: Path, name: str, manifest: Manifest, reporter: Reporter) -> None:
    line = getattr(node, "source_line", None)
    if isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
        _check_reference(_url_of(node), path, name, line, manifest, reporter)
    elif isinstance(node, ast.AtRule) and node.lower_at_keyword == "import":
        strings = [t.value for t in node.prelude if isinstance(t, ast.StringToken)]
        for value in strings:
            _check_reference(value, path, name, line, manifest, reporter)
    elif isinstance(node, ast.DimensionToken) and abs(node.value) > MAX_DIMENSION:
        raise _out_of_range(node.representation + node.unit, name, line)
    elif isinstance(node, ast.PercentageToken) and abs(node.value) > MAX_PERCENTAGE:
        raise _out_of_range(node.representation + "%", name, line)
    elif isinstance(node, ast.NumberToken) and abs(node.value) > MAX_NUMBER:
        raise _out_of_range(node.representation, name, line)


def _url_of(node: object) -> str:
    if isinstance(node, ast.URLToken):
        return node.value
    strings = [t.value for t in node.arguments if isinstance(t, ast.StringToken)]  # type: ignore[attr-defined]
    return strings[0] if strings else ""


def _check_reference(url: str, path: Path, name: str, line: int | None, manifest: Manifest,
                     reporter: Reporter) -> None:
    if not url or url.startswith("#") or url.lower().startswith("data:"):
        return
    if is_external(url) and not url.lower().startswith("file:"):
        if not manifest.allow_remote:
            reporter.warn(f"remote resource '{url[:200]}' not fetched", name, line,
                          hint="copy it into the book folder, or build with --allow-remote")
        return
    written = url if url.lower().startswith("file:") else split_reference(url)[0]
    try:
        resolve_in_book(manifest.root, path.parent, written, what="stylesheet resource", file=name, line=line)
    except BookError as exc:
        reporter.warn(exc.diagnostic.message + ": not loaded", name, line, hint=exc.diagnostic.hint)


def _out_of_range(value: str, name: str, line: int | None) -> SourceError:
    return SourceError(f"CSS value '{value[:40]}' is out of range", name, line,
                       hint=f"lengths up to {MAX_DIMENSION:,} in any unit are accepted")


def _check_page_size(manifest: Manifest) -> None:
    """``page_size`` is pasted into ``@page { size: ... }``: it must be a size, not more CSS."""
    value = manifest.pdf.page_size_css
    name = display_path(manifest.path)
    if not _PAGE_SIZE.match(value):
        raise SourceError(f"[pdf] page_size: '{value[:60]}' is not a page size", name,
                          hint="A4, Letter, A5, B5, 6x9in, or two lengths such as '210mm 297mm'")
    for token in tinycss2.parse_component_value_list(value):
        if isinstance(token, ast.DimensionToken) and abs(token.value) > MAX_DIMENSION:
            raise SourceError(f"[pdf] page_size: '{value}' is out of range", name)

"""Checks on the author's stylesheets before any renderer sees them.

The book's CSS goes to WeasyPrint (which lays it out) and into the EPUB (where reading
systems do). Two things in it can hurt: references that leave the book folder or reach the
network (WeasyPrint's fetcher refuses them; here they get a warning naming ``file:line``),
and absurd numbers (``letter-spacing: 1e9px`` makes WeasyPrint overflow, a million columns
make it crawl), which fail the build cleanly instead. tinycss2 is WeasyPrint's own parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tinycss2
from tinycss2 import ast
from tinycss2.serializer import serialize_url

from .errors import BookError, Reporter, SourceError
from .manifest import Manifest
from .resources import display_path, is_external, resolve_in_book, split_reference

MAX_DIMENSION = 10_000  # in any unit: 10,000 mm is ten metres, 10,000 em is no book
MAX_PERCENTAGE = 10_000
MAX_NUMBER = 1_000_000
MAX_CSS_BYTES = 2 * 1024 * 1024
MAX_NESTING = 32
_RULE_BLOCKS = frozenset({"media", "supports", "layer", "container", "document", "scope", "starting-style"})
_PAGE_SIZE = re.compile(r"^[A-Za-z0-9.\s-]{1,60}$")


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
    _check_page_size(manifest)


def _check_sheet(path: Path, manifest: Manifest, reporter: Reporter) -> list[Path]:
    """Check one sheet; return the in-book sheets it imports."""
    name = display_path(path)
    data = path.read_bytes()
    if len(data) > MAX_CSS_BYTES:
        raise SourceError(f"stylesheet is larger than {MAX_CSS_BYTES // (1024 * 1024)} MB", name)
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
    if isinstance(node, ast.AtRule) and attribute == "content" and node.lower_at_keyword in _RULE_BLOCKS:
        return tinycss2.parse_rule_list(children, skip_comments=True, skip_whitespace=True)
    return children


def _check_node(node: object, path: Path, name: str, manifest: Manifest, reporter: Reporter) -> Path | None:
    """Check one token or rule; an ``@import`` of a sheet inside the book returns that sheet."""
    line = getattr(node, "source_line", None)
    if isinstance(node, ast.AtRule) and node.lower_at_keyword == "import":
        for value in _urls_in(node.prelude, strings=True):
            return _check_reference(value, path, name, line, manifest, reporter)
    elif isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
        _check_reference(_url_of(node), path, name, line, manifest, reporter)
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


def _url_of(node: object) -> str:
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
    except BookError as exc:
        reporter.warn(exc.diagnostic.message + ": not loaded", name, line, hint=exc.diagnostic.hint)
        return None


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


@dataclass(frozen=True)
class PackedFile:
    """A file of the EPUB: its href in the package, its bytes and media type."""

    href: str
    data: bytes
    media_type: str


def epub_stylesheets(manifest: Manifest, reporter: Reporter) -> list[PackedFile]:
    """The author's sheets as packed into the EPUB (``styles/book-N.css``), with the files
    inside the book they reference: sheets they ``@import``, images and fonts.

    A sheet is packed under another name than its own, so every reference to a file inside
    the book is rewritten to that file's place in the package; untouched sheets stay as
    written. References the build refused (outside the book, ``file:``, remote) are left
    out: an EPUB must not point outside its container (EPUBCheck RSC-006, RSC-030), and a
    reading system must not be sent there. So is a file a reading system cannot take (not
    an image or a font, or an image that fails its check), with a warning.
    """
    packer = _SheetPacker(manifest, reporter)
    for number, path in enumerate(manifest.styles, start=1):
        packer.sheet(path, f"styles/book-{number}.css")
    return packer.files


class _SheetPacker:
    """The files packed for the author's sheets, each once, under a generated ASCII name."""

    def __init__(self, manifest: Manifest, reporter: Reporter) -> None:
        self.manifest, self.reporter = manifest, reporter
        self.files: list[PackedFile] = []
        self.hrefs: dict[Path, str | None] = {}  # source file -> its href, None when left out
        self.count = 0  # of files named so far
        self.sheets = 0

    def sheet(self, path: Path, href: str) -> None:
        """Pack the sheet at ``path`` as ``href``, and what it uses, first."""
        self.hrefs[path] = href  # before its imports, which may import it again
        self.sheets += 1
        data = path.read_bytes()
        rules = tinycss2.parse_stylesheet_bytes(data, skip_comments=False)[0]
        changed: list = []
        kept = _kept_rules(rules, lambda url, node, sheet: self._reference(url, node, path, sheet), changed)
        self.files.append(PackedFile(href, tinycss2.serialize(kept).encode("utf-8") if changed else data, "text/css"))

    def _reference(self, url: str, node: object, path: Path, sheet: bool) -> str | None:
        """The URL ``url`` in the sheet at ``path`` becomes in the package, None to leave it out."""
        if not url or url.startswith("#") or url.lower().startswith("data:"):
            return url
        if is_external(url):
            return None
        written, fragment = split_reference(url)
        try:
            target = resolve_in_book(self.manifest.root, path.parent, written, what="stylesheet resource")
        except BookError:
            return None  # check_stylesheets has warned
        if target not in self.hrefs:
            if sheet:
                if self.sheets >= MAX_STYLESHEETS:  # as check_stylesheets stops following imports
                    return None
                try:
                    self.sheet(target, f"styles/import-{self._next():03d}.css")
                except OSError as exc:
                    self.hrefs[target] = None
                    self.reporter.warn(f"stylesheet '{url[:200]}' cannot be read: {exc.strerror}", display_path(path),
                                       getattr(node, "source_line", None))
            else:
                self.hrefs[target] = self._resource(target, url, path, getattr(node, "source_line", None))
        href = self.hrefs[target]
        if href is None:
            return None
        return href.removeprefix("styles/") + (f"#{fragment}" if fragment else "")

    def _next(self) -> int:
        self.count += 1
        return self.count

    def _resource(self, target: Path, url: str, path: Path, line: int | None) -> str | None:
        """Pack an image or font a sheet uses; its href, or None (with a warning) if it cannot be."""
        from .fonts import FONT_TYPES
        from .images import check_image
        from .slugs import file_slug
        from .transforms.links import IMAGE_TYPES

        suffix = target.suffix.lower()
        name = display_path(path)
        media_type = IMAGE_TYPES.get(suffix) or FONT_TYPES.get(suffix)
        if media_type is None:
            self.reporter.warn(f"stylesheet resource '{url[:200]}' is not an image or a font: left out",
                               name, line, hint="EPUB reading systems load PNG, JPEG, GIF, SVG, WebP, "
                                                "TTF, OTF, WOFF and WOFF2 from a stylesheet")
            return None
        try:
            data = target.read_bytes()
            if suffix in IMAGE_TYPES:
                data = check_image(data, suffix)
        except BookError as exc:
            self.reporter.warn(f"image '{url[:200]}' {exc.diagnostic.message}: left out", name, line,
                               hint=exc.diagnostic.hint)
            return None
        except OSError as exc:
            self.reporter.warn(f"stylesheet resource '{url[:200]}' cannot be read: {exc.strerror}", name, line)
            return None
        href = f"styles/files/{self._next():03d}-{file_slug(target.stem, default='file', max_length=40)}{suffix}"
        self.files.append(PackedFile(href, data, media_type))
        return href


# rewrite(url, node, is_import) -> the URL to write instead, or None to leave the rule out
_Rewrite = Callable[[str, object, bool], "str | None"]


def _kept_rules(rules: list, rewrite: _Rewrite, changed: list) -> list:
    kept = []
    for rule in rules:
        if isinstance(rule, ast.AtRule) and rule.lower_at_keyword == "import":
            prelude = _rewritten(rule.prelude, rewrite, changed, sheet=True)
            if prelude is None:
                changed.append(rule)
                continue
            rule.prelude = prelude
        elif isinstance(rule, (ast.QualifiedRule, ast.AtRule)) and rule.content is not None:
            if isinstance(rule, ast.AtRule) and rule.lower_at_keyword in _RULE_BLOCKS:
                rule.content = _kept_rules(tinycss2.parse_rule_list(rule.content), rewrite, changed)
            else:
                rule.content = _kept_declarations(rule.content, rewrite, changed)
        kept.append(rule)
    return kept


def _kept_declarations(content: list, rewrite: _Rewrite, changed: list) -> list:
    kept: list = []
    for item in tinycss2.parse_blocks_contents(content, skip_whitespace=True):
        if isinstance(item, ast.ParseError):
            continue
        if isinstance(item, ast.Declaration):
            value = _rewritten(item.value, rewrite, changed)
            if value is None:
                changed.append(item)
                continue
            item.value = value
        elif isinstance(item, (ast.AtRule, ast.QualifiedRule)) and item.content is not None:
            # a rule inside a block: @page's margin boxes (@top-center { ... }), CSS nesting
            item.content = _kept_declarations(item.content, rewrite, changed)
        kept.append(item)
    return kept


def _rewritten(nodes: list, rewrite: _Rewrite, changed: list, sheet: bool = False) -> list | None:
    """``nodes`` with every URL rewritten (a string too, in an ``@import``); None when one
    is to be left out. Nested blocks and functions are rewritten in place."""
    result = []
    for node in nodes:
        url = None
        if isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
            url = _url_of(node)
        elif sheet and isinstance(node, ast.StringToken):
            url = node.value
        if url is not None:
            new = rewrite(url, node, sheet)
            if new is None:
                return None
            if new != url:
                changed.append(node)
                node = ast.URLToken(node.source_line, node.source_column, new, f"url({serialize_url(new)})")
        else:
            for attribute in ("arguments", "content"):
                children = getattr(node, attribute, None)
                if isinstance(children, list):
                    children = _rewritten(children, rewrite, changed)
                    if children is None:
                        return None
                    setattr(node, attribute, children)
        result.append(node)
    return result


def _urls_in(nodes: list, strings: bool = False) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node, ast.URLToken) or (isinstance(node, ast.FunctionBlock) and node.lower_name == "url"):
            found.append(_url_of(node))
        elif strings and isinstance(node, ast.StringToken):
            found.append(node.value)
    return found

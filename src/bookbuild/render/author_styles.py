"""The author's stylesheets as the EPUB and the preview serve them: packed with the files
they use from the book folder, under generated names, references rewritten to match.

The checks that run before any renderer (references leaving the book, absurd values) are in
sources/stylesheets.py; this is packaging, which only the renderers that ship the sheets need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tinycss2
from tinycss2 import ast
from tinycss2.serializer import serialize_url

from ..errors import BookError, Reporter, UnreadableFile
from ..files import read_book_file
from ..model import Book
from ..resources import display_path, is_external, resolve_in_book, split_reference
from ..sources.stylesheets import MAX_STYLESHEETS, RULE_BLOCKS, url_of


@dataclass(frozen=True)
class PackedFile:
    """A file of the EPUB: its href in the package, its bytes and media type."""

    href: str
    data: bytes
    media_type: str


def epub_stylesheets(book: Book, reporter: Reporter) -> list[PackedFile]:
    """The author's sheets as packed into the EPUB (``styles/book-N.css``), with the files
    inside the book they reference: sheets they ``@import``, images and fonts.

    A sheet is packed under another name than its own, so every reference to a file inside
    the book is rewritten to that file's place in the package; untouched sheets stay as
    written. References the build refused (outside the book, ``file:``, remote) are left
    out: an EPUB must not point outside its container (EPUBCheck RSC-006, RSC-030), and a
    reading system must not be sent there. So is a file a reading system cannot take (not
    an image or a font, or an image that fails its check), with a warning.
    """
    packer = _SheetPacker(book, reporter)
    for number, path in enumerate(book.styles, start=1):
        packer.sheet(path, f"styles/book-{number}.css")
    return packer.files


class _SheetPacker:
    """The files packed for the author's sheets, each once, under a generated ASCII name."""

    def __init__(self, book: Book, reporter: Reporter) -> None:
        self.book, self.reporter = book, reporter
        self.files: list[PackedFile] = []
        self.hrefs: dict[Path, str | None] = {}  # source file -> its href, None when left out
        self.count = 0  # of files named so far
        self.sheets = 0

    def sheet(self, path: Path, href: str) -> None:
        """Pack the sheet at ``path`` as ``href``, and what it uses, first."""
        self.hrefs[path] = href  # before its imports, which may import it again
        self.sheets += 1
        data = read_book_file(path, self.book.root, "stylesheet")
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
            target = resolve_in_book(self.book.root, path.parent, written, what="stylesheet resource")
        except BookError:
            return None  # check_stylesheets has warned
        if target not in self.hrefs:
            if sheet:
                if self.sheets >= MAX_STYLESHEETS:  # as check_stylesheets stops following imports
                    return None
                try:
                    self.sheet(target, f"styles/import-{self._next():03d}.css")
                except BookError as exc:
                    self.hrefs[target] = None
                    self.reporter.warn(f"{exc.diagnostic.message}: left out", display_path(path),
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
        from ..sources.fonts import FONT_TYPES
        from ..sources.images import IMAGE_TYPES, check_image, svg_warnings
        from ..transforms.links import asset_href

        suffix = target.suffix.lower()
        name = display_path(path)
        media_type = IMAGE_TYPES.get(suffix) or FONT_TYPES.get(suffix)
        if media_type is None:
            self.reporter.warn(f"stylesheet resource '{url[:200]}' is not an image or a font: left out",
                               name, line, hint="EPUB reading systems load PNG, JPEG, GIF, SVG, WebP, "
                                                "TTF, OTF, WOFF and WOFF2 from a stylesheet")
            return None
        try:
            data = read_book_file(target, self.book.root, "resource")
            if suffix in IMAGE_TYPES:
                data = check_image(data, suffix, svg_warnings(self.reporter, display_path(target)))
        except UnreadableFile as exc:  # its message names the file
            self.reporter.warn(f"{exc.diagnostic.message}: left out", name, line, hint=exc.diagnostic.hint)
            return None
        except BookError as exc:
            self.reporter.warn(f"image '{url[:200]}' {exc.diagnostic.message}: left out", name, line,
                               hint=exc.diagnostic.hint)
            return None
        href = asset_href("styles/files", self._next(), target, suffix)
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
            if isinstance(rule, ast.AtRule) and rule.lower_at_keyword in RULE_BLOCKS:
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
            url = url_of(node)
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

"""``bookbuild check``: everything that can be known about a book without rendering it.

It runs the stages a build runs, from pipeline.py (so it can never disagree with a build), collects every problem instead of stopping at the first, adds a
few checks of its own (duplicate ids, Markdown that was not understood, fonts), and
raises the problems that make a wrong book (broken links, missing images) to errors.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from ..config.manifest import ChapterEntry, Manifest, find_manifest
from ..errors import BookError, Diagnostic, Reporter
from ..files import read_book_text, with_column
from ..model import Chapter
from ..pipeline import assemble, check_inputs, load_config, read_book_chapter
from ..resources import display_path, is_external
from ..sources import HTML_SUFFIXES, MARKDOWN_SUFFIXES, read_text
from ..sources.kindle_styles import warn_kindle_styles
from ..sources.markdown import markdown_to_html
from ..sources.sanitise import HTML_ELEMENTS, html_to_fragment
from ..sources.xhtml import xhtml_body
from ..xhtml import iter_elements, source_line

# Warnings of a build that mean the output is wrong: check calls them errors.
_ERROR_PATTERNS = (
    re.compile(r"^link target '.*' (not found|is not a chapter)"),
    re.compile(r"^image '.*' (not found|is not|is outside|is an absolute)"),
    re.compile(r"^image: empty path"),
)
_REFERENCE_LINK = re.compile(r"\[[^\[\]]+\]\[[^\[\]]*\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
# mdBook directives other than the includes the reader expands ({{#include}}, {{#rustdoc_include}}).
_MDBOOK_DIRECTIVE = re.compile(r"\{\{#(?!include\b|rustdoc_include\b)\w+[^}]*\}\}")
GENERIC_FAMILIES = frozenset(
    "serif sans-serif monospace cursive fantasy system-ui ui-serif ui-sans-serif ui-monospace math emoji "
    "fangsong inherit initial unset revert".split()
)


@dataclass(frozen=True)
class CheckReport:
    """Every problem found, in reading order, and what was looked at."""

    book: str
    diagnostics: tuple[Diagnostic, ...]
    chapters: int = 0

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def as_json(self) -> dict[str, object]:
        """The report for editors and CI: one object per problem with its location."""
        return {
            "book": self.book,
            "chapters": self.chapters,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "diagnostics": [
                {"severity": d.severity, "file": d.location.file, "line": d.location.line,
                 "column": d.location.col, "message": d.message, "hint": d.hint}
                for d in self.diagnostics
            ],
        }


def check_book(book_path: str | Path | None) -> CheckReport:
    """Check the book without rendering: manifest, stylesheets, chapters, cover, links,
    images, ids, fonts. The stages are the build's own (pipeline.py), so whatever would stop
    a build is an error here with the build's words and location."""
    reporter = Reporter()
    errors: list[Diagnostic] = []
    try:
        manifest = load_config(book_path, reporter)
    except BookError as exc:
        partial = getattr(exc, "partial", None)  # book.toml has errors, but its chapters can be read
        if not isinstance(partial, Manifest):
            try:
                name = display_path(find_manifest(book_path))
            except BookError:
                name = str(book_path or ".")
            return CheckReport(name, (*reporter.diagnostics, *exc.diagnostics))
        manifest, errors = partial, list(exc.diagnostics)
    try:
        check_inputs(manifest, reporter)
    except BookError as exc:
        errors.append(exc.diagnostic)
    chapters: list[Chapter] = []
    for index, entry in enumerate(manifest.chapters, start=1):
        try:
            chapters.append(read_book_chapter(entry, index, reporter, manifest))
            scan_source(entry, reporter, manifest.root, manifest.math)
        except BookError as exc:
            errors.append(exc.diagnostic)
    if len(chapters) == len(manifest.chapters):  # links can only be judged when every chapter was read
        try:
            assemble(manifest, tuple(chapters), reporter, cache=False)
        except BookError as exc:
            errors.append(exc.diagnostic)
    check_fonts(manifest, reporter)
    warn_kindle_styles(manifest.styles, manifest.root, reporter)  # as `bookbuild kindle` says them
    unlisted_chapters(manifest, reporter)
    order = {display_path(p): n for n, p in enumerate(
        [manifest.path, *(c.path for c in manifest.chapters), *manifest.styles])}
    diagnostics = [with_column(_classify(d), manifest.root) for d in reporter.diagnostics] + errors
    diagnostics.sort(key=lambda d: (order.get(d.location.file or "", -1), d.location.line or 0, d.location.col or 0))
    return CheckReport(display_path(manifest.path), tuple(diagnostics), len(manifest.chapters))


def _classify(diagnostic: Diagnostic) -> Diagnostic:
    if diagnostic.severity == "warning" and any(p.search(diagnostic.message) for p in _ERROR_PATTERNS):
        return dataclasses.replace(diagnostic, severity="error")
    return diagnostic


def scan_source(entry: ChapterEntry, reporter: Reporter, root: Path | None = None, math: bool = True) -> None:
    """Problems a reader forgives silently: duplicate ids and Markdown it did not understand."""
    name = display_path(entry.path)
    text = read_text(entry.path, root=root)
    suffix = entry.path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        wrapper = html_to_fragment(markdown_to_html(text, name, math=math)[0])
    elif suffix in HTML_SUFFIXES:
        wrapper = html_to_fragment(xhtml_body(text, name))
    else:
        return
    lines = text.splitlines()
    if suffix in MARKDOWN_SUFFIXES:  # in HTML, alt="" is a deliberate "decorative"
        for image in wrapper.iter("img"):
            if image.get("alt") is not None and not image.get("alt").strip():  # no alt: links.py says so
                line, col = _line_of(image, "![", lines)
                reporter.warn(f"image '{image.get('src', '')}' has no alternative text", name, line, col,
                              hint="describe it: ![what it shows](...)")
    _duplicate_ids(wrapper, name, lines, reporter)
    _unknown_constructs(wrapper, name, lines, reporter)


def _line_of(element: etree._Element, needle: str, lines: list[str], after: int = 0) -> tuple[int | None, int | None]:
    """The source line (and column) of ``needle``, searching from the element's block line."""
    start = max(source_line(element) or 1, after + 1)
    for number in range(start, len(lines) + 1):
        col = lines[number - 1].find(needle)
        if col >= 0:
            return number, col + 1
    return source_line(element), None


def _duplicate_ids(wrapper: etree._Element, name: str, lines: list[str], reporter: Reporter) -> None:
    first: dict[str, int | None] = {}
    for node in iter_elements(wrapper):
        ident = node.get("id")
        if not ident or node.get("role") == "doc-noteref":
            continue
        line, col = _line_of(node, ident, lines, after=first.get(ident) or 0)
        if ident in first:
            reporter.warn(f"duplicate id '{ident}' (first at line {first[ident]})", name, line, col,
                          hint="ids must be unique: links to it would be ambiguous; rename one")
        else:
            first[ident] = line


def _unknown_constructs(wrapper: etree._Element, name: str, lines: list[str], reporter: Reporter) -> None:
    for node in iter_elements(wrapper):
        # SVG and MathML have their own vocabularies (MathML arrives namespaced from the reader)
        foreign = node.tag.startswith("{") or any(a.tag in ("svg", "math") for a in node.iterancestors())
        if node.tag not in HTML_ELEMENTS and not foreign:
            line, col = _line_of(node, f"<{node.tag}", lines)
            reporter.warn(f"unknown HTML element <{node.tag}>", name, line, col,
                          hint="readers will ignore it; use a standard element or a <span class=...>")
        if node.tag in ("code", "pre") or any(a.tag in ("code", "pre") for a in node.iterancestors()):
            continue
        for text in (node.text, node.tail):
            for pattern, what, hint in _TEXT_PATTERNS:
                for match in pattern.finditer(text or ""):
                    line, col = _line_of(node if text is node.text else node.getparent(), match.group(0), lines)
                    reporter.warn(what.format(match.group(0)), name, line, col, hint=hint)


_TEXT_PATTERNS = (
    (_MDBOOK_DIRECTIVE, "mdBook directive '{}' is not supported", "only {{#include}} and {{#rustdoc_include}} are expanded"),
    (_REFERENCE_LINK, "reference link '{}' has no definition", "define it on its own line: [label]: target.md"),
    (_FOOTNOTE_REF, "footnote '{}' has no definition", "write the note on its own line: [^id]: The note."),
)


def unlisted_chapters(manifest: Manifest, reporter: Reporter) -> None:
    """Chapter files next to listed chapters that book.toml forgets: they would silently stay out."""
    listed = {entry.path for entry in manifest.chapters}
    folders = sorted({path.parent for path in listed})
    text = read_book_text(manifest.path, manifest.root, "manifest")
    line = next((n for n, row in enumerate(text.splitlines(), start=1) if row.strip().startswith("chapters")), None)
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if (path.suffix.lower() in MARKDOWN_SUFFIXES | HTML_SUFFIXES and path.is_file() and path not in listed
                    and path.name.lower() not in ("readme.md", "summary.md")):
                reporter.warn(f"'{path.relative_to(manifest.root).as_posix()}' is not listed in chapters",
                              display_path(manifest.path), line,
                              hint="add it to chapters = [...] in reading order, or it stays out of the book")


def check_fonts(manifest: Manifest, reporter: Reporter) -> None:
    """Fonts the book's own stylesheets name: @font-face files exist, other families are installed."""
    for sheet in manifest.styles:
        name = display_path(sheet)
        try:
            css = read_book_text(sheet, manifest.root, "stylesheet")
        except BookError:
            reporter.warn("stylesheet cannot be read as UTF-8", name)
            continue
        css = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), css, flags=re.DOTALL)
        declared = _font_faces(css, sheet, manifest.root, name, reporter)
        for match in re.finditer(r"(?<![-\w])font-family\s*:\s*([^;}]+)", css):
            if _inside_font_face(css, match.start()):
                continue
            families = [f.strip().strip("'\"") for f in match.group(1).split(",")]
            named = [f for f in families if f and f.casefold() not in GENERIC_FAMILIES]
            found = [f for f in named if f.casefold() in declared or _installed(f)]
            if named and not found:
                line = css.count("\n", 0, match.start()) + 1
                reporter.warn(f"font '{named[0]}' is neither declared with @font-face nor installed", name, line,
                              hint="add an @font-face rule with the font file inside the book folder")


def _font_faces(css: str, sheet: Path, root: Path, name: str, reporter: Reporter) -> set[str]:
    declared: set[str] = set()
    for block in re.finditer(r"@font-face\s*\{([^}]*)\}", css):
        family = re.search(r"font-family\s*:\s*([^;]+)", block.group(1))
        if family:
            declared.add(family.group(1).strip().strip("'\"").casefold())
        for url in re.finditer(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", block.group(1)):
            target = url.group(1)
            if is_external(target) or target.startswith("data:"):
                continue
            path = (sheet.parent / target.split("#")[0].split("?")[0]).resolve()
            if not path.is_file() or not path.is_relative_to(root.resolve()):
                offset = block.start(1) + url.start(1)
                line = css.count("\n", 0, offset) + 1
                reporter.warn(f"font file '{target}' not found", name, line,
                              offset - css.rfind("\n", 0, offset),
                              hint="font files are relative to the stylesheet and inside the book folder")
    return declared


def _inside_font_face(css: str, offset: int) -> bool:
    opening = css.rfind("{", 0, offset)
    return opening >= 0 and css.rfind("}", 0, offset) < opening and \
        css[:opening].rstrip().endswith("@font-face")


@cache
def _installed_families() -> frozenset[str] | None:
    """Font families fontconfig knows, or None when fc-list is missing (then we cannot tell)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(part.strip().casefold() for line in out.splitlines() for part in line.split(","))


def _installed(family: str) -> bool:
    families = _installed_families()
    return families is None or family.casefold() in families

"""Readers: one chapter file in, one :class:`~bookbuild.model.Chapter` out.

Reading a chapter depends only on that file and its place in the book, so it can be cached
and run in parallel (house rule 8). Book-wide work (unique ids, links) is in transforms/.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ..cache import code_file
from ..config.manifest import ChapterEntry
from ..errors import Reporter, SourceError
from ..model import Chapter, Footnote, Heading
from ..resources import display_path
from ..slugs import id_slug, unique
from ..xhtml import (
    LINE_ATTR,
    XML_ILLEGAL,
    inner_xhtml,
    iter_elements,
    serialize_fragment,
    source_line,
    text_of,
)
from .code import Highlights
from .includes import LineMap, expand_includes
from .markdown import markdown_to_html
from .sanitise import html_to_fragment
from .xhtml import xhtml_body

MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def chapter_id(index: int) -> str:
    """The book-wide id of chapter ``index`` (1-based); also its EPUB file stem."""
    return f"ch{index:02d}"


MAX_SOURCE_BYTES = 10 * 1024 * 1024  # a whole novel is about 1 MB
MAX_LINE_CHARS = 1_000_000  # a longer line is not prose; laying it out would take minutes


def read_text(path: Path, reporter: Reporter | None = None) -> str:
    """A source file as text: UTF-8 (a BOM is dropped); invalid bytes name their line.

    Characters XML cannot hold (C0 controls other than tab and newline, U+FFFE/U+FFFF) are
    removed with a warning; absurdly large files and lines fail cleanly instead of hanging
    the layout later.
    """
    name = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError(f"file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB", name,
                              hint="split it into several chapters")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", name) from None
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError("not valid UTF-8", name, line, hint="save the file as UTF-8") from None
    return _hygiene(text, name, reporter)


def _hygiene(text: str, name: str, reporter: Reporter | None) -> str:
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise SourceError(f"line is longer than {MAX_LINE_CHARS:,} characters", name, number,
                              hint="break it into paragraphs")
    match = XML_ILLEGAL.search(text)
    if match is None:
        return text
    line = text.count("\n", 0, match.start()) + 1
    if reporter is not None:
        reporter.warn(f"control character U+{ord(match.group()):04X} removed (XML cannot hold it)", name, line)
    return XML_ILLEGAL.sub("", text)


def read_chapter(entry: ChapterEntry, index: int, reporter: Reporter | None = None, language: str = "en",
                 root: Path | None = None, cache_dir: Path | None = None) -> Chapter:
    """Parse one chapter file into a chapter with local links and image sources left as written.

    Raw HTML is cleaned to an allow-list here; what is removed is reported through ``reporter``.
    ``language`` (the book's) picks the quotation marks and call-out titles; ``root`` (the
    book folder) bounds the files an include may read; with ``cache_dir`` (the book's cache
    folder) highlighted code blocks are kept from one parse of the chapter to the next.
    """
    name = display_path(entry.path)
    text = read_text(entry.path, reporter)
    html, front_matter, lines = _to_html(entry.path, text, name, language, root, cache_dir)
    cid = chapter_id(index)
    wrapper = html_to_fragment(html, reporter, name)
    if lines.regions:
        _map_source_lines(wrapper, lines)
    footnotes = _extract_footnotes(wrapper, cid)
    headings = _heading_ids(wrapper)
    title = entry.title or _string(front_matter.get("title")) or (headings[0].text if headings else None)
    title = title or entry.path.stem
    if not headings:
        headings = (_insert_title(wrapper, title),)
    return Chapter(
        index=index,
        id=cid,
        source=entry.path,
        title=title,
        body=serialize_fragment(wrapper),
        headings=headings,
        footnotes=footnotes,
        title_id=headings[0].id,
        kind=entry.kind,
    )


def _to_html(path: Path, text: str, name: str, language: str, root: Path | None,
             cache_dir: Path | None) -> tuple[str, dict, LineMap]:
    """The chapter's HTML by its file type, its front matter, and the map from the lines of
    the text with includes expanded back to the lines of the file."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        text, lines = expand_includes(text, path, root or path.parent, name)
        highlights = Highlights(code_file(cache_dir, path) if cache_dir is not None else None)
        try:
            html, front_matter = markdown_to_html(text, name, language, highlights)
            highlights.save()
        except SourceError as exc:
            location = exc.diagnostic.location
            if location.line:
                raise SourceError(exc.diagnostic.message, name, lines.original(location.line), location.col,
                                  exc.diagnostic.hint) from None
            raise
        return html, front_matter, lines
    if suffix in HTML_SUFFIXES:
        return xhtml_body(text, name), {}, LineMap()
    raise SourceError(
        f"unknown chapter type '{suffix or path.name}'",
        name,
        hint="chapters are Markdown (.md) or HTML (.html, .xhtml)",
    )


def _insert_title(wrapper: etree._Element, title: str) -> Heading:
    """A chapter without headings gets its title as its ``h1``, first."""
    h1 = etree.Element("h1")
    h1.text = title
    h1.set("id", id_slug(title))
    wrapper.insert(0, h1)
    h1.tail, wrapper.text = wrapper.text, None
    return Heading(1, title, h1.get("id"))


def _map_source_lines(wrapper: etree._Element, lines: LineMap) -> None:
    """Source lines of the expanded text -> lines of the chapter file as the author wrote it."""
    for node in iter_elements(wrapper):
        value = node.get(LINE_ATTR)
        if value and value.isdigit():
            node.set(LINE_ATTR, str(lines.original(int(value))))


def _string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _heading_ids(wrapper: etree._Element) -> tuple[Heading, ...]:
    taken: set[str] = set()
    for node in iter_elements(wrapper):
        if node.tag not in HEADING_TAGS and node.get("id"):
            taken.add(node.get("id").casefold())
    _promote_headings(wrapper)
    headings = []
    for node in iter_elements(wrapper):
        if node.tag in HEADING_TAGS:
            text = text_of(node)
            wanted = node.get("id") or id_slug(text)
            node.set("id", unique(wanted, taken))
            headings.append(Heading(int(node.tag[1]), text, node.get("id")))
    return tuple(headings)


def _promote_headings(wrapper: etree._Element) -> None:
    """A chapter whose top heading is ``##`` (common in books made for the web) gets its
    headings raised so that it has an ``h1``: its title, with sections below it."""
    levels = [int(node.tag[1]) for node in iter_elements(wrapper) if node.tag in HEADING_TAGS]
    shift = min(levels, default=1) - 1
    if shift > 0:
        for node in iter_elements(wrapper):
            if node.tag in HEADING_TAGS:
                node.tag = f"h{int(node.tag[1]) - shift}"


def _extract_footnotes(wrapper: etree._Element, cid: str) -> tuple[Footnote, ...]:
    """Move markdown-it's footnote block out of the body into the model, with book-wide ids."""
    notes: dict[int, str] = {}
    for block in list(wrapper.iter("div")):
        if block.get("data-bb-footnotes") is None:
            continue
        for note in block.iter("div"):
            number = note.get("data-bb-footnote")
            if number and number.isdigit():
                notes[int(number)] = inner_xhtml(note).strip()
        parent = block.getparent()
        if parent is not None:
            parent.remove(block)
    refs: dict[int, list[str]] = {}
    for ref in wrapper.iter("a"):
        if ref.get("role") != "doc-noteref":
            continue
        number = int(ref.get("href", "#fn-0").rsplit("-", 1)[-1])
        ref.set("href", f"#{cid}-fn-{number}")
        ref.set("id", f"{cid}-{ref.get('id')}")
        refs.setdefault(number, []).append(ref.get("id"))
    return tuple(
        Footnote(id=f"{cid}-fn-{number}", number=number, body=body, ref_ids=tuple(refs.get(number, ())))
        for number, body in sorted(notes.items())
    )


__all__ = ["read_chapter", "read_text", "chapter_id", "source_line"]

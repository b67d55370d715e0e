"""One chapter file in, one :class:`~bookbuild.model.Chapter` out: the reader itself.

Kept out of the package's ``__init__`` so that what needs only its names and the text reader
(the PDF's workers, the transforms) does not import markdown-it, Pygments and the HTML
cleaning with it: 30 ms of each PDF worker's start.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ..cache import code_name
from ..cache.packs import EntryPack
from ..config.languages import language_facts
from ..config.manifest import ChapterEntry
from ..errors import Reporter, SourceError
from ..model import Chapter, Footnote, Heading
from ..resources import display_path
from ..slugs import id_slug, mdbook_id, mdbook_unique, unique
from ..xhtml import (
    LINE_ATTR,
    inner_xhtml,
    iter_elements,
    serialize_fragment,
    source_line,
    text_of,
)
from .text import HTML_SUFFIXES, MARKDOWN_SUFFIXES, chapter_id, read_text
from .code import Highlights
from .includes import LineMap, expand_includes
from .index_marks import mark_lines
from .markdown import markdown_to_html
from .headings import close_heading_gaps
from .sanitise import html_to_fragment
from .xhtml import mark_endnotes, section_kind, xhtml_body

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Set without a heading in print and on screen: without one in the file, none is made up
# (a heading-less chapter of another kind gets its title as a visible h1).
UNTITLED_KINDS = frozenset({"dedication", "epigraph"})
# What every index mark's attributes start with (HTML names them in any case).
_INDEX_MARK = re.compile("data-index", re.IGNORECASE)


def read_chapter(entry: ChapterEntry, index: int, reporter: Reporter | None = None, language: str = "en",
                 root: Path | None = None, code: EntryPack | None = None, math: bool = True) -> Chapter:
    """Parse one chapter file into a chapter with local links and image sources left as written.

    Raw HTML is cleaned to an allow-list here; what is removed is reported through ``reporter``.
    ``language`` (the book's) picks the quotation marks and call-out titles; ``root`` (the
    book folder) bounds the files an include may read; with ``code`` (the book's code pack,
    sources/pool.py) highlighted code blocks are kept from one parse of the chapter to the next;
    ``math`` (``[book] math``) reads dollars in Markdown as TeX.
    """
    name = display_path(entry.path)
    text = read_text(entry.path, reporter, root)
    if not text.strip() and reporter is not None:
        reporter.warn("chapter file is empty", name, hint="write its text, or take it out of chapters in book.toml")
    html, front_matter, lines = _to_html(entry.path, text, name, language, root, code, reporter, math)
    cid = chapter_id(index)
    wrapper = html_to_fragment(html, reporter, name)
    if lines.regions:
        _map_source_lines(wrapper, lines)
    if _INDEX_MARK.search(html):  # most chapters have no index mark: no search of the tree
        mark_lines(wrapper)  # index marks keep their line (index_marks.py)
    footnotes = _extract_footnotes(wrapper, cid)
    close_heading_gaps(wrapper, reporter, name)
    headings = _heading_ids(wrapper, entry, titled=bool(entry.title or _string(front_matter.get("title"))))
    mark_endnotes(wrapper)
    # a kind written in book.toml wins; else the file's own top section says what it is
    kind = (section_kind(wrapper) or entry.kind) if entry.kind == "chapter" else entry.kind
    title = entry.title or _string(front_matter.get("title")) or (headings[0].text if headings else None)
    untitled = not headings and kind in UNTITLED_KINDS
    if untitled:  # shows no heading: named (contents, screen readers) by its kind, in the book's language
        title = title or language_facts(language).label(kind)
    title = title or entry.path.stem
    top = 2 if entry.is_section else 1
    named = entry.title or _string(front_matter.get("title"))
    if not untitled and (not headings or (named and headings[0].level > top)):
        # no heading, or only lower ones under a title from book.toml or the front matter
        # (a docs page: "title: tsc CLI Options", then "## Using the CLI"): the title heads it
        headings = (_insert_title(wrapper, title, top), *headings)
    return Chapter(
        index=index,
        id=cid,
        source=entry.path,
        title=title,
        body=serialize_fragment(wrapper),
        headings=headings,
        footnotes=footnotes,
        title_id=headings[0].id if headings else cid,  # no heading: the links go to its section
        kind=kind,
    )


def _to_html(path: Path, text: str, name: str, language: str, root: Path | None,
             code: EntryPack | None, reporter: Reporter | None = None,
             math: bool = True) -> tuple[str, dict, LineMap]:
    """The chapter's HTML by its file type, its front matter, and the map from the lines of
    the text with includes expanded back to the lines of the file."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        text, lines = expand_includes(text, path, root or path.parent, name)
        highlights = Highlights(code, code_name(path) if code is not None and code.path is not None else "")
        try:
            warn = None if reporter is None else (  # lines of the file, not of the expanded text
                lambda message, line, hint: reporter.warn(message, name, line and lines.original(line), hint=hint))
            html, front_matter = markdown_to_html(text, name, language, highlights, math, warn)
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


def _insert_title(wrapper: etree._Element, title: str, level: int = 1) -> Heading:
    """A chapter without headings gets its title as its ``h1`` (a section: ``h2``), first."""
    h1 = etree.Element(f"h{level}")
    h1.text = title
    h1.set("id", id_slug(title))
    wrapper.insert(0, h1)
    h1.tail, wrapper.text = wrapper.text, None
    return Heading(level, title, h1.get("id"))


def _map_source_lines(wrapper: etree._Element, lines: LineMap) -> None:
    """Source lines of the expanded text -> lines of the chapter file as the author wrote it."""
    for node in iter_elements(wrapper):
        value = node.get(LINE_ATTR)
        if value and value.isdigit():
            node.set(LINE_ATTR, str(lines.original(int(value))))


def _string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _heading_ids(wrapper: etree._Element, entry: ChapterEntry, titled: bool = False) -> tuple[Heading, ...]:
    """Each heading's id: as written, else made from its text by the rule of the tool the file
    was written for (``entry.ids``: mdBook's keeps ``--``, so its authors' links resolve)."""
    taken: set[str] = set()
    for node in iter_elements(wrapper):
        if node.tag not in HEADING_TAGS and node.get("id"):
            taken.add(node.get("id").casefold())
    _promote_headings(wrapper, top=2 if entry.is_section else 1, titled=titled)
    headings = []
    counts: dict[str, int] = {}
    for node in iter_elements(wrapper):
        if node.tag in HEADING_TAGS:
            text = text_of(node)
            if node.get("id"):
                node.set("id", unique(node.get("id"), taken))
            elif entry.ids == "mdbook" and mdbook_id(text):
                node.set("id", mdbook_unique(mdbook_id(text), counts, taken))
            else:
                node.set("id", unique(id_slug(text), taken))
            headings.append(Heading(int(node.tag[1]), text, node.get("id")))
    return tuple(headings)


def _promote_headings(wrapper: etree._Element, top: int = 1, titled: bool = False) -> None:
    """A chapter whose top heading is ``##`` (common in books made for the web) gets its
    headings raised so that it has an ``h1``: its title, with sections below it. A section
    (a file that continues its chapter) has its top heading at ``h2`` instead, under the
    chapter's ``h1``, whether it was written ``#`` or ``##``. A chapter ``titled`` in book.toml
    or its front matter keeps a top ``##`` as ``h2``: its title is set above it as ``h1``."""
    levels = [int(node.tag[1]) for node in iter_elements(wrapper) if node.tag in HEADING_TAGS]
    if titled and min(levels, default=top) > top:
        top += 1
    shift = min(levels, default=top) - top
    if shift:
        for node in iter_elements(wrapper):
            if node.tag in HEADING_TAGS:
                node.tag = f"h{min(6, int(node.tag[1]) - shift)}"


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

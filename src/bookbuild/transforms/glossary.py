"""The glossary: terms defined once, linked from the text, linking back to where they are used.

A ``kind = "glossary"`` chapter's definition lists are its entries: each ``dt`` a term
(``epub:type="glossterm"``, an id made from its text), each ``dd`` its definition
(``glossdef``). ``[widget]{.gloss}`` or ``[widgets]{gloss="widget"}`` in the text (a
``<span class="gloss">`` or ``<span data-gloss="widget">`` in an HTML chapter) becomes a link
to the term (``doc-glossref``): a relative link ``glossary.md#gloss-widget`` that
transforms/links.py resolves like any other, so every format gets it. Each definition ends
with back-links (``doc-backlink``) to the places that use the term, grouped by chapter.

Two stages: :func:`mark_glossary` before the book-wide ids (so that the ids it gives terms
and references are made unique and known to every renderer), :func:`link_glossary` after
them. What a chapter gives the glossary (the terms it defines, the terms it refers to) is
part of its exports to the transforms memo (glossary_marks.py, read by memo.py): a
new reference changes the glossary's back-links, so it must miss the glossary's entry.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from urllib.parse import quote

from lxml import etree

from ..errors import Reporter
from ..model import Book, Chapter
from ..resources import display_path
from ..sources.xhtml import EPUB_TYPE_ATTR
from ..xhtml import iter_elements, source_line, text_of
from .bodies import Bodies
from .glossary_marks import (
    GLOSS_ATTR,
    Marks,
    exported_marks,
    may_refer,
    own_items,
    read_marks,
    ref_ids,
    ref_key,
    references,
    term_nodes,
)
from .memo import TransformMemo


@dataclass
class Glossary:
    """The marks of every chapter, by chapter id, from :func:`mark_glossary`."""

    marks: dict[str, Marks] = field(default_factory=dict)


def mark_glossary(book: Book, reporter: Reporter, bodies: Bodies, memo: TransformMemo) -> tuple[Book, Glossary]:
    """Give terms and references their ids and semantics; warn about a glossary without a
    definition list and a term defined twice."""
    glossary = Glossary()
    for chapter in book.chapters:
        stored = memo.stored(chapter)
        if stored is not None:
            glossary.marks[chapter.id] = exported_marks(memo.exports.get(chapter.id) or [])
            memo.report_warnings(stored, "glossary-terms", reporter)
            continue
        wrapper = bodies.chapter(chapter)
        marks = glossary.marks[chapter.id] = read_marks(wrapper, may_refer(chapter.body))
        if marks.refs:
            for span, written in zip(references(wrapper), ref_ids(chapter, len(marks.refs), marks.ids)):
                _to_reference(span).set("id", written)
        with memo.stage(chapter, "glossary-terms", reporter) as chapter_reporter:
            if chapter.kind == "glossary":
                _mark_terms(chapter, wrapper, marks, chapter_reporter)
    return book, glossary


def _to_reference(span: etree._Element) -> etree._Element:
    """A reference span as the link it becomes (its target set by :func:`link_glossary`)."""
    span.set(GLOSS_ATTR, ref_key(span))
    span.tag = "a"
    classes = [name for name in (span.get("class") or "").split() if name != "gloss"]
    span.set("class", " ".join(["glossref", *classes]))
    return span


def _mark_terms(chapter: Chapter, wrapper: etree._Element, marks: Marks, reporter: Reporter) -> None:
    file = display_path(chapter.source)
    nodes = term_nodes(wrapper)
    if not nodes:
        first_block = next(iter_elements(wrapper), None)
        line = (source_line(first_block) if first_block is not None else None) or 1
        reporter.warn("glossary chapter has no definition list: no term is defined", file, line,
                      hint="write each term on a line and its definition after ': ' on the next")
        return
    first: dict[str, int | None] = {}
    for dt, (key, written, line) in zip(nodes, marks.terms):
        if key in first:
            where = f" (first at line {first[key]})" if first[key] else ""
            reporter.warn(f"glossary term '{text_of(dt).strip()}' is defined twice{where}", file, line,
                          hint="merge the two definitions: references link to the first")
        else:
            first[key] = line
        dt.set("id", written)
        _add_semantics(dt, "glossterm", "term")
        if dt.find(".//dfn") is None:  # the defining instance of the term (HTML's dfn)
            dfn = etree.Element("dfn")
            dfn.text, dt.text = dt.text, None
            for child in list(dt):
                dfn.append(child)
            dt.append(dfn)
    for dl in wrapper.iter("dl"):
        for dd in own_items(dl, "dd"):
            _add_semantics(dd, "glossdef", "definition")


def _add_semantics(node: etree._Element, epub_type: str, role: str) -> None:
    terms = (node.get(EPUB_TYPE_ATTR) or "").split()
    node.set(EPUB_TYPE_ATTR, " ".join(dict.fromkeys([*terms, epub_type])))
    if node.get("role") is None:
        node.set("role", role)


def link_glossary(book: Book, glossary: Glossary, reporter: Reporter, bodies: Bodies, memo: TransformMemo) -> Book:
    """Point each reference at its term, warn about a term no glossary defines (with the
    nearest one), and end each definition with links back to the term's uses."""
    terms: dict[str, tuple[Chapter, str]] = {}
    for chapter in book.chapters:
        if chapter.kind == "glossary":
            for key, written, _line in glossary.marks[chapter.id].terms:
                terms.setdefault(key, (chapter, written))
    uses: dict[str, list[tuple[int, Chapter, str]]] = {}  # numbered in reading order
    seen = 0
    for chapter in book.chapters:
        marks = glossary.marks[chapter.id]
        for key, written in zip(marks.refs, ref_ids(chapter, len(marks.refs), marks.ids)):
            if key in terms:
                seen += 1
                uses.setdefault(key, []).append((seen, chapter, written))
        stored = memo.stored(chapter)
        if stored is not None:
            memo.report_warnings(stored, "glossary", reporter)
            continue
        with memo.stage(chapter, "glossary", reporter) as chapter_reporter:
            if may_refer(chapter.body):  # its references became links in mark_glossary
                wrapper = bodies.chapter(chapter)
                for link in [node for node in wrapper.iter("a") if node.get(GLOSS_ATTR) is not None]:
                    _link(link, chapter, terms, chapter_reporter)
            for note in chapter.footnotes:  # a note's references link, without back-links
                if may_refer(note.body):
                    for span in references(bodies.note(chapter, note)):
                        _link(_to_reference(span), chapter, terms, chapter_reporter)
    for chapter in book.chapters:
        if chapter.kind == "glossary" and memo.stored(chapter) is None:
            _add_backlinks(chapter, bodies.chapter(chapter), glossary.marks[chapter.id], uses)
    return book


def _link(link: etree._Element, chapter: Chapter, terms: dict[str, tuple[Chapter, str]], reporter: Reporter) -> None:
    key = link.attrib.pop(GLOSS_ATTR)
    target = terms.get(key)
    if target is None:
        near = difflib.get_close_matches(key, list(terms), n=1, cutoff=0.6)
        markdown = chapter.source.suffix.lower() in (".md", ".markdown")
        written = (f'[{text_of(link)}]{{gloss="{near[0]}"}}' if markdown else f'data-gloss="{near[0]}"') if near else ""
        hint = (f"did you mean '{near[0]}'? Write {written}" if near else
                "define it in the glossary chapter (kind = \"glossary\")" if terms else
                "add a chapter with kind = \"glossary\" to book.toml that defines it")
        reporter.warn(f"glossary term '{key}' is not defined", display_path(chapter.source), source_line(link),
                      hint=hint)
        link.tag = "span"
        return
    link.set("href", _href(chapter, *target))
    link.set("role", "doc-glossref")
    _add_epub_type(link, "glossref")


def _href(chapter: Chapter, target: Chapter, written: str) -> str:
    """A link from ``chapter`` to an id as written in ``target``, as an author would write it."""
    path = os.path.relpath(target.source, chapter.source.parent)
    return f"{quote(path.replace(os.sep, '/'))}#{quote(written, safe='')}"


def _add_epub_type(node: etree._Element, term: str) -> None:
    terms = (node.get(EPUB_TYPE_ATTR) or "").split()
    node.set(EPUB_TYPE_ATTR, " ".join(dict.fromkeys([*terms, term])))


def _add_backlinks(glossary_chapter: Chapter, wrapper: etree._Element, marks: Marks,
                   uses: dict[str, list[tuple[int, Chapter, str]]]) -> None:
    """After each definition, its term's uses: the first in each chapter by the chapter's
    title, the others of that chapter by number (as footnotes link back to their calls)."""
    pending: list[str] = []
    linked: set[str] = set()  # a term defined twice: references and back-links go to the first
    by_dt = dict(zip(term_nodes(wrapper), (key for key, _written, _line in marks.terms)))
    for dl in wrapper.iter("dl"):
        for node in own_items(dl, "dt", "dd"):
            if node.tag == "dt":
                pending.append(by_dt.get(node, ""))
                continue
            following = node.getnext()
            if following is not None and following.tag == "dd":
                continue  # the back-links go after the group's last definition
            found = sorted(use for key in dict.fromkeys(pending) if key not in linked for use in uses.get(key, ()))
            linked.update(pending)
            pending = []
            if found:
                node.append(_backlinks(glossary_chapter, found))


def _backlinks(glossary_chapter: Chapter, found: list[tuple[int, Chapter, str]]) -> etree._Element:
    paragraph = etree.Element("p", {"class": "gloss-uses"})
    mark = etree.SubElement(paragraph, "span", {"class": "gloss-uses-mark", "aria-hidden": "true"})
    mark.text = "\u21a9"
    mark.tail = " "
    grouped: dict[str, list[tuple[Chapter, str]]] = {}
    for _seq, chapter, written in found:
        grouped.setdefault(chapter.id, []).append((chapter, written))
    last: etree._Element = mark
    for number, group in enumerate(grouped.values()):
        if number:
            last.tail = (last.tail or "") + "; "
        for count, (chapter, written) in enumerate(group, start=1):
            link = etree.SubElement(paragraph, "a", {"href": _href(glossary_chapter, chapter, written),
                                                      "class": "gloss-backlink", "role": "doc-backlink"})
            link.text = chapter.title if count == 1 else str(count)
            if count > 1:  # the PDF prints "see page N" after the chapter's title only
                link.set("aria-label", f"{chapter.title} {count}")
                link.set("class", "gloss-backlink gloss-again")
                last.tail = (last.tail or "") + ", "
            last = link
    return paragraph

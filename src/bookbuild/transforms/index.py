"""The back-of-book index: the marks of every chapter gathered into one index chapter.

Runs after the other stages (on the finished bodies), because an index entry depends on the
marks of the whole book: each mark (sources/index_marks.py) gets an id, ranges are paired
(a start and its end, possibly in another chapter), "see" and "see also" are resolved
against the entries, and the index chapter is written: the author's ``kind = "index"``
chapter with the index after its own text, else a chapter added at the end when any term is
marked. Mark ids are made from the chapter's own id and the mark's place in it, so a
chapter's transformed text still depends only on what its key in ``Book.chapter_keys`` says.

The index is neutral XHTML with the EPUB Indexes 1.1 semantics as ``data-epub-type``
(``index-group``, ``index-entry-list``, ``index-entry``, ``index-term``, ``index-locator``,
``index-locator-range``, ``index-xref-preferred``, ``index-xref-related``). Each locator is a
link to its mark, its text a running number within the entry; the renderers replace those
numbers by printed page numbers where they know them (render/index_locators.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..cache import keyed_hash
from ..errors import Reporter
from ..model import Book, Chapter, Heading
from ..resources import display_path
from ..sources import chapter_id
from ..sources.index_marks import LINE
from ..xhtml import parse_fragment, serialize_fragment
from .index_sort import group_letter, sort_key

LEVELS = "!"  # main!sub!subsub


@dataclass
class Entry:
    """One entry of the index: its term as first written, its locators, cross-references and
    sub-entries."""

    term: str
    locators: list[tuple[str, ...]] = field(default_factory=list)  # (mark id,) or (start id, end id)
    chapters: list[tuple[str, ...]] = field(default_factory=list)  # the chapter title of each of those marks
    see: list[tuple[str, str, int | None]] = field(default_factory=list)  # (target, file, line)
    see_also: list[tuple[str, str, int | None]] = field(default_factory=list)
    children: dict[str, Entry] = field(default_factory=dict)
    id: str = ""


class _Index:
    """The entries as the marks are met in reading order."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.entries: dict[str, Entry] = {}
        self.open: dict[str, tuple[str, str, str, int | None]] = {}  # key -> (start id, title, file, line)

    def entry(self, path: str) -> Entry:
        level = self.entries
        entry = None
        for term in _terms(path):
            entry = level.setdefault(term.casefold(), Entry(term))
            level = entry.children
        assert entry is not None
        return entry

    def add(self, mark: etree._Element, mark_id: str, chapter: Chapter) -> None:
        where = (display_path(chapter.source), int(mark.get(LINE) or 0) or None)
        term, see, also = mark.get("data-index"), mark.get("data-index-see"), mark.get("data-index-see-also")
        start, end = mark.get("data-index-start"), mark.get("data-index-end")
        for path in (term, start, end, see, also):
            if path and _terms(path) and len(_terms(path)) < len(path.split(LEVELS)):
                self.reporter.warn(f"index term '{path}' has an empty level", *where,
                                   hint="write a term on each side of every '!': index=\"main!sub\"")
        if term is not None and _terms(term):
            entry = self.entry(term)
            if see:
                entry.see.append((see, *where))
            if also:
                entry.see_also.append((also, *where))
            if not see:  # "see also" keeps the mark's page: "moons, 4. See also rings"
                entry.locators.append((mark_id,))
                entry.chapters.append((chapter.title,))
        elif term is not None:
            self.reporter.warn("index mark with an empty term", *where, hint='[word]{index="term"}')
        if start and _terms(start):
            key = _key(start)
            if key in self.open:
                self.reporter.warn(f"index range '{start}' is opened again before it is closed", *where)
            self.open[key] = (mark_id, chapter.title, *where)
        if end and _terms(end):
            opened = self.open.pop(_key(end), None)
            if opened is None:
                self.reporter.warn(f"index range end '{end}' without a start", *where,
                                   hint=f'open it earlier with []{{index-start="{end}"}}')
            else:
                entry = self.entry(end)
                entry.locators.append((opened[0], mark_id))
                entry.chapters.append((opened[1], chapter.title))

    def close(self) -> None:
        """Warn about each range never closed; its entry keeps the start as a single locator."""
        for key, (start_id, title, file, line) in self.open.items():
            self.reporter.warn(f"index range '{key}' is never closed", file, line,
                               hint=f'close it with []{{index-end="{key}"}}; the index names only its start')
            entry = self.entry(key)
            entry.locators.append((start_id,))
            entry.chapters.append((title,))

    def check_references(self) -> None:
        for entry in _walk(self.entries):
            for target, file, line in entry.see + entry.see_also:
                if self.find(target) is None:
                    self.reporter.warn(f"index cross-reference '{target}' points at no entry", file, line,
                                       hint="write the term of an entry that is marked somewhere in the book")

    def find(self, target: str) -> Entry | None:
        """The entry a "see" names: its full path (``planets!Mercury``), else a main entry."""
        level, entry = self.entries, None
        for term in _terms(target):
            entry = level.get(term.casefold())
            if entry is None:
                return None
            level = entry.children
        return entry


def build_index(book: Book, reporter: Reporter) -> Book:
    """The book with ids on its index marks and its index chapter written (or added)."""
    index = _Index(reporter)
    chapters = list(book.chapters)
    owners = dict(book.id_owner)
    for position, chapter in enumerate(chapters):
        if "data-index" not in chapter.body and not any("data-index" in n.body for n in chapter.footnotes):
            continue
        chapters[position] = _collect(chapter, position, index, owners)
    index.close()
    place = next((n for n, c in enumerate(chapters) if c.kind == "index"), None)
    if place is None and not index.entries:
        return book
    index.check_references()
    if place is None:
        chapters.append(_added_chapter(book, len(chapters) + 1))
        place = len(chapters) - 1
    chapter = chapters[place]
    body = chapter.body + _index_body(index, chapter.id, book)
    chapters[place] = chapter.replace(body=body)
    owners.update({chapter.id: place, chapter.title_id: place})
    owners.update({match: place for match in _entry_ids(index)})
    keys = dict(book.chapter_keys)
    keys[chapter.id] = keyed_hash("index chapter", chapter.id, body, chapter.title)
    return book.replace(chapters=tuple(chapters), id_owner=owners, chapter_keys=keys)


def _collect(chapter: Chapter, position: int, index: _Index, owners: dict[str, int]) -> Chapter:
    """Give each mark of ``chapter`` an id and add it to the index: the body's marks, then
    those of its footnotes (a footnote prints on the page of its call; its marks link into
    the chapter's document, where the EPUB's notes are too)."""
    wrappers = [parse_fragment(chapter.body)] + [parse_fragment(note.body) for note in chapter.footnotes]
    number = 0
    for wrapper in wrappers:
        for mark in wrapper.xpath(".//*[@data-index or @data-index-start or @data-index-end]"):
            number += 1
            mark_id = mark.get("id")
            if not mark_id:
                mark_id = f"{chapter.id}-ix{number}"
                while mark_id in owners:
                    mark_id += "x"
                mark.set("id", mark_id)
                owners[mark_id] = position
            index.add(mark, mark_id, chapter)
            mark.attrib.pop(LINE, None)
    notes = tuple(note if "data-index" not in note.body else note.with_body(serialize_fragment(wrapper))
                  for note, wrapper in zip(chapter.footnotes, wrappers[1:]))
    return chapter.replace(body=serialize_fragment(wrappers[0]), footnotes=notes)


def _added_chapter(book: Book, number: int) -> Chapter:
    """The index chapter at the end of a book that marks terms and has none."""
    cid = chapter_id(number)
    title = book.language.label("index")
    title_id = f"{cid}-index"
    heading = etree.Element("h1", id=title_id)
    heading.text = title
    return Chapter(index=number, id=cid, source=book.source, title=title,
                   body=etree.tostring(heading, encoding="unicode"), headings=(Heading(1, title, title_id),),
                   title_id=title_id, kind="index", matter="back")


def _index_body(index: _Index, prefix: str, book: Book) -> str:
    """The index groups: a letter (or "Symbols") and its entries, in the language's order."""
    _number_entries(index.entries, prefix)
    groups: list[tuple[str, list[Entry]]] = []
    for entry in sorted(index.entries.values(), key=lambda e: sort_key(e.term)):
        letter = group_letter(entry.term) or book.language.label("index_symbols")
        if not groups or groups[-1][0] != letter:
            groups.append((letter, []))
        groups[-1][1].append(entry)
    html = []
    for number, (letter, entries) in enumerate(groups, start=1):
        section = etree.Element("section", {"data-epub-type": "index-group", "class": "index-group",
                                            "aria-labelledby": f"{prefix}-g{number}"})
        heading = etree.SubElement(section, "h2", id=f"{prefix}-g{number}")
        heading.text = letter
        section.append(_entry_list(entries, index, book))
        html.append(etree.tostring(section, encoding="unicode"))
    return "".join(html)


def _entry_list(entries: list[Entry], index: _Index, book: Book) -> etree._Element:
    listing = etree.Element("ul", {"data-epub-type": "index-entry-list", "class": "index-entries"})
    for entry in sorted(entries, key=lambda e: sort_key(e.term)):
        item = etree.SubElement(listing, "li", {"data-epub-type": "index-entry", "class": "index-entry",
                                                "id": entry.id})
        term = etree.SubElement(item, "span", {"data-epub-type": "index-term", "class": "index-term"})
        term.text = entry.term
        if entry.locators:
            item.append(_locators(entry))
        for targets, kind, label in ((entry.see, "index-xref-preferred", "index_see"),
                                     (entry.see_also, "index-xref-related", "index_see_also")):
            if targets:
                item.append(_xrefs(targets, kind, book.language.label(label), index))
        if entry.children:
            item.append(_entry_list(list(entry.children.values()), index, book))
    return listing


def _locators(entry: Entry) -> etree._Element:
    """``, 1, 2–3``: one link a mark (a range: to its start and its end), each numbered in
    order, so a range's start and end are two places (``2–3``); each link's title names the
    chapter of its own mark."""
    span = etree.Element("span", {"class": "index-locators"})
    last: etree._Element = span
    number = 0
    for locator, chapters in zip(entry.locators, entry.chapters):
        _append_text(span, last, ", ")
        if len(locator) == 1:
            number += 1
            last = _link(span, locator[0], str(number), "index-locator", chapters[0])
        else:
            last = etree.SubElement(span, "span", {"data-epub-type": "index-locator-range", "class": "index-range"})
            _link(last, locator[0], str(number + 1), "index-locator", chapters[0])
            last[0].tail = "\u2013"
            _link(last, locator[1], str(number + 2), "index-locator", chapters[-1])
            number += 2
    return span


def _xrefs(targets: list[tuple[str, str, int | None]], kind: str, label: str, index: _Index) -> etree._Element:
    """``. See planets, Mercury``: links to the entries named, as written when there is none."""
    span = etree.Element("span", {"class": f"index-xref {kind}"})
    span.text = ". "
    emphasis = etree.SubElement(span, "em")
    emphasis.text = label[:1].upper() + label[1:]
    emphasis.tail = " "
    last: etree._Element = emphasis
    seen = set()
    for number, (target, _, _) in enumerate(targets):
        if target.casefold() in seen:
            continue
        seen.add(target.casefold())
        if number:
            _append_text(span, last, "; ")
        found = index.find(target)
        text = ", ".join(_terms(target))
        if found is None:
            last = etree.SubElement(span, "span")
            last.text = text
        else:
            last = _link(span, found.id, text, kind, None)
    return span


def _link(parent: etree._Element, target: str, text: str, kind: str, chapter: str | None) -> etree._Element:
    link = etree.SubElement(parent, "a", {"href": f"#{target}", "data-epub-type": kind, "class": kind})
    if chapter is not None:
        link.set("title", chapter)
    link.text = text
    return link


def _append_text(parent: etree._Element, last: etree._Element, text: str) -> None:
    if last is parent:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _number_entries(entries: dict[str, Entry], prefix: str) -> None:
    for number, entry in enumerate(_walk_sorted(entries), start=1):
        entry.id = f"{prefix}-e{number}"


def _walk_sorted(entries: dict[str, Entry]):
    for entry in sorted(entries.values(), key=lambda e: sort_key(e.term)):
        yield entry
        yield from _walk_sorted(entry.children)


def _walk(entries: dict[str, Entry]):
    for entry in entries.values():
        yield entry
        yield from _walk(entry.children)


def _entry_ids(index: _Index) -> list[str]:
    return [entry.id for entry in _walk(index.entries)]


def _terms(path: str) -> list[str]:
    return [term.strip() for term in path.split(LEVELS) if term.strip()]


def _key(path: str) -> str:
    return LEVELS.join(_terms(path))

"""Number figures, tables and labelled equations through the book; name every target.

The number is written into the caption as text (``Figure 3.``), the same in every format,
and ``Book.labels`` maps each book-wide id to what an empty cross-reference link shows:
"Figure 3", "Table 1", "Equation 2", "Chapter 4", "Appendix A", or a heading's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from ..model import Book, Chapter
from .bodies import Bodies, numbered_kind

if TYPE_CHECKING:
    from ..config.languages import LanguageFacts
    from .memo import TransformMemo

KINDS = ("figure", "table", "equation", "chapter", "appendix", "part")


def words_for(language: LanguageFacts) -> dict[str, str]:
    """The label templates of the book's language (``words["chapter"].format(2)``): labels.py."""
    return {kind: language.label(kind) for kind in KINDS}


def number_things(book: Book, bodies: Bodies, memo: TransformMemo) -> Book:
    """Number captions and fill ``Book.labels``."""
    words = words_for(book.language)
    counters = {"figure": 0, "table": 0, "equation": 0}
    labels: dict[str, str] = {}
    for chapter in book.chapters:
        _chapter_labels(chapter, words, labels)
        stored = memo.stored(chapter)
        if stored is not None:  # its numbers were written: count them as a full run would
            for kind, node_id in stored.numbered:
                _count(kind, node_id, counters, labels, words)
            continue
        wrapper = bodies.chapter(chapter)
        _label_title(wrapper, chapter, words)
        numbered = []
        for node in wrapper.iter("figure", "table", "div"):
            kind = numbered_kind(node)
            if kind is None:
                continue
            label = _count(kind, node.get("id"), counters, labels, words)
            _write_number(node, kind, label, counters[kind])
            numbered.append((kind, node.get("id")))
        memo.entry(chapter).numbered = tuple(numbered)
    for chapter in book.chapters:
        if chapter.part is not None:
            labels.setdefault(chapter.part.id, words["part"].format(chapter.part.number))
    return book.replace(labels=labels)


def _count(kind: str, node_id: str | None, counters: dict[str, int], labels: dict[str, str],
           words: dict[str, str]) -> str:
    """The next number of ``kind``, as its label; the label of ``node_id`` when it has one."""
    counters[kind] += 1
    label = words[kind].format(counters[kind])
    if node_id:
        labels[node_id] = label
    return label


def _chapter_labels(chapter: Chapter, words: dict[str, str], labels: dict[str, str]) -> None:
    for heading in chapter.headings:
        labels[heading.id] = heading.text
    if chapter.number is not None:
        word = words["appendix"] if chapter.kind == "appendix" else words["chapter"]
        labels[chapter.title_id] = word.format(chapter.number)
    else:
        labels[chapter.title_id] = chapter.title


def _label_title(wrapper: etree._Element, chapter: Chapter, words: dict[str, str]) -> None:
    """A numbered chapter's heading starts with its label, so "Chapter 2" can be found by eye."""
    if chapter.number is None:
        return
    heading = next((h for h in wrapper.iter("h1") if h.get("id") == chapter.title_id), None)
    if heading is None:
        return
    word = words["appendix"] if chapter.kind == "appendix" else words["chapter"]
    span = etree.Element("span", {"class": "chapter-label"})
    span.text = word.format(chapter.number)
    span.tail = " " + (heading.text or "")
    heading.text = None
    heading.insert(0, span)


def _write_number(node: etree._Element, kind: str, label: str, number: int) -> None:
    span = etree.Element("span", {"class": f"{kind}-number"})
    if kind == "equation":
        span.text = f"({number})"
        node.insert(0, span)  # first, so that float: right sets it on the formula's line
        span.tail, node.text = node.text, None
        return
    caption = node.find("figcaption") if kind == "figure" else node.find("caption")
    span.text = f"{label}."
    span.tail = " " + (caption.text or "")
    caption.text = None
    caption.insert(0, span)

"""Number figures, tables and labelled equations through the book; name every target.

The number is written into the caption as text (``Figure 3.``), the same in every format,
and ``Book.labels`` maps each book-wide id to what an empty cross-reference link shows:
"Figure 3", "Table 1", "Equation 2", "Chapter 4", "Appendix A", or a heading's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from ..model import Book, Chapter
from .bodies import OWN_LABEL, Bodies, numbered_kind

if TYPE_CHECKING:
    from ..config.languages import LanguageFacts
    from .memo import TransformMemo

KINDS = ("figure", "table", "equation", "chapter", "appendix", "part")


# A listing's label ("Listing 1-1: ..." in the Rust book, "示例 1-1：..." in its translation);
# languages without one here use the English word. The separator follows the language.
LISTING_WORDS = {"en": "Listing {}", "zh": "示例 {}", "ja": "リスト {}", "ko": "예제 {}", "fr": "Listing {}",
                 "de": "Listing {}", "es": "Listado {}", "it": "Listato {}", "pt": "Listagem {}"}
FULL_WIDTH_COLON = frozenset({"zh", "ja"})


def words_for(language: LanguageFacts) -> dict[str, str]:
    """The label templates of the book's language (``words["chapter"].format(2)``): labels.py."""
    words = {kind: language.label(kind) for kind in KINDS}
    words["listing"] = LISTING_WORDS.get(language.primary, LISTING_WORDS["en"])
    words["listing-separator"] = "：" if language.primary in FULL_WIDTH_COLON else ":"
    words["digits"] = language.digits
    return words


def _say(template: str, number: int | str, words: dict[str, str]) -> str:
    """A label with its number in the language's digits ("فصل ۲" in Persian), as
    ``LanguageFacts.number`` writes it; an author's own label ("4-1") is left as written."""
    return template.format(str(number).translate(str.maketrans("0123456789", words["digits"])))


def number_things(book: Book, bodies: Bodies, memo: TransformMemo) -> Book:
    """Number captions and fill ``Book.labels``."""
    words = words_for(book.language)
    counters = {"figure": 0, "listing": 0, "table": 0, "equation": 0}
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
                if node.tag == "figure":
                    _write_own_label(node, words, labels)
                continue
            label = _count(kind, node.get("id"), counters, labels, words)
            _write_number(node, kind, label, counters[kind], words)
            numbered.append((kind, node.get("id")))
        memo.entry(chapter).numbered = tuple(numbered)
    for chapter in book.chapters:
        if chapter.part is not None:
            labels.setdefault(chapter.part.id, _say(words["part"], chapter.part.number, words))
    return book.replace(labels=labels)


def _count(kind: str, node_id: str | None, counters: dict[str, int], labels: dict[str, str],
           words: dict[str, str]) -> str:
    """The next number of ``kind``, as its label; the label of ``node_id`` when it has one."""
    counters[kind] += 1
    label = _say(words[kind], counters[kind], words)
    if node_id:
        labels[node_id] = label
    return label


def _chapter_labels(chapter: Chapter, words: dict[str, str], labels: dict[str, str]) -> None:
    for heading in chapter.headings:
        labels[heading.id] = heading.text
    if chapter.number is not None:
        word = words["appendix"] if chapter.kind == "appendix" else words["chapter"]
        labels[chapter.title_id] = _say(word, chapter.number, words)
    else:
        labels[chapter.title_id] = chapter.title


def _label_title(wrapper: etree._Element, chapter: Chapter, words: dict[str, str]) -> None:
    """A numbered chapter's heading starts with its label, so "Chapter 2" can be found by eye."""
    if chapter.number is None:
        return
    heading = next((h for h in wrapper.iter("h1") if h.get("id") == chapter.title_id), None)
    if heading is None or _labelled(heading):
        return
    word = words["appendix"] if chapter.kind == "appendix" else words["chapter"]
    span = etree.Element("span", {"class": "chapter-label"})
    span.text = _say(word, chapter.number, words)
    span.tail = " " + (heading.text or "")
    heading.text = None
    heading.insert(0, span)


def _labelled(heading: etree._Element) -> bool:
    """A heading that carries its own label or number (Standard Ebooks' ``<span
    epub:type="z3998:ordinal">V</span>``, kept as ``data-epub-type``) is not labelled twice."""
    own = {"label", "ordinal", "se:label", "z3998:ordinal"}
    return any(own & set((node.get("data-epub-type") or "").split()) for node in heading.iter())


def _write_number(node: etree._Element, kind: str, label: str, number: int, words: dict[str, str]) -> None:
    span = etree.Element("span", {"class": f"{kind}-number"})
    if kind == "equation":
        span.text = _say("({})", number, words)
        node.insert(0, span)  # first, so that float: right sets it on the formula's line
        span.tail, node.text = node.text, None
        return
    caption = node.find("figcaption") if kind in ("figure", "listing") else node.find("caption")
    span.text = label + (words["listing-separator"] if kind == "listing" else ".")
    _prepend(caption, span)


def _prepend(caption: etree._Element, span: etree._Element) -> None:
    """The label first in the caption, a space after it unless the caption is empty or the
    label ends in a full-width colon (which carries its own space)."""
    rest = caption.text or ""
    space = "" if not (rest or len(caption)) or span.text.endswith("：") else " "
    span.tail, caption.text = space + rest, None
    caption.insert(0, span)


def _write_own_label(node: etree._Element, words: dict[str, str], labels: dict[str, str]) -> None:
    """A figure its author labelled: a listing's number ("Listing 1-1:") written before its
    caption, or the caption's own "Figure 17-6:" marked as its label; never a second one.

    Cross-references to its id show the author's label.
    """
    caption = node.find("figcaption")
    if caption is None:
        return
    kind = "listing" if "listing" in (node.get("class") or "").split() else "figure"
    number = node.attrib.pop("data-bb-number", None)
    word = node.attrib.pop("data-bb-label", None)
    if number:
        label = (word + " {}" if word else words["listing"]).format(number)
        span = etree.Element("span", {"class": f"{kind}-number"})
        span.text = label + words["listing-separator"]
        _prepend(caption, span)
    else:
        match = OWN_LABEL.match(caption.text or "")
        if match is None:  # the label is split by markup; leave the caption as written
            return
        label = match.group(1)
        span = etree.Element("span", {"class": f"{kind}-number"})
        span.text = caption.text[:match.end()].rstrip()
        space = "" if span.text.endswith("：") else " "
        span.tail, caption.text = space + caption.text[match.end():], None
        caption.insert(0, span)
    if node.get("id"):
        labels[node.get("id")] = label

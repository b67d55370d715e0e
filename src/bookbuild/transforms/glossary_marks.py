"""What a chapter gives the glossary: the terms it defines and the terms it refers to.

Read from a chapter's tree as the reader made it, and deterministic: the transforms memo
(memo.py) keeps them among a chapter's exports, and the glossary stages (glossary.py) take a
chapter the memo holds from them without parsing it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from lxml import etree

from ..model import Chapter
from ..slugs import id_slug, unique
from ..xhtml import iter_elements, source_line, text_of

GLOSS_ATTR = "data-gloss"
REF_PREFIX = "gloss-ref-"
_SPACES = re.compile(r"\s+")


def term_key(text: str) -> str:
    """What a term is matched by: its text without case, width or spacing differences."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


@dataclass
class Marks:
    """What one chapter gives the glossary: the keys of its references in order, and its
    terms as (key, id as written, source line)."""

    refs: list[str] = field(default_factory=list)
    terms: list[tuple[str, str, int | None]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the chapter's own ids, as read


def may_refer(body: str) -> bool:
    """False when the body, as text, cannot hold a reference: each has ``gloss`` in its class
    or its ``data-gloss`` attribute. A look at the text (microseconds) spares most chapters
    and notes the search of their tree, made three times a chapter: a hundredth of a second of
    a large book's transforms."""
    return "gloss" in body


def references(wrapper: etree._Element) -> list[etree._Element]:
    """The spans that refer to a term, in reading order (none inside or around a link)."""
    found = []
    for span in _MAYBE_REFERENCES(wrapper):  # lxml's own test first: most spans are no reference
        if span.get(GLOSS_ATTR) is None and "gloss" not in (span.get("class") or "").split():
            continue
        if span.find(".//a") is not None or any(node.tag == "a" for node in span.iterancestors()):
            continue
        found.append(span)
    return found


_MAYBE_REFERENCES = etree.XPath(f"descendant-or-self::span[@{GLOSS_ATTR} or contains(@class, 'gloss')]")


def ref_key(span: etree._Element) -> str:
    return term_key(span.get(GLOSS_ATTR) or text_of(span))


def term_nodes(wrapper: etree._Element) -> list[etree._Element]:
    """Every ``dt`` of the chapter's definition lists (also in HTML's ``<div>`` groups)."""
    return [dt for dl in wrapper.iter("dl") for dt in own_items(dl, "dt")]


def own_items(dl: etree._Element, *tags: str) -> list[etree._Element]:
    """The items of ``dl`` itself, not of a list nested in one of its definitions."""
    return [node for node in dl.iter(*tags) if next(node.iterancestors("dl")) is dl]


def read_marks(wrapper: etree._Element, refers: bool = True) -> Marks:
    """Read from a tree as the reader made it: deterministic, so a memo hit can trust it.
    ``refers``: :func:`may_refer` of the body's text (False: no reference is looked for)."""
    spans, dts = references(wrapper) if refers else [], term_nodes(wrapper)
    ids = [node.get("id") for node in iter_elements(wrapper) if node.get("id")] if spans or dts else []
    taken = {name.casefold() for name in ids}
    terms = []
    for dt in dts:
        written = dt.get("id") or unique(f"gloss-{id_slug(text_of(dt), default='term')}", taken)
        terms.append((term_key(text_of(dt)), written, source_line(dt)))
    return Marks([ref_key(span) for span in spans], terms, ids)


def glossary_exports(wrapper: etree._Element, refers: bool = True) -> list:
    """The chapter's glossary marks as JSON data, for the memo's book digest (``refers``: as
    for :func:`read_marks`)."""
    marks = read_marks(wrapper, refers)
    # Without the terms' lines: a line added above a term changes nothing another chapter sees.
    return [marks.refs, [[key, written] for key, written, _line in marks.terms]] if marks.refs or marks.terms else []


def exported_marks(exported: list) -> Marks:
    """A chapter's marks from its exports (memo.tree_exports: ids first, the glossary's last)."""
    refs, terms = exported[3] if len(exported) > 3 and exported[3] else ([], [])
    return Marks(list(refs), [(key, written, None) for key, written in terms],
                 [pair[0] for pair in exported[0]] if exported else [])


def ref_ids(chapter: Chapter, count: int, ids: list[str]) -> list[str]:
    """The ids written on a chapter's references: ``gloss-ref-ch02-1``... (the chapter's id
    keeps them apart from other chapters'), none an id the chapter has."""
    taken = {name.casefold() for name in ids}
    return [unique(f"{REF_PREFIX}{chapter.id}-{n}", taken) for n in range(1, count + 1)]

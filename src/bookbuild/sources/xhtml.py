"""HTML and XHTML chapters: the ``<body>`` of the file is the chapter body.

EPUB XHTML (Standard Ebooks) says what each element is with ``epub:type``; the vocabularies
those values come from, and the kind a file's top section gives its chapter, are here.
"""

from __future__ import annotations

import re

from lxml import etree

from ..xhtml import line_marker

_BODY_OPEN = re.compile(r"<body\b", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


def xhtml_body(text: str, file: str) -> str:
    """The content of ``<body>`` (or the whole text for a bare fragment), as HTML.

    Found with single forward searches (a backtracking pattern took minutes on a file of
    repeated ``<body``). A line marker in front tells the cleaner where the body starts, so
    its warnings name the line in the author's file.
    """
    opening = _BODY_OPEN.search(text)
    start = text.find(">", opening.end()) + 1 if opening else 0
    if not opening or start == 0:
        return line_marker(1) + text
    closings = [m.start() for m in _BODY_CLOSE.finditer(text, start)]
    end = closings[-1] if closings else len(text)
    return line_marker(text.count("\n", 0, start) + 1) + text[start:end]


# --- EPUB structural semantics (epub:type) ---------------------------------------------------
# The model is namespace-less XHTML, so an author's ``epub:type`` is kept in it as
# ``data-epub-type`` (render/epub writes it back as ``epub:type``; the PDF's copy of the
# author's stylesheets selects on it). Values are checked here, once, for every chapter.
EPUB_TYPE_ATTR = "data-epub-type"
# The EPUB 3 Structural Semantics Vocabulary 1.1 (https://www.w3.org/TR/epub-ssv-11/), as
# EPUBCheck knows it, without the terms it refuses in content documents (aside, figure, list,
# list-item, table, table-cell, table-row), plus its index terms.
SSV_TERMS = frozenset(
    "abstract acknowledgments afterword annoref annotation appendix assessment backlink backmatter "
    "biblioentry bibliography biblioref bodymatter bridgehead chapter colophon concluding-sentence "
    "conclusion contributors copyright-page cover covertitle credit credits dedication division endnote "
    "endnotes epigraph epilogue errata footnote footnotes foreword frontmatter fulltitle glossary "
    "glossdef glossref glossterm halftitle halftitlepage help imprimatur imprint index introduction "
    "keyword landmarks learning-objective learning-resource loa loi lot lov marginalia note noteref "
    "notice other-credits pagebreak page-list part preamble preface prologue pullquote qna rearnote "
    "rearnotes revision-history sidebar subchapter subtitle tip title titlepage toc topic-sentence "
    "volume warning index-editor-note index-entry index-entry-list index-group index-headnotes "
    "index-legend index-locator index-locator-list index-locator-range index-term "
    "index-term-categories index-term-category index-xref-preferred index-xref-related".split()
)
# The Z39.98-2012 structural semantics vocabulary (``z3998:``, a prefix EPUB reserves), which
# Standard Ebooks use for what the EPUB vocabulary lacks (verse, letters, names, ordinals).
Z3998_TERMS = frozenset(
    "acknowledgments acronym actor afterword alteration annoref annotation appendix article aside "
    "attribution author award backmatter bcc bibliography biographical-note bodymatter cardinal "
    "catalogue cc chapter children citation clarification collection colophon commentary commentator "
    "compound concluding-sentence conclusion continuation continuation-of contributors coordinate "
    "correction correspondent cover currency decimal dedication diary diary-entry discography division "
    "drama dramatis-personae editor editorial-note email email-message epigraph epilogue errata essay "
    "event example family-name fiction figure filmography footnote footnotes foreword fraction from "
    "frontispiece frontmatter ftp fulltitle gallery general-editor geographic given-name glossary "
    "grant-acknowledgment grapheme halftitle halftitle-page help homograph http hymn illustration "
    "image-placeholder imprimatur imprint index initialism introduction introductory-note ip isbn "
    "keyword letter loi lot lyrics marginalia measure mixed morpheme name-title nationality "
    "non-fiction nonresolving-citation nonresolving-reference note noteref notice orderedlist ordinal "
    "organization other-credits pagebreak page-footer page-header part percentage persona "
    "personal-name pet-name phone phoneme photograph place play poem portmanteau postal postal-code "
    "postscript practice preamble preface prefix presentation primary product production prologue "
    "promotional-copy published-works publisher-address publisher-logo range ratio rearnote rearnotes "
    "recipient recto reference republisher resolving-reference result role-description roman root "
    "salutation scene secondary section sender sentence sidebar signature song speech stage-direction "
    "stem structure subchapter subject subsection subtitle suffix surname taxonomy tertiary text "
    "textbook t-form timeline title title-page to toc topic-sentence translator unorderedlist "
    "valediction verse verso v-form volume warning weight word".split()
)
# Standard Ebooks' own vocabulary (declared by their files as ``se:``); open-ended and dotted
# (se:name.publication.book), so its terms are checked for their form only.
PREFIXES = {"z3998": "http://www.daisy.org/z3998/2012/vocab/structure/#",
            "se": "https://standardebooks.org/vocab/1.0"}  # declared in each EPUB document using them
_SE_TERM = re.compile(r"^se:[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$")
# A file's top section -> the bookbuild kind (config/chapters.py) of the chapter it is.
# Pages about the edition (imprint, copyright page, credits, title pages, lists of
# illustrations) have no kind of their own: they are unnumbered, like a colophon.
SECTION_KINDS = {
    **{kind: kind for kind in ("chapter", "dedication", "epigraph", "foreword", "preface", "acknowledgments",
                               "introduction", "prologue", "afterword", "epilogue", "appendix", "glossary",
                               "bibliography", "colophon", "endnotes")},
    "footnotes": "endnotes", "rearnotes": "endnotes", "conclusion": "afterword", "preamble": "preface",
    **{term: "colophon" for term in ("imprint", "copyright-page", "titlepage", "halftitlepage", "imprimatur",
                                     "contributors", "other-credits", "credits", "errata", "revision-history",
                                     "loi", "lot", "loa", "lov")},
}


def epub_type_terms(value: str) -> tuple[list[str], list[str]]:
    """The terms of an ``epub:type`` value that EPUB reading systems know, and those they do
    not (removed, so that the EPUB says only what its vocabularies define)."""
    kept, unknown = [], []
    for term in dict.fromkeys(value.split()):  # once each, in order
        prefix, _, name = term.rpartition(":")
        known = (name in SSV_TERMS if not prefix else name in Z3998_TERMS if prefix == "z3998"
                 else bool(_SE_TERM.match(term)) if prefix == "se" else False)
        (kept if known else unknown).append(term)
    return kept, unknown


def section_kind(wrapper: etree._Element) -> str | None:
    """The kind a file says it is: the epub:type of its one top-level element (Standard
    Ebooks: ``<section epub:type="imprint">``), mapped by :data:`SECTION_KINDS`."""
    tops = [node for node in wrapper if isinstance(node.tag, str)]
    if len(tops) != 1 or tops[0].tag not in ("section", "article", "div", "nav"):
        return None
    terms = (tops[0].get(EPUB_TYPE_ATTR) or "").split()
    return next((SECTION_KINDS[term] for term in terms if term in SECTION_KINDS), None)


def mark_endnotes(wrapper: etree._Element) -> None:
    """The items of an endnotes section's list are its notes (``epub:type="endnote"``, as
    Standard Ebooks write them), so that a noteref's target is a note to a reading system
    even in files that left the item's own epub:type out."""
    for section in wrapper.iter():
        if "endnotes" not in (section.get(EPUB_TYPE_ATTR) or "").split():
            continue
        for item in section.iterfind("ol/li"):
            if item.get("id") and not item.get(EPUB_TYPE_ATTR):
                item.set(EPUB_TYPE_ATTR, "endnote")

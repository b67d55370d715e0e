"""The author's ``epub:type`` back in the EPUB, with the ARIA roles that go with it.

The model keeps an author's structural semantics as ``data-epub-type`` (namespace-less
XHTML; sources/xhtml.py checked the terms). Here each becomes ``epub:type`` again, so the
author's own stylesheets (``section[epub|type~="imprint"]``) and reading systems (pop-up
notes for ``noteref``) see what the author wrote. As Standard Ebooks' own build does, an
element gets the DPUB-ARIA role of its first term that has one, unless it has a role: Ace
checks that ``epub:type`` and ``role`` agree. A chapter whose file has its own top section
(``<section epub:type="imprint">``) lets that section carry the chapter's semantics: the
section bookbuild wraps the chapter in gets no role of its own, so that nothing is said twice
and the author's ``section[epub|type~="colophon"]`` rules do not reach an imprint.
"""

from __future__ import annotations

from lxml import etree

from ...sources.xhtml import EPUB_TYPE_ATTR, PREFIXES, SECTION_KINDS
from ...xhtml import XHTML_NS

OPS_NS = "http://www.idpf.org/2007/ops"
EPUB_TYPE = f"{{{OPS_NS}}}type"
# EPUB structural semantics with a DPUB-ARIA 1.1 role of the same name (not the deprecated
# doc-biblioentry and doc-endnote; not doc-backlink, which base.css shows without an underline,
# for bookbuild's own note numbers: an author's backlink in a line of text stays a marked link).
ROLE_TERMS = frozenset(
    "abstract acknowledgments afterword appendix bibliography biblioref chapter colophon "
    "conclusion cover credit credits dedication endnotes epigraph epilogue errata footnote foreword "
    "glossary glossref index introduction noteref notice pagebreak part preface prologue pullquote qna "
    "subtitle tip toc".split()
)
# Elements a doc-* role may not be given (HTML's ARIA rules): the document's own structure.
NO_ROLE = frozenset({"article", "html", "body", "head", "main", "li", "td", "th", "tr"})


def authors_semantics(root: etree._Element, chapter_id: str) -> None:
    """Write ``data-epub-type`` back as ``epub:type`` in a chapter document, in place."""
    typed = [node for node in root.iter(f"{{{XHTML_NS}}}*") if node.get(EPUB_TYPE_ATTR)]
    if not typed:
        return
    for node in typed:
        terms = node.attrib.pop(EPUB_TYPE_ATTR).split()
        node.set(EPUB_TYPE, " ".join(terms))
        role = next((term for term in terms if term in ROLE_TERMS), None)
        if role and node.get("role") is None and etree.QName(node).localname not in NO_ROLE:
            node.set("role", f"doc-{role}")
    used = {term.partition(":")[0] for node in typed for term in node.get(EPUB_TYPE).split() if ":" in term}
    if used:  # EPUBCheck: a prefix is declared on the document's root (epub:prefix)
        root.set(f"{{{OPS_NS}}}prefix", " ".join(f"{name}: {PREFIXES[name]}" for name in sorted(used)))
    _one_top_section(root, chapter_id)


def _one_top_section(root: etree._Element, chapter_id: str) -> None:
    """bookbuild's chapter section steps back when the author's top section says what the
    chapter is."""
    wrapper = next((node for node in root.iter(f"{{{XHTML_NS}}}section") if node.get("id") == chapter_id), None)
    if wrapper is None:
        return
    tops = [node for node in wrapper if isinstance(node.tag, str) and not _is_footnotes(node)]
    if len(tops) == 1 and any(term in SECTION_KINDS for term in (tops[0].get(EPUB_TYPE) or "").split()):
        wrapper.attrib.pop("role", None)


def _is_footnotes(node: etree._Element) -> bool:
    return "footnotes" in (node.get("class") or "").split()

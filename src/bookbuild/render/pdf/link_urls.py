"""External links in print: the text of the link is set as text (print.css), so a reader of
paper needs the address printed somewhere. ``[pdf] link_urls`` chooses where: in a footnote
(the default: the sentence stays whole), in brackets after the link's text, or nowhere.

The link itself stays a link (WeasyPrint writes its annotation, so the PDF on screen is still
clickable); the printed address is a link too. Not done for a link whose text already is its
address (an autolink), nor inside headings (the running head and the outline take their
text) or preformatted code. A link inside a footnote gets its address after its text: a note
has no notes.
"""

from __future__ import annotations

from lxml import etree

EXTERNAL = ("http://", "https://", "mailto:")
# The marks render/scripts.py puts around left-to-right runs in right-to-left text: not text.
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_NOT_HERE = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "a"})


def print_link_urls(wrapper: etree._Element, mode: str) -> None:
    """Add the printed address after each external link of a chapter's HTML ``wrapper``,
    as ``mode`` ("footnote", "after" or "none") says."""
    if mode == "none":
        return
    for link in list(wrapper.iter("a")):
        href = (link.get("href") or "").strip()
        if not href.lower().startswith(EXTERNAL) or link.get("role") in ("doc-noteref", "doc-backlink"):
            continue
        address = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
        text = " ".join("".join(link.itertext()).translate(_BIDI_MARKS).split())
        if not address or text.rstrip("/") in (address.rstrip("/"), href.rstrip("/")) or _inside(link, _NOT_HERE):
            continue
        in_note = _inside(link, frozenset(), note=True)
        _insert_after(link, _address(href, address, footnote=mode == "footnote" and not in_note))


def _address(href: str, address: str, footnote: bool) -> etree._Element:
    """``<span class="footnote link-url"><a>URL</a></span>`` (floated to the page foot by
    print.css) or ``<span class="link-url"> (<a>URL</a>)</span>``."""
    span = etree.Element("span")
    span.set("class", "footnote link-url" if footnote else "link-url")
    inner = etree.SubElement(span, "a")
    inner.set("href", href)
    inner.text = address
    if not footnote:
        span.text = " ("
        inner.tail = ")"
    return span


def _insert_after(link: etree._Element, span: etree._Element) -> None:
    span.tail = link.tail
    link.tail = None
    link.addnext(span)


def _inside(node: etree._Element, tags: frozenset[str], note: bool = False) -> bool:
    """Whether an ancestor of ``node`` is one of ``tags`` (or, with ``note``, a footnote)."""
    for ancestor in node.iterancestors():
        if ancestor.tag in tags:
            return True
        if note and "footnote" in (ancestor.get("class") or "").split():
            return True
    return False

"""XHTML fragments: parse forgiving HTML into well-formed XML and back to text.

Model bodies are namespace-less XHTML fragments; this module is the one place that turns
HTML (from markdown-it or an author's raw HTML) into them, and parses them again for the
transforms and renderers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

# Characters XML 1.0 forbids (C0 controls except tab, newline, carriage return; U+FFFE/FFFF).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Our own serialized fragments are parsed with this: no entities, no DTD, no network.
SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  dtd_validation=False, huge_tree=False)

LINE_ATTR = "data-bb-line"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
XHTML_NS = "http://www.w3.org/1999/xhtml"


BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table thead tbody tr td th blockquote pre figure "
    "figcaption div section aside hr".split()
)


def parse_fragment(body: str) -> etree._Element:
    """Parse a model body (well-formed XHTML fragment) into a ``<div>`` wrapper."""
    return etree.fromstring(f"<div>{body}</div>", SAFE_XML_PARSER)


def serialize_fragment(wrapper: etree._Element) -> str:
    """The children (and leading text) of a wrapper, as XHTML text."""
    if wrapper.tag == "div" and not wrapper.attrib and not wrapper.nsmap:  # a parse_fragment wrapper
        text = etree.tostring(wrapper, encoding="unicode", with_tail=False)  # one call, not one per child
        return "" if text == "<div/>" else text[len("<div>"):-len("</div>")]
    head = _escape(wrapper.text or "")
    return head + "".join(etree.tostring(child, encoding="unicode", with_tail=True) for child in wrapper)


def inner_xhtml(element: etree._Element) -> str:
    """The content of one element, without its own tag."""
    return serialize_fragment(element)


def text_of(element: etree._Element) -> str:
    """The element's text content, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def source_line(element: etree._Element) -> int | None:
    """The source line recorded on the nearest block ancestor-or-self, if any."""
    node: etree._Element | None = element
    while node is not None:
        value = node.get(LINE_ATTR)
        if value and value.isdigit():
            return int(value)
        node = node.getparent()
    return None


def strip_line_numbers(wrapper: etree._Element) -> None:
    """Remove the source-line bookkeeping attributes before output (in lxml's C loop: a
    Python walk of every node was a tenth of the transforms' time)."""
    etree.strip_attributes(wrapper, LINE_ATTR)


def iter_elements(wrapper: etree._Element, tag: str | None = None) -> Iterator[etree._Element]:
    """Elements below the wrapper (not the wrapper itself), optionally by tag: lxml's own
    iterator, which skips comments and processing instructions itself, with the wrapper
    (always the first node it gives, when it matches) taken off."""
    nodes = wrapper.iter(tag or etree.Element)
    if not tag or wrapper.tag == tag:
        next(nodes, None)
    return nodes


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def line_marker(line: int) -> str:
    """A comment that tells :func:`clean_fragment` which source line the HTML after it starts on."""
    return f"<!--bb-line:{line}-->"


def unwrap(node: etree._Element) -> None:
    """Replace an element by its content (text, children, tail), keeping document order."""
    parent = node.getparent()
    if parent is None:
        return
    index = parent.index(node)
    text, tail = node.text or "", node.tail or ""
    children = list(node)
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    parent.remove(node)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        last = children[-1]
        last.tail = (last.tail or "") + tail
    elif index == 0:
        parent.text = (parent.text or "") + tail
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + tail


def remove_keep_tail(node: etree._Element) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def body_text(fragment: str) -> str:
    """The characters of a model body, without markup."""
    return "".join(parse_fragment(fragment).itertext())

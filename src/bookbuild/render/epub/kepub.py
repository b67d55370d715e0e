"""EPUB -> Kobo kepub: the same book with the markup Kobo's own conversion adds.

A Kobo reader gives its reading statistics, highlights and bookmarks only in a kepub: a
book whose content documents carry ``<span class="koboSpan" id="kobo.P.S">`` around each
sentence (P counts the paragraphs, S the segments in one) and whose body is wrapped in
``div#book-columns > div#book-inner``, the box Kobo paginates. The rules follow what
kepubify (pgaskin/kepubify, kepub/transform.go) found in Kobo's own kepubs: a span per
sentence of each text node, never across an element's edge, so that links, notes and
inline markup keep their place; whitespace wrapped only directly inside ``<p>``; an image
(and a ``<time>``, whose content may hold no element) in a span of its own; nothing inside
``<pre>``, scripts, MathML or SVG. Inline code is one segment (never split at a full stop),
and the navigation document is left as it is: Kobo lists the contents from the NCX, and
the nav's content model is EPUB's strictest.

This is a post-process of the finished EPUB (the zip the EPUB renderer made), so the
kepub is that EPUB with spans added and nothing else changed: same files, same text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from urllib.parse import unquote

from lxml import etree

from ...xhtml import MATHML_NS, SAFE_XML_PARSER, XHTML_NS
from .container import DeflateCache, stored, write_zip
from .pagelist import serialize_document

SVG_NS = "http://www.w3.org/2000/svg"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF_NS = "http://www.idpf.org/2007/opf"
SPAN_CLASS = "koboSpan"
WRAPPERS = ("book-columns", "book-inner")
# Kobo's own style tweak for its wrapper (as kepubify adds it): the pagination box has no margins.
KOBO_STYLE = "div#book-inner { margin-top: 0; margin-bottom: 0; }"
KOBO_STYLE_ID = "kobostylehacks"

# Elements whose text is kept exactly as it is: no span inside (<rp>, <option> and <textarea>
# may hold only text, <picture> only its sources and image).
UNTOUCHED = frozenset({"pre", "script", "style", "audio", "video", "textarea", "select", "option",
                       "template", "picture", "rp"})
# Elements that start a new Kobo paragraph number (Kobo's own list, as kepubify records it).
PARAGRAPHS = frozenset({"p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
# Elements put whole into one span: an image (which starts a paragraph number of its own, as
# in Kobo's kepubs), and <time>, whose text may hold no element when it has no datetime.
WHOLE = frozenset({"img", "time"})
# Inline code and its kin: one segment per text node, never split at a full stop.
UNSPLIT = frozenset({"code", "kbd", "samp", "var"})

# A sentence ends after . ! ? or an ellipsis, any closing quotes or brackets, then whitespace
# (which stays with it); CJK full stops end one without a space. Anything left is one segment.
SENTENCE = re.compile(r".*?(?:[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+"
                      r"|[\u3002\uff01\uff1f]+[\u201d\u2019\u300d\u300f\uff09]*\s*)|.+", re.DOTALL)


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each sentence; the pieces join back to exactly ``text``."""
    return SENTENCE.findall(text)


class _Counter:
    """The ``kobo.P.S`` numbering of one document: P moves on at the first text of a new
    paragraph (so an empty paragraph uses no number), S within it."""

    def __init__(self) -> None:
        self.paragraph = 0
        self.segment = 0
        self.new_paragraph = False

    def next_id(self, force_paragraph: bool = False) -> str:
        if self.new_paragraph or force_paragraph:
            self.paragraph += 1
            self.segment = 0
            self.new_paragraph = False
        self.segment += 1
        return f"kobo.{self.paragraph}.{self.segment}"


def _local(element: etree._Element) -> tuple[str, str]:
    qname = etree.QName(element)
    return qname.namespace or "", qname.localname


def _span(span_id: str) -> etree._Element:
    return etree.Element(f"{{{XHTML_NS}}}span", {"class": SPAN_CLASS, "id": span_id})


def _pieces(text: str | None, parent: str, counter: _Counter) -> list[str | etree._Element]:
    """A text node as spans (and the bare whitespace Kobo leaves outside them)."""
    if not text:
        return []
    pieces: list[str | etree._Element] = []
    for sentence in [text] if parent in UNSPLIT else split_sentences(text):
        if sentence.isspace() and parent != "p":
            pieces.append(sentence)
            continue
        span = _span(counter.next_id())
        span.text = sentence
        pieces.append(span)
    return pieces


def _add_spans(element: etree._Element, counter: _Counter) -> None:
    """Spans in ``element``'s text and its descendants', in document order."""
    namespace, name = _local(element)
    if namespace != XHTML_NS or name in UNTOUCHED:
        return  # MathML, SVG and kept-as-is elements
    if name in PARAGRAPHS:
        counter.new_paragraph = True
    nodes = _pieces(element.text, name, counter)
    for child in list(element):
        tail, child.tail = child.tail, None
        child_namespace, child_name = _local(child) if isinstance(child.tag, str) else ("", "")
        if child_namespace == XHTML_NS and child_name in WHOLE:
            span = _span(counter.next_id(force_paragraph=child_name == "img"))
            span.append(child)  # moves the element into its span
            nodes.append(span)
        else:
            if isinstance(child.tag, str):
                _add_spans(child, counter)
            nodes.append(child)
        nodes += _pieces(tail, name, counter)
    element.text = None
    element[:] = []
    last: etree._Element | None = None
    for node in nodes:
        if isinstance(node, str):
            if last is None:
                element.text = (element.text or "") + node
            else:
                last.tail = (last.tail or "") + node
        else:
            element.append(node)
            last = node


def _wrap_body(body: etree._Element) -> None:
    """Move the body's content into ``div#book-columns > div#book-inner``."""
    outer = etree.Element(f"{{{XHTML_NS}}}div", {"id": WRAPPERS[0]})
    inner = etree.SubElement(outer, f"{{{XHTML_NS}}}div", {"id": WRAPPERS[1]})
    inner.text, body.text = body.text, None  # no text added: the document's text stays the same
    for child in list(body):
        inner.append(child)  # keeps its tail
    body.append(outer)


def kepub_document(data: bytes) -> bytes:
    """One XHTML content document with Kobo's spans, wrapper and style (unchanged if it has them)."""
    root = etree.fromstring(data, SAFE_XML_PARSER)
    body = root.find(f"{{{XHTML_NS}}}body")
    if body is None or any(node.get("class") == SPAN_CLASS for node in body.iter(f"{{{XHTML_NS}}}span")):
        return data
    ids = {node.get("id") for node in root.iter() if isinstance(node.tag, str)}
    _add_spans(body, _Counter())
    if not ids & set(WRAPPERS):
        _wrap_body(body)
    head = root.find(f"{{{XHTML_NS}}}head")
    if head is not None and KOBO_STYLE_ID not in ids:
        style = etree.SubElement(head, f"{{{XHTML_NS}}}style", {"type": "text/css", "id": KOBO_STYLE_ID})
        style.text, style.tail = KOBO_STYLE, "\n"
    return serialize_document(root).encode("utf-8")


def content_documents(archive: zipfile.ZipFile) -> list[str]:
    """The zip names of the package's XHTML documents, the navigation document excepted."""
    container = etree.fromstring(archive.read("META-INF/container.xml"), SAFE_XML_PARSER)
    opf_name = container.find(f".//{{{CONTAINER_NS}}}rootfile").get("full-path")
    folder = opf_name.rpartition("/")[0]
    package = etree.fromstring(archive.read(opf_name), SAFE_XML_PARSER)
    return [unquote(f"{folder}/{item.get('href')}" if folder else item.get("href"))
            for item in package.iter(f"{{{OPF_NS}}}item")
            if item.get("media-type") == "application/xhtml+xml" and "nav" not in (item.get("properties") or "").split()]


def kepub_from_epub(epub: bytes) -> bytes:
    """The kepub of a finished EPUB: its content documents with Kobo's markup, zipped again in
    the same order with the same timestamps (so the same EPUB gives the same kepub)."""
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        documents = set(content_documents(archive))
        infos = archive.infolist()
        members = [(info.filename,
                    kepub_document(archive.read(info)) if info.filename in documents else archive.read(info),
                    stored(info.filename))
                   for info in infos]
    modified = dt.datetime(*infos[0].date_time) if infos else dt.datetime(1980, 1, 1)
    return write_zip(members, modified, DeflateCache(None))

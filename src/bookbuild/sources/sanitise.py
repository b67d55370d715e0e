"""Clean parsed HTML to an allow-list before it becomes a chapter body.

Authors' raw HTML (in Markdown or in HTML chapters) may come from anyone. What survives is
ordinary book content: text-level and block elements, tables, figures, images and links with
harmless URLs. Scripts, event handlers, ``javascript:`` URLs, frames, objects, forms, inline
SVG and WeasyPrint attachments are removed, each with a warning naming ``file:line``. MathML
(written by the TeX converter, or by an author) keeps presentation elements and attributes only.
Unknown but harmless elements are unwrapped (their text stays). Nesting is capped, because
WeasyPrint lays out nested boxes recursively and would hit Python's recursion limit.

lxml does the parsing (libxml2's HTML parser never expands entities or reads a DTD); this is
only the walk over the tree, iterative so that no input can exhaust the Python stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from ..errors import Reporter
from ..xhtml import LINE_ATTR, MATHML_NS, SAFE_XML_PARSER, XML_ILLEGAL, remove_keep_tail, unwrap  # noqa: F401
from .stylesheets import style_attribute_problem
from .xhtml import EPUB_TYPE_ATTR, epub_type_terms

MAX_DEPTH = 48  # WeasyPrint failed at ~120 nested blocks; real books stay below 10

# Every element of HTML (what `bookbuild check` knows), and those a chapter may keep.
HTML_ELEMENTS = frozenset(
    "a abbr address area article aside audio b bdi bdo blockquote br button canvas caption cite code col "
    "colgroup data dd del details dfn dialog div dl dt em embed fieldset figcaption figure footer form h1 h2 "
    "h3 h4 h5 h6 header hgroup hr i iframe img input ins kbd label legend li main map mark math menu meter "
    "nav noscript object ol optgroup option output p picture pre progress q rp rt ruby s samp section "
    "select small source span strong sub summary sup svg table tbody td template textarea tfoot th thead "
    "time tr track u ul var video wbr".split()
)
ALLOWED_TAGS = frozenset(
    "a abbr address article aside b bdi bdo blockquote br caption cite code col colgroup dd del "
    "details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup hr i img "
    "ins kbd li main mark nav ol p pre q rp rt ruby s samp section small span strong sub summary "
    "sup table tbody td tfoot th thead time tr u ul var wbr input label".split()
)
# Removed together with their content: running code, embedding other documents, forms.
DANGEROUS_TAGS = frozenset(
    "script style iframe frame frameset object embed applet form button select textarea option "
    "optgroup datalist output link meta base noscript noembed noframes template video audio "
    "source track canvas param dialog portal title head svg plaintext xmp".split()
)
# Presentation MathML: what a formula needs to be shown; no maction, no annotation-xml (HTML
# inside), no links. ``annotation`` keeps the TeX source for assistive technology.
MATHML_TAGS = frozenset(
    "math semantics annotation mrow mi mo mn ms mtext mspace msup msub msubsup mfrac msqrt mroot "
    "mstyle mtable mtr mtd mlabeledtr munder mover munderover mpadded mphantom menclose merror "
    "mfenced mmultiscripts mprescripts none".split()
)
MATHML_ATTRIBUTES = frozenset(
    "xmlns display displaystyle scriptlevel mathvariant mathsize stretchy fence separator lspace rspace "
    "accent accentunder columnalign rowalign columnspacing rowspacing columnlines rowlines frame "
    "linethickness width height depth voffset encoding notation open close separators symmetric "
    "largeop movablelimits form minsize maxsize align bevelled numalign denomalign alttext "
    "id class lang dir".split()
)
GLOBAL_ATTRIBUTES = frozenset("id class lang dir title role hidden translate style".split())
TAG_ATTRIBUTES = {
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope", "abbr"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
# Integer attributes and the range a book needs; WeasyPrint hung on <col span="1000000000">.
INTEGER_ATTRIBUTES = {
    "colspan": (1, 1000), "rowspan": (0, 1000), "span": (1, 1000),
    "start": (-1_000_000, 1_000_000), "value": (-1_000_000, 1_000_000),
    "width": (0, 10_000), "height": (0, 10_000),
}
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Schemes that run code or reach the reader's files; any other is only one a book cannot follow.
UNSAFE_SCHEMES = frozenset({"javascript", "vbscript", "data", "file", "blob", "filesystem", "jar", "livescript"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]+")
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_MARKER = re.compile(r"^bb-line:(\d+)$")
_RISKY_STYLE = re.compile(r"url\s*\(|expression\s*\(|@import|\\|behavior\s*:|-moz-binding", re.IGNORECASE)
_DANGER_HINTS = {
    "svg": "save the drawing as an .svg file and include it as an image",
}


@dataclass
class _Position:
    """Maps lxml's line in the HTML being cleaned back to a line of the author's file.

    The node of the last line marker is kept, and its line in the HTML asked for only when a
    warning needs it: every block sets a position, few warn.
    """

    line: int | None = None
    marked: etree._Element | None = None

    def of(self, node: etree._Element) -> int | None:
        if self.line is None:
            return None
        parsed = self.marked.sourceline if self.marked is not None else None
        if parsed is None or node.sourceline is None:
            return self.line
        return self.line + max(0, node.sourceline - parsed)

    def set(self, line: int, node: etree._Element) -> None:
        self.line, self.marked = line, node


def clean_fragment(wrapper: etree._Element, reporter: Reporter | None = None, file: str | None = None) -> None:
    """Clean the children of ``wrapper`` in place, in document order, without recursion."""
    position = _Position()
    said: dict[tuple[str, str | None], list] = {}  # message -> [count, first line], in order

    def warn(message: str, node: etree._Element, hint: str | None = None) -> None:
        seen = said.setdefault((message, hint), [0, position.of(node)])
        seen[0] += 1

    _walk(wrapper, position, warn)
    if reporter is not None:  # the same thing in many places is one line with a count
        for (message, hint), (count, line) in said.items():
            reporter.warn(message + (f" ({count} times)" if count > 1 else ""), file, line, hint=hint)


def _walk(wrapper: etree._Element, position: _Position, warn) -> None:  # noqa: ANN001 - local callable
    """The walk of :func:`clean_fragment`, in document order, without recursion."""

    stack: list[tuple[etree._Element, int]] = [(child, 1) for child in reversed(wrapper)]
    flattened = False
    while stack:
        node, depth = stack.pop()
        if not isinstance(node.tag, str):
            marker = _MARKER.match((node.text or "").strip()) if isinstance(node, etree._Comment) else None
            if marker:
                position.set(int(marker.group(1)), node)
            remove_keep_tail(node)
            continue
        line = node.get(LINE_ATTR)
        if line and line.isdigit():
            position.set(int(line), node)
        tag = _tag_name(node.tag)
        if tag in DANGEROUS_TAGS or (tag == "input" and (node.get("type") or "").lower() != "checkbox"):
            warn(f"<{tag}> removed with its content (not allowed in a book)", node, _DANGER_HINTS.get(tag))
            remove_keep_tail(node)
            continue
        if tag == "math":
            _clean_math(node, depth, warn)
            continue
        children = [(child, depth + 1) for child in reversed(node)]
        if tag not in ALLOWED_TAGS or depth > MAX_DEPTH:
            if depth > MAX_DEPTH and not flattened:
                warn(f"elements nested deeper than {MAX_DEPTH} levels flattened", node)
                flattened = True
            elif tag not in ALLOWED_TAGS:
                warn(f"element <{_printable(node.tag)}> removed, its content kept", node)
            stack.extend((child, depth) for child, _ in children)
            unwrap(node)
            continue
        node.tag = tag
        _clean_attributes(node, tag, warn)
        if tag == "img" and not node.get("src"):
            _image_to_alt(node)
            continue
        if tag == "a" and node.get("href") is None:  # a link whose URL was removed is plain text now
            node.tag = "span"
        stack.extend(children)


def _tag_name(tag: str) -> str:
    """The element's name in lower case, or "" for a name that is not an NCName; the book's
    few names are remembered (a chapter has thousands of elements)."""
    name = _TAG_NAMES.get(tag)
    if name is None:
        name = tag.lower() if _NCNAME.match(tag) else ""
        if len(_TAG_NAMES) < 512:  # hostile input may invent any number of names
            _TAG_NAMES[tag] = name
    return name


_TAG_NAMES: dict[str, str] = {}


def _clean_math(math: etree._Element, depth: int, warn) -> None:  # noqa: ANN001 - local callable
    """Keep a formula's presentation MathML; drop anything else inside it, with a warning."""
    stack = [(math, depth)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node.tag, str):
            remove_keep_tail(node)
            continue
        tag = node.tag.lower() if _NCNAME.match(node.tag) else ""
        if tag not in MATHML_TAGS or level > MAX_DEPTH:
            warn(f"<{_printable(node.tag)}> removed from a formula" if tag not in MATHML_TAGS
                 else f"formula nested deeper than {MAX_DEPTH} levels removed", node)
            if node is math:
                remove_keep_tail(node)
                return
            remove_keep_tail(node)
            continue
        node.tag = tag
        for name in list(node.attrib):
            value = node.attrib[name]
            lower = name.lower()
            if lower == "xmlns":
                keep = value == MATHML_NS
            elif lower == "alttext":  # the formula's TeX: text only, backslashes and all
                keep = len(value) < 10_000
            else:
                keep = (lower in MATHML_ATTRIBUTES and len(value) < 200
                        and not _RISKY_STYLE.search(value) and _safe_url(value))
            if not keep:
                warn(f"attribute '{_printable(name)}' removed from <{tag}>", node)
                del node.attrib[name]
        stack.extend((child, level + 1) for child in reversed(node))
    if math.get("xmlns") is None:
        math.set("xmlns", MATHML_NS)


def _clean_epub_type(node: etree._Element, warn) -> None:  # noqa: ANN001 - local callable
    """``epub:type`` (or the model's own ``data-epub-type``) kept as ``data-epub-type``, with
    the terms no EPUB vocabulary defines removed: the EPUB writes it back as ``epub:type``."""
    values = [node.attrib.pop(name) for name in list(node.attrib) if name.lower() in ("epub:type", EPUB_TYPE_ATTR)]
    if not values:
        return
    kept, unknown = epub_type_terms(" ".join(values))
    for term in unknown:
        warn(f"epub:type '{_printable(term)[:60]}' removed: not an EPUB structural semantic", node,
             hint="use a term of the EPUB 3 Structural Semantics Vocabulary")
    if kept:
        node.set(EPUB_TYPE_ATTR, " ".join(kept))


# Kept on any element whatever their value (no URL, number or style to check): an element
# with only these, as most of a chapter's are, needs no look at each.
_PLAIN_ATTRIBUTES = frozenset({*(GLOBAL_ATTRIBUTES - {"style"}), LINE_ATTR, "data-bb-footnote", "data-bb-footnotes"})


def _clean_attributes(node: etree._Element, tag: str, warn) -> None:  # noqa: ANN001 - local callable
    if _PLAIN_ATTRIBUTES.issuperset(node.attrib):
        if tag == "input":
            node.set("disabled", "disabled")
        return
    allowed = TAG_ATTRIBUTES.get(tag, set())
    _clean_epub_type(node, warn)
    for name in list(node.attrib):
        value = node.attrib[name]
        lower = name.lower()
        keep = _NCNAME.match(name) is not None and (
            lower in GLOBAL_ATTRIBUTES or lower in allowed
            or lower.startswith(("aria-", "data-")) or lower == "xml:lang"
        )
        if lower == "xml:lang":
            if "lang" not in node.attrib:
                node.set("lang", value)
            keep = False
        elif lower.startswith("on"):
            warn(f"event handler '{name}' removed from <{tag}>", node)
        elif lower == "rel" and "attachment" in value.lower():
            warn(f"attachment link removed from <{tag}> (files are never embedded from HTML)", node)
        elif keep and lower in URL_ATTRIBUTES and not _safe_url(value):
            scheme = _SCHEME.match(_CONTROL_OR_SPACE.sub("", value).lower())
            if scheme and scheme.group(1) not in UNSAFE_SCHEMES:  # info:, mdn:: not harmful, not followable
                warn(f"'{scheme.group(1)}:' is a link bookbuild cannot follow: '{_printable(value)[:80]}' removed "
                     f"from <{tag} {lower}>" + (", its text kept" if tag == "a" else ""), node,
                     hint="link to a chapter, an id or an http(s) address")
            else:
                warn(f"unsafe URL '{_printable(value)[:80]}' removed from <{tag} {lower}>", node)
            keep = False
        elif keep and lower in INTEGER_ATTRIBUTES and not _in_range(value, *INTEGER_ATTRIBUTES[lower]):
            warn(f"{lower}=\"{_printable(value)[:20]}\" out of range, removed from <{tag}>", node)
            keep = False
        elif keep and lower == "style" and _RISKY_STYLE.search(value):
            warn(f"style attribute with url(), expression() or escapes removed from <{tag}>", node,
                 hint="put styling in the book's stylesheet")
            keep = False
        elif keep and lower == "style" and (huge := style_attribute_problem(value)) is not None:
            warn(f"style attribute with out-of-range value '{huge[:40]}' removed from <{tag}>", node)
            keep = False
        elif not keep:
            warn(f"attribute '{_printable(name)}' removed from <{tag}>", node)
        if not keep:
            del node.attrib[name]
    if tag == "input":
        node.set("disabled", "disabled")


def _in_range(value: str, low: int, high: int) -> bool:
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    return digits.isdigit() and len(digits) < 10 and low <= int(text) <= high


def _safe_url(value: str) -> bool:
    """Relative references and http(s)/mailto/tel URLs; no javascript:, data:, file:, ..."""
    compact = _CONTROL_OR_SPACE.sub("", value).lower()
    match = _SCHEME.match(compact)
    return match is None or match.group(1) in SAFE_SCHEMES


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _image_to_alt(image: etree._Element) -> None:
    span = etree.Element("span", {"class": "missing-image"})
    span.text, span.tail = image.get("alt") or "", image.tail
    image.getparent().replace(image, span)


_DOCUMENT_TAGS = re.compile(r"</?(?:html|head|body)\b[^>]*>", re.IGNORECASE)


def html_to_fragment(html: str, reporter: Reporter | None = None, file: str | None = None) -> etree._Element:
    """Parse HTML into a ``<div>`` wrapper of well-formed, namespace-less, cleaned XHTML.

    Every raw HTML the book contains passes here, so this is where it is cleaned to the
    allow-list of this module; removals are warnings naming ``file:line``.
    """
    html = XML_ILLEGAL.sub("", html)
    if not html.strip():
        return etree.Element("div")
    try:
        try:
            parsed = lxml.html.fragment_fromstring(html, create_parent="div")
        except AssertionError:  # lxml's "too many bodies" (``</body><body>`` in a chapter): no
            # document's own tags belong in a fragment; dropped, the rest is parsed as it is
            parsed = lxml.html.fragment_fromstring(_DOCUMENT_TAGS.sub("", html), create_parent="div")
    except (etree.ParserError, ValueError, AssertionError):  # nothing but markup lxml gives up on
        return etree.Element("div")
    clean_fragment(parsed, reporter, file)
    text = etree.tostring(parsed, encoding="unicode", method="xml")
    return etree.fromstring(text, SAFE_XML_PARSER)

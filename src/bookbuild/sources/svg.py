"""Clean an SVG drawing before it is packed or laid out, and say what was removed.

An SVG from a stranger can carry scripts, entity bombs and references to local files or the
network; one from an everyday editor carries HTML labels (draw.io), remote pictures, web
fonts, and ids that are not XML names (svg_ids.py). The drawing is parsed without entities,
DTDs or network; what would run, load a file or reach the network is removed, and each
removal is reported through ``warn`` with its line in the drawing: the figure changed, and
only its author can fix it at its source. The cleaned bytes are what both the EPUB and
WeasyPrint get, so both formats draw the same figure. A drawing is always a file of its own
in the EPUB (a chapter's inline ``<svg>`` is removed by sources/sanitise.py), so its ids
need to be unique only within it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tinycss2
from lxml import etree

from ..errors import BookError
from ..xhtml import remove_keep_tail
from .svg_ids import RULE_BLOCKS, XLINK_HREF, name_ids, url_tokens

SVG_NS = "http://www.w3.org/2000/svg"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# warn(message, line in the drawing or None, hint or None)
SvgWarn = Callable[[str, int | None, str | None], None]
MAX_CSS_NESTING = 32  # brackets inside brackets in a style, as for the book's own sheets

_RUNS = "scripts and embedded documents never run in a book"
_DROP = {"script": _RUNS, "handler": _RUNS, "listener": _RUNS, "iframe": _RUNS, "embed": _RUNS, "object": _RUNS,
         "foreignObject": "HTML inside a drawing is not drawn in a book; export the labels as SVG text"}
_ANIMATIONS = frozenset({"set", "animate", "animateTransform", "animateMotion", "animateColor"})
_DRAWS_TARGET = frozenset({"image", "use", "feImage"})  # elements that draw what their link points at
_SAFE_DATA = re.compile(r"^\s*data:image/(png|jpeg|gif|webp);", re.IGNORECASE)
_WEB_LINK = re.compile(r"^\s*(https?:|mailto:)", re.IGNORECASE)
_LOADS = "a drawing in a book may not load files or reach the network: embed what it needs"
_PICTURE = "embed the picture in the SVG as a data: URL (PNG, JPEG, GIF or WebP), or show it as an image of its own"


def sanitize_svg(data: bytes, warn: SvgWarn | None = None) -> bytes:
    """The drawing without what could run, load a file or reach the network, with ids every
    validator accepts; each removal is passed to ``warn``. :class:`BookError` if it is not a
    well-formed SVG drawing or declares entities."""
    root = _parse(data)
    _Cleaner(warn or _quiet).clean(root)
    _decide_switches(root)
    name_ids(root)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _quiet(message: str, line: int | None, hint: str | None = None) -> None:
    """Where removals go when nobody asked (a pre-check whose caller reports elsewhere)."""


def _parse(data: bytes) -> etree._Element:
    if re.search(rb"<!ENTITY", data, re.IGNORECASE):
        raise BookError("declares XML entities (refused: entity expansion)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise BookError(f"is not well-formed SVG ({exc.msg})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise BookError("is not an SVG drawing (no <svg> root in the SVG namespace)")
    return root


class _Cleaner:
    """One walk over the drawing, in document order, removing and reporting."""

    def __init__(self, warn: SvgWarn) -> None:
        self.warn = warn
        self.removed: dict[tuple[str, int | None, str | None], int] = {}  # in order of finding

    def note(self, message: str, line: int | None, hint: str | None) -> None:
        """Keep a removal; the same one again on a line (an editor that writes the whole
        drawing on one line) is counted, not repeated."""
        key = (message, line, hint)
        self.removed[key] = self.removed.get(key, 0) + 1

    def clean(self, root: etree._Element) -> None:
        self._walk(root)
        for (message, line, hint), count in self.removed.items():
            self.warn(message if count == 1 else f"{message} ({count} times)", line, hint)

    def _walk(self, root: etree._Element) -> None:
        for node in reversed(list(root.itersiblings(preceding=True))):  # before <svg>: not kept
            self._instruction(node)
        stack = [root]
        while stack:
            node = stack.pop()
            if not isinstance(node.tag, str):
                self._instruction(node)
                remove_keep_tail(node)
            elif not self._removed(node):
                self._attributes(node)
                if etree.QName(node).localname == "style" and node.text:
                    self._style_element(node)
                stack.extend(reversed(node))

    def _instruction(self, node: etree._Element) -> None:
        """A stylesheet processing instruction loads a file; other ones mean nothing here."""
        if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-stylesheet":
            self.note(f"<?xml-stylesheet {_shown(node.text or '')}?> removed", node.sourceline, _LOADS)

    def _removed(self, node: etree._Element) -> bool:
        """Remove ``node`` (and say so) if it would run, or draw a file or the network."""
        local = etree.QName(node).localname
        if local in _DROP:
            self.note(f"<{local}> removed from the drawing", node.sourceline, _DROP[local])
        elif local in _ANIMATIONS and "href" in (node.get("attributeName") or "").lower():
            self.note(f"<{local}> that changes a link removed from the drawing", node.sourceline, None)
        elif local == "style" and _too_deep(node.text or ""):
            self.note(f"<style> nested deeper than {MAX_CSS_NESTING} levels removed", node.sourceline, None)
        elif local in _DRAWS_TARGET and not _drawable(node, local):
            href = node.get(XLINK_HREF, node.get("href", ""))
            self.note(f"<{local}> of '{_shown(href)}' removed from the drawing", node.sourceline,
                      "a drawing may only reuse its own parts" if local == "use" else _PICTURE)
        else:
            return False
        remove_keep_tail(node)
        return True

    def _attributes(self, node: etree._Element) -> None:
        tag = etree.QName(node).localname
        for name in list(node.attrib):
            value = node.attrib[name]
            local = etree.QName(name).localname
            if local.lower().startswith("on"):
                self.note(f"event handler '{local}' removed from <{tag}>", node.sourceline, _RUNS)
            elif name == XML_BASE:
                self.note(f"xml:base '{_shown(value)}' removed from <{tag}>", node.sourceline, _LOADS)
            elif name in ("href", XLINK_HREF):
                if _internal(value) or _SAFE_DATA.match(value) or (tag == "a" and _WEB_LINK.match(value)):
                    continue
                self.note(f"link '{_shown(value)}' removed from <{tag}>", node.sourceline,
                          "a drawing may link to the web, to mail and to its own parts")
            elif (local == "style" or "url(" in value.replace(" ", "").lower()) and _too_deep(value):
                self.note(f"{local} nested deeper than {MAX_CSS_NESTING} levels removed from <{tag}>",
                          node.sourceline, None)
            elif local == "style":
                style = self._declarations(value, f"the style of <{tag}>", node.sourceline)
                if style is None:
                    continue
                if style:
                    node.set(name, style)
                    continue
            elif "url(" in value.replace(" ", "").lower() and _external(tinycss2.parse_component_value_list(value)):
                self.note(f'{local}="{_shown(value)}" removed from <{tag}>', node.sourceline, _LOADS)
            else:
                continue
            del node.attrib[name]

    def _style_element(self, node: etree._Element) -> None:
        """A ``<style>`` sheet without ``@import`` and declarations that load a file."""
        rules, changed = self._rules(tinycss2.parse_stylesheet(node.text), node.sourceline)
        if changed:
            node.text = rules

    def _rules(self, rules: list, line: int | None) -> tuple[str, bool]:
        out, changed = [], False
        for rule in rules:
            at = (line or 1) + rule.source_line - 1 if line else None
            if rule.type == "at-rule" and rule.lower_at_keyword == "import":
                url = next((url for _, url in url_tokens(rule.prelude)), None) or next(
                    (token.value for token in rule.prelude if token.type == "string"), "")
                self.note(f"@import '{_shown(url)}' removed from <style>", at, _LOADS)
                changed = True
                continue
            if rule.type == "at-rule" and rule.lower_at_keyword in RULE_BLOCKS and rule.content is not None:
                inner, inner_changed = self._rules(tinycss2.parse_rule_list(rule.content), line)
                if inner_changed:
                    out.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{inner}}}")
                    changed = True
                    continue
            elif rule.type in ("qualified-rule", "at-rule") and rule.content is not None:
                body = self._declarations(tinycss2.serialize(rule.content), "<style>", at)
                if body is not None:
                    head = f"@{rule.at_keyword}" if rule.type == "at-rule" else ""
                    out.append(f"{head}{tinycss2.serialize(rule.prelude)}{{{body}}}")
                    changed = True
                    continue
            if rule.type != "error":
                out.append(rule.serialize())
        return "".join(out), changed

    def _declarations(self, text: str, where: str, line: int | None) -> str | None:
        """Declarations without those that load a file, or None when none does."""
        items = tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True)
        kept, changed = [], False
        for item in items:
            if item.type == "declaration" and _external(item.value):
                self.note(f"'{item.name}: {_shown(tinycss2.serialize(item.value))}' removed from {where}", line,
                          _LOADS)
                changed = True
            elif item.type != "error":
                kept.append(item.serialize().strip())
        return "; ".join(kept) if changed else None


def _too_deep(css: str) -> bool:
    """Whether CSS nests brackets deeper than anyone writes: its parser and serializer
    recurse, and a hostile drawing must not exhaust them. (Brackets in strings count too.)"""
    depth = 0
    for bracket in re.sub(r"[^()\[\]{}]+", "", css):
        depth = depth + 1 if bracket in "([{" else max(0, depth - 1)
        if depth > MAX_CSS_NESTING:
            return True
    return False


def _shown(text: str) -> str:
    """A value as a warning can show it: one line, at most 120 characters."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()[:120]


def _internal(url: str) -> bool:
    return url.strip().startswith("#")


def _external(nodes: list) -> bool:
    """Whether CSS component values load something from outside the drawing."""
    return any(url.strip() and not _internal(url) and not _SAFE_DATA.match(url) for _, url in url_tokens(nodes))


def _drawable(node: etree._Element, local: str) -> bool:
    """Whether an <image>, <use> or <feImage> draws a part of the drawing or an embedded picture."""
    href = node.get(XLINK_HREF, node.get("href"))
    return href is None or _internal(href) or (local != "use" and bool(_SAFE_DATA.match(href)))


def _decide_switches(root: etree._Element) -> None:
    """Keep of each ``<switch>`` only the child a reading system would draw.

    A reader draws the first child whose conditions hold; WeasyPrint draws them all, so the
    PDF showed draw.io's "Text is not SVG - cannot display" over every diagram. Once HTML
    labels are removed, the choice is the one every reader makes: the first child without
    ``requiredExtensions`` (``requiredFeatures`` always holds in SVG 2). Nothing a reader
    would draw goes, so this is no removal to warn about. A switch on ``systemLanguage``
    depends on the reader's language and is left as it is.
    """
    for switch in list(root.iter(f"{{{SVG_NS}}}switch")):
        children = [child for child in switch if isinstance(child.tag, str)
                    and etree.QName(child).localname not in ("title", "desc", "metadata")]
        if any(child.get("systemLanguage") is not None for child in children):
            continue
        chosen = next((child for child in children if child.get("requiredExtensions") is None), None)
        for child in children:
            if child is not chosen:
                remove_keep_tail(child)

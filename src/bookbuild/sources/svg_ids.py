"""Make every id of a drawing a unique XML name, and rewrite what refers to it.

EPUBCheck validates each SVG of an EPUB as XML: an id must be an NCName (no ``(``, ``,``,
``:``, ``/``, ``+``, space...) and unique in its file. Editors turn layer names into ids
(Sketch: ``m/alert``, ``Rectangle-5-+-"World!"``; Inkscape over OmniGraffle: ``Canvas_1:
Layer 1``) and repeat them (Sketch: 44 ``Path``). The first element with a valid id keeps
it, so a stylesheet's ``figure.svg#name`` still finds it; every other id gets the nearest
free valid name (``m-alert``, ``Path-2``). A reference means the first element with that id,
as in a browser, so references follow that element to its new name: ``href``/``xlink:href``,
``url(#...)`` in attributes, ``style`` and ``<style>`` (with ``#id`` selectors), ARIA id
lists and SMIL ``begin``/``end``. Names are given in document order, so the same drawing
always gets the same names (house rule 6).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from urllib.parse import unquote

import tinycss2
from lxml import etree
from tinycss2.serializer import serialize_string_value, serialize_url

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
ID_ATTRIBUTES = ("id", XML_ID)
# XML 1.0 (fifth edition) NameStartChar and NameChar, without the colon: an NCName.
_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
          "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd")
_NAME_MORE = "\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
# Beyond ASCII, only letters, marks and digits: validators with older tables (XML 1.0
# fourth edition) accept these too, so a name that passes here passes everywhere.
_WIDE_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Nd"})
_IDREFS = frozenset({"aria-labelledby", "aria-describedby", "aria-controls", "aria-owns", "aria-flowto",
                     "aria-details", "aria-errormessage", "aria-activedescendant"})
RULE_BLOCKS = frozenset({"media", "supports", "layer", "container", "document", "scope"})


def _name_char(char: str, start: bool) -> bool:
    if not _name_pattern(start).fullmatch(char):
        return False
    return char < "\x80" or unicodedata.category(char) in _WIDE_CATEGORIES


@cache
def _name_pattern(start: bool) -> re.Pattern[str]:
    """Compiled when first needed: the classes' Unicode ranges took 7 ms each to compile in
    every process that imported this module (the build, each chapter reader), SVG or not."""
    return re.compile(f"[{_START}]" if start else f"[{_START}{_NAME_MORE}]")


def is_ncname(value: str) -> bool:
    """Whether ``value`` is an id every validator accepts: an XML name without colons."""
    return bool(value) and all(_name_char(char, index == 0) for index, char in enumerate(value))


def as_ncname(value: str) -> str:
    """The valid name closest to ``value``: ``Oval (1)`` -> ``Oval-1``, ``2d`` -> ``id-2d``."""
    name = re.sub("-{2,}", "-", "".join(c if _name_char(c, False) else "-" for c in value)).strip("-")
    if not name:
        return "id"
    return name if _name_char(name[0], True) else f"id-{name}"


def name_ids(root: etree._Element) -> None:
    """Give every id of the drawing a unique valid name; point every reference at it."""
    holders = [(node, attribute) for node in root.iter() if isinstance(node.tag, str)
               for attribute in ID_ATTRIBUTES if node.get(attribute) is not None]
    taken: set[str] = set()
    keeping = set()
    for index, (node, attribute) in enumerate(holders):
        value = node.get(attribute)
        if is_ncname(value) and value not in taken:
            taken.add(value)
            keeping.add(index)
    first: dict[str, str] = {}  # an id as written -> the name of its first element
    numbers: dict[str, int] = {}  # a name -> the next number to try after it
    for index, (node, attribute) in enumerate(holders):
        value = node.get(attribute)
        if index not in keeping:
            new = _free(as_ncname(value), taken, numbers)
            taken.add(new)
            node.set(attribute, new)
            first.setdefault(value, new)
        else:
            first.setdefault(value, value)
    renamed = {old: new for old, new in first.items() if old != new}
    if renamed:
        _rewrite_references(root, renamed)


def _free(name: str, taken: set[str], numbers: dict[str, int]) -> str:
    """``name``, or the first ``name-N`` not taken; ``numbers`` remembers where the search
    for each name stopped, so ten thousand copies of one id take linear time."""
    if name not in taken:
        return name
    number = numbers.get(name, 2)
    while f"{name}-{number}" in taken:
        number += 1
    numbers[name] = number + 1
    return f"{name}-{number}"


def _rewrite_references(root: etree._Element, renamed: dict[str, str]) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if etree.QName(node).localname == "style" and node.text:
            sheet = _rewrite_css(node.text, renamed, sheet=True)
            if sheet is not None:
                node.text = sheet
        for name, value in node.attrib.items():
            new = _rewrite_attribute(name, value, renamed)
            if new is not None and new != value:
                node.set(name, new)


def _rewrite_attribute(name: str, value: str, renamed: dict[str, str]) -> str | None:
    """The attribute's value pointing at the new names, or None when it points at none."""
    local = etree.QName(name).localname
    if name in ("href", XLINK_HREF):
        return _fragment(value, renamed)
    if local in _IDREFS:
        tokens = value.split()
        names = [renamed.get(token, token) for token in tokens]
        return " ".join(names) if names != tokens else None
    if local in ("begin", "end"):
        return ";".join(_timing(part, renamed) for part in value.split(";"))
    if "url(" in value.replace(" ", "").lower():
        return _rewrite_css(value, renamed, sheet=False)
    return None


def _fragment(url: str, renamed: dict[str, str]) -> str | None:
    """``#new`` for a same-document reference ``#old`` to a renamed id, else None."""
    stripped = url.strip()
    if not stripped.startswith("#"):
        return None
    target = renamed.get(stripped[1:]) or renamed.get(unquote(stripped[1:]))
    return f"#{target}" if target else None


def _timing(part: str, renamed: dict[str, str]) -> str:
    """A SMIL begin/end value (``Oval(1).click``, ``a\\.b.end+1s``) with its id renamed. SMIL
    escapes a dot in an id (``a\\.b``), which editors forget: the longest id before one of the
    first dots is taken."""
    value = part.lstrip()
    dots = [match.start() for _, match in zip(range(8), re.finditer(r"(?<!\\)\.", value))]
    for dot in reversed(dots):
        old = value[:dot].replace("\\.", ".")
        if old in renamed:
            return part[:len(part) - len(value)] + renamed[old].replace(".", "\\.") + value[dot:]
    return part


def url_tokens(nodes: list) -> Iterator[tuple[object, str]]:
    """Each URL token (``url(x)``) or url()/src() string argument in CSS component values,
    with its URL, however deep in functions and blocks."""
    for node in nodes:
        kind = getattr(node, "type", None)
        if kind == "url":
            yield node, node.value
        elif kind == "function" and node.lower_name in ("url", "src"):
            yield from ((arg, arg.value) for arg in node.arguments if arg.type == "string")
        elif kind == "function":
            yield from url_tokens(node.arguments)
        elif kind in ("() block", "[] block", "{} block"):
            yield from url_tokens(node.content)


def _rename_urls(nodes: list, renamed: dict[str, str]) -> bool:
    changed = False
    for token, url in list(url_tokens(nodes)):
        new = _fragment(url, renamed)
        if new is None:
            continue
        token.value = new
        if token.type == "url":
            token.representation = f"url({serialize_url(new)})"
        else:  # a string: keep its quotes
            quote = token.representation[:1] if token.representation[:1] in "'\"" else '"'
            token.representation = f"{quote}{new}{quote}" if quote not in new else f'"{serialize_string_value(new)}"'
        changed = True
    return changed


def _rename_selectors(nodes: list, renamed: dict[str, str]) -> bool:
    changed = False
    for node in nodes:
        if getattr(node, "type", None) == "hash" and node.is_identifier and node.value in renamed:
            node.value = renamed[node.value]
            changed = True
    return changed


def _rename_rules(rules: list, renamed: dict[str, str]) -> bool:
    changed = False
    for rule in rules:
        if rule.type == "qualified-rule":
            changed = _rename_selectors(rule.prelude, renamed) | changed
            changed = _rename_urls(rule.content, renamed) | changed
        elif rule.type == "at-rule" and rule.content is not None:
            if rule.lower_at_keyword in RULE_BLOCKS:
                rule.content = tinycss2.parse_rule_list(rule.content)
                changed = _rename_rules(rule.content, renamed) | changed
            else:
                changed = _rename_urls(rule.content, renamed) | changed
    return changed


def _rewrite_css(text: str, renamed: dict[str, str], sheet: bool) -> str | None:
    """CSS text (a sheet, or a value or declarations) pointing at the new names; None if unchanged.

    In a value ``#abc`` is a colour, so only a sheet's selectors have their ``#id`` renamed.
    """
    nodes = tinycss2.parse_stylesheet(text) if sheet else tinycss2.parse_component_value_list(text)
    changed = _rename_rules(nodes, renamed) if sheet else _rename_urls(nodes, renamed)
    return tinycss2.serialize(nodes) if changed else None

"""MathML -> SVG images for the PDF: WeasyPrint does not lay out MathML.

The model's formulas are MathML (the EPUB shows them as they are); here each becomes an
SVG (ziamath, glyphs drawn as paths from its bundled STIX Two Math font, so nothing needs
embedding) sized in ``em`` and set on the text's baseline. Each image is a data: URL, so
the symbol ids inside one SVG never meet another's. Its ``alt`` (the tagged PDF's /Alt) is
the formula's TeX, kept by the reader in ``alttext``, or else a linear text of the MathML.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from lxml import etree

from ...xhtml import MATHML_NS, text_of

# ziamath's font size in SVG user units; the image is scaled back to 1em of the text.
_SIZE = 20.0


def math_to_svg(wrapper: etree._Element) -> None:
    """Replace every ``<math>`` below ``wrapper`` with an ``<img>`` of the formula."""
    for math in list(wrapper.iter(f"{{{MATHML_NS}}}math")):
        data, height, depth = _svg(etree.tostring(math, encoding="unicode", with_tail=False))
        image = etree.Element("img", {
            "class": "math-svg" + (" math-block" if math.get("display") == "block" else ""),
            "src": "data:image/svg+xml;base64," + base64.b64encode(data.encode("utf-8")).decode("ascii"),
            "alt": math.get("alttext") or linear_text(math),
            "style": f"height: {height:.3f}em; vertical-align: -{depth:.3f}em",
        })
        image.tail = math.tail
        math.getparent().replace(math, image)


_SCRIPTS = {"msup": ("", "^"), "msub": ("", "_"), "msubsup": ("", "_", "^"), "mover": ("", "^"),
            "munder": ("", "_"), "munderover": ("", "_", "^"), "mfrac": ("", "/")}


def linear_text(node: etree._Element) -> str:
    """A formula as linear text (``∫_0^1 x^2 d x = 1/3``), for MathML that came without its
    TeX (``alttext``): the flattened glyphs (``∫01x2dx=13``) lose every superscript and
    fraction bar, so a screen reader says the wrong formula."""
    name = etree.QName(node).localname
    children = [child for child in node if isinstance(child.tag, str)]
    if name == "semantics":
        return linear_text(children[0]) if children else ""
    if not children:
        return text_of(node)
    parts = [linear_text(child) for child in children]
    if name in _SCRIPTS and len(parts) == len(_SCRIPTS[name]):
        return "".join(mark + _grouped(part) for mark, part in zip(_SCRIPTS[name], parts))
    if name == "msqrt":
        return f"sqrt({' '.join(parts)})"
    if name == "mroot" and len(parts) == 2:
        return f"root({parts[1]}, {parts[0]})"
    return " ".join(part for part in parts if part)


def _grouped(text: str) -> str:
    return f"({text})" if " " in text or len(text) > 1 and not text.isalnum() else text


@lru_cache(maxsize=512)
def _svg(mathml: str) -> tuple[str, float, float]:
    """The SVG text, its height and its depth below the baseline, both in em."""
    import ziamath

    formula = ziamath.Math(mathml, size=_SIZE)
    svg = formula.svg()
    root = etree.fromstring(svg.encode("utf-8"))
    _x, top, _width, height = (float(v) for v in root.get("viewBox").split())
    return svg, height / _SIZE, (height + top) / _SIZE

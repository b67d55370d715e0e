"""MathML -> SVG images for the PDF: WeasyPrint does not lay out MathML.

The model's formulas are MathML (the EPUB shows them as they are); here each becomes an
SVG (ziamath, glyphs drawn as paths from its bundled STIX Two Math font, so nothing needs
embedding) sized in ``em`` and set on the text's baseline. Each image is a data: URL, so
the symbol ids inside one SVG never meet another's.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from lxml import etree

from ...sources.math import MATHML_NS
from ...xhtml import text_of

# ziamath's font size in SVG user units; the image is scaled back to 1em of the text.
_SIZE = 20.0


def math_to_svg(wrapper: etree._Element) -> None:
    """Replace every ``<math>`` below ``wrapper`` with an ``<img>`` of the formula."""
    for math in list(wrapper.iter(f"{{{MATHML_NS}}}math")):
        data, height, depth = _svg(etree.tostring(math, encoding="unicode", with_tail=False))
        image = etree.Element("img", {
            "class": "math-svg" + (" math-block" if math.get("display") == "block" else ""),
            "src": "data:image/svg+xml;base64," + base64.b64encode(data.encode("utf-8")).decode("ascii"),
            "alt": text_of(math),
            "style": f"height: {height:.3f}em; vertical-align: -{depth:.3f}em",
        })
        image.tail = math.tail
        math.getparent().replace(math, image)


@lru_cache(maxsize=512)
def _svg(mathml: str) -> tuple[str, float, float]:
    """The SVG text, its height and its depth below the baseline, both in em."""
    import ziamath

    formula = ziamath.Math(mathml, size=_SIZE)
    svg = formula.svg()
    root = etree.fromstring(svg.encode("utf-8"))
    _x, top, _width, height = (float(v) for v in root.get("viewBox").split())
    return svg, height / _SIZE, (height + top) / _SIZE

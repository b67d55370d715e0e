"""Generated sheets for the book's fonts and writing mode, one per format.

House rule 5: the design is CSS; these few rules carry manifest options into it.
"""

from __future__ import annotations

from lxml import etree

from ..model import Book
from ..sources.fonts import FONT_FORMATS, font_face
from ..xhtml import BLOCK_TAGS

# EPUB 3 reading systems read the prefixed property (EPUB 3.0.1 CSS profile); newer ones the
# standard one. WeasyPrint has no vertical layout, so the PDF never gets these rules.
VERTICAL_RULES = "html {{ -epub-writing-mode: {mode}; writing-mode: {mode}; }}\n"


def _language_rules(book: Book, epub: bool) -> str:
    """base.css hyphenates; languages that are not hyphenated (CJK, RTL, ...) turn it off."""
    if book.language.hyphenate:
        return ""
    return "html { hyphens: manual; -epub-hyphens: manual; }\n" if epub else "html { hyphens: manual; }\n"


def epub_options_sheet(book: Book, mode: str) -> str:
    """``@font-face`` for the packed fonts (sheet lives in styles/), hyphenation and writing ``mode``."""
    sheet = font_sheet(book, url_prefix="../") + _language_rules(book, epub=True)
    if mode != "horizontal-tb":
        sheet += VERTICAL_RULES.format(mode=mode)
    return sheet


def pdf_options_sheet(book: Book, asset_root: str) -> str:
    """``@font-face`` for the book's fonts, served by the PDF renderer's fetcher, hyphenation
    and the language's digits."""
    return font_sheet(book, url_prefix=asset_root) + _language_rules(book, epub=False) + _digits_rule(book)


def _digits_rule(book: Book) -> str:
    """print.css writes folios, contents and footnote numbers with ``counter(..., book-digits)``:
    a counter style that is not defined is decimal, so only a language with digits of its
    own (Persian ۱۲, Arabic ١٢: config/languages.py) defines it."""
    digits = book.language.digits
    if digits == "0123456789":
        return ""
    symbols = " ".join(f'"{digit}"' for digit in digits)
    return f"@counter-style book-digits {{ system: numeric; symbols: {symbols}; }}\n"


def page_progression(book: Book, writing_mode: str) -> str | None:
    """The spine's page-progression-direction: rtl for RTL languages and vertical CJK."""
    if book.language.is_rtl or writing_mode == "vertical-rl":
        return "rtl"
    return None


ISOLATES = {"ltr": "\u2066", "rtl": "\u2067"}  # LEFT-TO-RIGHT / RIGHT-TO-LEFT ISOLATE
POP_ISOLATE = "\u2069"


def isolate_inline_runs(wrapper: etree._Element) -> None:
    """Wrap inline ``[dir]`` elements in Unicode isolates, in place, for WeasyPrint.

    HTML defines ``dir`` as ``unicode-bidi: isolate``; WeasyPrint does not implement
    ``unicode-bidi``, but Pango's bidi algorithm honours the isolate characters, which
    draw nothing. Without them ``x = f(1);`` in a Persian sentence may be reordered.
    """
    for node in wrapper.iter():
        mark = ISOLATES.get(node.get("dir", "")) if isinstance(node.tag, str) else None
        if mark is None or node.tag in BLOCK_TAGS:
            continue
        node.text = mark + (node.text or "")
        if len(node):
            node[-1].tail = (node[-1].tail or "") + POP_ISOLATE
        else:
            node.text += POP_ISOLATE


def font_sheet(book: Book, url_prefix: str) -> str:
    """``@font-face`` rules for the book's fonts and a stack that puts them first.

    ``url_prefix`` is the path from the sheet to the assets (``../`` in the EPUB's styles/).
    The selectors outrank the ``:lang()`` stacks of base.css, so the book's choice wins.
    """
    fonts = [asset for asset in book.assets if asset.href.startswith("fonts/")]
    if not fonts:
        return ""
    rules, families = [], []
    for asset in fonts:
        face = font_face(asset.source, asset.root or asset.source.parent)
        if face.family not in families:
            families.append(face.family)
        rules.append(
            "@font-face {\n"
            f"  font-family: {_css_string(face.family)};\n"
            f"  src: url({_css_string(url_prefix + asset.href)}) format(\"{FONT_FORMATS[asset.source.suffix.lower()]}\");\n"
            f"  font-weight: {face.weight};\n"
            f"  font-style: {'italic' if face.italic else 'normal'};\n"
            "}\n"
        )
    stack = ", ".join(_css_string(family) for family in families)
    headings = ", ".join(f":root h{n}" for n in range(1, 7))
    rules.append(f"html:root, {headings} {{ font-family: {stack}, serif; }}\n")
    return "".join(rules)


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""Generated sheets for the book's fonts and writing mode, one per format.

House rule 5: the design is CSS; these few rules carry manifest options into it.
"""

from __future__ import annotations

from lxml import etree

from ..fonts import font_sheet
from ..model import Book
from ..xhtml import BLOCK_TAGS

# EPUB 3 reading systems read the prefixed property (EPUB 3.0.1 CSS profile); newer ones the
# standard one. WeasyPrint has no vertical layout, so the PDF never gets these rules.
VERTICAL_RULES = "html {{ -epub-writing-mode: {mode}; writing-mode: {mode}; }}\n"


def _language_rules(book: Book, epub: bool) -> str:
    """base.css hyphenates; languages that are not hyphenated (CJK, RTL, ...) turn it off."""
    if book.manifest.language.hyphenate:
        return ""
    return "html { hyphens: manual; -epub-hyphens: manual; }\n" if epub else "html { hyphens: manual; }\n"


def epub_options_sheet(book: Book) -> str:
    """``@font-face`` for the packed fonts (sheet lives in styles/), hyphenation and writing mode."""
    sheet = font_sheet(book, url_prefix="../") + _language_rules(book, epub=True)
    mode = book.manifest.epub.writing_mode
    if mode != "horizontal-tb":
        sheet += VERTICAL_RULES.format(mode=mode)
    return sheet


def pdf_options_sheet(book: Book, asset_root: str) -> str:
    """``@font-face`` for the book's fonts, served by the PDF renderer's fetcher, and hyphenation."""
    return font_sheet(book, url_prefix=asset_root) + _language_rules(book, epub=False)


def page_progression(book: Book) -> str | None:
    """The spine's page-progression-direction: rtl for RTL languages and vertical CJK."""
    if book.manifest.language.is_rtl or book.manifest.epub.writing_mode == "vertical-rl":
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

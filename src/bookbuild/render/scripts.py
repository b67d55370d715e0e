"""Generated sheets for the book's fonts and writing mode, one per format.

House rule 5: the design is CSS; these few rules carry manifest options into it.
"""

from __future__ import annotations

from ..fonts import font_sheet
from ..model import Book

# EPUB 3 reading systems read the prefixed property (EPUB 3.0.1 CSS profile); newer ones the
# standard one. WeasyPrint has no vertical layout, so the PDF never gets these rules.
VERTICAL_RULES = "html {{ -epub-writing-mode: {mode}; writing-mode: {mode}; }}\n"


def epub_options_sheet(book: Book) -> str:
    """``@font-face`` for the packed fonts (sheet lives in styles/) and the writing mode."""
    sheet = font_sheet(book, url_prefix="../")
    mode = book.manifest.epub.writing_mode
    if mode != "horizontal-tb":
        sheet += VERTICAL_RULES.format(mode=mode)
    return sheet


def pdf_options_sheet(book: Book, asset_root: str) -> str:
    """``@font-face`` for the book's fonts, served by the PDF renderer's fetcher; no hyphens
    for languages that are not hyphenated (print.css turns hyphenation on)."""
    sheet = font_sheet(book, url_prefix=asset_root)
    if not book.manifest.language.hyphenate:
        sheet += "html { hyphens: manual; }\n"
    return sheet


def page_progression(book: Book) -> str | None:
    """The spine's page-progression-direction: rtl for RTL languages and vertical CJK."""
    if book.manifest.language.is_rtl or book.manifest.epub.writing_mode == "vertical-rl":
        return "rtl"
    return None

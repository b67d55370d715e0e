"""Say which font of the design the PDF could not use, and what it was set in instead.

The default design names its fonts first in each stack (base.css): Noto Serif for the text,
Noto Sans for headings and captions, DejaVu Sans Mono for code. WeasyPrint asks fontconfig
for them, which quietly substitutes another family when one is not installed: the same book
then looks different on a machine with Noto and one without, and nothing said why (issue 31).
Before the PDF is made, each of these families that the book's sheets still name is matched
as fontconfig (and so WeasyPrint) would; one that resolves to another family is a warning
naming both and the package that provides it. A book that brings its own fonts
(``[book] fonts``) is not told about the text and heading fonts it replaces.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from ...errors import Reporter
from ...files import read_own_file
from ...model import Book
from ...resources import stylesheet

# (family, what the design sets in it, the Debian/Ubuntu package that provides it)
DESIGN_FONTS: tuple[tuple[str, str, str], ...] = (
    ("Noto Serif", "text", "fonts-noto-core"),
    ("Noto Sans", "headings", "fonts-noto-core"),
    ("DejaVu Sans Mono", "code", "fonts-dejavu-core"),
)
BOOK_FONT_REPLACES = frozenset({"text", "headings"})  # render/scripts.font_sheet puts the book's first


def report_substituted_fonts(book: Book, reporter: Reporter) -> None:
    """Warn once per family of the design that this machine would replace with another."""
    from .document import SHARED_SHEETS

    named = _packaged_text(tuple(stylesheet(name) for name in SHARED_SHEETS))
    own_fonts = any(asset.href.startswith("fonts/") for asset in book.assets)
    for family, role, package in DESIGN_FONTS:
        stack = _stack(named, family)
        if not stack or (own_fonts and role in BOOK_FONT_REPLACES):
            continue  # not the design's first choice any more (a theme), or the book's font replaces it
        used = matched_family(stack)
        if used is None or used.casefold() == family.casefold():
            continue
        reporter.warn(f"the PDF's {role} font '{family}' is not installed: it is set in '{used}' instead, "
                      f"so the PDF will look different on a machine that has {family}",
                      hint=f"install it (Debian/Ubuntu: apt-get install {package}), "
                           "or name the book's own font with [book] fonts")


def _stack(css: str, family: str) -> tuple[str, ...]:
    """The first ``font-family`` stack of ``css`` that begins with ``family``, as names."""
    found = re.search(r'font-family:\s*("' + re.escape(family) + r'"[^;}]*)', css)
    if found is None:
        return ()
    return tuple(name.strip().strip('"\'') for name in found[1].split(",") if name.strip())


@cache
def _packaged_text(sheets: tuple[Path, ...]) -> str:
    return "\n".join(read_own_file(sheet).decode("utf-8", "replace") for sheet in sheets)


@cache
def matched_family(stack: tuple[str, ...]) -> str | None:
    """The family fontconfig gives for a CSS font ``stack``, as Pango asks it for WeasyPrint
    (the first installed family of the stack, else fontconfig's default; None: no font at
    all). Kept for the process: fonts installed meanwhile count from the next run."""
    from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    try:
        for family in stack:
            fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        match = fontconfig.FcFontMatch(config, pattern, ffi.new("FcResult *"))
        if match == ffi.NULL:
            return None
        try:
            name = ffi.new("FcChar8 **")
            if fontconfig.FcPatternGetString(match, b"family", 0, name) != fontconfig.FcResultMatch:
                return None
            return ffi.string(name[0]).decode("utf-8", "replace")
        finally:
            fontconfig.FcPatternDestroy(match)
    finally:
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)

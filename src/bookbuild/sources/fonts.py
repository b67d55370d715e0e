"""The book's own fonts (``[book] fonts``): assets of the book, and what each file says it is.

A font named in the manifest is the book's text font: its family (read from the font's own
name table, so authors need not repeat it) goes first in the font stack of the text and the
headings (render/scripts.py). The EPUB carries the files (subset to the book's characters
when ``[epub] subset_fonts = true``: render/epub/fonts.py); the PDF loads the same files and
WeasyPrint subsets them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config.manifest import Manifest
from ..files import read_book_file
from ..model import Asset

FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}
FONT_FORMATS = {".ttf": "truetype", ".otf": "opentype", ".woff": "woff", ".woff2": "woff2"}


@dataclass(frozen=True)
class FontFace:
    """What ``@font-face`` says about one file."""

    family: str
    weight: int
    italic: bool


def font_assets(manifest: Manifest) -> tuple[Asset, ...]:
    """One asset per ``[book] fonts`` entry, under ``fonts/`` with its own file name."""
    return tuple(Asset(href=f"fonts/{path.name}", source=path, media_type=FONT_TYPES[path.suffix.lower()],
                       root=manifest.root)
                 for path in manifest.fonts)


@cache
def font_face(path: Path, root: Path) -> FontFace:
    """Family, weight and style as the font declares them (typographic family first); the
    file is read inside ``root``, the book folder."""
    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(read_book_file(path, root, "font")), lazy=True) as font:
        family = font["name"].getBestFamilyName() or path.stem
        os2 = font["OS/2"] if "OS/2" in font else None
        weight = os2.usWeightClass if os2 is not None else 400
        italic = bool(os2.fsSelection & 1) if os2 is not None else False
    return FontFace(family=family, weight=weight, italic=italic)

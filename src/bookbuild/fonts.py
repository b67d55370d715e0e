"""The book's own fonts (``[book] fonts``): packed as assets, declared with ``@font-face``.

A font named in the manifest is the book's text font: its family (read from the font's own
name table, so authors need not repeat it) goes first in the font stack of the text and the
headings. The EPUB carries the files (subset to the book's characters when
``[epub] subset_fonts = true``); the PDF loads the same files and WeasyPrint subsets them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .manifest import Manifest
from .model import Asset, Book
from .xhtml import parse_fragment

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
    return tuple(Asset(href=f"fonts/{path.name}", source=path, media_type=FONT_TYPES[path.suffix.lower()])
                 for path in manifest.fonts)


@cache
def font_face(path: Path) -> FontFace:
    """Family, weight and style as the font declares them (typographic family first)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        family = font["name"].getBestFamilyName() or path.stem
        os2 = font["OS/2"] if "OS/2" in font else None
        weight = os2.usWeightClass if os2 is not None else 400
        italic = bool(os2.fsSelection & 1) if os2 is not None else False
    return FontFace(family=family, weight=weight, italic=italic)


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
        face = font_face(asset.source)
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


def font_content(asset: Asset, book: Book) -> bytes:
    """The bytes to pack: the whole font, or with ``subset_fonts`` only the glyphs the book shows."""
    data = asset.source.read_bytes()
    if not book.manifest.epub.subset_fonts:
        return data
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), recalcTimestamp=False)  # same input, same bytes (house rule 6)
    options = subset.Options()
    options.layout_features = ["*"]  # keep shaping (Arabic joining, CJK vertical forms, ligatures)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=book_characters(book))
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = {".woff": "woff", ".woff2": "woff2"}.get(asset.source.suffix.lower())
    font.save(out, reorderTables=True)
    return out.getvalue()


def book_characters(book: Book) -> str:
    """Every character a reader may see: metadata, titles, bodies, notes, labels, digits."""
    parts = [book.meta.title, book.meta.subtitle or "", " ".join(book.meta.authors),
             book.meta.publisher or "", book.meta.date or "", book.meta.rights or "", book.meta.identifier,
             "ISBN DOI", *book.manifest.language.labels(),
             "0123456789 .,:;-–—()[]" + "".join(book.manifest.language.quotes.__dict__.values())]
    for chapter in book.chapters:
        parts += [chapter.title, text_of(chapter.body), *(text_of(note.body) for note in chapter.footnotes)]
    return "".join(sorted(set("".join(parts))))


def text_of(fragment: str) -> str:
    """The characters of a model body, without markup."""
    return "".join(parse_fragment(fragment).itertext())


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

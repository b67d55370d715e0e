"""The book's fonts as the EPUB packs them: whole, or subset to the characters a reader may see
(``[epub] subset_fonts``) with fontTools."""

from __future__ import annotations

import io

from ...model import Asset, Book
from ...xhtml import body_text
from ..front_matter import printed_date


def font_content(asset: Asset, book: Book, subset_fonts: bool) -> bytes:
    """The bytes to pack: the whole font, or with ``subset_fonts`` only the glyphs the book shows."""
    data = asset.content()
    if not subset_fonts:
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
             book.meta.publisher or "", printed_date(book.meta.date, book.meta.language), book.meta.rights or "",
             book.meta.edition or "", book.meta.identifier, "ISBN DOI ©", *book.language.labels(),
             "0123456789 .,:;-–—()[]" + "".join(book.language.quotes.__dict__.values())]
    for chapter in book.chapters:
        parts += [chapter.title, body_text(chapter.body), *(body_text(note.body) for note in chapter.footnotes)]
    return "".join(sorted(set("".join(parts))))

"""Each font once in the chapter-parallel PDF: the pieces' subsets merged into one (join.py).

Every piece is laid out and drawn on its own, so WeasyPrint embeds in it a subset of each
font holding the glyphs that piece uses: copied as they are, a long book carries the same
font once per piece (the feature tour was twice its single-document size). The join gives
each font one set of objects instead, written once every piece has come (:meth:`FontMerger.finish`):

* WeasyPrint subsets with HarfBuzz keeping the glyph ids (``RETAIN_GIDS``), so a glyph has
  the same id, and the text refers to it by the same code, in every piece: the pages need
  no change, only their font resources point at the one merged font.
* The font program is the subset of the piece with the most glyph slots, into which the
  outlines of glyphs other pieces use are copied by id (fontTools): ``glyf`` glyphs, or
  CFF charstrings (WeasyPrint desubroutinizes them, so each stands alone; a CID font's
  charstring brings its font dictionary, matched by name). A piece that uses no glyph
  the merged font lacks is not even parsed.
* The widths (``/W``) and the text of each glyph (``/ToUnicode``) are the union of the
  pieces'; the descriptor's bounding box and fixed-pitch flag follow from the widths, as
  WeasyPrint computes them.

A font this does not understand (a bitmap font, a font with missing glyphs, whose custom
encoding gives made-up ids that differ between pieces) is copied per piece as before.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from pypdf.generic import ArrayObject, IndirectObject, NameObject, StreamObject

from .pdf_file import PdfFile, real, serialize

_TYPE0 = re.compile(rb"/Subtype\s*/Type0\b")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.DOTALL)
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")
_REWRITTEN = ("/Type", "/FontName", "/Flags", "/FontBBox", "/FontFile2", "/FontFile3")
_CMAP_HEAD = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
              b"<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
              b"/CMapType 2 def\n1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n")
_CMAP_TAIL = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"


@dataclass
class _Font:
    """One font of the joined file, gathered from the pieces that use it."""

    number: int  # its Type0 font dictionary in the joined file
    base_font: bytes  # /BaseFont, as written
    cid_head: bytes  # the CIDFont's /Subtype and /CIDSystemInfo, as written
    descriptor: bytes  # the descriptor's entries that do not depend on the glyphs, as written
    flags: int
    ascent: float
    descent: float
    file_key: str  # /FontFile2 (TrueType) or /FontFile3 (OpenType CFF)
    program: bytes  # the font program, as the piece with the most glyph slots embedded it
    glyphs: set[int]  # the ids whose outlines it holds
    merged: Any = None  # the program parsed (a fontTools TTFont), once another's glyphs are copied in
    widths: dict[int, Any] = field(default_factory=dict)
    unicode: dict[int, bytes] = field(default_factory=dict)  # glyph id -> its text, UTF-16BE as hex


@dataclass
class _PieceFont:
    """What one piece says of a font."""

    key: tuple[bytes, bytes]
    descriptor: Any
    cid: Any
    widths: dict[int, Any]
    unicode: dict[int, bytes]
    file_key: str
    program: bytes


class FontMerger:
    """The fonts of the joined file, one set of objects each (see the module's docstring)."""

    def __init__(self, file: PdfFile) -> None:
        self.file = file
        self.fonts: dict[tuple[bytes, bytes], _Font] = {}

    def number(self, piece: Any, old: int) -> int | None:
        """The joined file's number for the piece's object ``old`` if it is a font dictionary
        merged here (then nothing under it is copied); None for any other object."""
        body = piece.body(old)
        if body is None or not _TYPE0.search(body):
            return None
        found = _read_font(piece, old)
        if found is None:
            return None
        font = self.fonts.get(found.key)
        if font is None:
            font = self.fonts[found.key] = _new_font(self.file.reserve(), found)
        else:
            _add_program(font, found)
        for gid, width in found.widths.items():
            font.widths.setdefault(gid, width)
        for gid, text in found.unicode.items():
            font.unicode.setdefault(gid, text)
        return font.number

    def finish(self) -> None:
        """Write every merged font: its Type0 and CIDFont dictionaries, descriptor, program
        and ToUnicode map."""
        for font in self.fonts.values():
            _write(self.file, font)


def _read_font(piece: Any, old: int) -> _PieceFont | None:
    """A piece's Type0 font as WeasyPrint writes a vector font (Identity-H encoding, one
    CIDFont with a descriptor and an embedded program, a ToUnicode map of single glyphs);
    None for anything else."""
    try:
        type0 = piece.parse(old)
        if type0.get("/Encoding") != "/Identity-H" or len(type0["/DescendantFonts"]) != 1:
            return None
        cid = piece.direct(list.__getitem__(type0.raw_get("/DescendantFonts"), 0))
        descriptor = piece.direct(cid.raw_get("/FontDescriptor"))
        file_key = "/FontFile2" if "/FontFile2" in descriptor else "/FontFile3"
        program = piece.direct(descriptor.raw_get(file_key))
        to_unicode = piece.direct(type0.raw_get("/ToUnicode")).get_data()
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if (cid.get("/CIDToGIDMap") != "/Identity" or "/CIDSet" in descriptor or not isinstance(program, StreamObject)
            or b"bfrange" in to_unicode
            or any(isinstance(value, IndirectObject) for key, value in dict.items(descriptor) if key not in _REWRITTEN)):
        return None
    key = (serialize(type0["/BaseFont"]), serialize(cid["/Subtype"]))
    unicode = {int(gid, 16): text for block in _BFCHAR.findall(to_unicode) for gid, text in _PAIR.findall(block)}
    return _PieceFont(key, descriptor, cid, _widths(cid.get("/W", ArrayObject())), unicode, file_key,
                      program.get_data())


def _widths(array: Any) -> dict[int, Any]:
    """A CIDFont's /W (``c [w1 w2 ...]`` or ``c_first c_last w``) as glyph id -> width."""
    widths: dict[int, Any] = {}
    items = list(array)
    index = 0
    while index < len(items):
        first = int(items[index])
        if isinstance(items[index + 1], ArrayObject):
            widths.update((first + n, width) for n, width in enumerate(items[index + 1]))
            index += 2
        else:
            widths.update((gid, items[index + 2]) for gid in range(first, int(items[index + 1]) + 1))
            index += 3
    return widths


def _new_font(number: int, found: _PieceFont) -> _Font:
    descriptor = found.descriptor
    written = b"".join(serialize(NameObject(key)) + b" " + serialize(value) for key, value in dict.items(descriptor)
                       if key not in _REWRITTEN)
    cid_head = b"/Subtype%s/CIDSystemInfo%s" % (found.key[1], serialize(found.cid["/CIDSystemInfo"]))
    return _Font(number, found.key[0], cid_head, written, int(descriptor["/Flags"]), float(descriptor["/Ascent"]),
                 float(descriptor["/Descent"]), found.file_key, found.program, _used(found))


def _used(found: _PieceFont) -> set[int]:
    """The glyph ids a piece draws (its widths), and .notdef."""
    return {0, *found.widths}


def _add_program(font: _Font, found: _PieceFont) -> None:
    """Copy into the font's program the outlines of the glyphs this piece uses that it
    lacks; the piece's program becomes the base when it has more glyph slots."""
    from .font_programs import copy_glyphs, glyph_count, open_program

    used = _used(found)
    new = used - font.glyphs
    if not new:
        return
    piece = open_program(found.program)
    if font.merged is None:
        font.merged = open_program(font.program)
    if glyph_count(piece) > glyph_count(font.merged):  # ids past the base's last slot: the piece is the base
        font.merged, piece = piece, font.merged
        new = font.glyphs - used
    font.glyphs |= used | copy_glyphs(font.merged, piece, new)


def _write(file: PdfFile, font: _Font) -> None:
    """The merged font's objects: the dictionaries as WeasyPrint writes them."""
    from .font_programs import save_program

    cid, descriptor, program, to_unicode = (file.reserve() for _ in range(4))
    data = font.program if font.merged is None else save_program(font.merged)
    extra = b"/Subtype/OpenType" if font.file_key == "/FontFile3" else b"/Length1 %d" % len(data)
    file.put_stream(program, b"<<%s/Filter/FlateDecode>>" % extra, zlib.compress(data))
    widths = font.widths
    values = [float(width) for width in widths.values()]
    flags = font.flags & ~1 | (1 if len(values) > 1 and len(set(values)) == 1 else 0)  # FixedPitch
    bbox = b"[0 %s %s %s]" % (real(font.descent), real(max(values, default=0)), real(font.ascent))
    file.put(descriptor, b"<</Type/FontDescriptor/FontName%s%s/Flags %d/FontBBox%s%s %d 0 R>>" % (
        font.base_font, font.descriptor, flags, bbox, font.file_key.encode(), program))
    file.put(cid, b"<</Type/Font%s/BaseFont%s/CIDToGIDMap/Identity/W[%s]/FontDescriptor %d 0 R>>" % (
        font.cid_head, font.base_font, _w_array(widths), descriptor))
    file.put_stream(to_unicode, b"<</Filter/FlateDecode>>", zlib.compress(_cmap(font.unicode)))
    file.put(font.number, b"<</Type/Font/Subtype/Type0/BaseFont%s/ToUnicode %d 0 R/Encoding/Identity-H"
                          b"/DescendantFonts[%d 0 R]>>" % (font.base_font, to_unicode, cid))


def _w_array(widths: dict[int, Any]) -> bytes:
    """/W as WeasyPrint writes it: each run of consecutive ids as ``first [w w ...]``."""
    out: list[bytes] = []
    run: list[bytes] = []
    for gid in sorted(widths):
        if gid - 1 not in widths:
            if run:
                out.append(b"[" + b" ".join(run) + b"]")
            out.append(b"%d" % gid)
            run = []
        run.append(serialize(widths[gid]))
    if run:
        out.append(b"[" + b" ".join(run) + b"]")
    return b" ".join(out)


def _cmap(unicode: dict[int, bytes]) -> bytes:
    """The ToUnicode map, as WeasyPrint writes it (a hundred glyphs a block), by glyph id."""
    lines = [_CMAP_HEAD]
    pairs = sorted(unicode.items())
    for start in range(0, len(pairs), 100):
        batch = pairs[start:start + 100]
        lines.append(b"%d beginbfchar\n" % len(batch))
        lines += [b"<%04x> <%s>\n" % (gid, text) for gid, text in batch]
        lines.append(b"endbfchar\n")
    return b"".join(lines) + _CMAP_TAIL

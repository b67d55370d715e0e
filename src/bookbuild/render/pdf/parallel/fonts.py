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

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

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


@dataclass(frozen=True)
class FontUse:
    """What one piece says of one font: kept with the piece's part of the joined file
    (memo.py), so that a rebuild that reuses that part need not read the piece again."""

    key: tuple[bytes, bytes]  # /BaseFont and the CIDFont's /Subtype, as written
    cid_head: bytes  # the CIDFont's /Subtype and /CIDSystemInfo, as written
    descriptor: bytes  # the descriptor's entries that do not depend on the glyphs, as written
    flags: int
    ascent: float
    descent: float
    file_key: str  # /FontFile2 (TrueType) or /FontFile3 (OpenType CFF)
    widths: dict[int, bytes]  # glyph id -> its width, as written
    unicode: dict[int, bytes]  # glyph id -> its text, UTF-16BE as hex
    program: str  # the SHA-256 of the font program the piece embeds (kept by the memo)

    @property
    def used(self) -> set[int]:
        """The glyph ids the piece draws (its widths), and .notdef."""
        return {0, *self.widths}

    def to_json(self) -> list:
        return [[k.decode("latin-1") for k in self.key], self.cid_head.decode("latin-1"),
                self.descriptor.decode("latin-1"), self.flags, self.ascent, self.descent, self.file_key,
                [[gid, width.decode("latin-1")] for gid, width in self.widths.items()],
                [[gid, text.decode("latin-1")] for gid, text in self.unicode.items()], self.program]

    @classmethod
    def from_json(cls, item: list) -> FontUse:
        key, cid_head, descriptor, flags, ascent, descent, file_key, widths, unicode, program = item
        return cls((key[0].encode("latin-1"), key[1].encode("latin-1")), cid_head.encode("latin-1"),
                   descriptor.encode("latin-1"), int(flags), float(ascent), float(descent), str(file_key),
                   {int(gid): width.encode("latin-1") for gid, width in widths},
                   {int(gid): text.encode("latin-1") for gid, text in unicode}, str(program))


class Programs(Protocol):
    """Where the font programs are kept, by SHA-256, and the merged ones by name (memo.py)."""

    def keep_program(self, digest: str, data: bytes) -> None: ...
    def program(self, digest: str) -> bytes | None: ...
    def merged(self, name: str) -> bytes | None: ...
    def keep_merged(self, name: str, data: bytes) -> None: ...
    def merged_name(self, parts: list[str]) -> str: ...


class MissingProgram(Exception):
    """A font program the merge needs is no longer kept: the join starts again from the pieces."""


@dataclass
class _Font:
    """One font of the joined file, gathered from the pieces that use it."""

    number: int  # its Type0 font dictionary in the joined file
    first: FontUse  # of the first piece that used it: the dictionaries' entries, the base program
    uses: list[tuple[str, frozenset[int]]] = field(default_factory=list)  # (program, glyphs) of each piece
    widths: dict[int, bytes] = field(default_factory=dict)
    unicode: dict[int, bytes] = field(default_factory=dict)  # glyph id -> its text, UTF-16BE as hex
    merge: _Merge | None = None  # merged as the pieces come (FontMerger's ``early``)
    late: bool = False  # a program was missing then: merged at the end (where the join starts again)


class FontMerger:
    """The fonts of the joined file, one set of objects each (see the module's docstring).
    A font dictionary takes one of the ``slots``, numbers reserved before the pieces, so that
    a piece's objects are numbered alike whatever fonts the pieces before it brought (memo.py);
    past them, a font is copied per piece."""

    def __init__(self, file: PdfFile, slots: list[int], programs: Programs, early: bool = False) -> None:
        self.file = file
        self.slots = slots
        self.programs = programs
        # Merge each font as its pieces come (on the join's thread, while the workers lay
        # out), not all at the end: for a cold build, which has no merged program kept. The
        # large benchmark book's seven fonts took 0.3 s after the last layout.
        self.early = early
        self.fonts: dict[tuple[bytes, bytes], _Font] = {}
        self.uses: list[FontUse] = []  # of the piece being copied (join.py takes them)

    def number(self, piece: Any, old: int) -> int | None:
        """The joined file's number for the piece's object ``old`` if it is a font dictionary
        merged here (then nothing under it is copied); None for any other object."""
        body = piece.body(old)
        if body is None or not _TYPE0.search(body):
            return None
        found = _read_font(piece, old)
        if found is None:
            return None
        use, program = found
        if use.key not in self.fonts and len(self.fonts) >= len(self.slots):
            return None
        self.programs.keep_program(use.program, program)
        return self.use(use)

    def use(self, use: FontUse) -> int:
        """Count a piece's use of a font (read by :meth:`number`, or kept with the piece's
        part of the file); the merged font's number."""
        font = self.fonts.get(use.key)
        if font is None:
            font = self.fonts[use.key] = _Font(self.slots[len(self.fonts)], use)
        font.uses.append((use.program, frozenset(use.used)))
        if self.early and not font.late:
            try:
                font.merge = font.merge or _Merge(self._load)
                font.merge.add(*font.uses[-1])
            except MissingProgram:
                font.merge, font.late = None, True
        for gid, width in use.widths.items():
            font.widths.setdefault(gid, width)
        for gid, text in use.unicode.items():
            font.unicode.setdefault(gid, text)
        self.uses.append(use)
        return font.number

    def state(self) -> str:
        """The fonts met so far, with their numbers: a piece's objects are the same bytes
        again only if this is the same."""
        return repr([(key, font.number) for key, font in self.fonts.items()])

    def finish(self) -> None:
        """Write every merged font: its Type0 and CIDFont dictionaries, descriptor, program
        and ToUnicode map."""
        for font in self.fonts.values():
            _write(self.file, font, self._program(font))

    def _program(self, font: _Font) -> bytes:
        """The font's program (its length in 8 bytes, then the program compressed): the subset of the piece with the most glyph slots, into which
        the outlines of glyphs other pieces use are copied by id. The same pieces' subsets
        make the same program, kept by name (memo.py) so that a rebuild does not merge again."""
        name = self.programs.merged_name([repr(font.first.key)] + [f"{p} {sorted(g)}" for p, g in font.uses])
        kept = self.programs.merged(name)  # its length, then the program compressed, as written
        if kept is None:
            early = font.merge is not None and font.merge.count == len(font.uses)
            data = font.merge.result() if early else _merge(font.uses, self._load)  # type: ignore[union-attr]
            kept = len(data).to_bytes(8, "big") + zlib.compress(data)
            self.programs.keep_merged(name, kept)
        return kept

    def _load(self, digest: str) -> bytes:
        data = self.programs.program(digest)
        if data is None:
            raise MissingProgram(digest)
        return data


def _read_font(piece: Any, old: int) -> tuple[FontUse, bytes] | None:
    """A piece's Type0 font as WeasyPrint writes a vector font (Identity-H encoding, one
    CIDFont with a descriptor and an embedded program, a ToUnicode map of single glyphs),
    and its program; None for anything else."""
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
    data = program.get_data()
    unicode = {int(gid, 16): text for block in _BFCHAR.findall(to_unicode) for gid, text in _PAIR.findall(block)}
    written = b"".join(serialize(NameObject(key)) + b" " + serialize(value) for key, value in dict.items(descriptor)
                       if key not in _REWRITTEN)
    use = FontUse((serialize(type0["/BaseFont"]), serialize(cid["/Subtype"])),
                  b"/Subtype%s/CIDSystemInfo%s" % (serialize(cid["/Subtype"]), serialize(cid["/CIDSystemInfo"])),
                  written, int(descriptor["/Flags"]), float(descriptor["/Ascent"]), float(descriptor["/Descent"]),
                  file_key, {gid: serialize(width) for gid, width in _widths(cid.get("/W", ArrayObject())).items()},
                  unicode, hashlib.sha256(data).hexdigest())
    return use, data


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


def _merge(uses: list[tuple[str, frozenset[int]]], load: Callable[[str], bytes]) -> bytes:
    """The merged program of the pieces' subsets (``uses``: program digest and glyph ids, in
    the order of the join; ``load`` gives a program's bytes), as :class:`_Merge` makes it."""
    merge = _Merge(load)
    for digest, used in uses:
        merge.add(digest, used)
    return merge.result()


class _Merge:
    """A font's program merged from the pieces' subsets, one piece at a time in the order of
    the join: the first is the base, and each next one's glyphs the base lacks are copied
    into it; a piece with more glyph slots becomes the base. A font no piece added glyphs to
    is the first piece's program, as is. ``load`` gives a program's bytes by its digest."""

    def __init__(self, load: Callable[[str], bytes]) -> None:
        self.load = load
        self.count = 0  # pieces added
        self.base = ""
        self.glyphs: set[int] = set()
        self.merged: Any = None  # the base opened (fontTools), once a piece adds glyphs

    def add(self, digest: str, used: frozenset[int]) -> None:
        from .font_programs import copy_glyphs, glyph_count, open_program

        self.count += 1
        if self.count == 1:
            self.base, self.glyphs = digest, set(used)
            return
        new = used - self.glyphs
        if not new:
            return
        piece = open_program(self.load(digest))
        if self.merged is None:
            self.merged = open_program(self.load(self.base))
        if glyph_count(piece) > glyph_count(self.merged):  # ids past the base's last slot: the piece is the base
            self.merged, piece = piece, self.merged
            new = self.glyphs - used
        self.glyphs |= used | copy_glyphs(self.merged, piece, new)

    def result(self) -> bytes:
        from .font_programs import save_program

        return self.load(self.base) if self.merged is None else save_program(self.merged)


def _write(file: PdfFile, font: _Font, kept: bytes) -> None:
    """The merged font's objects (``kept``: its program's length, then the program
    compressed): the dictionaries as WeasyPrint writes them."""
    first = font.first
    base_font = first.key[0]
    cid, descriptor, program, to_unicode = (file.reserve() for _ in range(4))
    length = int.from_bytes(kept[:8], "big")
    extra = b"/Subtype/OpenType" if first.file_key == "/FontFile3" else b"/Length1 %d" % length
    file.put_stream(program, b"<<%s/Filter/FlateDecode>>" % extra, kept[8:])
    widths = font.widths
    values = [float(width) for width in widths.values()]
    flags = first.flags & ~1 | (1 if len(values) > 1 and len(set(values)) == 1 else 0)  # FixedPitch
    bbox = b"[0 %s %s %s]" % (real(first.descent), real(max(values, default=0)), real(first.ascent))
    file.put(descriptor, b"<</Type/FontDescriptor/FontName%s%s/Flags %d/FontBBox%s%s %d 0 R>>" % (
        base_font, first.descriptor, flags, bbox, first.file_key.encode(), program))
    file.put(cid, b"<</Type/Font%s/BaseFont%s/CIDToGIDMap/Identity/W[%s]/FontDescriptor %d 0 R>>" % (
        first.cid_head, base_font, _w_array(widths), descriptor))
    file.put_stream(to_unicode, b"<</Filter/FlateDecode>>", zlib.compress(_cmap(font.unicode)))
    file.put(font.number, b"<</Type/Font/Subtype/Type0/BaseFont%s/ToUnicode %d 0 R/Encoding/Identity-H"
                          b"/DescendantFonts[%d 0 R]>>" % (base_font, to_unicode, cid))


def _w_array(widths: dict[int, bytes]) -> bytes:
    """/W as WeasyPrint writes it: each run of consecutive ids as ``first [w w ...]``."""
    out: list[bytes] = []
    run: list[bytes] = []
    for gid in sorted(widths):
        if gid - 1 not in widths:
            if run:
                out.append(b"[" + b" ".join(run) + b"]")
            out.append(b"%d" % gid)
            run = []
        run.append(widths[gid])
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

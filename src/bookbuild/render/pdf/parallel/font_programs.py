"""Glyph outlines copied by id between subsets of one font (fontTools), for fonts.py.

WeasyPrint's subsets keep the font's glyph ids, so a glyph is the same slot in every
piece's subset of a font: copying a glyph is copying that slot (its outline and metrics)
from one subset into another. Glyph names may differ between subsets (fontTools names
glyphs from what each subset's cmap and post tables hold), so slots are matched by id
and a composite glyph's components are renamed by id too.
"""

from __future__ import annotations

import io
from typing import Any

from fontTools.misc.psCharStrings import T2CharString
from fontTools.ttLib import TTFont


def open_program(data: bytes) -> TTFont:
    """A font program as embedded (TrueType, or OpenType with CFF outlines)."""
    return TTFont(io.BytesIO(data), recalcTimestamp=False)


def glyph_count(font: TTFont) -> int:
    return font["maxp"].numGlyphs


def save_program(font: TTFont) -> bytes:
    """The merged program; the same bytes for the same subsets (no timestamp is renewed).
    A CFF font's bounding boxes are left as the base subset has them: recomputing them
    draws every charstring (seconds for a CJK font's 60,000 slots), and the PDF gives its
    own box in the descriptor."""
    font.recalcBBoxes = "glyf" in font
    if "CFF " in font:
        _charstrings_as_bytes(font["CFF "].cff.topDictIndex[0].CharStrings.charStringsIndex)
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()


class _Bytes:
    """A charstring that is written as it was read (what fontTools' compiler asks of one)."""

    __slots__ = ("bytecode",)

    def __init__(self, bytecode: bytes) -> None:
        self.bytecode = bytecode

    def compile(self, isCFF2: bool = False) -> None:  # fontTools' signature
        pass


def _charstrings_as_bytes(index: Any) -> None:
    """Give every charstring not copied in its bytes as they are: fontTools would otherwise
    make a charstring object of each of a CJK font's 60,000 slots to write the font."""
    if getattr(index, "file", None) is None or not index.items:
        return
    offsets, base = index.offsets, index.offsetBase
    index.file.seek(base + offsets[0])
    data = index.file.read(offsets[-1] - offsets[0])
    first = offsets[0]
    items = index.items
    for n, item in enumerate(items):
        if item is None:
            items[n] = _Bytes(data[offsets[n] - first:offsets[n + 1] - first])


def copy_glyphs(into: TTFont, source: TTFont, gids: set[int]) -> set[int]:
    """Copy the glyphs ``gids`` (and the components they are made of) from ``source`` into
    ``into``, whose slots must cover them; the ids copied."""
    if "glyf" in into:
        copied = _copy_glyf(into, source, gids)
    else:
        copied = _copy_cff(into, source, gids)
    into_order, source_order = into.getGlyphOrder(), source.getGlyphOrder()
    for tag, header, count in (("hmtx", "hhea", "numberOfHMetrics"), ("vmtx", "vhea", "numberOfVMetrics")):
        if tag not in into or tag not in source or header not in into or header not in source:
            continue
        if "CFF " in into and _copy_raw_metrics(into, source, tag, (getattr(into[header], count),
                                                                 getattr(source[header], count)), copied):
            continue
        into_metrics, source_metrics = into[tag].metrics, source[tag].metrics
        for gid in copied:
            into_metrics[into_order[gid]] = source_metrics[source_order[gid]]
    if "VORG" in into and "VORG" in source:
        into_origins, source_origins = into["VORG"].VOriginRecords, source["VORG"].VOriginRecords
        for gid in copied:
            if source_order[gid] in source_origins:
                into_origins[into_order[gid]] = source_origins[source_order[gid]]
    return copied


def _copy_raw_metrics(into: TTFont, source: TTFont, tag: str, counts: tuple[int, int], gids: set[int]) -> bool:
    """Copy the metrics of ``gids`` as bytes (each glyph below the long metrics' count is
    4 bytes at 4 x id; past it, the last advance and a side bearing of 2 bytes): decoding
    and encoding the 60,000 metrics of a CJK font costs more than all the rest. False
    (nothing changed) where a glyph is past ``into``'s long metrics."""
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    if into.isLoaded(tag) and not isinstance(into[tag], DefaultTable):
        return False
    own, theirs = counts
    if any(gid >= own for gid in gids):
        return False
    data, source_data = bytearray(into.getTableData(tag)), source.getTableData(tag)
    for gid in gids:
        if gid < theirs:
            record = source_data[4 * gid:4 * gid + 4]
        else:
            bearing = 4 * theirs + 2 * (gid - theirs)
            record = source_data[4 * theirs - 4:4 * theirs - 2] + source_data[bearing:bearing + 2]
        data[4 * gid:4 * gid + 4] = record
    table = DefaultTable(tag)
    table.data = bytes(data)
    into[tag] = table
    return True


def _copy_glyf(into: TTFont, source: TTFont, gids: set[int]) -> set[int]:
    """TrueType outlines; a composite glyph's components are copied with it, renamed by id."""
    into_order, source_order = into.getGlyphOrder(), source.getGlyphOrder()
    into_glyf, source_glyf = into["glyf"], source["glyf"]
    todo, copied = sorted(gids, reverse=True), set()
    while todo:
        gid = todo.pop()
        if gid in copied or gid >= len(source_order):
            continue
        copied.add(gid)
        glyph = source_glyf[source_order[gid]]
        if glyph.isComposite():
            for component in glyph.components:
                part = source.getGlyphID(component.glyphName)
                component.glyphName = into_order[part]
                todo.append(part)
        into_glyf[into_order[gid]] = glyph
    return copied


def _copy_cff(into: TTFont, source: TTFont, gids: set[int]) -> set[int]:
    """CFF charstrings. WeasyPrint desubroutinizes its subsets, so a charstring's bytes
    stand alone (both are desubroutinized here if not); in a CID-keyed font each brings its
    font dictionary (the private dictionary its widths are relative to), matched by name."""
    for font in (into, source):
        cff = font["CFF "].cff
        if len(cff.GlobalSubrs) or any(_has_subrs(private) for private in _privates(cff.topDictIndex[0])):
            cff.desubroutinize()
    into_order, source_order = into.getGlyphOrder(), source.getGlyphOrder()
    into_top, source_top = into["CFF "].cff.topDictIndex[0], source["CFF "].cff.topDictIndex[0]
    cid_keyed = hasattr(into_top, "FDArray")
    dictionaries = {fd.FontName: n for n, fd in enumerate(into_top.FDArray)} if cid_keyed else {}
    copied = set()
    for gid in sorted(gids):
        if gid >= len(source_order):
            continue
        charstring, selector = source_top.CharStrings.getItemAndSelector(source_order[gid])
        private = into_top.Private if not cid_keyed else None
        if cid_keyed:
            fd = source_top.FDArray[selector]
            if fd.FontName not in dictionaries:
                into_top.FDArray.append(fd)
                dictionaries[fd.FontName] = len(into_top.FDArray) - 1
            into_top.FDSelect[gid] = dictionaries[fd.FontName]
            private = into_top.FDArray[dictionaries[fd.FontName]].Private
        if charstring.bytecode is None:
            charstring.compile()
        into_top.CharStrings[into_order[gid]] = T2CharString(
            bytecode=charstring.bytecode, private=private, globalSubrs=into_top.GlobalSubrs)
        copied.add(gid)
    return copied


def _privates(top: Any) -> list[Any]:
    return [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]


def _has_subrs(private: Any) -> bool:
    return bool(len(getattr(private, "Subrs", ()) or ()))

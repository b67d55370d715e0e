"""Print other page numbers on a drawn piece: a rebuild moves the unchanged pieces without
laying them out or drawing them again.

When an edit adds pages to one chapter, every later piece of the parallel PDF moves by whole
pages (a chapter starts a new page, on the right in a two-sided book), and every "see page N"
and contents line naming a page after the edit changes. Their layout does not: only the
digits do, where the new number has as many digits as the old and the font's figures are
tabular (print.css asks for them), as renumber.py argues for a laid-out piece. So a worker
that finds no laid-out piece for the numbers it wants takes the same piece drawn on other
numbers (parallel/cache.py keeps it under the name of its "shape": its source with the
numbers taken out) and changes the digits in its content streams.

To find them, a piece is drawn with each text box that prints a page number (renumber.py's
:func:`~.renumber.number_boxes`) with digits in it inside a marked-content sequence of its own
(``/BookbuildNumber <</N k>> BDC ... EMC``, nested in WeasyPrint's ``/Span``; readers and tag
trees ignore it), and each font that draws one is given the glyphs, widths and
``ToUnicode`` entries of all ten digits, so the subset embedded can print any number. The
piece's entry lists, for each mark, its page, kind, anchor and text, and for each font the
glyph of each digit. A number that changes width, a font whose digits are not tabular, or
glyphs that do not read back as the old number: the piece is laid out again instead.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .renumber import number_boxes, renumbered

TAG = "BookbuildNumber"
LEVEL = 6  # zlib's level for a changed content stream, as WeasyPrint (pydyf) compresses them
_MARK = re.compile(rb"/" + TAG.encode() + rb"\s*<<\s*/N\s+(\d+)\s*>>\s*BDC")
# inside a mark, what draw_first_line writes: fonts, and glyph strings of 4-digit hex glyph ids
_TOKEN = re.compile(rb"/([^\s/<>\[\]()]+)\s+[-\d.]+\s+Tf|<([0-9A-Fa-f]*)>")


@contextmanager
def marking(document: Any) -> Iterator[dict]:
    """While the ``document`` is drawn (``write_pdf``), its number boxes are marked; the
    dictionary yielded is then filled with the marks and the digit glyphs of their fonts."""
    from weasyprint import draw

    boxes: dict[int, int] = {}
    marks: list[list] = []
    for page, box, kind, anchor in number_boxes(document):
        text = box.text
        digits = any(c.isdigit() for c in text)
        if digits or _ROMAN.search(text):  # not the contents' leader dots (a box a leader: leaders.py)
            if digits:  # drawn inside a mark; a roman number is listed to say when it changes
                boxes[id(box)] = len(marks)
            marks.append([page, kind, anchor, text, digits])
    fonts: dict[str, list[int] | None] = {}
    found: dict = {"marks": marks, "digits": fonts}
    shaped: set[tuple] = set()  # the styles whose digits were added (_STYLE): one shaping each
    original = draw.draw_text

    def draw_text(stream: Any, textbox: Any, *args: Any, **kwargs: Any) -> Any:
        mark = boxes.get(id(textbox))
        if mark is None:
            return original(stream, textbox, *args, **kwargs)
        import pydyf

        stream.begin_marked_content(TAG, pydyf.Dictionary({"N": mark}))
        try:
            return original(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()
            zero = _zero(textbox.text)
            style = (*(str(textbox.style[name]) for name in _STYLE), zero)
            if style not in shaped:
                shaped.add(style)
                _add_digits(stream, textbox, zero, fonts)

    draw.draw_text = draw_text
    try:
        yield found
    finally:
        draw.draw_text = original


def _zero(text: str) -> int:
    """The code point of the zero of the digits ``text`` is written in (0-9 without any)."""
    return next((ord(c) - unicodedata.digit(c) for c in text if c.isdigit()), ord("0"))


def _add_digits(stream: Any, textbox: Any, zero: int, fonts: dict[str, list[int] | None]) -> None:
    """Give each font the box draws digits with all ten digits (in the script of its
    digits), shaped as the box's style shapes them; record their glyphs, or None for a font
    whose digits are not one glyph each of one width."""
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango
    from weasyprint.text.line_break import Layout

    digits = "".join(chr(zero + n) for n in range(10))
    layout = Layout(textbox.style)
    layout.set_text(digits)
    line, _ = layout.get_first_line()
    encoded = digits.encode()
    run = line.runs[0]
    while run != ffi.NULL:
        glyph_item, run = run.data, run.next
        glyph_string = glyph_item.glyphs
        pango_font = glyph_item.item.analysis.font
        font, font_size = stream.add_font(pango_font)
        if pango.pango_version() < 14802 or font.png:  # as draw_first_line
            font_size = textbox.style["font_size"]
        if font.hash in fonts:
            continue
        glyphs: list[int] = [0] * 10
        widths: set[int] = set()
        ok = not font.bitmap
        for i in range(glyph_string.num_glyphs):
            glyph = glyph_string.glyphs[i].glyph
            offset = glyph_item.item.offset + glyph_string.log_clusters[i]
            if glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG or glyph == pango.PANGO_GLYPH_EMPTY:
                ok = False
                break
            digit = len(encoded[:offset].decode(errors="ignore"))
            if glyph not in font.widths:
                pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
                font.widths[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
            font.to_unicode.setdefault(glyph, digits[digit])
            glyphs[digit] = glyph
            widths.add(font.widths[glyph])
        complete = glyph_string.num_glyphs == 10 and len(set(glyphs)) == 10
        fonts[font.hash] = glyphs if ok and complete and len(widths) == 1 else None


def renumber_drawn(pdf: bytes, drawn: Mapping, folio_shift: int, old: Mapping[str, str],
                   new: Mapping[str, str]) -> tuple[bytes, dict, dict[int, str], list[tuple[bytes, bytes]]] | None:
    """The piece ``pdf``, drawn with the marks and digits ``drawn`` (:func:`marking`) on
    the numbers ``old`` (and its first page), printing ``new`` and its folios moved on by
    ``folio_shift``; with its marks as they are now, the folio each page of a number prints,
    and each content stream changed, as stored in the PDF before and after (the join changes
    its part of the file alike: memo.py). None when it must be laid out again."""
    changes: dict[int, str] = {}  # mark -> its new text
    folios: dict[int, str] = {}
    for number, (page, kind, anchor, text, marked) in enumerate(drawn["marks"]):
        patched = renumbered(text, kind, anchor, folio_shift, old, new)
        if patched is None or (patched != text and not marked) or _DIGIT.sub("#", patched) != _DIGIT.sub("#", text):
            return None  # its anchor unknown, a roman number changed, or more or fewer digits
        if kind == "folio":
            folios[page] = patched
        if patched != text:
            changes[number] = patched
    fonts = {name.encode(): glyphs for name, glyphs in drawn["digits"].items() if glyphs}
    edits: list[tuple[int, int, bytes]] = []  # (start, end, bytes written instead)
    streams: list[tuple[bytes, bytes]] = []
    seen: set[int] = set()
    for match in _CONTENTS.finditer(pdf) if changes else ():
        begin = match.end()
        raw = pdf[begin:begin + int(match.group(1))]
        if not pdf.startswith(b"\nendstream", begin + len(raw)):
            return None
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            return None
        if TAG.encode() not in data:
            continue
        patched = _patched(data, changes, drawn["marks"], fonts)
        if patched is None:
            return None
        data, found = patched
        if found:
            seen |= found
            streams.append((raw, zlib.compress(data, LEVEL)))
            edits.append((match.start(1), begin + len(raw),
                          b"%d%s%s" % (len(streams[-1][1]), pdf[match.end(1):begin], streams[-1][1])))
    if seen != set(changes):
        return None
    written = _rewritten(pdf, edits) if edits else pdf
    if written is None:
        return None
    marks = [[page, kind, anchor, changes.get(number, text), marked]
             for number, (page, kind, anchor, text, marked) in enumerate(drawn["marks"])]
    return written, {**drawn, "marks": marks}, folios, streams


_DIGIT = re.compile(r"\d")
_ROMAN = re.compile(r"(?<![^\W\d_])[ivxlcdm]+(?![^\W\d_])", re.IGNORECASE)  # a roman numeral, alone
# what decides the fonts and glyphs a box's digits are drawn with
_STYLE = ("font_family", "font_size", "font_style", "font_weight", "font_stretch", "font_variant_numeric",
          "font_feature_settings", "font_variation_settings", "font_kerning", "font_language_override", "lang",
          "direction")
# a content stream as pydyf writes it (fonts have /Length1, images a /Subtype: not matched)
_CONTENTS = re.compile(rb"\d+ 0 obj\n<<\s*/Filter\s*/FlateDecode\s*/Length (\d+)\s*>>\nstream\n")
_XREF = re.compile(rb"(\d+) 0 obj\n<<(.*?)>>\nstream\n", re.S)


def _rewritten(pdf: bytes, edits: list[tuple[int, int, bytes]]) -> bytes | None:
    """The file with these edits made before its cross-reference stream (pydyf's: one
    section, no predictor), and the offsets it gives moved; None for another kind of file."""
    tail = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf[-64:])
    head = _XREF.match(pdf, int(tail.group(1))) if tail else None
    if head is None:
        return None
    entries = head.group(2)
    widths = re.search(rb"/W\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s*\]", entries)
    length = re.search(rb"/Length\s+(\d+)", entries)
    if widths is None or length is None or b"/DecodeParms" in entries or b"/Prev" in entries \
            or int(widths.group(1)) != 1 or (edits and edits[-1][1] > head.start()):
        return None
    try:
        rows = zlib.decompress(pdf[head.end():head.end() + int(length.group(1))])
    except zlib.error:
        return None
    w2, w3 = int(widths.group(2)), int(widths.group(3))
    size = 1 + w2 + w3
    if len(rows) % size:
        return None

    def moved(offset: int) -> int:
        return offset + sum(len(written) - (end - start) for start, end, written in edits if start < offset)

    entries_read = []
    for at in range(0, len(rows), size):
        kind, second, third = rows[at], int.from_bytes(rows[at + 1:at + 1 + w2], "big"), rows[at + 1 + w2:at + size]
        entries_read.append((kind, moved(second) if kind == 1 else second, third))
    body, done = [], 0
    for start, end, written in edits:
        body += [pdf[done:start], written]
        done = end
    body.append(pdf[done:head.start()])
    position = moved(head.start())
    w2 = max(w2, (position.bit_length() + 7) // 8)
    data = zlib.compress(b"".join(bytes([kind]) + second.to_bytes(w2, "big") + third
                                  for kind, second, third in entries_read))
    entries = entries[:widths.start()] + b"/W [1 %d %d]" % (w2, w3) + entries[widths.end():]
    entries = re.sub(rb"/Length\s+\d+", b"/Length %d" % len(data), entries)
    body.append(b"%s 0 obj\n<<%s>>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n"
                % (head.group(1), entries, data, position))
    return b"".join(body)


def _patched(stream: bytes, changes: Mapping[int, str], marks: list,
             fonts: Mapping[bytes, list[int]]) -> tuple[bytes, set[int]] | None:
    """The content ``stream`` with the digits of each changed mark in it replaced, and those
    marks; None when a mark's glyphs do not read as its old number."""
    pieces: list[bytes] = []
    done = 0
    found: set[int] = set()
    for match in _MARK.finditer(stream):
        number = int(match.group(1))
        if number not in changes:
            continue
        end = stream.find(b"EMC", match.end())
        if end < 0 or number in found:
            return None
        segment = _digits_replaced(stream[match.end():end], marks[number][3], changes[number], fonts)
        if segment is None:
            return None
        pieces += [stream[done:match.end()], segment]
        done = end
        found.add(number)
    pieces.append(stream[done:])
    return b"".join(pieces), found


def _digits_replaced(segment: bytes, old: str, new: str, fonts: Mapping[bytes, list[int]]) -> bytes | None:
    """One mark's drawing with the digits of ``old`` printed as those of ``new`` (as many)."""
    old_digits = [unicodedata.digit(c) for c in old if c.isdigit()]
    new_digits = [unicodedata.digit(c) for c in new if c.isdigit()]
    spots: list[tuple[int, int, list[int]]] = []  # (offset of a glyph id in the segment, digit, glyphs)
    font: list[int] | None = None
    for token in _TOKEN.finditer(segment):
        if token.group(1) is not None:
            font = fonts.get(token.group(1))
            continue
        hexes = token.group(2)
        if len(hexes) % 4:
            return None
        for at in range(0, len(hexes), 4):
            glyph = int(hexes[at:at + 4], 16)
            if font is not None and glyph in font:
                spots.append((token.start(2) + at, font.index(glyph), font))
    read = [digit for _, digit, _ in spots]
    if read == old_digits[::-1] and read != old_digits:  # drawn right to left
        new_digits = new_digits[::-1]
    elif read != old_digits:
        return None
    data = bytearray(segment)
    for (at, _, glyphs), digit in zip(spots, new_digits):
        data[at:at + 4] = b"%04x" % glyphs[digit]
    return bytes(data)

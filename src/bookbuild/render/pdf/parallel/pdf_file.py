"""A PDF file written one object at a time, and pypdf objects as PDF syntax.

The chapter-parallel PDF's join (join.py) copies its pieces into one file without
holding them all: each object is written as soon as it is known. Streams are written in
place; dictionaries and arrays are gathered into compressed object streams of up to
``PER_STREAM`` objects; a cross-reference stream ends the file (PDF 1.5 and later).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

PER_STREAM = 200  # objects in one object stream
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"  # WeasyPrint's version; object streams need 1.5
Renumber = Callable[[IndirectObject], int]  # a reference's number in the file written
_ROW = 7  # bytes of a row of the cross-reference stream: /W [1 4 2]


def _row(kind: int, second: int, third: int) -> bytes:
    return bytes([kind]) + second.to_bytes(4, "big") + third.to_bytes(2, "big")


class PdfFile:
    """A PDF file written object by object: streams in place, dictionaries and arrays
    gathered into compressed object streams; a cross-reference stream at the end."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.out.write(HEADER)
        self.count = 1  # object 0 is the head of the free list
        self.where: dict[int, tuple[int, int, int]] = {}  # number -> (type, field 2, field 3)
        self.batch: list[tuple[int, bytes]] = []
        # runs of objects (memo.py): (first number, their cross-reference rows, the objects
        # written in place with their offsets from the run's start, where the run starts)
        self.runs: list[tuple[int, bytes, list[tuple[int, int]], int]] = []

    def reserve(self) -> int:
        self.count += 1
        return self.count - 1

    def begin(self, base: int) -> int:
        """Start a run of objects numbered from ``base`` (a piece's part of the file,
        memo.py); where it starts in the file."""
        if base < self.count or self.batch:
            raise ValueError("a run of objects must start past every number used")
        self.count = base
        return self.out.tell()

    def end(self, base: int, start: int) -> tuple[bytes, bytes, list[tuple[int, int]]]:
        """End the run begun at ``base`` (file offset ``start``): its bytes, its rows of the
        cross-reference stream, and the objects written in place there ((number, offset),
        counted from the run's start: their rows are filled in when the file is closed)."""
        self._flush()
        data = self.out.getbuffer()[start:].tobytes()
        rows = bytearray(_ROW * (self.count - base))
        placed = []
        for number in range(base, self.count):
            kind, second, third = self.where.pop(number, (0, 0, 0))
            if kind == 1:
                placed.append((number, second - start))
            else:
                rows[_ROW * (number - base):_ROW * (number - base + 1)] = _row(kind, second, third)
        self.runs.append((base, bytes(rows), placed, start))
        return data, bytes(rows), placed

    def append(self, base: int, count: int, data: bytes, rows: bytes, placed: list[tuple[int, int]]) -> None:
        """A run made by :meth:`end` in an earlier file, written again at the same numbers."""
        if base < self.count or self.batch or len(rows) != _ROW * count:
            raise ValueError("a run of objects must start past every number used")
        self.runs.append((base, rows, placed, self.out.tell()))
        self.out.write(data)
        self.count = base + count

    def _flush(self) -> None:
        """Write the objects gathered so far as an object stream."""
        if not self.batch:
            return
        stream = self.reserve()
        offsets, bodies, position = [], [], 0
        for index, (number, body) in enumerate(self.batch):
            self.where[number] = (2, stream, index)
            offsets.append(b"%d %d" % (number, position))
            bodies.append(body)
            position += len(body) + 1
        first = b" ".join(offsets) + b"\n"
        data = zlib.compress(first + b"\n".join(bodies) + b"\n")
        head = b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode>>" % (len(self.batch), len(first))
        self.batch = []
        self.put_stream(stream, head, data)

    def put(self, number: int, body: bytes) -> None:
        """A dictionary, array or other non-stream object, into the next object stream."""
        self.batch.append((number, body))
        if len(self.batch) >= PER_STREAM:
            self._flush()

    def put_stream(self, number: int, head: bytes, data: bytes) -> None:
        """A stream object: ``head`` is its dictionary without ``/Length``, ``<<`` to ``>>``."""
        out = self.out
        self.where[number] = (1, out.tell(), 0)
        out.write(b"%d 0 obj\n%s/Length %d>>\nstream\n" % (number, head[:-2], len(data)))
        out.write(data)
        out.write(b"\nendstream\nendobj\n")

    def close(self, root: int, info: int) -> bytes:
        """The file, ended by the cross-reference stream and the trailer."""
        self._flush()
        out = self.out
        number = self.reserve()
        self.where[number] = (1, out.tell(), 0)
        rows = bytearray(_ROW * self.count)
        rows[:_ROW] = b"\x00\x00\x00\x00\x00\xff\xff"
        for base, run, placed, start in self.runs:
            rows[_ROW * base:_ROW * base + len(run)] = run
            for n, offset in placed:
                rows[_ROW * n:_ROW * (n + 1)] = _row(1, start + offset, 0)
        for n, (kind, second, third) in self.where.items():
            rows[_ROW * n:_ROW * (n + 1)] = _row(kind, second, third)
        packer = zlib.compressobj(4, zlib.DEFLATED, 15, 8, zlib.Z_FILTERED)  # 8x quicker than level 6, as small
        data = packer.compress(rows) + packer.flush()
        out.write(b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root %d 0 R/Info %d 0 R/Filter/FlateDecode"
                  b"/Length %d>>\nstream\n" % (number, self.count, root, info, len(data)))
        out.write(data)
        out.write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % self.where[number][1])
        return out.getvalue()


def serialize(obj: Any, number_of: Renumber | None = None) -> bytes:
    """A pypdf object as PDF syntax, each reference renumbered by ``number_of`` (None: the
    object holds no references)."""
    if isinstance(obj, IndirectObject):
        if number_of is None:
            raise ValueError("a reference where none was expected")
        return b"%d 0 R" % number_of(obj)
    if isinstance(obj, DictionaryObject):
        return serialize_dictionary(obj, number_of)
    if isinstance(obj, ArrayObject):
        return b"[" + b" ".join(serialize(item, number_of) for item in list.__iter__(obj)) + b"]"
    stream = io.BytesIO()
    obj.write_to_stream(stream)
    return stream.getvalue()


def serialize_dictionary(obj: DictionaryObject, number_of: Renumber | None = None, skip: Iterable[str] = ()) -> bytes:
    parts = [b"<<"]
    for key, value in dict.items(obj):
        if key in skip:
            continue
        parts.append(serialize(NameObject(key)) + b" " + serialize(value, number_of))
    return b"\n".join(parts) + b">>"


def refs(numbers: list[int]) -> bytes:
    """References to these objects, as an array's contents."""
    return b" ".join(b"%d 0 R" % number for number in numbers)


def text(value: str) -> bytes:
    """A text string."""
    return serialize(TextStringObject(value))


def real(value: Any) -> bytes:
    """A real number, as short as four decimals allow."""
    return (b"%.4f" % float(value)).rstrip(b"0").rstrip(b".") or b"0"

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


class PdfFile:
    """A PDF file written object by object: streams in place, dictionaries and arrays
    gathered into compressed object streams; a cross-reference stream at the end."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.out.write(HEADER)
        self.count = 1  # object 0 is the head of the free list
        self.where: dict[int, tuple[int, int, int]] = {}  # number -> (type, field 2, field 3)
        self.batch: list[tuple[int, bytes]] = []

    def reserve(self) -> int:
        self.count += 1
        return self.count - 1

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
        rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
        for n in range(1, self.count):
            kind, second, third = self.where.get(n, (0, 0, 0))
            rows.append(bytes([kind]) + second.to_bytes(4, "big") + third.to_bytes(2, "big"))
        data = zlib.compress(b"".join(rows))
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

"""A piece's PDF objects, copied into the joined file under new numbers (join.py).

WeasyPrint puts a piece's dictionaries in one object stream, which pypdf parses whole when
asked for any one of them, so they are copied as bytes with their references renumbered
(:func:`renumber`); streams, and anything unusual, are read and written by pypdf.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    TextStringObject,
    read_object,
)

from .fonts import FontMerger
from .pdf_file import PdfFile, serialize, serialize_dictionary


class PieceNumbers:
    """One piece's object numbers in the joined file: each object the pages and tags reach
    gets the next number when first referred to, and is copied by :meth:`copy_all`; a font
    ``fonts`` merges (fonts.py) gets the merged font's number, and nothing under it is copied."""

    def __init__(self, file: PdfFile, fixed: dict[int, int], piece: PieceObjects,
                 fonts: FontMerger | None = None) -> None:
        self.file = file
        self.map = dict(fixed)
        self.todo: list[int] = []
        self.piece = piece
        self.fonts = fonts

    def of(self, ref: IndirectObject | int) -> int:
        old = ref if isinstance(ref, int) else ref.idnum
        number = self.map.get(old)
        if number is None:
            number = self.fonts.number(self.piece, old) if self.fonts is not None else None
            if number is not None:
                self.map[old] = number
                return number
            number = self.map[old] = self.file.reserve()
            self.todo.append(old)
        return number

    def copy_all(self, shift: int) -> None:
        """Write every object referred to so far, and those they refer to. Objects in
        object streams (WeasyPrint's dictionaries and arrays) are copied as bytes with their
        references renumbered (:func:`renumber`); streams, and anything unusual, are read
        and written by pypdf."""
        while self.todo:
            old = self.todo.pop()
            number = self.map[old]
            body = self.piece.body(old)
            if body is not None:
                try:
                    self.file.put(number, renumber(body, self, shift))
                    continue
                except UnusualObject:
                    pass
            obj = self.piece.parse(old)
            if isinstance(obj, DictionaryObject):
                obj = _shift_keys(obj, shift, self)
            if isinstance(obj, StreamObject):
                head = serialize_dictionary(obj, self.of, skip=("/Length",))
                self.file.put_stream(number, head, obj._data)  # noqa: SLF001 - the bytes as they are in the piece
            else:
                self.file.put(number, serialize(obj, self.of))


class PieceObjects:
    """A piece's objects: those in object streams as bytes (each stream decoded once) or
    parsed one at a time, the others read by pypdf."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.streams: dict[int, list[bytes]] = {}

    def read_streams(self) -> None:
        """Decode every object stream now (else each is decoded when first asked for)."""
        for stream in sorted({stream for stream, _ in self.reader.xref_objStm.values()}):
            if stream not in self.streams:
                self.streams[stream] = _split(self.reader.get_object(stream))

    def body(self, number: int) -> bytes | None:
        where = self.reader.xref_objStm.get(number)
        if where is None:
            return None
        stream, index = where
        if stream not in self.streams:
            self.streams[stream] = _split(self.reader.get_object(stream))
        bodies = self.streams[stream]
        return bodies[index] if index < len(bodies) else None

    def parse(self, ref: IndirectObject | int) -> Any:
        number = ref if isinstance(ref, int) else ref.idnum
        body = self.body(number)
        if body is None:
            return self.reader.get_object(number)
        return read_object(io.BytesIO(body), self.reader)

    def direct(self, value: Any) -> Any:
        """The value itself, parsed if it is a reference; an empty dictionary for None."""
        if value is None:
            return DictionaryObject()
        return self.parse(value) if isinstance(value, IndirectObject) else value

    def pages(self, ref: IndirectObject) -> list[int]:
        """The object numbers of the pages under a page tree node, in order."""
        node = self.parse(ref)
        if node.get("/Type") == "/Page":
            return [ref.idnum]
        return [number for kid in list.__iter__(node.raw_get("/Kids")) for number in self.pages(kid)]


def _split(stream: StreamObject) -> list[bytes]:
    """The objects of an object stream, as bytes, in order."""
    data = stream.get_data()
    first = int(stream["/First"])
    header = data[:first].split()
    offsets = [int(offset) for offset in header[1::2]] + [len(data) - first]
    return [data[first + offsets[n]:first + offsets[n + 1]].strip() for n in range(len(offsets) - 1)]


class UnusualObject(Exception):
    """An object the byte-level copy does not handle; pypdf copies it instead."""


# In the bytes of an object: a table header's id or a cell's list of them, a literal string
# (as pydyf writes them, every parenthesis escaped), a reference, a structure parent key, or
# what would need a real parser.
_TOKEN = re.compile(rb"(/ID )\((\d+)(-\d+-\d+)\)|(/Headers )\[((?:\s*\(\d+-\d+-\d+\))*)\s*\]"
                    rb"|\((?:[^\\()]|\\.)*\)|(?<![\w.+-])(\d+) (\d+) R|(/StructParents? )(\d+)|[(%]")
# WeasyPrint names a table's header cells "<table element's object number>-<row>-<column>":
# as a name (pypdf's objects, _rename_ids) and inside a literal string (the byte-level copy)
_HEADER_NAME = re.compile(r"(\d+)(-\d+-\d+)")
_HEADER_ID = re.compile(rb"\(" + _HEADER_NAME.pattern.encode() + rb"\)")


_NUMS = re.compile(rb"(\d+) (\d+) R|\d+|\[|\]")


def parent_tree(body: bytes | None, numbers: PieceNumbers, shift: int) -> tuple[bytes, list[int]]:
    """A piece's parent tree (``<</Nums[key value ...]>>``, a value an array of references
    or one reference) as the ``/Nums`` of a node of the joined tree: the keys shifted, the
    references renumbered; and the keys."""
    if body is None or b"/Kids" in body or b"/Nums" not in body:
        raise ValueError("a piece's parent tree is not one flat number tree")
    out: list[bytes] = []
    keys: list[int] = []
    depth = 0
    for match in _NUMS.finditer(body, body.index(b"[", body.index(b"/Nums"))):
        token = match.group(0)
        if match.group(1) is not None:
            if match.group(2) != b"0":
                raise ValueError("a piece's parent tree refers to an object of another generation")
            out.append(b"%d 0 R" % numbers.of(int(match.group(1))))
            continue
        if token == b"[":
            depth += 1
        elif token == b"]":
            depth -= 1
        elif depth == 1:
            keys.append(int(token) + shift)
            token = b"%d" % keys[-1]
        else:
            raise ValueError("a piece's parent tree has a number where a reference belongs")
        out.append(token)
        if depth == 0:
            break
    return b" ".join(out[1:-1]), keys


def renumber(body: bytes, numbers: PieceNumbers, shift: int) -> bytes:
    """An object's bytes with its references renumbered, its structure parent key shifted
    (see :func:`_shift_keys`) and its table header ids renamed (see :func:`_rename_ids`);
    raises UnusualObject where it cannot be sure."""
    def header_id(match: re.Match) -> bytes:
        return b"(%d%s)" % (numbers.of(int(match.group(1))), match.group(2))

    known = numbers.map.get  # most tokens are references to objects numbered already: no call of numbers.of

    def replace(match: re.Match) -> bytes:
        reference = match.group(6)
        if reference is not None:
            if match.group(7) != b"0":
                raise UnusualObject
            old = int(reference)
            number = known(old)
            return b"%d 0 R" % (number if number is not None else numbers.of(old))
        if match.group(1) is not None:
            return match.group(1) + b"(%d%s)" % (numbers.of(int(match.group(2))), match.group(3))
        if match.group(4) is not None:
            return match.group(4) + b"[" + _HEADER_ID.sub(header_id, match.group(5)) + b"]"
        if match.group(8) is not None:
            return match.group(8) + b"%d" % (int(match.group(9)) + shift)
        if len(match.group(0)) == 1:  # an unbalanced parenthesis (a nested string) or a comment
            raise UnusualObject
        return match.group(0)

    return _TOKEN.sub(replace, body)


def _shift_keys(obj: DictionaryObject, shift: int, numbers: PieceNumbers) -> DictionaryObject:
    """A page's ``/StructParents`` or an annotation's ``/StructParent``, past the keys of
    the pieces before; and a table header's id, and a cell's list of them (see
    :func:`_rename_ids`)."""
    for key in ("/StructParents", "/StructParent"):
        if key in obj:
            obj[NameObject(key)] = type(dict.__getitem__(obj, key))(int(dict.__getitem__(obj, key)) + shift)
    if "/ID" in obj:
        obj[NameObject("/ID")] = _rename_ids(obj["/ID"], numbers)
    attributes = obj.get("/A")
    if isinstance(attributes, DictionaryObject) and isinstance(attributes.get("/Headers"), ArrayObject):
        attributes[NameObject("/Headers")] = ArrayObject(_rename_ids(name, numbers) for name in attributes["/Headers"])
    return obj


def _rename_ids(name: Any, numbers: PieceNumbers) -> Any:
    """WeasyPrint names the header cells of a table after the object number of the table's
    element, unique in one piece but not across pieces; the joined file's number is."""
    match = _HEADER_NAME.fullmatch(str(name))
    return TextStringObject(f"{numbers.of(int(match.group(1)))}{match.group(2)}") if match else name

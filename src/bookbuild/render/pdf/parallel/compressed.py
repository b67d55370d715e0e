"""A laid-out piece kept as compressed bytes while it waits for its page numbers.

A worker of the chapter-parallel PDF keeps the pieces it laid out on guessed numbers until
the true ones are known (pieces.py). Alive, a laid-out page is a large tree of Python
objects (boxes, styles, the parsed HTML); pickled and compressed it is a few per cent of
that. When the main process asks (plan.py, past ``PAGES_LIVE`` pages kept alive by a
worker), the worker compresses the pieces that will wait longest: their WeasyPrint document
is pickled and deflated, and read back when it is drawn, which costs far less than laying
it out again (the figures: docs/benchmarks.md).

What cannot or must not be copied stays outside the bytes, referred to by number
(pickle's persistent ids) and handed back as the very same objects: the font configuration
(fontconfig and HarfBuzz state, the book's @font-face fonts), the book's URL fetcher, and
the C pointers WeasyPrint keeps. WeasyPrint's ``AbsolutePlaceholder`` passes every
attribute to the box it stands for, which the default pickling trips over; it is rebuilt
from its box. A document that does not pickle stays alive (:func:`park` returns None).
"""

from __future__ import annotations

import io
import pickle
import zlib
from typing import Any

LEVEL = 1  # zlib's fastest: higher levels gain little for more time


class CompressedDocument:
    """A document as bytes, and the objects it refers to that stay as they are."""

    def __init__(self, data: bytes, outside: list[Any], pages: int) -> None:
        self.data, self.outside, self.pages = data, outside, pages

    def open(self) -> Any:
        """The document again, its outside objects the same ones it had."""
        global _OPENING
        _OPENING = self.outside
        try:
            return pickle.loads(zlib.decompress(self.data))
        finally:
            _OPENING = None


def compress_document(document: Any, *keep: Any) -> CompressedDocument | None:
    """``document`` (a laid-out WeasyPrint document) as bytes; ``keep``: more objects it
    refers to that must come back as themselves (the URL fetcher). None if it cannot be.

    What stays outside is found by its type, in the pickler's dispatch table, which the C
    pickler reads only for objects of classes: a ``persistent_id`` method was a Python call
    for every object of the document, strings and numbers included (a third of the time
    compressing took)."""
    from weasyprint.layout.absolute import AbsolutePlaceholder

    outside: list[Any] = []
    numbers: dict[int, int] = {}

    def aside(obj: Any) -> tuple:
        number = numbers.get(id(obj))
        if number is None:
            number = numbers[id(obj)] = len(outside)
            outside.append(obj)
        return _outside, (number,)

    class Writer(pickle.Pickler):
        dispatch_table = {**dict.fromkeys(_outside_types(keep), aside), AbsolutePlaceholder: _placeholder}

    out = io.BytesIO()
    try:
        Writer(out, protocol=pickle.HIGHEST_PROTOCOL).dump(document)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return CompressedDocument(zlib.compress(out.getbuffer(), LEVEL), outside, len(document.pages))


_OPENING: list[Any] | None = None  # the outside objects of the document being read back


def _outside(number: int) -> Any:
    """An object that stayed outside the bytes, as the document being read back had it."""
    assert _OPENING is not None
    return _OPENING[number]


def _outside_types(keep: tuple[Any, ...]) -> set[type]:
    """The classes whose objects stay outside: those of ``keep``, WeasyPrint's font
    configuration (and its subclasses), and every cffi object (C pointers, libraries)."""
    import _cffi_backend
    from weasyprint.text.fonts import FontConfiguration

    types = {type(obj) for obj in keep}
    todo = [FontConfiguration, _cffi_backend._CDataBase,
            *(kind for kind in vars(_cffi_backend).values() if isinstance(kind, type))]
    while todo:
        kind = todo.pop()
        if kind not in types:
            types.add(kind)
            todo.extend(kind.__subclasses__())
    return types


def _placeholder(placeholder: Any) -> tuple:
    box = object.__getattribute__(placeholder, "_box")
    return _rebuild_placeholder, (box, object.__getattribute__(placeholder, "_layout_done"))


def _rebuild_placeholder(box: Any, layout_done: bool) -> Any:
    from weasyprint.layout.absolute import AbsolutePlaceholder

    placeholder = AbsolutePlaceholder(box)
    object.__setattr__(placeholder, "_layout_done", layout_done)
    return placeholder

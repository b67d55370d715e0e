"""WeasyPrint's layouts, freed by reference counting rather than by the garbage collector.

A laid-out document is tens of thousands of objects, and reference cycles in WeasyPrint kept
most of them for the cycle collector to find (counted on a two-chapter piece of the large
benchmark book):

- the layout context (``weasyprint.layout.LayoutContext``) holds
  ``partial(get_image_from_uri, context=self)``, and through its ``style_for`` every
  computed and cascaded style of the document; its target collector's lookups hold
  functions that hold the collector. Together, 23,500 of the 30,600 objects a layout left
  behind;
- each page's footnote area points back to its page (``FootnoteAreaBox.page``), so a
  dropped document's boxes, text layouts and elements stayed in a cycle: 10,200 of the
  12,600 objects a drawn and dropped piece left.

What is left to the collector is small: pages WeasyPrint laid out again and discarded, its
caches of computed values and of images, and the boxes whose text it fills in late ("see
page 3", a leader's dots), which hold themselves (``missing_link``).

The PDF workers (parallel/pieces.py) collect after every piece, and walk every kept layout
each time frozen garbage piles up; what reference counting frees is walked by neither: their
collections took 0.5 CPU seconds a worker on the large benchmark book, against 1.7.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any


@contextmanager
def weak_layout_contexts() -> Iterator[None]:
    """While a document is laid out in this thread, its layout context holds itself weakly
    (:class:`_Images`): it is freed once the layout is done, unless an SVG image, which
    draws with it, holds it."""
    from weasyprint.document import Document

    original = Document.__dict__["_build_layout_context"]

    def build(cls: Any, *args: Any, **kwargs: Any) -> Any:
        context = original.__func__(cls, *args, **kwargs)
        images = context.__dict__.get("get_image_from_uri")
        if isinstance(images, partial) and images.keywords.get("context") is context:
            keywords = {key: value for key, value in images.keywords.items() if key != "context"}
            context.get_image_from_uri = _Images(partial(images.func, *images.args, **keywords), context)
        weakref.finalize(context, _forget_targets, context.target_collector)
        return context

    Document._build_layout_context = classmethod(build)
    try:
        yield
    finally:
        Document._build_layout_context = original


class _Images:
    """A layout context's ``get_image_from_uri``, which gives the fetch the context, held
    weakly (WeasyPrint's partial held it strongly: a cycle). The layout and the drawing of
    an SVG image (whose ``SVGImage`` holds the context) are the callers, while it lives."""

    __slots__ = ("fetch", "context")

    def __init__(self, fetch: Any, context: Any) -> None:
        self.fetch = fetch
        self.context = weakref.ref(context)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fetch(*args, context=self.context(), **kwargs)


def _forget_targets(collector: Any) -> None:
    """The lookups of ``target-counter()`` and page counters hold the functions that laid
    their boxes out again, which hold the collector: a cycle, of no use once the layout is
    done (when its context is freed)."""
    collector.target_lookup_items.clear()
    collector.counter_lookup_items.clear()


def unlink_pages(document: Any) -> None:
    """Unlink each page's footnote area from its page, once the document is drawn or
    dropped: nothing reads that link after the layout."""
    from weasyprint.formatting_structure.boxes import FootnoteAreaBox

    for page in document.pages:
        for box in page._page_box.children:
            if isinstance(box, FootnoteAreaBox):
                box.page = None

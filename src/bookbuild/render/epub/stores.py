"""The EPUB as a store takes it: ``kepub`` for Kobo, ``kindle`` for Amazon.

Both start from the finished EPUB (the pipeline renders it first): Kobo's edition adds
Kobo's span markup (kepub.py); Amazon converts the EPUB itself, so its edition is the EPUB
unchanged, with a warning for each Kindle requirement it would break (kindle.py).
"""

from __future__ import annotations

from ...errors import Reporter
from ...model import Book


def store_edition(store: str, epub: bytes, reporter: Reporter, manifest_file: str, book: Book | None = None) -> bytes:
    """The bytes a ``store`` takes, made from the book's finished EPUB (``book``: the book it
    was made from, whose stylesheets Kindle's checks read as the author wrote them)."""
    if store == "kepub":
        from .kepub import kepub_from_epub

        return kepub_from_epub(epub)
    from .kindle import warn_for_kindle

    return warn_for_kindle(epub, reporter, manifest_file, book)

"""Laid-out pieces of the chapter-parallel PDF, kept in ``.bookbuild-cache/pdf/``.

Laying pages out is nearly all of a PDF build's time, so a rebuild after editing one
chapter should lay out only the piece that holds it. A piece's pages depend on what
WeasyPrint is given and on what it fetches while laying out, and on nothing else:

* the piece's HTML (its chapters, and the page numbers it prints, given as ``data-page``)
  and the generated CSS (the ``[pdf]`` options, the piece's first page number);
* the stylesheets, the book's metadata and options (cache.context_fingerprint);
* bookbuild's code and the versions of WeasyPrint and the libraries it lays out and draws
  with, Pango's version, and the state of the fontconfig caches (an installed or removed
  font changes them);
* every file and asset the layout fetched (images, fonts, imported CSS), by SHA-256, and
  every fetch that was refused (a missing image that appears later must not stay missing).

The first three are the entry's key, an HMAC with the user's cache secret (cache.py: an
entry shipped inside someone else's book never matches); the fetches are listed in the
entry and checked again before it is used. A piece that fetched anything over the network
is not kept. Entries are a PDF and a JSON file, never pickle; unreadable means a miss.

A piece whose numbers changed (an edit before it added pages) misses; its "shape", the same
key with the page numbers taken out of its HTML and CSS, names a small file holding the key
of the same piece drawn last, on other numbers: drawn.py makes the new entry from that one
by changing the digits it prints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from functools import cache
from importlib import metadata
from typing import Any

from ....cache import (
    cache_dir,
    cache_secret,
    code_fingerprint,
    context_fingerprint,
    fontconfig_state,
    prune_folder,
    write_atomically,
)
from ....config import BuildContext
from ....errors import BookError
from ....files import read_book_file
from ..document import PdfSource
from ..glyphs import MissingGlyphs

FORMAT = 4  # 2: pieces are tagged; 3: with their printed folios and stylesheet warnings; 4: renumbered when drawn
FOLDER = "pdf"
# Distributions whose behaviour shapes laid-out and drawn pages; their versions are in the key.
LAYOUT_DISTRIBUTIONS = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "fonttools", "pyphen",
                        "pillow", "cffi")
logger = logging.getLogger(__name__)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@cache
def layout_fingerprint() -> str:
    """bookbuild's code, the layout libraries' versions, Pango's, and the fontconfig caches."""
    from weasyprint.text.ffi import pango

    digest = hashlib.sha256(code_fingerprint().encode())
    for name in LAYOUT_DISTRIBUTIONS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name} {version}\0".encode())
    digest.update(f"pango {pango.pango_version()}\0".encode())
    digest.update(fontconfig_state().encode())
    return digest.hexdigest()


class PieceCache:
    """The laid-out pieces of one book, in one build's context."""

    def __init__(self, build: BuildContext) -> None:
        folder = cache_dir(build.config)
        self.folder = folder / FOLDER if folder is not None else None
        self.context = context_fingerprint(build.config) if folder is not None else ""

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def key(self, source: PdfSource, shape: bool = False) -> str | None:
        """The name of the entry for a piece laid out from ``source`` (None: no cache); with
        ``shape``, the name of every piece laid out from it with other page numbers
        (drawn.py renumbers one of those: :meth:`load_shape`)."""
        if self.folder is None:
            return None
        from .renumber import without_numbers

        digest = hmac.new(cache_secret() or b"", digestmod=hashlib.sha256)
        css, html = (without_numbers(source.css), without_numbers(source.html)) if shape else (source.css, source.html)
        for part in (f"format {FORMAT}", "shape" if shape else "", self.context, layout_fingerprint(), css,
                     *(str(path) for path in source.sheets), html):
            digest.update(hashlib.sha256(part.encode("utf-8")).digest())
        return digest.hexdigest()

    def load(self, key: str, digest_of: Any) -> dict | None:
        """The stored result for ``key`` if every fetch it lists still gives the same bytes
        (``digest_of(url)``: the SHA-256 of what the book's fetcher serves now, or None)."""
        assert self.folder is not None
        try:
            entry = json.loads(read_book_file(self.folder / f"{key}.json", self.folder, "cache"))
            if entry.get("format") != FORMAT or entry.get("key") != key:
                return None
            for url, digest in entry["fetched"].items():
                if digest_of(url) != digest:
                    logger.debug("PDF piece %s: %s changed", key[:12], url)
                    return None
            data = read_book_file(self.folder / f"{key}.pdf", self.folder, "cache")
            if hashlib.sha256(data).hexdigest() != entry["pdf"]:
                return None
            result = entry["result"]
            return {**result, "pdf": data, "missing": MissingGlyphs(set(result["missing"])), "key": key,
                    "cached": True, "fetched": entry["fetched"]}
        except (BookError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def load_shape(self, shape: str, digest_of: Any) -> dict | None:
        """The stored result of the piece of this ``shape`` (:meth:`key`) drawn last, on other
        numbers (its ``numbers`` and ``start``), as :meth:`load` checks it."""
        assert self.folder is not None
        try:
            key = read_book_file(self.folder / f"{shape}.shape", self.folder, "cache").decode("ascii")
        except (BookError, ValueError):
            return None
        result = self.load(key, digest_of) if _HEX64.fullmatch(key) else None
        return result if result is not None and result.get("shape") == shape else None

    def store(self, key: str, result: dict, fetched: dict[str, str | None]) -> None:
        """Keep a laid-out piece; not one that read anything over the network."""
        assert self.folder is not None and result["pdf"] is not None
        if any(url.split(":", 1)[0].lower() in ("http", "https") for url in fetched):
            return
        kept = {name: result[name] for name in ("pages", "anchors", "bookmarks", "front", "start", "folios",
                                                "warnings", "numbers", "drawn", "shape")}
        kept["missing"] = sorted(result["missing"].codepoints)
        entry = {"format": FORMAT, "key": key, "fetched": fetched, "pdf": hashlib.sha256(result["pdf"]).hexdigest(),
                 "result": kept}
        try:  # the PDF first: an entry is only looked at through its JSON
            write_atomically(self.folder / f"{key}.pdf", result["pdf"])
            write_atomically(self.folder / f"{key}.json", json.dumps(entry).encode("utf-8"))
            if result["shape"] and result["drawn"] is not None:
                write_atomically(self.folder / f"{result['shape']}.shape", key.encode("ascii"))
        except OSError as exc:  # a read-only book folder still builds, just never incrementally
            logger.debug("cannot write the PDF cache: %s", exc)

    def prune(self, used: set[str]) -> None:
        """Drop the pieces this build did not end with, so the folder does not grow without end."""
        if self.folder is not None:
            prune_folder(self.folder, used, (".json", ".pdf", ".shape"))

"""A worker process of the chapter-parallel PDF (pdf_parallel.py): it lays pieces out, keeps
those laid out on guessed page numbers (alive, or parked as bytes when the main process
asks: pdf_park.py), and draws them once their true numbers are known.

The main process (pdf_parallel.py) plans the pieces and decides what each worker does next;
everything here runs in a worker, which gets the book once and keeps it, with the laid-out
pieces it holds, between messages (pdf_workers.py).
"""

from __future__ import annotations

import gc
from multiprocessing.connection import Connection
from typing import Any

from ..errors import Reporter
from ..fontcheck import collect_missing_glyphs
from ..model import Book
from .pdf import PdfSource
from .pdf_cache import PieceCache
from .pdf_join import bookmark_tree
from .pdf_workers import serve

# pages of dropped layouts a worker leaves to the garbage collector before a full collection
PAGES_DROPPED = 150

_BOOK: Book | None = None  # the book, in a worker process (sent once, by the initializer)
_PIECES: PieceCache | None = None  # its laid-out pieces (pdf_cache.py), in a worker process
_FONTS: Any = None  # its font configuration (_shared_fonts), in a worker process


def serve_pieces(conn: Connection) -> None:
    """A worker process: imports WeasyPrint, waits for the book, then lays pieces out,
    keeping those laid out on guessed numbers."""
    global _BOOK
    try:
        import weasyprint  # noqa: F401 - while the main process reads the book
    except Exception:  # noqa: BLE001, S110 - the first layout imports it again and reports why it fails
        pass
    try:
        _BOOK = conn.recv()
    except EOFError:
        return
    if _BOOK is None:  # closed before the book came (the build failed first)
        return
    held: dict[int, tuple] = {}  # piece number -> (document or Parked, job, source, fetcher, result)
    garbage = _Garbage()

    def handle(message: tuple) -> dict:
        kind, number, job = message[:3]
        if kind == "outline":
            return bookmark_tree(job)
        if kind == "layout":
            result, kept = _layout_piece(job, keep=message[3])
            if kept is not None:
                held[number] = kept
                del kept  # held is then its only holder: parked, it is garbage for the collection below
                if message[4]:
                    result["parked"] = _park(held, number)
            elif not result["cached"]:
                garbage.dropped(result["pages"])
        else:
            result = _finish_piece(job, *held.pop(number))
            garbage.dropped(result["pages"])
        garbage.settle()
        return result

    serve(conn, handle)


class _Garbage:
    """The worker's cyclic garbage collector, told to leave the kept layouts alone.

    A kept layout is about 40,000 tracked objects a piece, which every full collection walked
    again: 6 of a worker's 37 seconds on the large benchmark book. After each piece, one
    collection frees that piece's garbage and the objects still alive are frozen
    (``gc.freeze``), so later collections walk only what is new. A dropped layout leaves
    cycles among frozen objects; once ``PAGES_DROPPED`` pages of them pile up, they are
    unfrozen and that collection frees them.
    """

    def __init__(self) -> None:
        self.pages = 0

    def dropped(self, pages: int) -> None:
        self.pages += pages

    def settle(self) -> None:
        if self.pages >= PAGES_DROPPED:
            gc.unfreeze()
            self.pages = 0
        gc.collect()  # walks only what is not frozen: this piece's garbage, or all after unfreeze
        gc.freeze()


def _park(held: dict[int, tuple], number: int) -> bool:
    """Park the kept layout of piece ``number`` (pdf_park.py); False if it does not pickle
    (it stays alive)."""
    from .pdf_park import park

    document, *rest = held[number]
    parked = park(document, rest[2])  # the piece's URL fetcher comes back as itself
    if parked is None:
        return False
    held[number] = (parked, *rest)
    return True


def _shared_fonts() -> Any:
    """The worker's one font configuration, for every piece it lays out: about 2.7 MiB less
    a kept piece than a configuration each (fontconfig, Pango and HarfBuzz state)."""
    global _FONTS
    if _FONTS is not None:
        return _FONTS
    from weasyprint.text.fonts import FontConfiguration

    class FontsOnce(FontConfiguration):
        """WeasyPrint adds the fonts of an ``@font-face`` rule once and skips the rule after;
        a piece that skips it still depends on the font files, so what the first fetch read
        is listed in the fetches of every piece (pdf_cache.py checks them again before
        using a laid-out piece)."""

        def __init__(self) -> None:
            super().__init__()
            self.fetches: dict[str, dict[str, str | None]] = {}

        def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
            fetched = getattr(url_fetcher, "fetched", {})
            before = set(fetched)
            added = super().add_font_face(rule_descriptors, url_fetcher)
            rule = self.fetches.setdefault(str(rule_descriptors), {})
            rule.update((url, fetched[url]) for url in fetched.keys() - before)
            fetched.update(rule)
            return added

    _FONTS = FontsOnce()
    return _FONTS


def _source(job: tuple) -> tuple[PdfSource, str | None]:
    """The HTML and CSS of a piece, and the name of its cache entry."""
    from .pdf import pdf_source

    chapter_ids, front, numbers, start = job
    assert _BOOK is not None
    css = "" if front else f"@page :first {{ counter-reset: page {start}; }}\n"
    css += _numbers_css(_BOOK)
    source = pdf_source(_BOOK, only=frozenset(chapter_ids), front_matter=front, page_numbers=numbers, extra_css=css)
    return source, _piece_cache().key(source)


def _layout_piece(job: tuple, keep: bool) -> tuple[dict, tuple | None]:
    """Lay out one piece (in a worker): its tagged PDF, anchors, bookmarks and link
    targets for the join. A piece laid out before from the same source comes from the cache
    (pdf_cache.py). One laid out on guessed numbers (``keep``) is not drawn yet: the document
    is kept, for :func:`_finish_piece` to draw once the true numbers are known."""
    from .pdf import book_fetcher, layout_pdf

    assert _BOOK is not None
    source, key = _source(job)
    fetcher = book_fetcher(_BOOK)
    if key is not None:
        cached = _piece_cache().load(key, lambda url: _digest_of(fetcher, url))
        if cached is not None:
            return {**cached, "held": False, "how": "from the cache"}, None
    with collect_missing_glyphs() as missing:
        document = layout_pdf(_BOOK, Reporter(), source=source, fetcher=fetcher, pdf_tags=True,
                              fonts=_shared_fonts())
        anchors: dict[str, int] = {}
        for number, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, number)  # the first of equal ids wins, as in WeasyPrint
        linked = {target for page in document.pages for kind, target, _, _ in page.links if kind == "internal"}
        for name in sorted(linked - anchors.keys()):  # kept by WeasyPrint, pointed home by the join
            document.pages[0].anchors[name] = (0, 0, 0, 0)
        data = None if keep else document.write_pdf(pdf_tags=True)
    result = {
        "pdf": data,
        "pages": len(document.pages),
        "anchors": anchors,
        "bookmarks": [(page.height, list(page.bookmarks)) for page in document.pages],
        "missing": missing,
        "front": job[1],
        "start": job[3],
        "key": key,
        "cached": False,
        "held": keep,
        "parked": False,
        "how": "laid out on guessed numbers" if keep else "laid out",
    }
    if data is not None and key is not None:
        _piece_cache().store(key, result, fetcher.fetched)
    return result, ((document, job, source, fetcher, result) if keep else None)


def _finish_piece(job: tuple, document: Any, old_job: tuple, old_source: PdfSource, fetcher: Any,
                  laid_out: dict) -> dict:
    """Draw a kept piece with its true numbers (``job``) where they fit the guesses it was
    laid out with (``old_job``, from ``old_source``); lay it out again where they do not."""
    from .pdf_park import Parked
    from .pdf_patch import patch_numbers, same_but_numbers

    if isinstance(document, Parked):
        document = document.open()
    source, key = _source(job)
    front, old_numbers, old_start = old_job[1:]
    numbers, start = job[2:]
    shift = 0 if front else start - old_start
    if not same_but_numbers((old_source.html, old_source.css), (source.html, source.css)):
        why = "numbers came or went"
    elif not patch_numbers(document, folio_shift=shift, old=old_numbers, new=numbers):
        why = "a number in the text changed width"
    else:
        why = ""
    if why:
        del document
        result, _ = _layout_piece(job, keep=False)
        return {**result, "how": f"laid out again ({why})"}
    with collect_missing_glyphs() as missing:
        data = document.write_pdf(pdf_tags=True)
    result = {**laid_out, "pdf": data, "missing": missing, "start": start, "key": key, "held": False,
              "parked": False, "how": "numbers corrected"}
    if key is not None:  # the same entry a layout from the true numbers would make
        _piece_cache().store(key, result, fetcher.fetched)
    return result


def _piece_cache() -> PieceCache:
    global _PIECES
    if _PIECES is None:
        assert _BOOK is not None
        _PIECES = PieceCache(_BOOK)
    return _PIECES


def _digest_of(fetcher: object, url: str) -> str | None:
    """The SHA-256 of what the book's fetcher serves for ``url`` now (None: refused)."""
    try:
        fetcher.fetch(url)  # type: ignore[attr-defined]
    except ValueError:
        return None
    return fetcher.fetched.get(url)  # type: ignore[attr-defined]


def _numbers_css(book: Book) -> str:
    """The rule that prints the given numbers in "see page N" (print.css does the contents)."""
    from .pdf_layout import see_page_rule

    if not book.manifest.pdf.page_references:  # the contents' rule is print.css's
        return ""
    return see_page_rule("a.xref[data-page]", book.meta.language, "attr(data-page)") + "\n"

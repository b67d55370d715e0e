"""A worker process of the chapter-parallel PDF (parallel/plan.py): it lays pieces out, keeps
those laid out on guessed page numbers (alive, or compressed as bytes when the main process
asks: compressed.py), and draws them once their true numbers are known.

The main process (parallel/plan.py) plans the pieces and decides what each worker does next;
everything here runs in a worker, which gets the book once and keeps it, with the laid-out
pieces it holds, between messages (workers.py).
"""

from __future__ import annotations

import gc
import hashlib
import weakref
from multiprocessing.connection import Connection
from typing import Any

from ....config import BuildContext
from ....config.pdf import PdfOptions
from ....errors import Reporter
from ....model import Book
from ....resources import forget_folders
from ..cycles import unlink_pages
from ..document import PdfSource, remove_font_copies
from ..glyphs import collect_missing_glyphs
from ..page_labels import printed_folios
from .cache import PieceCache
from .workers import Shared, serve

# pages of dropped layouts a worker leaves frozen in reference cycles before a full collection
PAGES_DROPPED = 150
# what a dropped layout freed by reference counting still leaves in cycles (WeasyPrint's
# caches of computed values and images: 2,400 of a dropped chapter's 12,600 objects), in pages
FREED_PAGE = 0.2

_BOOK: Book | None = None  # the book, in a worker process (sent once, by the initializer)
_BUILD: BuildContext | None = None  # its options and cache folder, sent with it
_PIECES: PieceCache | None = None  # its laid-out pieces (parallel/cache.py), in a worker process
_FONTS: Any = None  # its font configuration (_shared_fonts), in a worker process


def serve_pieces(conn: Connection) -> None:
    """A worker process: imports WeasyPrint, waits for the book, then lays pieces out,
    keeping those laid out on guessed numbers."""
    try:
        import weasyprint  # noqa: F401 - while the main process reads the book
    except Exception:  # noqa: BLE001, S110 - the first layout imports it again and reports why it fails
        pass
    collect_less()
    try:
        sent = conn.recv()
    except EOFError:
        return
    if not isinstance(sent, Shared):  # closed before the book came (the build failed first)
        return
    held: dict[int, tuple] = {}  # piece number -> (document or CompressedDocument, job, source, fetcher, result)
    garbage = _Garbage()

    def new_book(sent: tuple) -> None:
        """The book of a build, the first or the next one of a process that keeps its workers
        (workers.kept_pool): nothing of the last build is kept but WeasyPrint imported."""
        global _BOOK, _BUILD, _PIECES
        again = _BOOK is not None
        _BOOK, _BUILD = sent
        _PIECES = None
        forget_folders()  # real paths are kept for a build (resources.real_path): this is a new one
        _drop_fonts()  # a font file may have changed: a new font configuration
        held.clear()
        if again:  # what the last build left, frozen (_Garbage), is freed
            gc.unfreeze()
            gc.collect()
            garbage.forget()

    new_book(sent.value)

    def handle(message: tuple) -> dict:
        kind, number, job = message[:3]
        if kind == "outline":
            from .join import bookmark_tree  # here: pypdf, which the join imports, is not needed before

            return bookmark_tree(job)
        if kind == "layout":
            result, kept = _layout_piece(job, keep=message[3])
            if kept is not None:
                held[number] = kept
                del kept  # held is then its only holder: compressed, it is garbage for the collection below
                if message[4]:
                    result["compressed"] = _compress(held, number)
                garbage.settle(kept=None if result["compressed"] else (number, held[number][0]))
            else:
                garbage.settle()
        else:
            result = _finish_piece(job, *held.pop(number))
            garbage.settle(dropped=number)
        return result

    serve(conn, handle, new_book)


def collect_less() -> None:
    """The worker's automatic collections, rare: its youngest generation is collected every
    50,000 new objects, not 700. A layout keeps most of what it makes until its piece is
    drawn, so those collections walked the same boxes again and again and found little to
    free: 0.65 of a worker's 24 CPU seconds on the large benchmark book, and none after. The
    collection after each piece (:class:`_Garbage`) frees what a piece leaves; the threshold
    only bounds what one very long piece leaves meanwhile."""
    gc.set_threshold(50_000, 20, 10)


def _drop_fonts() -> None:
    """Forget the worker's font configuration and remove its copies of the book's fonts
    (document.font_configuration removes them at exit, but a worker may serve many builds)."""
    global _FONTS
    remove_font_copies(_FONTS)
    _FONTS = None


class _Garbage:
    """The worker's cyclic garbage collector, told to leave the kept layouts alone.

    A kept layout is tens of thousands of tracked objects a piece, which every full
    collection walked again: 6 of a worker's 37 seconds on the large benchmark book. After
    each piece, one collection frees that piece's garbage and the objects still alive are
    frozen (``gc.freeze``), so later collections walk only what is new.

    A kept layout dropped once drawn is freed by reference counting (cycles.py), but for
    WeasyPrint's smaller cycles; one that WeasyPrint leaves in a cycle stays frozen whole.
    Either way what it leaves is frozen garbage, freed by a full collection (``gc.unfreeze``)
    once ``PAGES_DROPPED`` pages of it have piled up. Whether a layout was freed is seen from
    its pages' boxes, held weakly (``gc.get_freeze_count`` walks every frozen object).
    """

    def __init__(self) -> None:
        self.kept: dict[int, list[weakref.ref]] = {}  # piece number -> its kept layout's pages
        self.pages = 0.0  # pages of dropped layouts left frozen

    def forget(self) -> None:
        """Everything was unfrozen and collected (a new build): nothing is counted."""
        self.__init__()  # type: ignore[misc]

    def settle(self, kept: tuple[int, Any] | None = None, dropped: int | None = None) -> None:
        """After a piece: the layout of a piece was ``kept`` (its number and document; not a
        compressed one, which is bytes), or that of piece ``dropped`` was let go."""
        if dropped is not None:
            pages = self.kept.pop(dropped, [])
            alive = sum(page() is not None for page in pages)
            self.pages += alive + FREED_PAGE * (len(pages) - alive)
        if self.pages >= PAGES_DROPPED:
            gc.unfreeze()
            self.pages = 0
        gc.collect()  # walks only what is not frozen: this piece's garbage, or all after unfreeze
        gc.freeze()
        if kept is not None:
            self.kept[kept[0]] = [weakref.ref(page._page_box) for page in kept[1].pages]


def _compress(held: dict[int, tuple], number: int) -> bool:
    """Compress the kept layout of piece ``number`` (compressed.py); False if it does not pickle
    (it stays alive)."""
    from .compressed import compress_document

    document, *rest = held[number]
    compressed = compress_document(document, rest[2])  # the piece's URL fetcher comes back as itself
    if compressed is None:
        return False
    held[number] = (compressed, *rest)
    return True


def _shared_fonts() -> Any:
    """The worker's one font configuration, for every piece it lays out: megabytes less
    a kept piece than a configuration each (fontconfig, Pango and HarfBuzz state)."""
    global _FONTS
    if _FONTS is not None:
        return _FONTS
    from ..document import font_configuration_class

    class FontsOnce(font_configuration_class()):
        """WeasyPrint adds the fonts of an ``@font-face`` rule once and skips the rule after;
        a piece that skips it still depends on the font files, so what the first fetch read
        is listed in the fetches of every piece (parallel/cache.py checks them again before
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


def _source(job: tuple) -> tuple[PdfSource, str | None, str | None]:
    """The HTML and CSS of a piece, the name of its cache entry and of its shape (cache.py)."""
    from ..document import pdf_source

    chapter_ids, front, numbers, start = job
    assert _BOOK is not None and _BUILD is not None
    css = "" if front else f"@page :first {{ counter-reset: page {start}; }}\n"
    css += _numbers_css(_BOOK, _BUILD.config.pdf)
    source = pdf_source(_BOOK, _BUILD.config.pdf, only=frozenset(chapter_ids), front_matter=front, page_numbers=numbers, extra_css=css,
                        theme=_BUILD.config.theme)
    return source, _piece_cache().key(source), _piece_cache().key(source, shape=True)


def _layout_piece(job: tuple, keep: bool) -> tuple[dict, tuple | None]:
    """Lay out one piece (in a worker): its tagged PDF, anchors, bookmarks and link
    targets for the join. A piece laid out before from the same source comes from the cache
    (parallel/cache.py). One laid out on guessed numbers (``keep``) is not drawn yet: the document
    is kept, for :func:`_finish_piece` to draw once the true numbers are known."""
    from ..document import book_fetcher, layout_pdf

    assert _BOOK is not None and _BUILD is not None
    source, key, shape = _source(job)
    fetcher = book_fetcher(_BOOK, _BUILD.config.allow_remote)
    if key is not None and shape is not None:
        cached = _piece_cache().load(key, lambda url: _digest_of(fetcher, url))
        if cached is not None:
            return {**cached, "held": False, "how": "from the cache"}, None
        moved = _renumbered(job, key, shape, fetcher)
        if moved is not None:
            return moved, None
    reporter = Reporter()  # what WeasyPrint skips in the book's stylesheets, reported by the main process
    with collect_missing_glyphs() as missing:
        document = layout_pdf(_BOOK, _BUILD, reporter, source=source, fetcher=fetcher, pdf_tags=True,
                              fonts=_shared_fonts())
        anchors: dict[str, int] = {}
        for number, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, number)  # the first of equal ids wins, as in WeasyPrint
        linked = {target for page in document.pages for kind, target, _, _ in page.links if kind == "internal"}
        for name in sorted(linked - anchors.keys()):  # kept by WeasyPrint, pointed home by the join
            document.pages[0].anchors[name] = (0, 0, 0, 0)
        data, drawn = (None, None) if keep else _draw(document)
    result = {
        "pdf": data,
        "drawn": drawn,
        "numbers": job[2],
        "shape": shape,
        "pages": len(document.pages),
        "anchors": anchors,
        "bookmarks": [(page.height, list(page.bookmarks)) for page in document.pages],
        "missing": missing,
        "folios": printed_folios(document),  # for the page labels (join.py)
        "warnings": [(d.message, d.location.file, d.location.line, d.location.col, d.hint)
                     for d in reporter.warnings],
        "front": job[1],
        "start": job[3],
        "key": key,
        "cached": False,
        "held": keep,
        "compressed": False,
        "how": "laid out on guessed numbers" if keep else "laid out",
    }
    if data is not None and key is not None:
        _piece_cache().store(key, result, fetcher.fetched)
    return result, ((document, job, source, fetcher, result) if keep else None)


def _finish_piece(job: tuple, document: Any, old_job: tuple, old_source: PdfSource, fetcher: Any,
                  laid_out: dict) -> dict:
    """Draw a kept piece with its true numbers (``job``) where they fit the guesses it was
    laid out with (``old_job``, from ``old_source``); lay it out again where they do not."""
    from .compressed import CompressedDocument
    from .renumber import patch_numbers, same_but_numbers

    if isinstance(document, CompressedDocument):
        document = document.open()
    source, key, shape = _source(job)
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
        unlink_pages(document)
        del document
        result, _ = _layout_piece(job, keep=False)
        return {**result, "how": f"laid out again ({why})"}
    with collect_missing_glyphs() as missing:
        data, drawn = _draw(document)
    result = {**laid_out, "pdf": data, "drawn": drawn, "numbers": numbers, "shape": shape, "missing": missing,
              "folios": printed_folios(document), "start": start, "key": key, "held": False, "compressed": False,
              "how": "numbers corrected"}
    if key is not None:  # the same entry a layout from the true numbers would make
        _piece_cache().store(key, result, fetcher.fetched)
    return result


def _draw(document: Any) -> tuple[bytes, dict]:
    """The tagged PDF of a laid-out piece, with its page numbers marked (drawn.py)."""
    from .drawn import marking

    with marking(document) as drawn:
        data = document.write_pdf(pdf_tags=True)
    unlink_pages(document)  # drawn: freed once let go (cycles.py)
    return data, drawn


def _renumbered(job: tuple, key: str, shape: str, fetcher: Any) -> dict | None:
    """The piece of ``job`` made from the same piece drawn on other numbers, by changing the
    digits it prints (drawn.py); None when there is none, or its layout would change."""
    from .drawn import renumber_drawn

    cached = _piece_cache().load_shape(shape, lambda url: _digest_of(fetcher, url))
    if cached is None or cached.get("drawn") is None:
        return None
    front, numbers, start = job[1:]
    shift = 0 if front else start - cached["start"]
    moved = renumber_drawn(cached["pdf"], cached["drawn"], shift, cached["numbers"], numbers)
    if moved is None:
        return None
    data, drawn, folios, streams = moved
    # what the join needs to change its part of the file for the piece it was made from (memo.py)
    made_from = {"pdf": hashlib.sha256(cached["pdf"]).hexdigest(), "streams": streams}
    result = {**cached, "pdf": data, "drawn": drawn, "numbers": numbers, "made from": made_from, "start": start,
              "key": key, "folios": [folios.get(n, folio) for n, folio in enumerate(cached["folios"])],
              "cached": False, "held": False, "compressed": False, "how": "renumbered as drawn"}
    _piece_cache().store(key, result, cached["fetched"])
    return result


def _piece_cache() -> PieceCache:
    global _PIECES
    if _PIECES is None:
        assert _BUILD is not None
        _PIECES = PieceCache(_BUILD)
    return _PIECES


def _digest_of(fetcher: object, url: str) -> str | None:
    """The SHA-256 of what the book's fetcher serves for ``url`` now (None: refused)."""
    try:
        fetcher.fetch(url)  # type: ignore[attr-defined]
    except ValueError:
        return None
    return fetcher.fetched.get(url)  # type: ignore[attr-defined]


def _numbers_css(book: Book, options: PdfOptions) -> str:
    """The rule that prints the given numbers in "see page N" (print.css does the contents)."""
    from ..page_setup import see_page_rule

    if not options.page_references:  # the contents' rule is print.css's
        return ""
    return see_page_rule("a.xref[data-page]", book.meta.language, "attr(data-page)") + "\n"

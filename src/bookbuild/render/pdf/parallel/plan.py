"""The chapter-parallel PDF: pieces of the book laid out in worker processes, then joined.

WeasyPrint lays out one document on one core and keeps all of it in memory. Chapters
start on a new page, so a chapter's layout does not depend on where it lands, except for
the page numbers it prints: its own (the page counter, set per piece with ``counter-reset``)
and those of "see page N" and of the contents, which name pages of other pieces (given to
each piece as plain text, ``data-page``, see render/pdf.py).

A cold build sends the body pieces to the workers in book order, and the contents once the
numbers it prints are settled enough to be corrected in place (numbering.widths_settled).
Each piece gets the numbers known when it is sent: exact for the pieces laid out by then,
estimated from text length for the rest. Its worker (pieces.py) keeps the laid-out
document, undrawn (past ``PAGES_LIVE`` pages, compressed as compressed bytes: compressed.py). As
soon as every number a piece prints is known, the worker prints the true numbers in place of
the estimates (renumber.py: same layout, only the digits change) and draws it, and frees
it. A piece whose numbers cannot be corrected in place (a number of another width in a line
of text) is laid out again. A rebuild starts from the last build's numbers
(``.bookbuild-cache/pdf-page-numbers.json``, checked, never trusted) and takes unchanged
pieces from the cache of laid-out pieces (parallel/cache.py); a body piece is one chapter, and
the pieces of edited chapters are sent first (order.py). When an edit moves the pieces after
it, they are not laid out again: the next round takes each as it was drawn and changes the
digits it prints (drawn.py), and the join changes its kept part of the file alike. The
other pieces wait for the edited ones before they are joined. The pieces are joined (join.py)
as they are drawn, in an order fixed by the book (:func:`join_order`), on a thread of the
main process, which otherwise only waits (a piece
unchanged since the last build is written as the join kept it: memo.py): blank
versos where a chapter must start on the right, one tag tree and parent tree made of the
pieces' (the single document's tag tree, element for element), the named destinations and
bookmarks rebuilt from the pieces' anchors, the metadata and the language.

The single document stays the path for a PDF/A or PDF/UA ``variant`` (WeasyPrint adds
catalog entries, XMP metadata and output intents, that the join does not carry over), a
handout (chapters do not start on a new page) and a ``--chapters`` selection, and it is
the oracle of the tests.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ....config import BuildContext
from ....config.pdf import PdfOptions
from ....errors import Reporter
from ....model import Book, Chapter, part_openers
from ..glyphs import report_missing_glyphs
from ..index import index_alone, index_piece
from ..page_setup import print_layout
from .cache import PieceCache
from .join import BackgroundJoin, page_bookmarks
from .memo import JoinMemo
from .numbering import (
    CHARS_PER_PAGE,
    PAGE_MAP,
    Piece,
    known,
    page_numbers,
    per_page_of,
    remembered_numbers,
    wanted,
    widths_settled,
)
from .order import DIGESTS, changed, chapter_digests, edited_first, remember
from .workers import Job, WorkerPool, keep_pool, start_workers

FURNITURE_PAGES = 4  # half-title, title, copyright and a blank, before the contents
MAX_ROUNDS = 5
# at most, in a body piece: one, so that a rebuild after editing one chapter lays out only it
# (a piece of four took 2.1 CPU s to lay out and draw, one chapter of it 0.55: docs/benchmarks.md)
CHAPTERS_PER_PIECE = 1
# A worker keeps at most this many laid-out pages waiting for their numbers (alive, or
# compressed: PAGES_LIVE); past it, a piece is drawn on the numbers known then, and laid out
# again if they were wrong: memory stays bounded on books of thousands of pages, at some cost
# in time. How both budgets were chosen, with the figures: docs/benchmarks.md.
PAGES_KEPT = 600
# Of those, a worker keeps at most this many alive; past it, a piece it keeps is compressed as
# soon as it is laid out (compressed.py): less memory for a little more CPU time. With one
# chapter a piece, 120 instead of 360 took a worker's peak on the large benchmark book from
# 263 to 195 MiB for the same time (35.2 and 35.8 s; 64.5 and 64.2 CPU s).
PAGES_LIVE = 120
logger = logging.getLogger(__name__)
_HREF = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'id="([^"]+)"')  # without \b, whose test at every place is slower than the search


def render_pdf_parallel(book: Book, build: BuildContext, reporter: Reporter, workers: int | None = None,
                        note: Callable[[str], None] | None = None, pool: WorkerPool | None = None) -> bytes:
    """The PDF laid out in pieces by ``workers`` processes (default: the cores), or by the
    ``pool`` from :func:`start_workers`: kept for this process's next build when the PDF is
    made, closed when it fails; ``note`` hears how many pieces are done, for a progress bar."""
    join = BackgroundJoin(JoinMemo(build.cache_dir))  # started by _lay_out, which knows the pieces
    pool = pool or start_workers(workers)
    try:
        # planned while the workers may still be importing WeasyPrint, then the book is sent to
        # each on a thread: the first worker ready gets its first piece without waiting for the other
        schedule = _Schedule(book, build.config.pdf, build.cache_dir, pool, note, join)
        pool.send_all((book, build))
        results, outline = _lay_out(book, build, reporter, pool, schedule)
        started = time.perf_counter()
        data = join.finish(results, outline, print_layout(build.config.pdf).two_sided, book.meta.language)
        join.memo.save()
    except BaseException:
        pool.close()
        raise
    finally:
        join.close()
    keep_pool(pool)  # for this process's next build (workers.kept_pool)
    logger.info("parallel PDF: %d pieces joined, %.2f s after the last layout", len(results),
                time.perf_counter() - started)
    return data


def _lay_out(book: Book, build: BuildContext, reporter: Reporter, pool: WorkerPool, schedule: _Schedule,
             ) -> tuple[list[dict], list]:
    """Every piece laid out and drawn with its true numbers (each drawn one goes to the
    schedule's join); their results in book order, and the bookmark tree."""
    numbers = schedule.run()
    results = [p.result for p in schedule.pieces]
    two_sided = schedule.two_sided
    # the bookmark tree is WeasyPrint's: built by a worker, which has it imported already
    ((outline, _worker),) = pool.run([Job(0, ("outline", 0, page_bookmarks(results, two_sided)))]).values()
    remember(build.cache_dir, PAGE_MAP, numbers)
    remember(build.cache_dir, DIGESTS, schedule.digests)  # order.py
    PieceCache(build).prune({result[name] for result in results for name in ("key", "shape") if result.get(name)})
    for result in results:
        report_missing_glyphs(result["missing"], book, reporter)
        for warning in result["warnings"]:  # about the book's stylesheets: each piece has the same
            reporter.warn(*warning)
    return results, outline


class _Schedule:
    """The rounds of layout of one parallel build: which piece goes to which worker, with
    which numbers, and when a kept piece is finished."""

    def __init__(self, book: Book, options: PdfOptions, cache_dir: Path | None, pool: WorkerPool,
                 note: Callable[[str], None] | None, join: BackgroundJoin) -> None:
        printed = book.chapters
        self.pool, self.note, self.join = pool, note, join
        self.book = book
        self.pieces = _plan(book, options, printed, len(pool.connections))
        self.two_sided = print_layout(options).two_sided
        self.digits = book.language.number  # the numbers the pages print: ۱۲ in Persian
        self.numbers = remembered_numbers(cache_dir, self.pieces)
        self.exact = self.numbers is not None  # the last build's numbers: right unless the book changed
        self.digests, self.cache_dir = chapter_digests(book), cache_dir
        self.owners = {anchor: piece for piece in self.pieces for anchor in piece.own}
        self.first = True
        self.compressed_pieces = 0  # pieces compressed (compressed.py), for the log
        # A rebuild's first round: the pieces with an edited chapter (order.py), and the other
        # pieces drawn, held from the join until those are laid out (_hold)
        self.edited: set[int] = set()
        self.held: dict[int, dict] = {}
        # A cold build's first round: the body pieces it lays out, and the contents, held back
        # until the numbers it prints are settled enough to correct in place (_done)
        self.first_body: list[Piece] = []
        self.front_held: list[Piece] = []

    def run(self) -> dict[str, str]:
        """Lay out until every piece is drawn on the numbers it prints; those numbers."""
        pieces = self.pieces
        self.join.start(join_order(pieces, self.owners))
        for round_number in range(MAX_ROUNDS):
            self.first = round_number == 0
            todo = self._todo()
            if not todo:
                assert self.numbers is not None  # set by the round that found nothing to do
                return self.numbers
            keep = self.first and not self.exact
            self.pool.run([Job(pieces.index(p), partial(self._message, p, keep), p.holder, (1, n))
                           for n, p in enumerate(todo)], self._done)
            for piece in pieces:
                piece.finishing = False
            todo += [p for p in pieces if self.first and p.front and p not in todo and p.result]  # sent by _done
            kinds = Counter(p.result["how"] for p in todo)
            logger.info("parallel PDF round %d: %d of %d pieces; %s; %d compressed", round_number, len(todo),
                        len(pieces), ", ".join(f"{n} {how}" for how, n in sorted(kinds.items())), self.compressed_pieces)
            self.compressed_pieces = 0
        raise RuntimeError("page numbers of the parallel PDF did not settle")

    def _todo(self) -> list[Piece]:
        pieces = self.pieces
        if self.first:
            # Every piece is laid out, the body in book order. Without the last build's
            # numbers, each piece gets the numbers known when it is sent (the pieces laid out
            # by then, an estimate for the rest), and its worker keeps its layout: a later
            # round only corrects the numbers it prints (renumber.py). The index waits until
            # every other piece is laid out, when the pages of every mark are known. The
            # contents (the longest piece: 1.2 s of the large benchmark book) is sent as
            # soon as its numbers are settled (_done); it went last, and was laid out and
            # drawn while the other worker had nothing left to do.
            first = self.first_body = \
                [p for p in pieces if not p.front and (self.exact or not index_piece(self._chapters(p)))]
            if self.exact:
                first = first + [p for p in pieces if p.front]
            else:
                self.front_held = [p for p in pieces if p.front]
            # a rebuild: the pieces with an edited chapter first, the rest from the cache meanwhile (order.py)
            edited = changed([p.chapter_ids for p in first], self.digests, self.cache_dir)
            if self.exact:
                self.edited = {pieces.index(first[n]) for n in edited}
            return [first[n] for n in edited_first(len(first), edited)]
        self.numbers = page_numbers(pieces, self.two_sided, digits=self.digits)
        # a kept piece that prints a number of the index is finished once the index is laid out (_done)
        waiting = {id(p) for p in pieces if p.holder is not None and not known(p, pieces, self.owners)}
        todo = [p for p in pieces if id(p) not in waiting and (not p.result or p.result["pdf"] is None
                or p.used != wanted(p, self.numbers) or p.result["start"] != p.start)]
        for number in sorted(self.held):  # held from the join (_hold): joined if its numbers proved right
            if pieces[number] not in todo:
                self.join.submit(number, self.held[number])
        self.held.clear()
        return todo

    def _chapters(self, piece: Piece) -> list[Chapter]:
        return [c for c in self.book.chapters if c.id in piece.chapter_ids]

    def _message(self, piece: Piece, keep: bool, worker: int) -> tuple:
        """What the worker is sent for the piece, made when it is sent (the numbers known
        then): a layout, kept or drawn, or the finish of a piece it keeps."""
        pieces, two_sided = self.pieces, self.two_sided
        guessed = self.first and not self.exact  # else the numbers known (a rebuild: 0.4 s of 101 pieces)
        per_page = per_page_of(pieces, two_sided) if guessed else float(CHARS_PER_PAGE)  # keep needs guessed
        numbers = page_numbers(pieces, two_sided, per_page, self.digits, only=piece.targets) if guessed \
            else self.numbers
        piece.used = wanted(piece, numbers)
        held = [p for p in pieces if p.holder == worker and p.result.get("pdf") is None]
        kept = sum(p.result["pages"] for p in held)
        alive = sum(p.result["pages"] for p in held if not p.result.get("compressed"))
        pages = piece.pages(per_page, two_sided)
        if keep and known(piece, pieces, self.owners):
            keep = False  # its numbers are the true ones already: drawn at once
        elif keep and kept + pages > PAGES_KEPT:
            keep = False  # drawn now, on the numbers known: laid out again if they were wrong
        # Past the live budget, the piece is compressed as soon as it is laid out: of the kept
        # pieces it waits for the most pieces before it. (CompressedDocument then, its layout's cycles are
        # still young garbage, which the worker's next collection frees: pieces.py.)
        park = keep and alive + pages > PAGES_LIVE
        job = (piece.chapter_ids, piece.front, piece.used, piece.start)
        number = pieces.index(piece)
        return ("finish", number, job) if piece.holder is not None else ("layout", number, job, keep, park)

    def _done(self, number: int, result: dict, worker: int) -> list[Job]:
        """Record a result; then finish the kept pieces whose numbers are now known, to
        free their memory before the next layout."""
        pieces = self.pieces
        self.compressed_pieces += result.get("compressed", False)
        last, pieces[number].result = pieces[number].result, result
        pieces[number].holder = worker if result["held"] else None
        # the index, laid out in a later round, gives the pages after it (a piece renumbered
        # as it was drawn changes none: 3 ms each of the large book's 101 pieces)
        if not self.first and (not last or (last["pages"], last["anchors"]) != (result["pages"], result["anchors"])):
            self.numbers = page_numbers(pieces, self.two_sided, digits=self.digits)
        if result["pdf"] is not None:
            self._hold(number, result)
        if self.note is not None:
            drawn = sum(1 for p in pieces if p.result and p.result["pdf"] is not None)
            laid_out = sum(1 for p in pieces if p.result)
            self.note(f"making the PDF: {laid_out} of {len(pieces)} pieces laid out, {drawn} drawn")
        ready = [p for p in pieces if p.holder is not None and p.result["pdf"] is None and not p.finishing
                 and known(p, pieces, self.owners)]
        for piece in ready:
            piece.finishing = True
        # the index, held back, as soon as every other piece is laid out: its numbers are known
        late = [p for p in pieces if not p.result and p.used is None and not p.finishing
                and index_piece(self._chapters(p)) and all(q.result for q in pieces if q is not p)]
        for piece in late:
            piece.finishing = True
        # the contents, before the body pieces still to lay out, once the numbers it prints
        # are settled, or once every body piece has been sent (then laid out as it went before)
        front = [p for p in self.front_held if self.first and (all(q.used is not None for q in self.first_body)
                                                                or widths_settled(p, pieces, self.two_sided))]
        for piece in front:
            self.front_held.remove(piece)
        # drawn before any other layout, in book order, so that the join goes on
        return [Job(n, partial(self._message, p, False), p.holder, (0, n)) for n, p in enumerate(pieces)
                if p in ready or p in late] + [Job(pieces.index(p), partial(self._message, p, True), None, (1, -1))
                                                for p in front]


    def _hold(self, number: int, result: dict) -> None:
        """Send a drawn piece to the join; in a rebuild's first round, once the edited pieces
        are laid out and if it prints the numbers they leave: an edit that adds pages moves
        the pieces after it, made again in the next round (renumbered as drawn: drawn.py),
        and a piece joined twice makes the join start again at the end."""
        pieces = self.pieces
        if not (self.first and self.edited):
            self.join.submit(number, result)
            return
        self.held[number] = result
        if not all(pieces[n].result for n in self.edited):
            return
        starts: dict[int, int] = {}
        numbers = page_numbers(pieces, self.two_sided, digits=self.digits, starts=starts)
        for n in sorted(self.held):
            piece = pieces[n]
            if known(piece, pieces, self.owners) and piece.used == wanted(piece, numbers) \
                    and self.held[n]["start"] == starts.get(n, piece.start):
                self.join.submit(n, self.held.pop(n))


def join_order(pieces: list[Piece], owners: dict[str, Piece]) -> list[int]:
    """The order the join takes the pieces in, fixed by the book alone (the joined file must
    not depend on which worker was quicker): each body piece once the pieces whose numbers it
    prints are likely drawn, the contents last. A cold build lays the body out in book order,
    and a piece is drawn once every number it prints is known: one that prints "see page N"
    of a chapter near the end is drawn near the end. In book order it held up the join of
    every piece after it, which all came in a burst after the last layout (1.8 s of the large
    benchmark book's 26.6, both workers idle): joined after the last piece it names, it holds
    up only the pieces whose numbers are known as late."""
    index = {id(piece): n for n, piece in enumerate(pieces)}
    last = len(pieces)

    def ready(n: int) -> int:
        named = (owners[a] for a in pieces[n].targets if a in owners)
        return max([n, *(last if piece.front else index[id(piece)] for piece in named)])

    body = sorted((n for n, piece in enumerate(pieces) if not piece.front), key=lambda n: (ready(n), n))
    return body + [n for n, piece in enumerate(pieces) if piece.front]


def _plan(book: Book, options: PdfOptions, printed: tuple[Chapter, ...], workers: int) -> list[Piece]:
    """The front piece (furniture, contents, front matter) and body pieces of whole chapters:
    at least four per worker, so that the pool stays busy while the slowest piece finishes,
    and at most CHAPTERS_PER_PIECE chapters each, so that a rebuild after editing one chapter
    lays out little (parallel/cache.py). The cut depends only on the number of chapters, so an
    edit inside a chapter leaves every other piece as it was."""
    start = next((n for n, c in enumerate(printed) if c.matter == "body"), 0)
    body = printed[start:]
    size = max(1, min(CHAPTERS_PER_PIECE, -(-len(body) // (4 * workers))))
    groups = [printed[:start]] + index_alone(_whole_chapters([body[n:n + size] for n in range(0, len(body), size)]))
    openers = part_openers(printed)
    pieces = []
    for number, group in enumerate(groups):
        shapes = {c.id: _shape(c) for c in group}
        own = {a for length, offsets, _ in shapes.values() for a in offsets} | \
            {c.part.id for c in group if c.id in openers}
        # "see page N" off: a body piece prints no number of another piece
        hrefs = {a for _, _, links in shapes.values() for a in links} \
            if options.page_references or index_piece(group) else set()
        if number == 0:
            hrefs |= {a for c in printed for a in _toc_anchors(c)}
        targets = frozenset(hrefs - own)
        shape = [shapes[c.id][:2] for c in group]
        for n, chapter in reversed(list(enumerate(group))):
            if chapter.id in openers:
                shape.insert(n, (1, {chapter.part.id: 0}))
        if number == 0:  # half-title, title, copyright, contents
            shape.insert(0, (FURNITURE_PAGES * CHARS_PER_PAGE + 60 * len(printed), {}))
        pieces.append(Piece(tuple(c.id for c in group), number == 0, targets, frozenset(own), shape=tuple(shape)))
    return pieces


def _whole_chapters(groups: list[tuple[Chapter, ...]]) -> list[tuple[Chapter, ...]]:
    """The groups with each chapter's sections kept in its piece: a piece starts a new page,
    and a section runs on in its chapter's pages."""
    kept: list[tuple[Chapter, ...]] = []
    for group in groups:
        lead = next((n for n, chapter in enumerate(group) if not chapter.is_section), len(group))
        if kept and lead:
            kept[-1] += group[:lead]
        group = group[lead:] if kept else group
        if group:
            kept.append(group)
    return kept


def _shape(chapter: Chapter) -> tuple[int, dict[str, int], dict[str, int]]:
    """A chapter's length, where its anchors are in it (a footnote: where it is called) and
    where it first links to each anchor: one pass of each pattern over the body (a search for
    each footnote's call was half of the large book's plan, 0.1 s)."""
    body = chapter.body
    offsets = {chapter.id: 0, chapter.title_id: 0}
    for match in _ID.finditer(body):
        before = body[match.start() - 1] if match.start() else " "
        if not (before.isalnum() or before == "_"):  # a whole attribute name, as \bid= would find
            offsets.setdefault(match.group(1), match.start())
    links: dict[str, int] = {}
    for match in _HREF.finditer(body):
        links.setdefault(match.group(1), match.start())
    for note in chapter.footnotes:
        offsets.setdefault(note.id, links.get(note.id, 0))
    return len(body) + sum(len(note.body) for note in chapter.footnotes), offsets, links


def _toc_anchors(chapter: Chapter) -> set[str]:
    ids = {chapter.title_id} | {h.id for h in chapter.headings if h.level == 2}
    return ids | ({chapter.part.id} if chapter.part else set())

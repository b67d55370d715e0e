"""The chapter-parallel PDF: pieces of the book laid out in worker processes, then joined.

WeasyPrint lays out one document on one core and keeps all of it in memory. Chapters
start on a new page, so a chapter's layout does not depend on where it lands, except for
the page numbers it prints: its own (the page counter, set per piece with ``counter-reset``)
and those of "see page N" and of the contents, which name pages of other pieces. Those are
given to each piece as plain text (``data-page``, see render/pdf.py); a first round guesses
them, later rounds lay out again only the pieces whose numbers were guessed wrong, until
nothing changes. Then pypdf joins the pieces (blank versos where a chapter must start on
the right), rebuilds the named destinations and the bookmarks from the pieces' anchors,
and copies the metadata and the language.

What does not survive the join: the tag structure (each piece's structure tree refers to
its own page objects; merging them is not done here), so the parallel PDF is untagged and
the single-document PDF stays the default (and the only choice for a PDF/A or PDF/UA
``variant``, a handout, or a ``--chapters`` selection).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from ..cache import write_atomically
from ..errors import Reporter
from ..fontcheck import collect_missing_glyphs, report_missing_glyphs
from ..model import Book, Chapter
from ..resources import display_path
from .pdf_cache import PieceCache
from .pdf_layout import print_layout, select_chapters

CHARS_PER_PAGE = 2600  # a first guess of the page count, for the first round's page numbers
MAX_ROUNDS = 5
CHAPTERS_PER_PIECE = 4  # at most, in a body piece
PAGE_MAP = "pdf-page-numbers.json"  # in the book's cache folder: the last build's page numbers
logger = logging.getLogger(__name__)
_HREF = re.compile(r'href="#([^"]+)"')

_BOOK: Book | None = None  # the book, in a worker process (sent once, by the initializer)
_PIECES: PieceCache | None = None  # its laid-out pieces (pdf_cache.py), in a worker process


@dataclass
class Piece:
    """A run of printed chapters laid out as one document; ``front`` adds the furniture."""

    chapter_ids: tuple[str, ...]
    front: bool
    targets: frozenset[str]  # anchors of other pieces whose page numbers this piece prints
    own: frozenset[str]  # anchors in this piece
    start: int = 1  # the page number of its first page (the counter; body pieces)
    used: dict[str, str] | None = None  # the numbers of its last layout
    result: dict = field(default_factory=dict)


def parallel_supported(book: Book) -> bool:
    """Only the whole book, without a PDF variant: the tag-less join cannot make PDF/UA."""
    options = book.manifest.pdf
    return not (options.variant or options.handout or options.chapters)


def render_pdf_parallel(book: Book, reporter: Reporter, workers: int | None = None) -> bytes:
    """The PDF laid out in pieces by a pool of ``workers`` processes (default: the cores)."""
    printed = select_chapters(book.chapters, None, display_path(book.manifest.path))
    pieces = _plan(book, printed, workers or os.cpu_count() or 1)
    two_sided = print_layout(book.manifest.pdf).two_sided
    numbers = _remembered(book, pieces)
    exact = numbers is not None  # the last build's numbers: right unless the book changed
    if numbers is None:
        numbers = _guess_numbers(book, pieces)
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=context,
                             initializer=_init_worker, initargs=(book,)) as pool:
        for round_number in range(MAX_ROUNDS):
            write = exact or round_number > 0  # a first round on guessed numbers only measures
            todo = [p for p in pieces if not p.result or write and (
                p.result["pdf"] is None or p.used != _wanted(p, numbers) or p.result["start"] != p.start)]
            if not todo:
                break
            jobs = [(p.chapter_ids, p.front, _wanted(p, numbers), p.start, write) for p in todo]
            for piece, job, result in zip(todo, jobs, pool.map(_layout_piece, jobs)):
                piece.used, piece.result = job[2], result
            numbers = _page_numbers(pieces, two_sided)
            cached = sum(1 for p in todo if p.result.get("cached"))
            logger.info("parallel PDF round %d: %d of %d pieces laid out%s, %d of them from the cache", round_number,
                        len(todo), len(pieces), "" if write else " (measured only)", cached)
        else:
            raise RuntimeError("page numbers of the parallel PDF did not settle")
    _remember(book, numbers)
    PieceCache(book).prune({p.result["key"] for p in pieces if p.result.get("key")})
    for piece in pieces:
        report_missing_glyphs(piece.result["missing"], book, reporter)
    from .pdf_join import join_pieces

    return join_pieces([p.result for p in pieces], two_sided, book.meta.language)


def _plan(book: Book, printed: tuple[Chapter, ...], workers: int) -> list[Piece]:
    """The front piece (furniture, contents, front matter) and body pieces of whole chapters:
    at least four per worker, so that the pool stays busy while the slowest piece finishes,
    and at most CHAPTERS_PER_PIECE chapters each, so that a rebuild after editing one chapter
    lays out little (pdf_cache.py). The cut depends only on the number of chapters, so an
    edit inside a chapter leaves every other piece as it was."""
    start = next((n for n, c in enumerate(printed) if c.matter == "body"), 0)
    body = printed[start:]
    size = max(1, min(CHAPTERS_PER_PIECE, -(-len(body) // (4 * workers))))
    groups = [printed[:start]] + [body[n:n + size] for n in range(0, len(body), size)]
    openers = {c.id for n, c in enumerate(printed) if c.part and (n == 0 or printed[n - 1].part != c.part)}
    pieces = []
    for number, group in enumerate(groups):
        own = {a for c in group for a in _anchors(c)} | {c.part.id for c in group if c.id in openers}
        hrefs = {m for c in group for m in _HREF.findall(c.body)}
        if number == 0:
            hrefs |= {a for c in printed for a in _toc_anchors(c)}
        targets = frozenset(hrefs - own)
        pieces.append(Piece(tuple(c.id for c in group), number == 0, targets, frozenset(own)))
    return pieces


def _anchors(chapter: Chapter) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', chapter.body)) | {chapter.id, chapter.title_id}


def _toc_anchors(chapter: Chapter) -> set[str]:
    ids = {chapter.title_id} | {h.id for h in chapter.headings if h.level == 2}
    return ids | ({chapter.part.id} if chapter.part else set())


def _remembered(book: Book, pieces: list[Piece]) -> dict[str, str] | None:
    """The page numbers the last parallel build found (a wrong one only costs a round: every
    round checks the numbers it used against the pages it made)."""
    path = book.cache_dir / PAGE_MAP if book.cache_dir is not None else None
    if path is not None and path.is_symlink():  # a book may ship one; reads stay in the book
        return None
    try:
        numbers = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
    except (OSError, ValueError):
        return None
    if not isinstance(numbers, dict) or not all(isinstance(v, str) and v.isdigit() for v in numbers.values()):
        return None
    for piece in pieces[1:]:
        known = [int(numbers[a]) for a in piece.own if a in numbers]
        piece.start = min(known) if known else 1
    return numbers


def _remember(book: Book, numbers: dict[str, str]) -> None:
    if book.cache_dir is None:
        return
    try:
        # a fresh temporary name, then a rename: never written through a link a book may ship
        write_atomically(book.cache_dir / PAGE_MAP, json.dumps(numbers, sort_keys=True).encode("utf-8"))
    except OSError:
        pass  # the cache is an optimisation


def _wanted(piece: Piece, numbers: Mapping[str, str]) -> dict[str, str]:
    return {anchor: numbers[anchor] for anchor in sorted(piece.targets) if anchor in numbers}


def _guess_numbers(book: Book, pieces: list[Piece]) -> dict[str, str]:
    """Page numbers from text length, for the first round: a guess with the right number of
    digits already lays out like the truth (the digits are tabular)."""
    numbers: dict[str, str] = {}
    page = 1
    for piece in pieces[1:]:
        for chapter in (c for c in book.chapters if c.id in piece.chapter_ids):
            for anchor in _anchors(chapter):
                numbers[anchor] = str(page)
            page += max(1, len(chapter.body) // CHARS_PER_PAGE)
        piece.start = int(numbers.get(piece.chapter_ids[0], "1"))
    return numbers


def _page_numbers(pieces: list[Piece], two_sided: bool) -> dict[str, str]:
    """Every anchor's page number (the page counter, as target-counter prints it) from the
    pieces laid out so far; sets each body piece's real first page number."""
    numbers: dict[str, str] = {}
    counter = 1
    position = 0  # index of the next page in the joined PDF, for the blank versos
    for piece in pieces:
        result = piece.result
        if not result:
            continue
        if two_sided and not piece.front and position % 2 == 1:
            position += 1
            if pieces.index(piece) > 1:
                counter += 1
        start = piece.start = 1 if piece.front else counter
        for anchor, index in result["anchors"].items():
            numbers[anchor] = str(start + index)
        position += result["pages"]
        counter = 1 if piece.front else counter + result["pages"]
    return numbers


def _init_worker(book: Book) -> None:
    global _BOOK
    _BOOK = book


def _layout_piece(job: tuple[tuple[str, ...], bool, dict[str, str], int, bool]) -> dict:
    """Lay out one piece (in a worker) and write it, untagged; its anchors, bookmarks and
    link targets come back with the PDF bytes for the join. A piece laid out before from
    the same source comes from the cache (pdf_cache.py) instead."""
    from .pdf import book_fetcher, layout_pdf, pdf_source

    chapter_ids, front, numbers, start, write = job
    assert _BOOK is not None
    css = "" if front else f"@page :first {{ counter-reset: page {start}; }}\n"
    css += _numbers_css(_BOOK)
    source = pdf_source(_BOOK, only=frozenset(chapter_ids), front_matter=front, page_numbers=numbers, extra_css=css)
    pieces = _piece_cache()
    key = pieces.key(source)
    fetcher = book_fetcher(_BOOK)
    if key is not None:
        cached = pieces.load(key, lambda url: _digest_of(fetcher, url))
        if cached is not None:
            return cached
    with collect_missing_glyphs() as missing:
        document = layout_pdf(_BOOK, Reporter(), source=source, fetcher=fetcher, pdf_tags=False)
        anchors: dict[str, int] = {}
        for number, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, number)  # the first of equal ids wins, as in WeasyPrint
        linked = {target for page in document.pages for kind, target, _, _ in page.links if kind == "internal"}
        for name in sorted(linked - anchors.keys()):  # kept by WeasyPrint, pointed home by the join
            document.pages[0].anchors[name] = (0, 0, 0, 0)
        data = document.write_pdf(pdf_tags=False) if write else None
    result = {
        "pdf": data,
        "pages": len(document.pages),
        "anchors": anchors,
        "bookmarks": [(page.height, list(page.bookmarks)) for page in document.pages],
        "missing": missing,
        "front": front,
        "start": start,
        "key": key,
        "cached": False,
    }
    if key is not None and data is not None:
        pieces.store(key, result, fetcher.fetched)
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
    """The rules that print the given numbers where print.css asks for target-counter."""
    from .pdf_layout import SEE_PAGE

    sheet = '.toc a[data-page]::after { content: leader(dotted) " " attr(data-page); }\n'
    if book.manifest.pdf.page_references:
        words = SEE_PAGE.get(book.meta.language.split("-")[0].lower(), SEE_PAGE["en"])
        sheet += f'a.xref[data-page]::after {{ content: " ({words} " attr(data-page) ")"; }}\n'
    return sheet

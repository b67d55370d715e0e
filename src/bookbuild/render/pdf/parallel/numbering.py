"""The pieces of the chapter-parallel PDF (plan.py) and their page numbers: those the last
build found, those each piece prints, and when they are known."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..page_labels import roman
from .order import remembered

CHARS_PER_PAGE = 3800  # of chapter HTML on an A4 page, a first guess until some pieces are laid out
PAGE_MAP = "pdf-page-numbers.json"  # in the book's cache folder: the last build's page numbers
_PAGE_NUMBER = re.compile(r"\d+|[ivxlcdm]+")  # arabic in the body, roman in the front piece


@dataclass
class Piece:
    """A run of printed chapters laid out as one document; ``front`` adds the furniture."""

    chapter_ids: tuple[str, ...]
    front: bool
    targets: frozenset[str]  # anchors of other pieces whose page numbers this piece prints
    own: frozenset[str]  # anchors in this piece
    start: int = 1  # the page number of its first page (the counter; body pieces)
    holder: int | None = None  # the worker keeping its layout on guessed numbers
    finishing: bool = False  # sent to its holder to be finished, in this round
    used: dict[str, str] | None = None  # the numbers of its last layout
    result: dict = field(default_factory=dict)
    # its chapters (and part pages) as (length of text, {anchor: offset in that text}), to
    # estimate its pages before it is laid out
    shape: tuple[tuple[int, dict[str, int]], ...] = ()

    def estimate(self, per_page: float, two_sided: bool, only: frozenset[str] | None = None
                 ) -> tuple[int, dict[str, int]]:
        """Its page count and the page of each anchor (of those in ``only``, when given), from
        text lengths."""
        anchors: dict[str, int] = {}
        page = 0
        for length, offsets in self.shape:
            if two_sided and page % 2:
                page += 1
            for anchor in (offsets if only is None else only & offsets.keys()):
                anchors[anchor] = page + int(offsets[anchor] // per_page)
            page += max(1, -int(-length // per_page))
        return max(1, page), anchors

    def pages(self, per_page: float, two_sided: bool) -> int:
        """Its estimated page count alone (no anchor is placed)."""
        return self.estimate(per_page, two_sided, frozenset())[0]


def remembered_numbers(cache_dir: Path | None, pieces: list[Piece]) -> dict[str, str] | None:
    """The page numbers the last parallel build found (a wrong one only costs a round: every
    round checks the numbers it used against the pages it made)."""
    numbers = remembered(cache_dir, PAGE_MAP)  # order.py
    if not numbers or not all(_PAGE_NUMBER.fullmatch(v) for v in numbers.values()):
        return None
    for piece in pieces[1:]:
        known = [int(numbers[a]) for a in piece.own if numbers.get(a, "").isdigit()]
        piece.start = min(known) if known else 1
    return numbers


def wanted(piece: Piece, numbers: Mapping[str, str]) -> dict[str, str]:
    return {anchor: numbers[anchor] for anchor in sorted(piece.targets) if anchor in numbers}


def page_numbers(pieces: list[Piece], two_sided: bool, per_page: float | None = None,
                  digits: Callable[[str], str] = str, starts: dict[int, int] | None = None,
                  only: frozenset[str] | None = None) -> dict[str, str]:
    """Every anchor's page number (the page counter, as target-counter prints it: roman in
    the front piece, whose pages print roman numbers; in the book's ``digits`` elsewhere, as
    print.css's book-digits counter style prints them) from the pieces laid out so far, and
    with ``per_page`` (see :func:`per_page_of`) estimated from the text length of those not
    laid out yet; sets each body piece's first page number to match (or only says it in
    ``starts``, by the piece's index). With ``only``, the numbers of those anchors alone: a
    piece sent on guessed numbers needs those it prints, not the book's thousands each time."""
    said: dict[int, int] = {} if starts is None else starts
    numbers: dict[str, str] = {}
    counter = 1
    position = 0  # index of the next page in the joined PDF, for the blank versos
    for number, piece in enumerate(pieces):
        result = piece.result
        if result:
            pages, anchors = result["pages"], result["anchors"]
            if only is not None:
                anchors = {anchor: anchors[anchor] for anchor in only & anchors.keys()}
        elif per_page is not None:
            pages, anchors = piece.estimate(per_page, two_sided, only)
        else:
            if not piece.front:  # not laid out yet (the index, laid out last): where it will start
                said[number] = counter + (two_sided and position % 2 == 1 and number > 1)
            continue
        if two_sided and not piece.front and position % 2 == 1:
            position += 1
            if number > 1:
                counter += 1
        start = said[number] = 1 if piece.front else counter
        for anchor, index in anchors.items():
            # the front piece's pages print roman numbers (print.css @page front)
            numbers[anchor] = roman(start + index) if piece.front else digits(str(start + index))
        position += pages
        counter = 1 if piece.front else counter + pages
    if starts is None:
        for number, start in said.items():
            pieces[number].start = start
    return numbers


def known(piece: Piece, pieces: list[Piece], owners: dict[str, Piece]) -> bool:
    """Whether every page number the piece prints is known: every body piece before it and
    every piece it prints a number of has been laid out (the front piece's length does not
    move the body's numbers: the body starts on page 1, on a right-hand page)."""
    before = pieces[1:pieces.index(piece)] if not piece.front else []
    return all(p.result for p in before) and all(owners[a].result for a in piece.targets if a in owners)


def per_page_of(pieces: list[Piece], two_sided: bool) -> float:
    """The characters per page at which the body pieces laid out so far would be estimated
    at the pages they took (blank versos and chapter ends included, as the estimate counts
    them); CHARS_PER_PAGE before any is."""
    laid_out = [p for p in pieces if p.result and not p.front]
    pages = sum(p.result["pages"] for p in laid_out)
    per_page = float(CHARS_PER_PAGE)
    if not pages:
        return per_page
    for _ in range(6):  # the estimate is nearly proportional: a few steps converge
        estimated = sum(p.pages(per_page, two_sided) for p in laid_out)
        per_page *= estimated / pages
    return per_page


# How far off an estimated page may be, as a share of its distance from the pages laid out
# (the estimate of what lies ahead, at the characters per page of what is behind)
ESTIMATE_LOW, ESTIMATE_HIGH = 0.8, 1.25


def widths_settled(piece: Piece, pieces: list[Piece], two_sided: bool) -> bool:
    """Whether every page number ``piece`` prints is known, or estimated well inside its
    count of digits: laid out on the numbers known now, it is then finished by correcting
    them in place (renumber.py), not laid out again. Pages are known up to the first body
    piece not laid out; an anchor ``d`` pages past it is taken to be between 0.8 d and
    1.25 d past it."""
    starts: dict[int, int] = {}
    numbers = page_numbers(pieces, two_sided, per_page_of(pieces, two_sided), starts=starts, only=piece.targets)
    frontier = next((n for n, p in enumerate(pieces) if not p.front and not p.result), None)
    if frontier is None:
        return True
    known_pages = starts[frontier]
    for text in numbers.values():
        if text.isdigit() and int(text) >= known_pages:
            ahead = int(text) - known_pages
            low, high = known_pages + int(ahead * ESTIMATE_LOW), known_pages + int(ahead * ESTIMATE_HIGH) + 1
            if len(str(low)) != len(str(high)):
                return False
    return True

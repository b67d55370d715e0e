"""How a cold parallel PDF schedules its pieces (render/pdf/parallel/plan.py, numbering.py)
and keeps its join's parts (memo.py): the order of the join, when the contents is sent, and
parts written as they are made. The whole builds are held to the single document in
tests/test_pdf_parallel.py and tests/test_pdf_cache.py."""

from __future__ import annotations

from pathlib import Path

from bookbuild.render.pdf.parallel.memo import JoinMemo
from bookbuild.render.pdf.parallel.numbering import CHARS_PER_PAGE, Piece, widths_settled
from bookbuild.render.pdf.parallel.plan import join_order


def _book(count: int, pages: int, targets: dict[int, set[str]] | None = None) -> list[Piece]:
    """A front piece that prints the first page of every body piece, and ``count`` body
    pieces of about ``pages`` pages each, piece ``n`` owning anchor ``a<n>``."""
    targets = targets or {}
    front = Piece(("front",), True, frozenset(f"a{n}" for n in range(1, count + 1)), frozenset({"toc"}),
                  shape=((CHARS_PER_PAGE, {"toc": 0}),))
    body = [Piece((f"c{n}",), False, frozenset(targets.get(n, set())), frozenset({f"a{n}"}),
                  shape=((pages * CHARS_PER_PAGE - 10, {f"a{n}": 0}),)) for n in range(1, count + 1)]
    return [front, *body]


def _lay_out(pieces: list[Piece], upto: int, pages: int) -> None:
    for piece in pieces[1:upto + 1]:
        piece.result = {"pages": pages, "anchors": {anchor: 0 for anchor in piece.own}}


def test_a_piece_is_joined_after_the_last_piece_whose_numbers_it_prints() -> None:
    """The join takes the pieces in one order fixed by the book: a piece that prints "see
    page N" of a later piece comes after that piece (in book order it held up every piece
    after it until the end of the build), one that prints a number of the front matter after
    the body, and the contents last."""
    pieces = _book(5, 10, {1: {"a4"}, 3: {"a2"}, 5: {"toc"}})
    owners = {anchor: piece for piece in pieces for anchor in piece.own}
    assert join_order(pieces, owners) == [2, 3, 1, 4, 5, 0]
    plain = _book(5, 10)
    assert join_order(plain, {a: p for p in plain for a in p.own}) == [1, 2, 3, 4, 5, 0]


def test_the_contents_waits_until_its_numbers_keep_their_digits() -> None:
    """The contents is sent once every number it prints is known or estimated well inside
    its count of digits, so that its worker corrects them in place at the end instead of
    laying it out again: not while a chapter is guessed near page 100, and at once when the
    pages before the guesses leave them safely within three digits."""
    pieces = _book(30, 10)
    front = pieces[0]
    assert not widths_settled(front, pieces, two_sided=False)  # a chapter guessed at about page 91
    _lay_out(pieces, 5, 10)
    assert not widths_settled(front, pieces, two_sided=False)
    _lay_out(pieces, 12, 10)  # pages 1-120 known: the rest guessed at 121 to about 291
    assert widths_settled(front, pieces, two_sided=False)
    _lay_out(pieces, 30, 10)
    assert widths_settled(front, pieces, two_sided=False)
    long_book = _book(95, 10)  # guessed up to about page 941: 1,000 is not out of reach
    _lay_out(long_book, 12, 10)
    assert not widths_settled(long_book[0], long_book, two_sided=False)
    _lay_out(long_book, 60, 10)  # 601 + 1.25 x 340 pages ahead: maybe past 1,000
    assert not widths_settled(long_book[0], long_book, two_sided=False)
    _lay_out(long_book, 75, 10)
    assert widths_settled(long_book[0], long_book, two_sided=False)


def test_the_join_keeps_each_part_as_it_is_made(tmp_path: Path) -> None:
    """A part of the joined file is written when the join makes it (during the layout), not
    after the last layout; another build finds it; a damaged entry in its place is written
    again; a cache folder that cannot be written makes the build go on without it."""
    cache = tmp_path / ".bookbuild-cache"
    memo = JoinMemo(cache)
    name = memo.name("0" * 64, "1", "0", "[]", "False", "")
    meta = {"count": 1, "keys": 0, "rows": 4, "placed": [[5, 0]], "joined": [], "fonts": []}
    memo.put(name, meta, b"body5 0 obj")
    chunk = cache / "pdf-join" / f"{name}.chunk"
    assert chunk.is_file()
    assert JoinMemo(cache).get(name) == ({**meta, "data": memo.parts[name][0]["data"]}, b"body5 0 obj")
    chunk.write_bytes(chunk.read_bytes()[:-3])
    damaged = JoinMemo(cache)
    assert damaged.get(name) is None
    damaged.put(name, meta, b"body5 0 obj")
    assert JoinMemo(cache).get(name) is not None
    damaged.save()
    assert chunk.is_file()  # used by this build: kept by the prune

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "pdf-join").write_text("a file where the folder should be", encoding="utf-8")
    memo = JoinMemo(blocked)
    memo.put(name, meta, b"body5 0 obj")
    memo.keep_program("f" * 64, b"program")
    assert not memo.writable
    memo.save()
    assert (blocked / "pdf-join").read_text(encoding="utf-8") == "a file where the folder should be"

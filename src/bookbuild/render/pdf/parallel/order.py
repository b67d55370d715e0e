"""Which pieces of a rebuild go to the workers first: those whose chapters changed.

A rebuild after editing one chapter takes every other piece from the cache of laid-out pieces
(cache.py), but only a worker can tell which (a piece's key needs WeasyPrint's versions), so
the pieces went out in book order and the one to lay out waited for the cache reads of the
pieces before it; the join, which takes pieces in book order, then waited for its layout.
The main process remembers a digest of each chapter as the last build laid it out
(``.bookbuild-cache/pdf-chapter-digests.json``) and sends the pieces with a changed chapter
first: their layout starts at once, while the other worker reads the cached pieces, in
book order, for the join. Only the order changes: every piece is still checked against the
cache by its key, and the join's order, hence the file, is the same whatever the order of
layout (join.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from ....cache import read_entry, write_atomically
from ....model import Book, Chapter

DIGESTS = "pdf-chapter-digests.json"  # in the book's cache folder


def chapter_digests(book: Book) -> dict[str, str]:
    """A digest of each chapter as the PDF lays it out (its body, notes, title, place)."""
    return {chapter.id: _digest(chapter) for chapter in book.chapters}


def _digest(chapter: Chapter) -> str:
    return hashlib.sha256(repr(chapter).encode("utf-8", "surrogatepass")).hexdigest()


def changed_first(chapter_ids: Sequence[tuple[str, ...]], digests: dict[str, str], cache_dir: Path | None) -> list[int]:
    """The indexes of the pieces (each given by its chapters' ids) in the order to send
    them: those with a chapter changed since the last build first, then the others, each
    group in the given order. The given order when there is no last build to compare with."""
    return edited_first(len(chapter_ids), changed(chapter_ids, digests, cache_dir))


def edited_first(count: int, edited: set[int]) -> list[int]:
    """The indexes of ``count`` pieces, the ``edited`` ones first, each group in order."""
    return sorted(range(count), key=lambda n: n not in edited)


def changed(chapter_ids: Sequence[tuple[str, ...]], digests: dict[str, str], cache_dir: Path | None) -> set[int]:
    """The indexes of the pieces with a chapter changed since the last build (none without one)."""
    last = remembered(cache_dir, DIGESTS)
    if not last:
        return set()
    return {n for n, ids in enumerate(chapter_ids) if any(last.get(i) != digests.get(i) for i in ids)}


def remember(cache_dir: Path | None, name: str, found: dict[str, str]) -> None:
    """Keep what this build found (the page numbers, the chapters' digests) for the next."""
    if cache_dir is None:
        return
    try:  # a fresh temporary name, then a rename: never written through a link a book may ship
        write_atomically(cache_dir / name, json.dumps(found, sort_keys=True).encode("utf-8"))
    except OSError:
        pass  # the cache is an optimisation


def remembered(cache_dir: Path | None, name: str) -> dict[str, str]:
    """What :func:`remember` kept under ``name`` (strings by string), or nothing: missing,
    damaged or a link a book shipped (cache.read_entry reads only inside the cache folder)."""
    raw = read_entry(cache_dir / name) if cache_dir is not None else None
    try:
        found = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    if not isinstance(found, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        return {}
    return found

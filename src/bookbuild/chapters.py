"""Read every chapter of a book: unchanged ones from the cache, the rest parsed, in parallel
worker processes when there are many.

Parsing a chapter depends only on its file and its place in the book (house rule 8), so the
chapters a build must parse are shared out over the cores. Results, and the warnings each
reader gave, are taken in chapter order, so a parallel build reports exactly what a serial
one does, in the same order, and stops at the same first error.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from .cache import ChapterCache, Parsed, replay
from .errors import Reporter
from .manifest import ChapterEntry, Manifest
from .model import Chapter

# Below this many chapters to parse, starting worker processes costs more than it saves.
PARALLEL_FROM = 12


def read_chapters(manifest: Manifest, reporter: Reporter, cache: bool = True,
                  progress: Callable[[ChapterEntry, int], None] | None = None) -> tuple[Chapter, ...]:
    """Every chapter in reading order; ``progress(entry, index)`` after each one."""
    store = ChapterCache(manifest) if cache else None
    entries = list(enumerate(manifest.chapters, start=1))
    looked_up = {index: store.lookup(entry, index) if store else (None, None) for index, entry in entries}
    todo = [(index, entry) for index, entry in entries if looked_up[index][1] is None]
    workers = _workers(len(todo))
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) if workers > 1 else None
    try:
        futures = {index: pool.submit(parse_chapter, entry, index, manifest) for index, entry in todo} if pool else {}
        chapters = []
        for index, entry in entries:
            key, parsed = looked_up[index]
            if parsed is None:
                parsed = _result(futures.get(index), entry, index, manifest, reporter)
                if store is not None:
                    store.put(key, parsed)
            replay(parsed[1], reporter)
            chapters.append(parsed[0])
            if progress is not None:
                progress(entry, index)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if store is not None:
        store.prune()
    return tuple(chapters)


def parse_chapter(entry: ChapterEntry, index: int, manifest: Manifest) -> Parsed:
    """Parse one chapter (in this process or a worker), recording its warnings."""
    from .sources import read_chapter

    recorder = Reporter()
    chapter = read_chapter(entry, index, recorder, manifest.meta.language, manifest.root)
    return chapter, recorder.warnings


def _result(future: Future | None, entry: ChapterEntry, index: int, manifest: Manifest,
            reporter: Reporter) -> Parsed:
    if future is not None:
        return future.result()
    recorder = Reporter()  # serial: warnings given before an error still reach the author
    from .sources import read_chapter

    try:
        return read_chapter(entry, index, recorder, manifest.meta.language, manifest.root), recorder.warnings
    except BaseException:
        replay(recorder.warnings, reporter)
        raise


def _workers(count: int) -> int:
    if count < PARALLEL_FROM or os.environ.get("BOOKBUILD_WORKERS") == "1":
        return 1
    return max(1, min(os.cpu_count() or 1, count))

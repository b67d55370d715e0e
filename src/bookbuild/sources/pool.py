"""Read every chapter of a book: unchanged ones from the cache, the rest parsed, in parallel
worker processes when there are many.

Parsing a chapter depends only on its file and its place in the book (house rule 8), so the
chapters a build must parse are shared out over the cores. Results, and the warnings each
reader gave, are taken in chapter order, so a parallel build reports exactly what a serial
one does, in the same order, and stops at the same first error.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import CheckedImages, cache_dir, code_name
from ..cache.packs import EntryPack, remove_folders_before_packs
from ..config.manifest import ChapterEntry, Manifest
from ..errors import BookError, Reporter
from ..files import read_book_file
from ..model import Chapter
from .cache import ChapterCache, Parsed, image_dependencies, report_again

if TYPE_CHECKING:
    from concurrent.futures import Future

# Below this many chapters to parse, starting worker processes costs more than it saves.
PARALLEL_FROM = 12


def read_chapters(manifest: Manifest, reporter: Reporter, cache: bool = True,
                  progress: Callable[[ChapterEntry, int], None] | None = None,
                  on_workers_started: Callable[[], None] | None = None) -> tuple[Chapter, ...]:
    """Every chapter in reading order; ``progress(entry, index)`` after each one.

    ``on_workers_started()`` is called once the worker processes are forked (at once when there are
    none): the place to start threads that work while the chapters are read.
    """
    store = ChapterCache(manifest) if cache else None
    entries = list(enumerate(manifest.chapters, start=1))
    looked_up = {index: store.lookup(entry, index) if store else (None, None) for index, entry in entries}
    todo = [(index, entry) for index, entry in entries if looked_up[index][1] is None]
    workers = _workers(len(todo))
    pool = None
    folder = cache_dir(manifest) if store is not None else None  # where the image checks are kept
    code = EntryPack(folder, "code")
    if workers > 1:  # imported only then: a rebuild that parses one chapter needs no pool
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        warm_up(manifest, [entry for _, entry in todo], code)
        # what the workers inherit is left alone by their garbage collector: its passes would
        # write to every object's header, and copy the pages they are on (5 to 7% of their time)
        gc.freeze()
        _FORKED[:] = [manifest, folder, code]  # what every task shares reaches the workers by the fork
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=collect_less)
    images_checked: set[str] = set()
    try:
        futures = {index: pool.submit(_parse_in_worker, index) for index, _entry in todo} if pool else {}
        if on_workers_started is not None:  # the pool forks its workers on the first submit
            on_workers_started()
        chapters = []
        for index, entry in entries:
            key, parsed = looked_up[index]
            if parsed is None:
                parsed = _result(futures.get(index), entry, index, manifest, reporter, images_checked, folder, code)
                if store is not None:
                    store.put(key, parsed)
            report_again(parsed[1], reporter)
            chapters.append(parsed[0])
            if progress is not None:
                progress(entry, index)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
            gc.unfreeze()
            _FORKED.clear()
        if store is not None:  # what was parsed before an error is kept for the next build too
            store.save()
            _save_code_blocks(manifest, code)
    if store is not None:
        CheckedImages(folder).remember(images_checked)
        if folder is not None:
            remove_folders_before_packs(folder)
    return tuple(chapters)


def warm_up(manifest: Manifest, entries: list[ChapterEntry], code: EntryPack) -> None:
    """Before the workers are forked: compile the Pygments lexers the chapters' fences name and
    load Pillow's decoders when they show images, once here, for every worker to inherit.

    Each worker did it for itself: a tenth of a second of lexers' rules in each, as long as
    parsing ten chapters, then Pillow for the image checks. The fences are found by a look at
    the files; one missed only costs its worker the compiling, one too many a lexer unused.
    What only one chapter uses is left to the worker that parses it: compiled here, it would
    only make the others wait.
    """
    from collections import Counter

    from .text import MARKDOWN_SUFFIXES
    from .code import fence_options, warm_lexer

    languages: Counter[str] = Counter()
    images = 0
    kept = code.entries() if code.path is not None else {}  # read once here, for every worker
    for entry in entries:
        if entry.path.suffix.lower() not in MARKDOWN_SUFFIXES or (kept and code_name(entry.path) in kept):
            continue  # not Markdown, or its highlighted blocks are kept (sources/code.py)
        try:
            source = read_book_file(entry.path, manifest.root, "chapter")
        except BookError:
            continue  # the worker reports it, at its place in the book
        languages.update({fence_options(info.decode("utf-8", "replace"))[0].lower()
                          for info in _FENCE_INFO.findall(source)} - {""})
        images += _IMAGE.search(source) is not None
    for language in sorted(name for name, chapters in languages.items() if chapters > 1):
        warm_lexer(language)
    if images > 1:
        from PIL import Image

        Image.preinit()


_FENCE_INFO = re.compile(rb"^[ \t]{0,3}(?:`{3,}|~{3,})([^\n`]*)$", re.MULTILINE)
_IMAGE = re.compile(rb"!\[|<img\b", re.IGNORECASE)


def collect_less() -> None:
    """A chapter reader's garbage collector: its youngest generation run every 10,000 new
    objects, not 700 (the older ones as often as before relative to it). Parsing makes
    markdown-it's tokens by the hundred thousand and keeps most of them to the end of the
    chapter, so the collector found little to free: 5% of the readers' time. Only in the
    readers, which live for one book: in the main process of a PDF build the same setting
    kept 8 MB more at its peak, and the PDF's workers collect after each piece already."""
    gc.set_threshold(10_000, 10, 10)


def parse_chapter(entry: ChapterEntry, index: int, manifest: Manifest, code: EntryPack | None = None) -> Parsed:
    """Parse one chapter (in this process or a worker), recording its warnings; ``code`` is
    the book's kept code blocks, None for none."""
    from .chapter import read_chapter

    recorder = Reporter()
    chapter = read_chapter(entry, index, recorder, manifest.meta.language, manifest.root, code, manifest.math)
    return chapter, recorder.warnings


# [manifest, cache folder, code pack] of the build whose workers are being forked: a task names only its
# chapter's index (pickling the manifest for each of the large book's 100 tasks, and unpickling
# it in the workers, was 0.1 CPU s)
_FORKED: list = []


def _parse_in_worker(index: int) -> tuple[Parsed, set[str], tuple[str, bytes] | None]:
    """Parse the ``index``-th chapter in a worker, and check its raster images there too: decoding them
    whole was a tenth of a second of a cold build of the large book, in the main process after the
    parsing. What passed comes back as keys of :class:`CheckedImages`, which the link stage
    finds remembered; what failed is checked again there, and reported in book order. The
    chapter's highlighted code blocks come back too, for the build's code pack."""
    manifest, folder, code = _FORKED
    entry = manifest.chapters[index - 1]
    parsed = parse_chapter(entry, index, manifest, code)
    blocks = None
    if code.path is not None and (kept := code.get(name := code_name(entry.path))) is not None:
        blocks = (name, kept)
    return parsed, _check_images(parsed[0], manifest, folder), blocks


def _check_images(chapter: Chapter, manifest: Manifest, folder: Path | None) -> set[str]:
    from ..errors import BookError
    from ..resources import resolve_in_book
    from .images import PILLOW_FORMATS, check_image

    checked = CheckedImages(folder)
    if checked.path is None:
        return set()
    for name in image_dependencies(chapter, manifest):
        try:
            path = resolve_in_book(manifest.root, manifest.root, name, what="image")  # never outside the book
            if path.suffix.lower() in PILLOW_FORMATS:
                checked.check(read_book_file(path, manifest.root, "image"), path.suffix, check_image)
        except (BookError, OSError):
            continue
    return checked.used


def _result(future: Future | None, entry: ChapterEntry, index: int, manifest: Manifest,
            reporter: Reporter, images_checked: set[str], folder: Path | None, code: EntryPack) -> Parsed:
    if future is not None:
        parsed, checked, blocks = future.result()
        images_checked |= checked
        if blocks is not None:
            code.put(*blocks)
        return parsed
    recorder = Reporter()  # serial: warnings given before an error still reach the author
    from .chapter import read_chapter

    try:
        return (read_chapter(entry, index, recorder, manifest.meta.language, manifest.root, code, manifest.math),
                recorder.warnings)
    except BaseException:
        report_again(recorder.warnings, reporter)
        raise


def _save_code_blocks(manifest: Manifest, code: EntryPack) -> None:
    """Keep the code blocks of every chapter file (those of chapters this build took from the
    cache too), and forget those of files that are no longer chapters of the book."""
    if code.path is None:
        return
    for entry in manifest.chapters:
        code.get(code_name(entry.path))
    code.save()


def _workers(count: int) -> int:
    if count < PARALLEL_FROM or os.environ.get("BOOKBUILD_WORKERS") == "1":
        return 1
    return max(1, min(os.cpu_count() or 1, count))

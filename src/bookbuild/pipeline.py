"""The one wiring: config -> sources -> model -> transforms -> the book of one format -> bytes.

``build``, ``check``, ``preview``, ``build --watch`` and the EPUB page list all go through
these functions, so they cannot disagree about a book: what ``check`` reports is what a
build would stop on or warn about, with the same words and the same location.

Each step is a plain function of its inputs (DESIGN.md): :func:`load_config` reads and
validates the options once; :func:`load_book` reads the chapters (from the cache, a worker
pool, or a reader the caller passes in) and runs the transforms; :func:`render` makes one
format's bytes from the book and its options. Renderers are imported here, lazily, and only
here: no renderer imports another (the EPUB page list gets the PDF's page starts as data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .config import BuildContext
from .config.manifest import ChapterEntry, Manifest, find_manifest, load_manifest
from .config.overrides import Overrides
from .files import read_book_file, with_column
from .errors import BookError, OutputError, Reporter, SourceError
from .model import Asset, Book, Chapter, PageStart
from .resources import display_path, forget_folders

# The stages (sources, transforms, the renderers and the cache) are imported by the functions
# that use them: importing this module (and the API) costs only the configuration's readers, so
# that the command line can start the PDF's workers before the build's code is loaded
# (start_early).

FORMATS = ("epub", "pdf")
# The EPUB as a store takes it (render/epub/stores.py), and its file name ending; never built by default.
STORE_FORMATS = {"kepub": "kepub.epub", "kindle": "epub"}

# read(entry, index, reporter, manifest): one chapter of the book, parsed.
ChapterReader = Callable[[ChapterEntry, int, Reporter, Manifest], Chapter]
# progress(what, done, total): called after each step of a build, for a progress bar.
Progress = Callable[[str, int, int], None]


def load_config(location: str | Path | None, reporter: Reporter, overrides: Overrides | None = None) -> Manifest:
    """book.toml with the command line's ``overrides``, validated once (config/); from now on
    the reporter's warnings get the column of what they quote, as `check` gives it."""
    forget_folders()  # a build resolves folders afresh (resources.real_path)
    reporter.column = partial(with_column, root=find_manifest(location).parent)
    return load_manifest(location, reporter, overrides)


def read_book_chapter(entry: ChapterEntry, index: int, reporter: Reporter, manifest: Manifest) -> Chapter:
    """The default :data:`ChapterReader`: parse the file now, in the book's language and folder."""
    from .sources.chapter import read_chapter

    return read_chapter(entry, index, reporter, manifest.meta.language, manifest.root, math=manifest.math)


def check_inputs(manifest: Manifest, reporter: Reporter) -> None:
    """What is checked before any chapter is read: the author's stylesheets."""
    from .sources.stylesheets import check_stylesheets

    check_stylesheets(manifest, reporter)


def load_book(
    manifest: Manifest,
    reporter: Reporter,
    read: ChapterReader | None = None,
    progress: Progress | None = None,
    total_steps: int | None = None,
    cache: bool = True,
    on_workers_started: Callable[[], None] | None = None,
) -> Book:
    """Read every chapter once and run the transforms: the one model all renderers share.

    Unchanged chapters come from ``.bookbuild-cache/`` (``cache``; see cache.py) with the
    warnings they gave when parsed; ``read`` lets the preview use its own in-memory chapter
    cache instead; ``progress`` hears of each chapter read; ``on_workers_started`` runs once
    the chapter readers are started (the build starts the EPUB cover's thread there).
    """
    from .sources.pool import read_chapters

    check_inputs(manifest, reporter)
    total = total_steps or len(manifest.chapters)

    def chapter_read(entry: ChapterEntry, index: int) -> None:
        if progress is not None:
            progress(display_path(entry.path), index, total)

    if read is None:
        chapters = read_chapters(manifest, reporter, cache=cache, progress=chapter_read,
                                 on_workers_started=on_workers_started)
    else:
        if on_workers_started is not None:
            on_workers_started()
        chapters = []
        for index, entry in enumerate(manifest.chapters, start=1):
            chapters.append(read(entry, index, reporter, manifest))
            chapter_read(entry, index)
        chapters = tuple(chapters)
    return assemble(manifest, chapters, reporter, cache)


def assemble(manifest: Manifest, chapters: tuple[Chapter, ...], reporter: Reporter, cache: bool = True) -> Book:
    """The book from its read chapters: cover, transforms, the book's own fonts."""
    from .sources.fonts import font_assets
    from .transforms import apply_transforms

    cover = _cover(manifest, reporter) if manifest.cover is not None else None
    book = Book(meta=manifest.meta, language=manifest.language, source=manifest.path, chapters=chapters,
                styles=manifest.styles, cover=cover)
    book = apply_transforms(book, build_context(manifest, cache), reporter)
    return book.replace(assets=book.assets + font_assets(manifest))


def build_context(manifest: Manifest, cache: bool = True, book: Book | None = None) -> BuildContext:
    """The options and places that travel beside the book; given the ``book``, with the time
    of its newest source file (the EPUB's modification date)."""
    from .cache import cache_dir

    context = BuildContext(manifest, cache_dir(manifest) if cache else None)
    if book is None:
        return context
    sources = [manifest.path, *manifest.styles, *(c.source for c in book.chapters),
               *(a.source for a in book.assets if a.source.is_absolute())]
    if book.cover is not None:
        sources.append(book.cover.source)
    return dataclasses.replace(context, source_mtime=max(path.stat().st_mtime for path in sources))


def _cover(manifest: Manifest, reporter: Reporter) -> Asset:
    """The cover image, checked like every image; a bad cover stops the build (it was asked for),
    and what the check removes from an SVG cover is a warning at the drawing's line."""
    from .sources.images import IMAGE_TYPES, check_image, svg_warnings

    path = manifest.cover
    suffix = path.suffix.lower()
    if suffix not in IMAGE_TYPES:
        # Not a type an EPUB may use as its cover: the EPUB renderer warns and draws one instead.
        return Asset(href=f"images/cover{suffix}", source=path, media_type="application/octet-stream")
    try:
        data = check_image(read_book_file(path, manifest.root, "image"), suffix,
                           svg_warnings(reporter, display_path(path)))
    except BookError as exc:
        raise SourceError(f"cover image '{display_path(path)}' {exc.diagnostic.message}",
                          display_path(manifest.path), hint=exc.diagnostic.hint) from None
    return Asset(href=f"images/cover{suffix}", source=path, media_type=IMAGE_TYPES[suffix], data=data)


def start_pdf_workers(manifest: Manifest) -> Any:
    """The chapter-parallel PDF's worker processes, started before the book is read so that
    they import WeasyPrint meanwhile; None when the PDF is made as one document."""
    if not manifest.pdf.in_parallel(entry.path for entry in manifest.chapters):
        return None  # imported only otherwise: it brings the worker pool
    # from workers.py, not plan.py (pypdf, the cache): the workers start 0.1 s sooner
    from .render.pdf.parallel.workers import start_workers

    return start_workers()


def start_early(location: str | Path | None, formats: tuple[str, ...], overrides: Overrides) -> None:
    """What a build of ``formats`` starts before this module's stages are imported
    (api.start_early): the PDF's worker processes, kept for the build (workers.kept_pool), so
    that they import WeasyPrint while it reads the book. Only book.toml is read; a book.toml
    that does not load starts nothing (the build reports it, at its place)."""
    if "pdf" not in formats:
        return
    try:
        workers = start_pdf_workers(load_manifest(location, Reporter(), overrides))
    except Exception:  # noqa: BLE001 - reported by the build
        return
    if workers is not None:
        from .render.pdf.parallel.workers import keep_pool

        keep_pool(workers)


def stop_pdf_workers(workers: Any) -> None:
    """The end of a build with :func:`start_pdf_workers`' workers: stopped, or kept for the
    next build of this process when the parallel PDF went through (render/pdf/parallel/plan.py)."""
    from .render.pdf.parallel.workers import release

    release(workers)


def fork_epub_cover(manifest: Manifest, cache: bool = True) -> Any:
    """The EPUB's generated cover, drawn from now on in a forked process when that is safe and
    pays (render/early_cover.py; None otherwise): call it before any thread is started."""
    from .cache import cache_dir
    from .render.early_cover import fork_cover

    return fork_cover(manifest, cache_dir(manifest) if cache else None)


def start_epub_cover(manifest: Manifest, cache: bool = True, drawn: Any = None) -> Any:
    """The EPUB's generated cover, drawn on a thread while the chapters are read (unless
    ``drawn``, from :func:`fork_epub_cover`, draws it already)."""
    from .cache import cache_dir
    from .render.epub import start_cover

    return start_cover(manifest, cache_dir(manifest) if cache else None, drawn)


def pdf_page_starts(book: Book, context: BuildContext, reporter: Reporter) -> dict[str, tuple[PageStart, ...]]:
    """Where each printed page of the PDF begins, as positions in the EPUB's chapters.

    The PDF's own book (with its ``only-pdf`` text) is laid out; each page start is then
    moved to the same text in the EPUB's book (transforms/formats.py), so a page-list entry
    points at the page the PDF prints for it.
    """
    from .render.pdf.page_starts import page_starts
    from .transforms.formats import for_format, translate_page_starts

    pdf_book = for_format(book, "pdf")
    return translate_page_starts(book, page_starts(pdf_book, context, reporter), "pdf", "epub")


def render(fmt: str, book: Book, context: BuildContext, reporter: Reporter,
           note: Callable[[str], None] | None = None, workers: Any = None,
           epub_cover: Future[bytes] | None = None, epub: bytes | None = None) -> bytes:
    """One format's bytes from the whole book: the format's own book is made here.

    ``workers`` (from :func:`start_pdf_workers`) make a parallel PDF; ``epub_cover`` is the
    EPUB's generated cover when it was started during the build (:func:`start_epub_cover`);
    a store edition is made from ``epub``, this build's EPUB, when it was made already.
    """
    from .transforms.formats import for_format

    if fmt == "epub":
        from .render.epub import render_epub

        page_starts = pdf_page_starts(book, context, reporter) if context.config.epub.page_list else {}
        return render_epub(for_format(book, "epub"), context, reporter, epub_cover, page_starts)
    if fmt == "pdf":
        pdf_book = for_format(book, "pdf")
        from .render.front_matter import remember_title_page_words
        from .render.pdf.design_fonts import report_substituted_fonts

        remember_title_page_words(book.meta, context.cache_dir)  # its title page's words: as the EPUB's

        report_substituted_fonts(pdf_book, reporter)  # the design's fonts this machine lacks, said
        if workers is not None:
            from .render.pdf.parallel.plan import render_pdf_parallel

            return render_pdf_parallel(pdf_book, context, reporter, note=note, pool=workers)
        if context.config.print.printer is not None:  # a print-on-demand interior: PDF/X, checked
            from .render.pdf.print_preset import render_print_pdf

            return render_print_pdf(pdf_book, context, reporter)
        from .render.pdf.document import render_pdf

        return render_pdf(pdf_book, context, reporter)
    if fmt in STORE_FORMATS:
        from .render.epub.stores import store_edition

        if epub is None:
            epub = render("epub", book, context, reporter, note, workers, epub_cover)
        return store_edition(fmt, epub, reporter, display_path(context.config.path), book)
    raise OutputError(f"unknown format '{fmt}'", hint=f"choose one of {', '.join(FORMATS)}")


def render_print_cover(book: Book, context: BuildContext, reporter: Reporter, pages: int) -> bytes:
    """The print-on-demand wrap cover for an interior of ``pages`` pages ([print] preset)."""
    from .render.pdf.print_cover import render_wrap_cover
    from .transforms.formats import for_format

    return render_wrap_cover(for_format(book, "pdf"), context, reporter, pages)

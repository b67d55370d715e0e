"""The public Python entry point: ``build(book_path, formats, ...)``; the CLI is a thin shell over it."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import BookError, OutputError, Reporter, SourceError
from .fonts import font_assets
from .images import check_image
from .manifest import ChapterEntry, Manifest, load_manifest
from .model import Asset, Book, Chapter
from .resources import display_path
from .cache import cache_dir
from .chapters import read_chapters
from .slugs import file_slug
from .sources import read_chapter
from .stylesheets import check_stylesheets
from .transforms import apply_transforms
from .transforms.formats import for_format
from .transforms.links import IMAGE_TYPES

FORMATS = ("epub", "pdf")


@dataclass(frozen=True)
class BuildOptions:
    """Command-line overrides of the manifest."""

    page_size: str | None = None
    strict: bool = False  # warnings are errors: nothing is written if there is one
    chapters: str | None = None  # PDF: print only these chapters ("2-3", "1,4", file stems)
    handout: bool = False  # PDF: compact single-sided handout layout
    allow_remote: bool = False  # --allow-remote: fetch http(s) resources (public hosts only)
    cache: bool = True  # reuse parsed chapters from .bookbuild-cache/ (see cache.py)
    parallel: bool | None = None  # PDF: chapters in worker processes (render/pdf_parallel.py); None: [pdf] parallel


@dataclass(frozen=True)
class BuildResult:
    """One written output."""

    format: str
    path: Path
    size: int
    seconds: float


# progress(what, done, total): called after each step of a build, for a progress bar.
Progress = Callable[[str, int, int], None]
# read(entry, index, reporter, manifest): one chapter of the book, parsed.
ChapterReader = Callable[[ChapterEntry, int, Reporter, Manifest], Chapter]


def read_book_chapter(entry: ChapterEntry, index: int, reporter: Reporter, manifest: Manifest) -> Chapter:
    """The default :data:`ChapterReader`: parse the file now, in the book's language and folder."""
    return read_chapter(entry, index, reporter, manifest.meta.language, manifest.root)


def load_book(
    manifest: Manifest,
    reporter: Reporter,
    read: ChapterReader = read_book_chapter,
    progress: Progress | None = None,
    total_steps: int | None = None,
    cache: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> Book:
    """Read every chapter once and run the transforms: the one model all renderers share.

    Unchanged chapters come from ``.bookbuild-cache/`` (``cache``; see cache.py) with the
    warnings they gave when parsed; ``read`` lets the preview use its own in-memory chapter
    cache instead; ``progress`` hears of each chapter read.
    """
    check_stylesheets(manifest, reporter)
    total = total_steps or len(manifest.chapters)

    def chapter_read(entry: ChapterEntry, index: int) -> None:
        if progress is not None:
            progress(display_path(entry.path), index, total)

    if read is read_book_chapter:
        chapters = read_chapters(manifest, reporter, cache=cache, progress=chapter_read, meanwhile=meanwhile)
    else:
        if meanwhile is not None:
            meanwhile()
        chapters = []
        for index, entry in enumerate(manifest.chapters, start=1):
            chapters.append(read(entry, index, reporter, manifest))
            chapter_read(entry, index)
        chapters = tuple(chapters)
    cover = None
    if manifest.cover is not None:
        cover = _cover(manifest)
    book = Book(manifest=manifest, chapters=chapters, cover=cover, cache_dir=cache_dir(manifest) if cache else None)
    book = apply_transforms(book, reporter)
    book = book.replace(assets=book.assets + font_assets(manifest))
    sources = [manifest.path, *manifest.styles, *(c.source for c in book.chapters),
               *(a.source for a in book.assets if a.source.is_absolute())]
    if cover is not None:
        sources.append(cover.source)
    return book.replace(source_mtime=max(path.stat().st_mtime for path in sources))


def _cover(manifest: Manifest) -> Asset:
    """The cover image, checked like every image; a bad cover stops the build (it was asked for)."""
    path = manifest.cover
    suffix = path.suffix.lower()
    if suffix not in IMAGE_TYPES:
        # Not a type an EPUB may use as its cover: the EPUB renderer warns and draws one instead.
        return Asset(href=f"images/cover{suffix}", source=path, media_type="application/octet-stream")
    try:
        data = check_image(path.read_bytes(), suffix)
    except BookError as exc:
        raise SourceError(f"cover image '{display_path(path)}' {exc.diagnostic.message}",
                          display_path(manifest.path), hint=exc.diagnostic.hint) from None
    return Asset(href=f"images/cover{suffix}", source=path, media_type=IMAGE_TYPES[suffix], data=data)


def apply_options(manifest: Manifest, options: BuildOptions) -> Manifest:
    """The manifest with command-line overrides applied."""
    overrides: dict[str, object] = {}
    if options.page_size:
        overrides["page_size"] = options.page_size
    if options.chapters is not None:
        overrides["chapters"] = options.chapters
    if options.handout:
        overrides["handout"] = True
    if options.parallel is not None:
        overrides["parallel"] = options.parallel
    if overrides:
        manifest = dataclasses.replace(manifest, pdf=dataclasses.replace(manifest.pdf, **overrides))
    if options.allow_remote:
        manifest = dataclasses.replace(manifest, allow_remote=True)
    return manifest


def default_output(manifest: Manifest, fmt: str, output_dir: Path | None = None) -> Path:
    """``dist/<slug>.<format>`` in the working folder, unless told otherwise.

    A PDF of some chapters or a handout gets its own name (``<slug>-chapters-2-3.pdf``,
    ``<slug>-handout.pdf``) so that it never replaces the whole book's PDF.
    """
    name = manifest.slug
    if fmt == "pdf" and manifest.pdf.chapters:
        name += "-chapters-" + file_slug(manifest.pdf.chapters, default="selection")
    if fmt == "pdf" and manifest.pdf.handout:
        name += "-handout"
    return (output_dir or Path("dist")) / f"{name}.{fmt}"


def build(
    book_path: str | Path | None,
    formats: Sequence[str] = FORMATS,
    *,
    output: str | Path | None = None,
    output_dir: str | Path | None = None,
    options: BuildOptions | None = None,
    reporter: Reporter | None = None,
    progress: Progress | None = None,
) -> list[BuildResult]:
    """Build the book at ``book_path`` (folder or book.toml; None finds one) in each format.

    ``output`` names the file when one format is asked for; otherwise each goes to
    ``output_dir`` (default ``dist/``). Outputs are replaced atomically: a failed build
    leaves the previous file in place.
    """
    reporter = reporter or Reporter()
    options = options or BuildOptions()
    manifest = apply_options(load_manifest(book_path, reporter), options)
    if output is not None and len(formats) != 1:
        raise OutputError("-o/--output names one file; use --output-dir for several formats")
    targets = {
        fmt: Path(output) if output is not None else default_output(manifest, fmt, Path(output_dir) if output_dir else None)
        for fmt in formats
    }
    for target in targets.values():
        _check_target(target, manifest)
    total = len(manifest.chapters) + len(targets)
    workers = _start_pdf_workers(manifest) if "pdf" in targets else None
    early: dict[str, object] = {}  # work started while the chapters are read

    def meanwhile() -> None:
        if "epub" in targets:
            early["cover"] = _start_epub_cover(manifest, options)

    try:
        book = load_book(manifest, reporter, progress=progress, total_steps=total, cache=options.cache,
                         meanwhile=meanwhile)
        for target in targets.values():
            _check_target(target, manifest, tuple(a.source for a in book.assets if a.source.is_absolute()))
        _check_strict(options, reporter)
        results = []
        for step, (fmt, target) in enumerate(targets.items(), start=len(manifest.chapters) + 1):
            if progress is not None:
                progress(f"making the {fmt.upper()}", step - 1, total)
            started = time.perf_counter()

            def note(label: str, step: int = step) -> None:  # a long render says how far it is
                if progress is not None:
                    progress(label, step - 1, total)

            data = _render(fmt, book, reporter, note, workers, early.get("cover"))
            _check_strict(options, reporter)
            write_atomically(target, data)
            results.append(BuildResult(fmt, target, len(data), time.perf_counter() - started))
            if progress is not None:
                progress(f"{fmt.upper()} written", step, total)
    finally:
        if workers is not None:  # a build that failed before the PDF stops them here
            workers.close()
    return results


def _start_epub_cover(manifest: Manifest, options: BuildOptions):  # noqa: ANN202 - a Future, or None
    """The EPUB's generated cover, drawn on a thread while the chapters are read."""
    from .render.epub import start_cover

    return start_cover(manifest, cache_dir(manifest) if options.cache else None)


def _start_pdf_workers(manifest: Manifest):  # noqa: ANN202 - a pdf_workers.WorkerPool, imported only here
    """The chapter-parallel PDF's worker processes, started before the book is read so that
    they import WeasyPrint meanwhile; None when the PDF is made as one document."""
    if not manifest.pdf.in_parallel(entry.path for entry in manifest.chapters):
        return None  # imported only otherwise: it brings pypdf and the worker pool
    from .render.pdf_parallel import start_workers

    return start_workers()


def _check_strict(options: BuildOptions, reporter: Reporter) -> None:
    """With ``strict``, any warning so far stops the build before an output is written."""
    count = len(reporter.warnings)
    if options.strict and count:
        raise BookError(f"{count} warning{'s' if count != 1 else ''} treated as errors (--strict)",
                        hint="fix them, or build without --strict")


def _render(fmt: str, book: Book, reporter: Reporter, note: Callable[[str], None] | None = None,
            workers: object | None = None, early_cover: object | None = None) -> bytes:
    """One format's bytes; ``workers`` (from :func:`_start_pdf_workers`) make a parallel PDF;
    ``early_cover`` is the EPUB's generated cover when it was started during the build."""
    book = for_format(book, fmt)
    if fmt == "epub":
        from .render.epub import render_epub

        return render_epub(book, reporter, early_cover)  # type: ignore[arg-type]
    if fmt == "pdf":
        if workers is not None:
            from .render.pdf_parallel import render_pdf_parallel

            return render_pdf_parallel(book, reporter, note=note, pool=workers)  # type: ignore[arg-type]
        from .render.pdf import render_pdf

        return render_pdf(book, reporter)
    raise OutputError(f"unknown format '{fmt}'", hint=f"choose one of {', '.join(FORMATS)}")


def _check_target(target: Path, manifest: Manifest, assets: tuple[Path, ...] = ()) -> None:
    """Refuse an output that is a folder, a special file, or (even through a symlink) an input."""
    name = display_path(target)
    if target.is_dir():
        raise OutputError(f"output '{name}' is a folder", hint="name a file, e.g. -o out/book.epub")
    if target.exists() and not target.is_symlink() and not target.is_file():
        raise OutputError(f"output '{name}' is a device or special file", hint="name a regular file")
    # The manifest's own paths are real paths already (resources.resolve_in_book).
    inputs = {manifest.path.resolve(), *(c.path for c in manifest.chapters), *manifest.styles, *assets}
    if manifest.cover is not None:
        inputs.add(manifest.cover)
    if target.resolve() in inputs or (target.exists() and any(_same_file(target, path) for path in inputs)):
        raise OutputError(f"output '{name}' would overwrite a source file of the book",
                          hint="write the outputs outside the book's files, e.g. to dist/")


def _same_file(a: Path, b: Path) -> bool:
    """True when both names are the same file (hard links, case-insensitive file systems)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_atomically(target: Path, data: bytes) -> None:
    """Write next to the target, then rename over it: readers never see half a file.

    A symlink at ``target`` is replaced by the new file, never written through (``os.replace``
    renames over the link itself), so an output cannot overwrite the file a link points to.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        raise OutputError(f"output '{display_path(target)}' is a folder", hint="name a file")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise

"""The public Python entry point: ``build(book_path, formats, ...)``; the CLI is a thin shell over it."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import pipeline
from .config.manifest import Manifest
from .config.overrides import Overrides
from .errors import BookError, OutputError, Reporter
from .files import write_atomically
from .pipeline import (  # noqa: F401 - load_book, read_book_chapter and Progress are public here too
    FORMATS,
    Progress,
    load_book,
    load_config,
    read_book_chapter,
    start_epub_cover,
    start_pdf_workers,
)
from .resources import display_path
from .slugs import file_slug


@dataclass(frozen=True)
class BuildOptions:
    """Command-line overrides of the manifest."""

    page_size: str | None = None
    strict: bool = False  # warnings are errors: nothing is written if there is one
    chapters: str | None = None  # PDF: print only these chapters ("2-3", "1,4", file stems)
    handout: bool = False  # PDF: compact single-sided handout layout
    allow_remote: bool = False  # --allow-remote: fetch http(s) resources (public hosts only)
    cache: bool = True  # reuse parsed chapters from .bookbuild-cache/ (see cache.py)
    parallel: bool | None = None  # PDF: chapters in worker processes (render/pdf/parallel/); None: [pdf] parallel

    @property
    def overrides(self) -> Overrides:
        """The options that override book.toml, validated with it at the door (config/)."""
        return Overrides(page_size=self.page_size, chapters=self.chapters, handout=self.handout,
                         parallel=self.parallel, allow_remote=self.allow_remote)


@dataclass(frozen=True)
class BuildResult:
    """One written output."""

    format: str
    path: Path
    size: int
    seconds: float


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
    manifest = load_config(book_path, reporter, options.overrides)
    if output is not None and len(formats) != 1:
        raise OutputError("-o/--output names one file; use --output-dir for several formats")
    targets = {
        fmt: Path(output) if output is not None else default_output(manifest, fmt, Path(output_dir) if output_dir else None)
        for fmt in formats
    }
    for target in targets.values():
        _check_target(target, manifest)
    total = len(manifest.chapters) + len(targets)
    workers = start_pdf_workers(manifest) if "pdf" in targets else None
    started_while_reading: dict[str, object] = {}

    def start_cover() -> None:  # drawn on a thread while the chapters are read
        if "epub" in targets:
            started_while_reading["cover"] = start_epub_cover(manifest, options.cache)

    try:
        book = load_book(manifest, reporter, progress=progress, total_steps=total, cache=options.cache,
                         on_workers_started=start_cover)
        context = pipeline.build_context(manifest, options.cache, book)
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

            data = pipeline.render(fmt, book, context, reporter, note, workers, started_while_reading.get("cover"))  # type: ignore[arg-type]
            _check_strict(options, reporter)
            write_atomically(target, data)
            results.append(BuildResult(fmt, target, len(data), time.perf_counter() - started))
            if progress is not None:
                progress(f"{fmt.upper()} written", step, total)
    finally:
        if workers is not None:  # a build that failed before the PDF stops them here
            workers.close()
    return results


def _check_strict(options: BuildOptions, reporter: Reporter) -> None:
    """With ``strict``, any warning so far stops the build before an output is written."""
    count = len(reporter.warnings)
    if options.strict and count:
        raise BookError(f"{count} warning{'s' if count != 1 else ''} treated as errors (--strict)",
                        hint="fix them, or build without --strict")


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

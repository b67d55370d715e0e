"""The public Python entry point: ``build(book, formats, ...)``; the CLI and the catalogue
(catalog.py) are thin shells over it. Documented in docs/api.md."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import pipeline
from ..config.manifest import Manifest
from ..config.overrides import Overrides
from ..errors import BookError, Diagnostic, OutputError, Reporter, UsageError
from ..files import write_atomically
from ..pipeline import (  # noqa: F401 - load_book, read_book_chapter and Progress are public here too
    FORMATS,
    Progress,
    load_book,
    load_config,
    read_book_chapter,
    start_epub_cover,
    start_pdf_workers,
)
from ..resources import display_path
from ..slugs import file_slug


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
    printer: str | None = None  # --for kdp|ingramspark: the print-on-demand preset ([print] preset)

    @property
    def overrides(self) -> Overrides:
        """The options that override book.toml, validated with it at the door (config/)."""
        return Overrides(page_size=self.page_size, chapters=self.chapters, handout=self.handout,
                         parallel=self.parallel, allow_remote=self.allow_remote, printer=self.printer)


@dataclass(frozen=True)
class BuildResult:
    """One written output."""

    format: str
    path: Path
    size: int
    seconds: float


class BuildOutputs(list[BuildResult]):
    """What :func:`build` wrote, in the order the formats were asked for, and the warnings the
    build gave (``diagnostics``).

    A list, so that code written when ``build`` returned a plain list of :class:`BuildResult`
    still works; the diagnostics ride along so that an API user who passes no
    :class:`Reporter` still learns what the author should fix.
    """

    def __init__(self, results: Sequence[BuildResult] = (), diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(results)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def default_output(manifest: Manifest, fmt: str, output_dir: Path | None = None,
                   page_size: str | None = None) -> Path:
    """``<book folder>/dist/<slug>.<format>``, beside book.toml (as mdBook writes ``book/``
    there, and as the ``.gitignore`` of ``bookbuild new`` expects), unless ``output_dir``
    says otherwise: the same place from whichever folder the command is run.

    Every variant the command line asks for gets its own name, so that it never replaces the
    book's own PDF: a ``--page-size`` (``<slug>-letter.pdf``), some chapters
    (``<slug>-chapters-2-3.pdf``), a handout (``<slug>-handout.pdf``).
    """
    name = manifest.slug
    if fmt == "pdf" and page_size:
        name += "-" + file_slug(page_size, default="size")
    if fmt == "pdf" and manifest.pdf.chapters:
        name += "-chapters-" + file_slug(manifest.pdf.chapters, default="selection")
    if fmt == "pdf" and manifest.pdf.handout:
        name += "-handout"
    if fmt == "pdf" and manifest.print.preset:  # a printer's interior: <slug>-kdp.pdf (docs/printing.md)
        name += "-" + manifest.print.preset
    return (output_dir or manifest.root / "dist") / f"{name}.{pipeline.STORE_FORMATS.get(fmt, fmt)}"


def start_early(book: str | Path | None, formats: str | Sequence[str], options: BuildOptions | None = None) -> None:
    """Start what a build of ``formats`` can start before the stages' code is imported: the
    chapter-parallel PDF's worker processes, which import WeasyPrint meanwhile (the command
    line calls it first; :func:`build` then takes them). Reads only book.toml; does nothing
    when it cannot load it, the build reports that."""
    pipeline.start_early(book, _formats(formats), (options or BuildOptions()).overrides)


def build(
    book: str | Path | None,
    formats: str | Sequence[str] = FORMATS,
    *,
    output: str | Path | None = None,
    output_dir: str | Path | None = None,
    options: BuildOptions | None = None,
    reporter: Reporter | None = None,
    progress: Progress | None = None,
) -> BuildOutputs:
    """Build the book at ``book`` (folder or book.toml; None finds one) in each format.

    ``output`` names the file when one format is asked for; otherwise each goes to
    ``output_dir`` (default ``dist/`` in the book's folder). Outputs are replaced atomically: a failed build
    leaves the previous file in place. Returns what was written with the build's warnings;
    a mistake in the book raises a :class:`BookError` subclass. A ``reporter`` hears each
    warning as it arrives, and keeps those given before an error.
    """
    reporter = reporter or Reporter()
    options = options or BuildOptions()
    formats = _formats(formats)
    manifest = load_config(book, reporter, options.overrides)
    if output is not None and len(formats) != 1:
        raise OutputError("-o/--output names one file; use --output-dir for several formats")
    targets = {
        fmt: Path(output) if output is not None else default_output(manifest, fmt, Path(output_dir) if output_dir else None,
                                                                 options.page_size)
        for fmt in formats
    }
    for fmt, target in targets.items():
        _check_target(target, manifest, fmt)
    total = len(manifest.chapters) + len(targets)
    epub_wanted = bool(targets.keys() & {"epub", *pipeline.STORE_FORMATS})
    forked = pipeline.fork_epub_cover(manifest, options.cache) if epub_wanted else None  # before any thread
    workers = start_pdf_workers(manifest) if "pdf" in targets else None
    started_while_reading: dict[str, object] = {}

    def start_cover() -> None:  # drawn on a thread while the chapters are read, if not forked
        if epub_wanted:
            started_while_reading["cover"] = start_epub_cover(manifest, options.cache, forked)

    try:
        model = load_book(manifest, reporter, progress=progress, total_steps=total, cache=options.cache,
                         on_workers_started=start_cover)
        context = pipeline.build_context(manifest, options.cache, model)
        for fmt, target in targets.items():
            _check_target(target, manifest, fmt, tuple(a.source for a in model.assets if a.source.is_absolute()))
        _check_strict(options, reporter)
        results = []
        epub: bytes | None = None  # the EPUB once made: the store editions are made from it, not again
        for step, (fmt, target) in enumerate(targets.items(), start=len(manifest.chapters) + 1):
            if progress is not None:
                progress(f"making the {fmt.upper()}", step - 1, total)
            started = time.perf_counter()

            def note(label: str, step: int = step) -> None:  # a long render says how far it is
                if progress is not None:
                    progress(label, step - 1, total)

            cover = started_while_reading.get("cover")
            if fmt == "epub" or fmt in pipeline.STORE_FORMATS:
                if epub is None:
                    epub = pipeline.render("epub", model, context, reporter, note, workers, cover)  # type: ignore[arg-type]
                data = epub if fmt == "epub" else pipeline.render(fmt, model, context, reporter, epub=epub)
            else:
                data = pipeline.render(fmt, model, context, reporter, note, workers, cover)  # type: ignore[arg-type]
            _check_strict(options, reporter)
            write_atomically(target, data)
            results.append(BuildResult(fmt, target, len(data), time.perf_counter() - started))
            if progress is not None:
                progress(f"{fmt.upper()} written", step, total)
    finally:
        if forked is not None:  # a build that failed before the EPUB: the child is reaped
            forked.close()
        if workers is not None:  # a build that failed before the PDF stops them here
            pipeline.stop_pdf_workers(workers)
    return BuildOutputs(results, reporter.diagnostics)


def _formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """``"epub"`` or ``["epub", "pdf"]``, checked: a string is one format, not its letters."""
    asked = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [fmt for fmt in asked if fmt not in FORMATS and fmt not in pipeline.STORE_FORMATS]
    if unknown or not asked:
        raise UsageError(f"unknown format {unknown[0]!r}" if unknown else "no format asked for",
                         None, hint="choose from " + ", ".join(FORMATS))
    return tuple(dict.fromkeys(asked))


def _check_strict(options: BuildOptions, reporter: Reporter) -> None:
    """With ``strict``, any warning so far stops the build before an output is written."""
    count = len(reporter.warnings)
    if options.strict and count:
        raise BookError(f"{count} warning{'s' if count != 1 else ''} treated as errors (--strict)",
                        hint="fix them, or build without --strict")


def _check_target(target: Path, manifest: Manifest, fmt: str, assets: tuple[Path, ...] = ()) -> None:
    """Refuse an output that is a folder, a special file, or (even through a symlink) an input."""
    name = display_path(target)
    if target.is_dir():
        raise OutputError(f"output '{name}' is a folder", hint=f"name a file, e.g. -o {name}/book.{fmt}")
    if target.exists() and not target.is_symlink() and not target.is_file():
        raise OutputError(f"output '{name}' is a device or special file", hint="name a regular file")
    # The manifest's own paths are real paths already (resources.resolve_in_book).
    inputs = {manifest.path.resolve(), *(c.path for c in manifest.chapters), *manifest.styles, *assets}
    inputs.update(manifest.citations.files)  # [citations]: the .bib, CSL-JSON and .csl files
    if manifest.cover is not None:
        inputs.add(manifest.cover)
    if target.resolve() in inputs or _same_file(target, inputs):
        raise OutputError(f"output '{name}' would overwrite a source file of the book",
                          hint="write the outputs outside the book's files, e.g. to dist/")


def _same_file(target: Path, inputs: set[Path]) -> bool:
    """True when the target is one of the inputs under another name (hard links,
    case-insensitive file systems): the same device and inode. The target is looked at once."""
    try:
        info = os.stat(target)
    except OSError:
        return False  # not there yet: it cannot be an input
    for path in inputs:
        try:
            if os.path.samestat(info, os.stat(path)):
                return True
        except OSError:
            continue
    return False

"""The public Python entry point: ``build(book_path, formats, ...)``; the CLI is a thin shell over it."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, Reporter
from .manifest import ChapterEntry, Manifest, load_manifest
from .model import Asset, Book, Chapter
from .resources import display_path
from .sources import read_chapter
from .transforms import apply_transforms
from .transforms.links import IMAGE_TYPES

FORMATS = ("epub", "pdf")


@dataclass(frozen=True)
class BuildOptions:
    """Command-line overrides of the manifest."""

    page_size: str | None = None


@dataclass(frozen=True)
class BuildResult:
    """One written output."""

    format: str
    path: Path
    size: int
    seconds: float


# progress(what, done, total): called after each step of a build, for a progress bar.
Progress = Callable[[str, int, int], None]


def load_book(
    manifest: Manifest,
    reporter: Reporter,
    read: Callable[[ChapterEntry, int], Chapter] = read_chapter,
    progress: Progress | None = None,
    total_steps: int | None = None,
) -> Book:
    """Read every chapter once and run the transforms: the one model all renderers share.

    ``read`` lets the preview reuse chapters it parsed before (only a changed file is
    parsed again); ``progress`` hears of each chapter read.
    """
    chapters = []
    for index, entry in enumerate(manifest.chapters, start=1):
        chapters.append(read(entry, index))
        if progress is not None:
            progress(display_path(entry.path), index, total_steps or len(manifest.chapters))
    chapters = tuple(chapters)
    cover = None
    if manifest.cover is not None:
        suffix = manifest.cover.suffix.lower()
        cover = Asset(href=f"images/cover{suffix}", source=manifest.cover,
                      media_type=IMAGE_TYPES.get(suffix, "application/octet-stream"))
    book = Book(manifest=manifest, chapters=chapters, cover=cover)
    book = apply_transforms(book, reporter)
    sources = [manifest.path, *manifest.styles, *(c.source for c in book.chapters), *(a.source for a in book.assets)]
    if cover is not None:
        sources.append(cover.source)
    return book.replace(source_mtime=max(path.stat().st_mtime for path in sources))


def apply_options(manifest: Manifest, options: BuildOptions) -> Manifest:
    """The manifest with command-line overrides applied."""
    if options.page_size:
        manifest = dataclasses.replace(manifest, pdf=dataclasses.replace(manifest.pdf, page_size=options.page_size))
    return manifest


def default_output(manifest: Manifest, fmt: str, output_dir: Path | None = None) -> Path:
    """``dist/<slug>.<format>`` in the working folder, unless told otherwise."""
    return (output_dir or Path("dist")) / f"{manifest.slug}.{fmt}"


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
    book = load_book(manifest, reporter, progress=progress, total_steps=total)
    results = []
    for step, (fmt, target) in enumerate(targets.items(), start=len(manifest.chapters) + 1):
        if progress is not None:
            progress(f"making the {fmt.upper()}", step - 1, total)
        started = time.perf_counter()
        data = _render(fmt, book, reporter)
        write_atomically(target, data)
        results.append(BuildResult(fmt, target, len(data), time.perf_counter() - started))
        if progress is not None:
            progress(f"{fmt.upper()} written", step, total)
    return results


def _render(fmt: str, book: Book, reporter: Reporter) -> bytes:
    if fmt == "epub":
        from .render.epub import render_epub

        return render_epub(book, reporter)
    if fmt == "pdf":
        from .render.pdf import render_pdf

        return render_pdf(book, reporter)
    raise OutputError(f"unknown format '{fmt}'", hint=f"choose one of {', '.join(FORMATS)}")


def _check_target(target: Path, manifest: Manifest) -> None:
    if target.is_dir():
        raise OutputError(f"output '{display_path(target)}' is a folder", hint="name a file, e.g. -o out/book.epub")
    inputs = {manifest.path.resolve(), *(c.path.resolve() for c in manifest.chapters), *manifest.styles}
    if target.resolve() in inputs:
        raise OutputError(f"output '{display_path(target)}' would overwrite a source file of the book")


def write_atomically(target: Path, data: bytes) -> None:
    """Write next to the target, then rename over it: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise

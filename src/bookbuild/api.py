"""The public Python entry point: ``build(book_path, formats, ...)``; the CLI is a thin shell over it."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, Reporter
from .manifest import Manifest, load_manifest
from .model import Asset, Book
from .resources import display_path
from .cache import cache_dir, read_chapters
from .transforms import apply_transforms
from .transforms.links import IMAGE_TYPES

FORMATS = ("epub", "pdf")


@dataclass(frozen=True)
class BuildOptions:
    """Command-line overrides of the manifest."""

    page_size: str | None = None
    cache: bool = True  # reuse parsed chapters from .bookbuild-cache/ (see cache.py)


@dataclass(frozen=True)
class BuildResult:
    """One written output."""

    format: str
    path: Path
    size: int
    seconds: float


def load_book(manifest: Manifest, reporter: Reporter, *, cache: bool = True) -> Book:
    """Read every chapter once (or reuse it, unchanged, from the cache) and run the transforms."""
    chapters = read_chapters(manifest, enabled=cache)
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
    return book.replace(source_mtime=max(path.stat().st_mtime for path in sources),
                        cache_dir=cache_dir(manifest) if cache else None)


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
    book = load_book(manifest, reporter, cache=options.cache)
    results = []
    for fmt, target in targets.items():
        started = time.perf_counter()
        data = _render(fmt, book, reporter)
        write_atomically(target, data)
        results.append(BuildResult(fmt, target, len(data), time.perf_counter() - started))
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

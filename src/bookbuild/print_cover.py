"""``bookbuild print-cover``: the one-piece paperback cover for a print-on-demand printer.

The spine's width comes from the interior's real page count: the interior PDF named with
``interior`` (one built with the same preset), or else the interior laid out now through the
pipeline, exactly as ``bookbuild pdf --for ...`` would make it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from .config.overrides import Overrides
from .errors import OutputError, Reporter, UsageError
from .files import read_book_file, write_atomically
from .pipeline import build_context, load_book, load_config, render, render_print_cover
from .resources import display_path


@dataclass(frozen=True)
class PrintCover:
    """What :func:`make_print_cover` wrote."""

    path: Path
    pages: int  # the interior's
    size: int


def make_print_cover(book: str | Path | None, printer: str | None = None, output: str | Path | None = None,
                     interior: str | Path | None = None, reporter: Reporter | None = None) -> PrintCover:
    """Write the cover PDF (default ``dist/<slug>-cover.pdf``) for ``printer`` (or ``[print] preset``)."""
    reporter = reporter or Reporter()
    manifest = load_config(book, reporter, Overrides(printer=printer))
    if manifest.print.printer is None:
        raise UsageError("no printer named", hint="bookbuild print-cover --for kdp (or ingramspark), "
                                                   "or [print] preset in book.toml")
    model = load_book(manifest, reporter)
    context = build_context(manifest, book=model)
    if interior is not None:
        path = Path(interior)
        pages = page_count(read_book_file(path, path.resolve().parent, "pdf"), display_path(path))
    else:
        pages = page_count(render("pdf", model, context, Reporter()), display_path(manifest.path))
    data = render_print_cover(model, context, reporter, pages)
    target = Path(output) if output is not None else manifest.root / "dist" / f"{manifest.slug}-cover.pdf"
    write_atomically(target, data)
    return PrintCover(target, pages, len(data))


def page_count(data: bytes, name: str) -> int:
    """The pages of an interior PDF."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return len(pdf.pages)
    except pikepdf.PdfError as exc:
        raise OutputError(f"{name}: not a PDF the cover can count pages in ({exc})") from None

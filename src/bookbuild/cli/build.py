"""``bookbuild build``, ``epub`` and ``pdf``: the outputs of one book, once or with ``--watch``."""

from __future__ import annotations

from pathlib import Path

import click

from ..resources import display_path
from .options import (
    ALLOW_REMOTE,
    BOOK_ARGUMENT,
    STOP_AFTER,
    STRICT_OPTION,
    level,
    output_options,
)
from .printing import PRINTER_OPTION
from .runner import build_or_watch

WATCH_OPTION = click.option("-w", "--watch", is_flag=True, help="Build again whenever a file of the book changes.")


@click.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The EPUB file (default: BOOK/dist/<slug>.epub).")
@WATCH_OPTION
@STOP_AFTER
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def epub(ctx: click.Context, book: Path | None, output: Path | None, watch: bool, stop_after: float | None,
         strict: bool, allow_remote: bool) -> None:
    """Build the EPUB 3 e-book."""
    build_or_watch(ctx, book, ["epub"], watch, stop_after, output=output, strict=strict, allow_remote=allow_remote)


@click.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The PDF file (default: BOOK/dist/<slug>.pdf).")
@click.option("--page-size", help="A4, Letter, A5, B5, 6x9in, or a size such as '210mm 297mm'.")
@click.option("--chapters", metavar="LIST",
              help="Only these chapters, by number or file stem: 2-3, 1,4, 02-next.")
@click.option("--handout", is_flag=True, help="Compact single-sided layout with no blank pages.")
@click.option("--parallel/--single-process", default=None,
              help="Lay chapters out on all cores and join them (whole book only), or as one document. "
                   "Default: [pdf] parallel, else parallel past a few pages.")
@WATCH_OPTION
@STOP_AFTER
@STRICT_OPTION
@ALLOW_REMOTE
@PRINTER_OPTION
@output_options
@click.pass_context
def pdf(ctx: click.Context, book: Path | None, output: Path | None, page_size: str | None,
        chapters: str | None, handout: bool, parallel: bool | None, watch: bool, stop_after: float | None,
        strict: bool, allow_remote: bool) -> None:
    """Build the print PDF (or a handout of some chapters)."""
    build_or_watch(ctx, book, ["pdf"], watch, stop_after, output=output, page_size=page_size, chapters=chapters,
                   handout=handout, parallel=parallel, strict=strict, allow_remote=allow_remote)


@click.command()
@BOOK_ARGUMENT
@click.option("--output-dir", type=click.Path(path_type=Path), help="Folder for the outputs (default: BOOK/dist/).")
@click.option("--page-size", help="Page size of the PDF (see bookbuild pdf --help).")
@WATCH_OPTION
@STOP_AFTER
@STRICT_OPTION
@ALLOW_REMOTE
@PRINTER_OPTION
@output_options
@click.pass_context
def build(ctx: click.Context, book: Path | None, output_dir: Path | None, page_size: str | None,
          watch: bool, stop_after: float | None, strict: bool, allow_remote: bool) -> None:
    """Build every format: EPUB and PDF."""
    from ..api import FORMATS

    build_or_watch(ctx, book, list(FORMATS), watch, stop_after, output_dir=output_dir, page_size=page_size,
                   strict=strict, allow_remote=allow_remote)

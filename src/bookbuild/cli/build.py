"""``bookbuild build``, ``epub`` and ``pdf``: the outputs of one book, and ``build --watch``."""

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
from .runner import book_root, build_once, run_build, stopper


@click.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The EPUB file (default: BOOK/dist/<slug>.epub).")
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def epub(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the EPUB 3 e-book."""
    run_build(ctx, book, ["epub"], output=output, strict=strict, allow_remote=allow_remote)


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
@STRICT_OPTION
@ALLOW_REMOTE
@PRINTER_OPTION
@output_options
@click.pass_context
def pdf(ctx: click.Context, book: Path | None, output: Path | None, page_size: str | None,
        chapters: str | None, handout: bool, parallel: bool | None, strict: bool, allow_remote: bool) -> None:
    """Build the print PDF (or a handout of some chapters)."""
    run_build(ctx, book, ["pdf"], output=output, page_size=page_size, chapters=chapters, handout=handout,
              parallel=parallel, strict=strict, allow_remote=allow_remote)


@click.command()
@BOOK_ARGUMENT
@click.option("--output-dir", type=click.Path(path_type=Path), help="Folder for the outputs (default: BOOK/dist/).")
@click.option("--page-size", help="Page size of the PDF (see bookbuild pdf --help).")
@click.option("-w", "--watch", is_flag=True, help="Build again whenever a file of the book changes.")
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

    settings = {"output_dir": output_dir, "page_size": page_size, "strict": strict, "allow_remote": allow_remote}
    status = build_once(ctx, book, list(FORMATS), **settings)
    if status == 2 or (status and not watch):  # a bad option is not worth watching for
        ctx.exit(status)
    if not watch:
        return
    root = book_root(ctx, book)
    click.echo(f"watching {display_path(root)}/ for changes (Ctrl-C stops)", err=True)
    with stopper(stop_after) as stop:
        from ..live.watch import watch_changes

        for changed in watch_changes(root, stop, ignored=(output_dir or root / "dist",)):
            if level(ctx) >= 0:
                click.echo("changed: " + ", ".join(sorted(display_path(p) for p in changed)), err=True)
            build_once(ctx, book, list(FORMATS), **settings)
    click.echo("stopped watching", err=True)

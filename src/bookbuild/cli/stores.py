"""``bookbuild kepub`` and ``bookbuild kindle``: the e-book as the Kobo and Kindle stores take it.

Both build, report and exit exactly as ``bookbuild epub`` does (runner.run_build).
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import ALLOW_REMOTE, BOOK_ARGUMENT, STRICT_OPTION, output_options
from .runner import run_build


@click.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The kepub file (default: BOOK/dist/<slug>.kepub.epub).")
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def kepub(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the Kobo edition: the EPUB with Kobo's span markup (reading statistics,
    highlights), written as <slug>.kepub.epub, the name Kobo devices look for."""
    run_build(ctx, book, ["kepub"], output=output, strict=strict, allow_remote=allow_remote)


@click.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The EPUB file (default: BOOK/dist/<slug>.epub, the same file `bookbuild epub` writes).")
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def kindle(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the EPUB to upload to Amazon KDP, with a warning wherever it breaks Amazon's
    Kindle requirements (cover size, contents, fonts, scripts); --strict refuses it then."""
    run_build(ctx, book, ["kindle"], output=output, strict=strict, allow_remote=allow_remote)

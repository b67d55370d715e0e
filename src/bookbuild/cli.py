"""The ``bookbuild`` command: parses arguments, calls the API, turns errors into messages.

Exit codes: 0 success, 1 the book could not be built, 2 usage error (click's own).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from . import __version__
from .errors import BookError, Diagnostic, Reporter
from .resources import display_path

BOOK_ARGUMENT = click.argument("book", required=False, type=click.Path(path_type=Path))
ALLOW_REMOTE = click.option("--allow-remote", is_flag=True,
                            help="Fetch http(s) images and CSS resources (public hosts only; off by default).")


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def _print_diagnostic(diagnostic: Diagnostic) -> None:
    click.echo(diagnostic.format(), err=True)


def _print_as_error(diagnostic: Diagnostic) -> None:
    """--strict: a warning is reported as the error it now is."""
    click.echo(dataclasses.replace(diagnostic, severity="error").format(), err=True)


STRICT_OPTION = click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")


def _run(ctx: click.Context, book: Path | None, formats: Sequence[str], **kwargs: object) -> None:
    from .api import BuildOptions, build

    debug = ctx.obj.get("debug", False) if ctx.obj else False
    strict = bool(kwargs.pop("strict", False))
    options = BuildOptions(
        page_size=kwargs.pop("page_size", None),  # type: ignore[arg-type]
        strict=strict,
        chapters=kwargs.pop("chapters", None),  # type: ignore[arg-type]
        handout=bool(kwargs.pop("handout", False)),
        allow_remote=bool(kwargs.pop("allow_remote", False)),
    )
    reporter = Reporter(sink=_print_as_error if strict else _print_diagnostic)
    try:
        results = build(book, formats, options=options, reporter=reporter, **kwargs)  # type: ignore[arg-type]
    except BookError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(1)
    except Exception as exc:  # a bug of ours: still no traceback unless asked for
        if debug:
            raise
        click.echo(f"bookbuild: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                   err=True)
        ctx.exit(1)
    for result in results:
        click.echo(f"{display_path(result.path)}  {_human_size(result.size)}  {result.seconds:.2f} s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bookbuild")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Build EPUB 3 and PDF books from Markdown and XHTML chapters listed in book.toml.

    BOOK is a folder holding book.toml, or the book.toml itself; without it, ./book.toml
    or ./book/book.toml is used. Outputs go to dist/<slug>.<format>.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The EPUB file to write.")
@STRICT_OPTION
@ALLOW_REMOTE
@click.pass_context
def epub(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the EPUB 3 e-book."""
    _run(ctx, book, ["epub"], output=output, strict=strict, allow_remote=allow_remote)


@main.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The PDF file to write.")
@click.option("--page-size", help="A4, Letter, A5, B5, 6x9in, or a size such as '210mm 297mm'.")
@click.option("--chapters", metavar="LIST",
              help="Only these chapters, by number or file stem: 2-3, 1,4, 02-next.")
@click.option("--handout", is_flag=True, help="Compact single-sided layout with no blank pages.")
@STRICT_OPTION
@ALLOW_REMOTE
@click.pass_context
def pdf(ctx: click.Context, book: Path | None, output: Path | None, page_size: str | None,
        chapters: str | None, handout: bool, strict: bool, allow_remote: bool) -> None:
    """Build the print PDF (or a handout of some chapters)."""
    _run(ctx, book, ["pdf"], output=output, page_size=page_size, chapters=chapters, handout=handout,
         strict=strict, allow_remote=allow_remote)


@main.command()
@BOOK_ARGUMENT
@click.option("--output-dir", type=click.Path(path_type=Path), help="Folder for the outputs (default dist/).")
@click.option("--page-size", help="Page size of the PDF (see bookbuild pdf --help).")
@STRICT_OPTION
@ALLOW_REMOTE
@click.pass_context
def build(ctx: click.Context, book: Path | None, output_dir: Path | None, page_size: str | None,
          strict: bool, allow_remote: bool) -> None:
    """Build every format: EPUB and PDF."""
    from .api import FORMATS

    _run(ctx, book, list(FORMATS), output_dir=output_dir, page_size=page_size, strict=strict,
         allow_remote=allow_remote)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

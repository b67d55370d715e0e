"""The command line of print-on-demand: ``--for`` on ``pdf`` and ``build``, and ``print-cover``.

The value of ``--for`` is read by config/print.py like ``[print] preset``, so its errors name
the flag. (Named printing.py, not print.py: a submodule becomes an attribute of its package,
and ``print`` would then hide the built-in inside cli/__init__.py.)
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import settings


def _remember_printer(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        settings(ctx)["printer"] = value


PRINTER_OPTION = click.option("--for", "printer", metavar="PRINTER", expose_value=False, callback=_remember_printer,
                              help="Make the PDF a print-on-demand printer accepts: kdp or ingramspark "
                                   "(overrides [print] preset; see docs/printing.md).")


@click.command("print-cover")
@click.argument("book", required=False, type=click.Path(path_type=Path))
@PRINTER_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The cover PDF (default dist/<slug>-cover.pdf).")
@click.option("--interior", type=click.Path(path_type=Path, dir_okay=False),
              help="The interior PDF built for the same printer: its page count sets the spine "
                   "(default: the interior is laid out now).")
@click.pass_context
def print_cover(ctx: click.Context, book: Path | None, output: Path | None, interior: Path | None) -> None:
    """Make the one-piece paperback cover (back, spine, front) for the printer."""
    from ..console import format_diagnostic, print_diagnostic
    from ..errors import BookError, Reporter, UsageError
    from ..print_cover import make_print_cover
    from ..resources import display_path

    try:
        cover = make_print_cover(book, settings(ctx).get("printer"), output, interior,
                                 Reporter(sink=print_diagnostic))
    except BookError as exc:  # a bug of ours keeps its traceback (runner.fail's --debug does the same)
        for diagnostic in exc.diagnostics:
            click.echo(format_diagnostic(diagnostic), err=True)
        ctx.exit(2 if isinstance(exc, UsageError) else 1)
    click.echo(f"{display_path(cover.path)}  cover for an interior of {cover.pages} pages")

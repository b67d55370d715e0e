"""The command line of print-on-demand: ``--for`` on ``pdf`` and ``build``, and ``print-cover``.

The value of ``--for`` is read by config/print.py like ``[print] preset``, so its errors name
the flag. (Named printing.py, not print.py: a submodule becomes an attribute of its package,
and ``print`` would then hide the built-in inside cli/__init__.py.)
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import STRICT_OPTION, level, output_options, settings


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
@STRICT_OPTION
@output_options
@click.pass_context
def print_cover(ctx: click.Context, book: Path | None, output: Path | None, interior: Path | None,
                strict: bool) -> None:
    """Make the one-piece paperback cover (back, spine, front) for the printer."""
    import time

    from .console import Folded, human_size, print_as_error, print_diagnostic
    from ..errors import Reporter
    from ..api.print_cover import make_print_cover
    from ..resources import display_path
    from .runner import fail

    started = time.perf_counter()
    folded = Folded(print_as_error if strict else print_diagnostic)
    reporter = Reporter(sink=folded)
    try:
        cover = make_print_cover(book, settings(ctx).get("printer"), output, interior, reporter, strict=strict)
    except Exception as exc:  # noqa: BLE001 - as every build command: one line (a bug of ours: --debug)
        folded.finish()
        ctx.exit(fail(ctx, exc))
    folded.finish()
    if level(ctx) >= 0:
        click.echo(f"{display_path(cover.path)}  {human_size(cover.size)}  {time.perf_counter() - started:.2f} s")
    if level(ctx) > 0:
        click.echo(f"the spine is made for an interior of {cover.pages} pages")

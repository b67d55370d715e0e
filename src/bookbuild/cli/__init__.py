"""The ``bookbuild`` command: parses arguments, calls the API, turns errors into messages.

This module holds the group (``main``; the console script is :func:`run`) and its options; the commands live
by seam beside it: build.py (build, epub, pdf, --watch), book.py (new, check, preview),
printing.py (print-cover, --for), stores.py (kepub, kindle), catalog.py; options.py and
runner.py are what they share. console.py (outside) says what they decide to print.

Exit codes: 0 success, 1 the book could not be built (or ``check`` found errors), 2 usage
error (click's own). Heavy modules (WeasyPrint, watchfiles, the preview server) are
imported inside the commands that need them, so ``bookbuild --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from .. import __version__
from .book import check, new, preview
from .build import build as build_command
from .build import epub, pdf
from .catalog import catalog as catalog_command
from .options import output_options, settings
from .printing import print_cover
from .stores import kepub, kindle


class WorkflowGroup(click.Group):
    """Lists the commands in the order an author meets them, not alphabetically."""

    ORDER = ("new", "check", "preview", "build", "epub", "pdf", "print-cover", "kepub", "kindle", "catalog")

    def list_commands(self, ctx: click.Context) -> list[str]:
        rank = {name: n for n, name in enumerate(self.ORDER)}
        return sorted(self.commands, key=lambda name: (rank.get(name, len(rank)), name))


@click.group(cls=WorkflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bookbuild")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@output_options
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Build EPUB 3 and PDF books from Markdown and XHTML chapters listed in book.toml.

    BOOK is a folder holding book.toml, or the book.toml itself; without it, ./book.toml
    or ./book/book.toml is used. Outputs go to dist/<slug>.<format> in the book's folder.

    Start with `bookbuild new my-book`, then `check`, `preview` and `build` inside it.
    Exit codes: 0 ok, 1 the book has errors, 2 wrong usage.
    """
    settings(ctx)["debug"] = debug
    # A library that logs through the root logger (ziafont) would make logging add a stderr
    # handler to it, and every WeasyPrint warning would then print: what the author must see
    # reaches them through bookbuild's own diagnostics. (Imported here: `--help` never needs it.)
    import logging

    logging.getLogger().addHandler(logging.NullHandler())


for _command in (new, check, preview, build_command, epub, pdf, print_cover, kepub, kindle, catalog_command):
    main.add_command(_command)  # the order of --help is WorkflowGroup.ORDER



def run(args: list[str] | None = None) -> NoReturn:
    """The ``bookbuild`` command: the command line, then a quick way out of the process.

    Tearing the interpreter down at exit (every module, every object of the book) took a
    tenth of a second after a build of a 20-chapter book: a ninth of it. Once the command has
    ended, what the interpreter's exit does that anyone can see is done here, in its order:
    threads joined, ``atexit`` handlers run (the process pools', logging's, temporary
    folders'), the standard streams flushed; then the process ends without the teardown.
    """
    try:
        main(args, prog_name="bookbuild")
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


def leave(code: object) -> NoReturn:
    """End the process with ``code`` as ``sys.exit`` would, skipping only the teardown."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter calls first at exit
    if shutdown is None:
        sys.exit(code)  # type: ignore[arg-type]
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # as Python exits when flushing fails
    os._exit(status)


__all__ = ["main", "run"]

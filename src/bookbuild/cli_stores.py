"""``bookbuild kepub`` and ``bookbuild kindle``: the e-book as the Kobo and Kindle stores take it.

cli.py registers these (``store_commands``) and hands in its own build runner and shared
options, so both commands build, report and exit exactly as ``bookbuild epub`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

Decorator = Callable[[Callable], Callable]


def store_commands(run: Callable[..., None], book_argument: Decorator,
                   shared_options: Sequence[Decorator]) -> list[click.Command]:
    """The two commands; ``run(ctx, book, formats, **settings)`` is cli.py's build runner and
    ``shared_options`` its --strict, --allow-remote and -q/-v."""

    def kepub(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
        """Build the Kobo edition: the EPUB with Kobo's span markup (reading statistics,
        highlights), written as <slug>.kepub.epub, the name Kobo devices look for."""
        run(ctx, book, ["kepub"], output=output, strict=strict, allow_remote=allow_remote)

    def kindle(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
        """Build the EPUB to upload to Amazon KDP, with a warning wherever it breaks Amazon's
        Kindle requirements (cover size, contents, fonts, scripts); --strict refuses it then."""
        run(ctx, book, ["kindle"], output=output, strict=strict, allow_remote=allow_remote)

    outputs = {"kepub": "The kepub file (default: BOOK/dist/<slug>.kepub.epub).",
               "kindle": "The EPUB file (default: BOOK/dist/<slug>.epub, the same file `bookbuild epub` writes)."}
    commands = []
    for function in (kepub, kindle):
        decorators = [book_argument,
                      click.option("-o", "--output", type=click.Path(path_type=Path), help=outputs[function.__name__]),
                      *shared_options, click.pass_context]
        for decorator in reversed(decorators):
            function = decorator(function)
        commands.append(click.command(function.__name__)(function))
    return commands

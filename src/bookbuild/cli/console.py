"""What the command line shows on the terminal: diagnostics, sizes, and the progress bar.

The commands (cli/) decide what to say and when; this module only says it (on standard
error, so that standard output carries just what was made).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from ..errors import Diagnostic


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """Compiler-style; a problem with no file (a command-line value) is bookbuild's own."""
    text = diagnostic.format()
    return "bookbuild" + text.removeprefix("<book>") if diagnostic.location.file is None else text


def print_diagnostic(diagnostic: Diagnostic) -> None:
    if _bar_active.is_set():
        click.echo("\r\033[K", nl=False, err=True)
    click.echo(format_diagnostic(diagnostic), err=True)


def print_as_error(diagnostic: Diagnostic) -> None:
    """--strict: a warning is reported as the error it now is."""
    print_diagnostic(dataclasses.replace(diagnostic, severity="error"))


class Folded:
    """Says each thing a few times, then once with a count: the same message (text and hint)
    at its first ``shown`` places as it comes, the rest held and, at :meth:`finish`, one line
    "... (and N more in F files, the first at file:line)" each, in the order they were first
    held. A link written the same wrong way in 40 files is one problem, not 40 lines. Only
    what is printed is folded: the Reporter keeps every diagnostic (``check --format json``)."""

    def __init__(self, say: Callable[[Diagnostic], None], shown: int = 3) -> None:
        self.say, self.shown = say, shown
        self.seen: dict[tuple[str, str, str | None], int] = {}
        self.held: dict[tuple[str, str, str | None], list[Diagnostic]] = {}

    def __call__(self, diagnostic: Diagnostic) -> None:
        key = (diagnostic.severity, diagnostic.message, diagnostic.hint)
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] <= self.shown:
            self.say(diagnostic)
        else:
            self.held.setdefault(key, []).append(diagnostic)

    def finish(self) -> None:
        """One line for everything held; a second call says nothing new."""
        for (severity, message, hint), held in self.held.items():
            files = len({d.location.file for d in held})
            first = held[0].location
            self.say(Diagnostic(severity, f"{message} (and {len(held)} more in {files} file{'s' * (files > 1)}, "
                                          f"the first at {first})", hint=hint))
        self.held.clear()


_bar_active = threading.Event()


def _interactive() -> bool:
    """A progress bar only for a person at a terminal: never in a pipe or CI log."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bar(level: int) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback for the API: a bar on a terminal, lines with -v, else nothing."""
    if level > 0:
        yield lambda what, done, total: click.echo(f"[{done}/{total}] {what}", err=True)
        return
    if level < 0 or not _interactive():
        yield None
        return
    bars: list = []
    layout = ["PDF"]  # whose layout WeasyPrint's pages are: the PDF's, or the EPUB page list's

    def update(what: str, done: int, total: int) -> None:
        if what.startswith("making the "):
            layout[0] = "PDF" if what == "making the PDF" else "EPUB page list"  # an EPUB lays pages out for it
        if not bars:
            bars.append(click.progressbar(length=total, label="building", file=sys.stderr, show_eta=False,
                                          show_pos=True, item_show_func=lambda item: item))
            _bar_active.set()
        bar = bars[0]
        if done > bar.pos:
            bar.update(done - bar.pos, what)
        else:  # a new step begins: click renders only on progress, so draw it ourselves
            show(what)

    def show(what: str) -> None:
        if bars:
            bars[0].current_item = what
            bars[0].render_progress()

    from .page_progress import pdf_pages  # logging: not imported for --help

    try:
        with pdf_pages(lambda what: show(f"{layout[0]}: {what}")):
            yield update
    finally:
        if bars:  # clear the bar's line (the closing lines say what was made); show the cursor again
            click.echo("\r\033[K\033[?25h", nl=False, err=True)
            _bar_active.clear()

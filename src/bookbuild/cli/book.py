"""``bookbuild new``, ``check`` and ``preview``: starting a book, finding its mistakes, and
reading it in a browser while writing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .console import Folded, format_diagnostic, print_diagnostic
from ..errors import BookError, Reporter
from ..resources import display_path
from .options import BOOK_ARGUMENT, STOP_AFTER, level, output_options
from .runner import book_root, fail, for_command, stopper

DEFAULT_PORT = 8000


@click.command()
@BOOK_ARGUMENT
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object for editors and CI.")
@output_options
@click.pass_context
def check(ctx: click.Context, book: Path | None, strict: bool, output_format: str) -> None:
    """Find mistakes without building: manifest, files, links, images, ids, Markdown, fonts."""
    from ..api.check import check_book

    try:
        report = check_book(book)
    except Exception as exc:  # noqa: BLE001
        fail(ctx, exc)
        ctx.exit(1)
    failed = bool(report.errors or (strict and report.warnings))
    if output_format == "json":
        click.echo(json.dumps(report.as_json() | {"strict": strict, "ok": not failed}, indent=2))
    else:  # repeats once, with a count, as a build says them; the JSON keeps every one
        folded = Folded(lambda diagnostic: click.echo(format_diagnostic(for_command(ctx, diagnostic))))
        for diagnostic in report.diagnostics:
            folded(diagnostic)
        folded.finish()
        if level(ctx) >= 0:
            counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
            checked = f"{report.chapters} chapter(s) checked: " if report.chapters else ""
            click.echo(f"{report.book}: {checked}{counts if report.diagnostics else 'no problems'}")
    if failed:
        ctx.exit(1)


@click.command()
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
    from ..scaffold import book_from_mdbook, new_book

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
            from ..scaffold.docx import book_from_docx

            given = ctx.get_parameter_source("language") == click.core.ParameterSource.COMMANDLINE
            imported = book_from_docx(from_docx, folder, Reporter(sink=print_diagnostic), title=title, author=author,
                                      language=language if given else None, chapter_level=chapter_level)
            if level(ctx) >= 0:
                click.echo("\n".join(imported.summary()))
            return
        new_book(folder, title=title, author=author, language=language)
    except Exception as exc:  # noqa: BLE001
        fail(ctx, exc)
        ctx.exit(1)
    if level(ctx) >= 0:
        place = display_path(folder)
        click.echo(f"created the book in {place}/: book.toml, chapters/, images/, styles/\n"
                   f"next: cd {place} && bookbuild preview   (or: bookbuild check, bookbuild build)")


@click.command()
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
    from ..live.preview import PreviewSite, serve, start_server

    root = book_root(ctx, book)
    site = PreviewSite(root / "book.toml" if book is None or Path(book).is_dir() else Path(book),
                       log=lambda line: click.echo(line, err=True), diagnostic_sink=print_diagnostic)
    site.rebuild()
    try:
        server = start_server(site, DEFAULT_PORT if port is None else port, tries=20 if port is None else 1)
    except BookError as exc:
        fail(ctx, exc)
        ctx.exit(1)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    click.echo(f"serving '{site.title or display_path(root)}' at {url}  (edit and save: the page reloads; "
               "Ctrl-C stops)", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    with stopper(stop_after) as stop:
        serve(site, server, root, stop, ignored=(root / "dist",))
    click.echo("preview stopped", err=True)

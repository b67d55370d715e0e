"""What every command shares: the BOOK argument, --strict, --allow-remote, -q/-v, and the
settings the group and its options leave for the commands (--debug, the output level, --for).

Kept apart from ``__init__.py`` so the command modules import it without importing the group
that registers them (modules import in one direction: tests/test_pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

BOOK_ARGUMENT = click.argument("book", required=False, type=click.Path(path_type=Path))
STRICT_OPTION = click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")
ALLOW_REMOTE = click.option("--allow-remote", is_flag=True,
                            help="Fetch http(s) images and CSS resources (public hosts only; off by default).")
STOP_AFTER = click.option("--stop-after", type=float, hidden=True,
                          help="Stop watching after this many seconds (for tests and scripts).")


def settings(ctx: click.Context) -> dict:
    """The run's settings, kept on the root context: ``debug``, ``level``, ``printer``."""
    return ctx.find_root().ensure_object(dict)


def _set_level(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        settings(ctx)["level"] = {"quiet": -1, "verbose": 1}[param.name]


def output_options(command: Callable) -> Callable:
    """``-q``/``-v`` on the group and on every command, so both orders work."""
    command = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_level,
                           help="Say more: each step of the build.")(command)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_level,
                        help="Print only errors and warnings.")(command)


def level(ctx: click.Context) -> int:
    """-1 with --quiet, 1 with --verbose, else 0."""
    return settings(ctx).get("level", 0)

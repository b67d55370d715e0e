"""Run the CLI as a user would, from a working folder, through click's CliRunner."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from bookbuild.cli import main


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Invoke ``bookbuild ARGS`` from ``cwd``; stdout and stderr interleave as in a terminal."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner(env=env).invoke(main, args, catch_exceptions=False, prog_name="bookbuild")
    finally:
        os.chdir(old)

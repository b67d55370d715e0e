"""The jinja2 environment every renderer uses: autoescaped, strict about undefined names."""

from __future__ import annotations

import os
import stat
import sys
from functools import cache
from typing import Any

import jinja2

from ..cache import user_cache_folder
from ..resources import templates_dir
from .front_matter import copyright_page, list_separator, printed_date


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    # the title and copyright pages' words, the same in every format (front_matter.py)
    environment.globals.update(printed_date=printed_date, copyright_page=copyright_page, list_separator=list_separator)
    return environment


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user's own cache folder (never the book's: it is code).

    Compiling the templates was a tenth of a rebuild after one chapter edit; jinja2 checks
    each entry against its template's source, so an edited template is compiled again.
    """
    folder = user_cache_folder() / "bookbuild" / f"templates-{sys.implementation.cache_tag}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None  # not a folder only this user can write: do not load code from it
    return jinja2.FileSystemBytecodeCache(str(folder))


def render_template(name: str, **context: Any) -> str:
    """Render a packaged template; every value is escaped unless marked ``| safe``."""
    return _environment().get_template(name).render(**context)

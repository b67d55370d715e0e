"""The jinja2 environment every renderer uses: autoescaped, strict about undefined names."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from ..resources import templates_dir


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_template(name: str, **context: Any) -> str:
    """Render a packaged template; every value is escaped unless marked ``| safe``."""
    return _environment().get_template(name).render(**context)

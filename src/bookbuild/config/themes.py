"""``[book] theme``: one of bookbuild's built-in designs, a stylesheet over the same markup for
the EPUB and the PDF (styles/themes/NAME.css, layered after base.css and the format's sheet,
before the book's own ``styles``). docs/themes.md shows them side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..resources import styles_dir
from .toml import closest

if TYPE_CHECKING:
    from .toml import TableReader

# "standard" is the look bookbuild always had: base.css alone, no theme sheet.
DEFAULT_THEME = "standard"
THEMES = {
    "standard": "Noto Serif text, Noto Sans headings: the default",
    "classic": "a serif novel: centred chapter openings, small capitals, no sans-serif",
    "modern": "a technical book: a sans-serif heading face, ragged-right text, accent rules",
    "compact": "a dense handout: smaller type, tight spacing, sans-serif throughout",
}


def read_theme(reader: TableReader) -> str:
    """``[book] theme``: the name of a built-in design; a wrong name is refused at its line,
    with the nearest name and the list of the others."""
    name = reader.string("theme")
    if name is None:
        return DEFAULT_THEME
    if name not in THEMES:
        close = closest(name, sorted(THEMES))  # the same did-you-mean as every choice of book.toml
        known = ", ".join(THEMES)
        hint = f"did you mean '{close}'? The themes are {known}" if close else f"the themes are {known}"
        raise reader.source.error(f"[book] theme: no theme named '{name}'", "book", "theme", hint=hint)
    return name


def theme_sheets(name: str) -> tuple[Path, ...]:
    """The packaged stylesheet of a theme (none for the standard look, which is base.css)."""
    return () if name == DEFAULT_THEME else (styles_dir() / "themes" / f"{name}.css",)

"""Packaged resources and the one path resolver every reader goes through.

Paths written by the user (in book.toml or inside a chapter) are resolved here, and only
here, so that reads stay inside the book folder.
"""

from __future__ import annotations

import posixpath
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BookError

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def styles_dir() -> Path:
    """The shared stylesheets: packaged in the wheel, or the source tree's ``styles/``."""
    packaged = PACKAGE_DIR / "styles"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent.parent / "styles"


def templates_dir() -> Path:
    """The jinja2 templates shipped inside the package."""
    return PACKAGE_DIR / "templates"


def stylesheet(name: str) -> Path:
    """A shared stylesheet by name (``base.css``, ``epub.css``, ``print.css``)."""
    return styles_dir() / name


def is_external(reference: str) -> bool:
    """True for references with a scheme or network location (http:, mailto:, //host)."""
    parts = urlsplit(reference)
    return bool(parts.scheme or parts.netloc)


def split_reference(reference: str) -> tuple[str, str]:
    """Split a relative reference into its unquoted path and fragment."""
    parts = urlsplit(reference)
    return unquote(parts.path), unquote(parts.fragment)


def resolve_in_book(
    root: Path,
    base_dir: Path,
    relative: str,
    *,
    what: str,
    file: str | Path | None = None,
    line: int | None = None,
    error: type[BookError] = BookError,
) -> Path:
    """Resolve ``relative`` (as written by the user) against ``base_dir``, inside ``root``.

    Raises :class:`BookError` naming ``file:line`` when the target is outside the book
    folder, absolute, missing or not a regular file.
    """
    if not relative:
        raise error(f"{what}: empty path", file, line)
    posix = relative.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise error(
            f"{what} '{relative}' is an absolute path",
            file,
            line,
            hint="write paths relative to the file that names them",
        )
    root = root.resolve()
    candidate = (base_dir / posixpath.normpath(posix)).resolve()
    if not candidate.is_relative_to(root):
        raise error(
            f"{what} '{relative}' is outside the book folder",
            file,
            line,
            hint=f"keep every file the book uses inside {root.name}/",
        )
    if not candidate.exists():
        raise error(f"{what} '{relative}' not found", file, line, hint=similar_file_hint(candidate, relative))
    if not candidate.is_file():
        raise error(f"{what} '{relative}' is not a regular file", file, line)
    return candidate


def similar_file_hint(missing: Path, relative: str) -> str | None:
    """'did you mean ...?' for a mistyped file name, from the files next to where it should be."""
    import difflib

    try:
        names = [p.name for p in missing.parent.iterdir() if p.is_file()] if missing.parent.is_dir() else []
    except OSError:
        return None
    close = difflib.get_close_matches(missing.name, names, n=1, cutoff=0.75)
    if not close:
        return None
    return f"did you mean '{posixpath.join(posixpath.dirname(relative.replace(chr(92), '/')), close[0])}'?"


def display_path(path: Path) -> str:
    """A path as an editor or terminal can open it: relative to the working folder if inside."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)

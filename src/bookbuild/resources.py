"""Packaged resources and the one path resolver every reader goes through.

Paths written by the user (in book.toml or inside a chapter) are resolved here, and only
here, so that reads stay inside the book folder.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BookError, SpecialFile

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
    if reference[:1] == "#":  # a fragment alone, most of a book's links: no scheme, no host
        return False
    parts = urlsplit(reference)
    return bool(parts.scheme or parts.netloc)


def split_reference(reference: str) -> tuple[str, str]:
    """Split a relative reference into its unquoted path and fragment."""
    if reference[:1] == "#" and "\t" not in reference and "\n" not in reference and "\r" not in reference:
        return "", unquote(reference[1:])  # what urlsplit gives, without its work (it drops those three)
    parts = urlsplit(reference)
    return unquote(parts.path), unquote(parts.fragment)


def real_path(path: str | Path) -> str:
    """``os.path.realpath(path)``, kept for the build (:func:`forget_folders`): a build
    resolves some 1,800 paths, most of them several times (a chapter's file for its cache
    key, its code blocks, its links), and ``realpath`` stats every component of each (a third
    of a one-chapter EPUB rebuild). A path's folders are resolved once for all the files in
    them, and a path with ``.`` or ``..`` (which ``realpath`` resolves after the links before
    it) is resolved whole. A folder or file swapped for a link during the build is no way
    out: reads walk the real path without following any link (files._read_below), so a
    stale answer fails to read, never reads elsewhere."""
    raw = os.fspath(path)
    found = _REAL.get(raw)
    if found is None:
        found = _resolved_now(raw)
        if os.path.isabs(raw):  # a relative one depends on the working folder
            _REAL[raw] = found
    return found


def _resolved_now(raw: str) -> str:
    if (os.altsep and os.altsep in raw) or any(part in (".", "..") for part in raw.split(os.sep)):
        return os.path.realpath(raw)
    head, tail = os.path.split(os.path.abspath(raw))
    if not tail:
        return os.path.realpath(raw)
    folder = _FOLDERS.get(head)
    if folder is None:
        folder = _FOLDERS[head] = os.path.realpath(head)
    joined = os.path.join(folder, tail)
    try:
        if stat.S_ISLNK(os.lstat(joined).st_mode):
            return os.path.realpath(joined)
    except OSError:
        pass  # missing: realpath leaves the name as it is, and the read says why
    return joined


_FOLDERS: dict[str, str] = {}
_REAL: dict[str, str] = {}  # real_path's answers in this build


def forget_folders() -> None:
    """Resolve folders afresh (each build starts here: ``build --watch`` runs for hours)."""
    _FOLDERS.clear()
    _REAL.clear()
    _CWD.clear()
    _RESOLVED.clear()


def resolve_in_book(
    root: Path,
    base_dir: Path,
    relative: str,
    *,
    what: str,
    file: str | Path | None = None,
    line: int | None = None,
    error: type[BookError] = BookError,
    extra_roots: tuple[Path, ...] = (),
) -> Path:
    """Resolve ``relative`` (as written by the user) against ``base_dir``, inside ``root``.

    This is the one gate every user-written path passes (house rule: contained reads).
    After symlinks are followed the target must be a regular file below ``root`` (or one of
    ``extra_roots``, the packaged styles); ``../``, absolute paths, drive letters, ``file:``
    URLs, NUL bytes, devices, folders and names whose case differs from the file on disk are
    refused with a :class:`BookError` naming ``file:line``.
    """
    def fail(message: str, hint: str | None = None, kind: type[BookError] | None = None) -> BookError:
        return (kind or error)(f"{what} '{_printable(relative)}' {message}", file, line, hint=hint)

    if not relative or not relative.strip():
        raise error(f"{what}: empty path", file, line)
    if "\0" in relative or any(ord(c) < 32 for c in relative):
        raise fail("contains control characters")
    if relative.lower().startswith("file:"):
        raise fail("is a file: URL", hint="write paths relative to the file that names them")
    posix = relative.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise fail("is an absolute path", hint="write paths relative to the file that names them")
    normal = posixpath.normpath(posix)
    if normal == ".." or normal.startswith("../"):
        # Only leading ".." are left (normpath took the others): applied to the real path of the
        # base folder they name its real parents, as realpath would find them, and the path
        # handed on has no ".." to make real_path resolve it whole (7 stats per image).
        target = Path(os.path.normpath(os.path.join(real_path(base_dir), normal)))
    else:
        target = base_dir / normal
    key = (str(target), str(root), *(str(extra) for extra in extra_roots))
    found = _RESOLVED.get(key)
    if found is None:  # what the build found already, it finds again (an image is resolved twice)
        found = _RESOLVED[key] = _contained(target, (root, *extra_roots), fail, relative)
    return found


# The files resolve_in_book found in this build (forget_folders empties it): (path, roots) -> file
_RESOLVED: dict[tuple[str, ...], Path] = {}


def _contained(path: Path, roots: tuple[Path, ...], fail: Callable[..., BookError],
               relative: str | None = None) -> Path:
    """``path`` after symlinks, if it is a regular file below one of ``roots``.

    Written with strings and one ``stat``: every chapter, image and stylesheet of a build
    passes here, and pathlib's version was a tenth of a rebuild after one chapter edit.
    """
    real_roots = [real_path(root) for root in roots]  # kept by real_path for the build
    try:
        candidate = real_path(path)
    except (OSError, ValueError):  # names the OS refuses
        raise fail("cannot be resolved (symlink loop or invalid name)") from None
    try:
        mode = os.stat(candidate).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # realpath leaves a loop as it is; stat tells
            raise fail("cannot be resolved (symlink loop or invalid name)") from None
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # hostile wherever it is
        raise fail("is a device or special file, not a regular file: not read", kind=SpecialFile)
    if not any(_below(candidate, root) for root in real_roots):
        raise fail("is outside the book folder",
                   hint=f"keep every file the book uses inside {Path(real_roots[0]).name}/")
    if mode is None:
        raise fail("not found", hint=similar_file_hint(Path(candidate), relative or path.name))
    if not stat.S_ISREG(mode):
        raise fail("is a folder, not a regular file")
    _check_case(path, fail)
    return Path(candidate)


def _below(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it (both real, absolute paths)."""
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


_DRIVE = re.compile(r"^[A-Za-z]:")


def _check_case(path: Path, fail: Callable[..., BookError]) -> None:
    """On case-insensitive file systems ``Image.PNG`` finds ``image.png``; a reader on Linux
    would not, and EPUB names are case-sensitive: insist on the name as it is on disk."""
    name = path.name
    if name in ("", ".", ".."):
        return
    other = path.with_name(name.swapcase())
    if other.name == name or not os.path.exists(other):
        return  # no other spelling finds a file: nothing to tell (and no folder listing per image)
    try:
        entries = os.listdir(path.parent)
    except OSError:
        return
    if name not in entries and any(e.casefold() == name.casefold() for e in entries):
        actual = next(e for e in entries if e.casefold() == name.casefold())
        raise fail(f"differs in case from the file on disk '{actual}'", hint="spell the name exactly as on disk")


def _printable(text: str) -> str:
    """A user-written path safe to put in a one-line message (no control characters)."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 200 else clean[:200] + "..."


def resolve_url(
    root: Path,
    url: str,
    *,
    what: str,
    extra_roots: tuple[Path, ...] = (),
) -> Path:
    """The local file a ``file:`` URL points at, if inside ``root`` or ``extra_roots``.

    WeasyPrint turns relative references into absolute ``file:`` URLs before asking its
    fetcher; this maps them back through the same checks as :func:`resolve_in_book`.
    """
    def fail(message: str, hint: str | None = None, kind: type[BookError] | None = None) -> BookError:
        return (kind or BookError)(f"{what} '{_printable(url)}' {message}", hint=hint)

    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise fail("is not a local file")
    path = unquote(parts.path)
    if "\0" in path or any(ord(c) < 32 for c in path):
        raise fail("contains control characters")
    return _contained(Path(path), (root, *extra_roots), fail)


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
    """A path as an editor or terminal can open it: relative to the working folder if inside.
    Resolved as :func:`real_path` resolves (the folders a build knows are not resolved again:
    a build names a file for every image and warning it might give)."""
    try:
        real, folder = real_path(path), working_folder_path()
    except (ValueError, OSError):
        return str(path)
    if real == folder:
        return "."
    inside = folder.rstrip(os.sep) + os.sep
    return real[len(inside):].replace(os.sep, "/") if real.startswith(inside) else str(path)


def working_folder_path() -> str:
    """The working folder's real path, resolved again only when the working folder changes
    (and at the start of each build: :func:`forget_folders`); OSError when it is gone."""
    raw = os.getcwd()
    if _CWD.get(raw) is None:
        _CWD.clear()
        _CWD[raw] = os.path.realpath(raw)
    return _CWD[raw]


_CWD: dict[str, str] = {}

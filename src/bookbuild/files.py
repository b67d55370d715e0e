"""The one way bookbuild reads a file and the one way it writes an output.

Reading. Every file of a book (chapters, includes, images, stylesheets and what they use,
fonts, the cover, book.toml, the build's own cache entries) is read by
:func:`read_book_file`, which

* decides containment on the real path (symlinks followed by ``realpath``, which reads
  links but opens nothing) before anything is opened;
* opens that real path one component at a time with ``O_NOFOLLOW``, each relative to the
  folder opened before it, so a symlink swapped in after the check is refused, not followed;
* reads only regular files: a FIFO is opened without blocking and refused, like devices,
  sockets and folders;
* reads at most the limit of its kind (:data:`LIMITS`) and fails with a message naming the
  file when it is larger, or grows while read.

bookbuild's own files (packaged stylesheets and sources, the user's cache secret) are read
by :func:`read_own_file`: bounded and regular too, without a book folder to stay in.
``tests/test_safety.py`` walks the source and fails on any other module that opens a file.

Writing. Outputs are replaced whole by :func:`write_atomically`, cache entries by
:func:`write_cache_entry`: never seen half written.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BookError, Diagnostic, Location, OutputError, SourceError, SpecialFile, UnreadableFile
from .resources import display_path, real_path

MiB = 1024 * 1024
# The most a file of each kind may hold; a larger one is refused with its name.
LIMITS = {
    "manifest": 1 * MiB,
    "chapter": 10 * MiB,  # a whole novel is about 1 MB
    "include": 10 * MiB,
    "stylesheet": 2 * MiB,
    "image": 20 * MiB,
    "font": 32 * MiB,
    "bibliography": 32 * MiB,  # a .bib or CSL-JSON file, a .csl style: a large shared library is a few MB
    "docx": 50 * MiB,  # a Word manuscript for `bookbuild new --from-docx`, pictures included
    "resource": 32 * MiB,  # anything a stylesheet or the layout asks for (images, fonts, sheets)
    "cache": 512 * MiB,  # the build's own entries in .bookbuild-cache/
    "own": 64 * MiB,  # bookbuild's packaged files and the user's cache secret
    "icc": 4 * MiB,  # the press's CMYK colour profile, from the system ([print] presets)
    "pdf": 650 * MiB,  # an interior PDF whose pages print-cover counts (KDP's own upload limit)
}
_WHAT = {"manifest": "book manifest", "include": "included file", "resource": "file", "cache": "cache entry",
         "own": "file", "docx": "Word document"}
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = _OPEN_FLAGS | getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = _OPEN_FLAGS | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def read_book_file(path: Path, roots: Path | tuple[Path, ...], kind: str, *,
                   error: type[BookError] = UnreadableFile) -> bytes:
    """The bytes of a book's file that must lie inside ``roots`` (the book folder, or the
    cache folder; a tuple adds e.g. the packaged styles), read as the module docstring says.

    ``kind`` (a key of :data:`LIMITS`) bounds the size and names the file in messages; every
    refusal is an ``error`` (default :class:`UnreadableFile`) naming the file.
    """
    what = _WHAT.get(kind, kind)
    try:
        real = real_path(path)
    except (OSError, ValueError):
        name = display_path(path)
        raise error(f"{what} '{name}' cannot be resolved (symlink loop or invalid name)", name) from None
    real_roots = [real_path(root) for root in ((roots,) if isinstance(roots, Path) else roots)]
    root = next((r for r in real_roots if real == r or real.startswith(r.rstrip(os.sep) + os.sep)), None)
    if root is None:
        name, link = display_path(path), " (through a symbolic link)" if real != os.path.abspath(path) else ""
        raise error(f"{what} '{name}' is outside the book folder{link}: not read", name,
                    hint="keep every file the book uses inside the book folder")
    parts = real[len(root):].strip(os.sep).split(os.sep) if real != root else []
    if not parts:
        raise error(f"{what} '{display_path(path)}' is a folder, not a regular file", display_path(path))
    return _read_below(root, parts, LIMITS[kind], what, path, error)


def read_own_file(path: Path, kind: str = "own") -> bytes:
    """One of bookbuild's own files (packaged sheets and sources, the user's cache secret):
    regular and bounded like a book's file, with no book folder to stay inside."""
    real = Path(os.path.realpath(path))
    return _read_below(real.anchor, list(real.parts[1:]), LIMITS[kind], _WHAT.get(kind, kind), path, UnreadableFile)


def read_book_text(path: Path, roots: Path | tuple[Path, ...], kind: str) -> str:
    """A book's text file (book.toml, a stylesheet, an mdBook SUMMARY.md) as UTF-8 text; a BOM
    is dropped and a byte that is not UTF-8 names its line."""
    raw = read_book_file(path, roots, kind)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError("not valid UTF-8", display_path(path), line, hint="save the file as UTF-8") from None


def _read_below(root: str, parts: list[str], limit: int, what: str, path: Path | str,
                error: type[BookError]) -> bytes:
    """Open ``root/parts...`` without following any link, check it is a regular file, read it;
    ``path`` names it in messages (shown as :func:`display_path` shows it, only then)."""
    name = _Name(path)
    descriptors = []
    try:
        try:
            folder = os.open(root, _DIR_FLAGS)
            descriptors.append(folder)
            for part in parts[:-1]:
                folder = os.open(part, _DIR_FLAGS, dir_fd=folder)
                descriptors.append(folder)
            handle = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
            descriptors.append(handle)
            mode, size = (info := os.fstat(handle)).st_mode, info.st_size
        except OSError as exc:
            raise error(f"{what} '{name}' cannot be read: {_reason(exc)}", name) from None
        if stat.S_ISDIR(mode):
            raise error(f"{what} '{name}' is a folder, not a regular file", name)
        if not stat.S_ISREG(mode):  # a FIFO swapped in after the resolver looked, a device
            raise SpecialFile(f"{what} '{name}' is a device or special file, not a regular file: not read", name)
        if size > limit:
            raise error(f"{what} '{name}' is larger than {_size(limit)}", name, hint="a book's files stay small")
        os.set_blocking(handle, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(handle, min(limit + 1 - total, 1 * MiB))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
        raise error(f"{what} '{name}' is larger than {_size(limit)}", name, hint="a book's files stay small")
    finally:
        for descriptor in reversed(descriptors):
            os.close(descriptor)


class _Name:
    """A file's name for a message, made only when a message is: display_path resolves the
    path, which cost more than the read itself."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def __str__(self) -> str:
        return display_path(Path(self.path))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _reason(exc: OSError) -> str:
    if exc.errno == getattr(os, "ELOOP", None) or exc.errno == getattr(os, "EMLINK", None):
        return "a symbolic link appeared while it was read"
    return exc.strerror or type(exc).__name__


def _size(limit: int) -> str:
    return f"{limit // MiB} MB"


def user_cache_folder() -> Path:
    """The user's own cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``), not the book's."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` for this user alone (mode 0600) and write ``data``; FileExistsError if
    it is there already (another build made it first), never written through a link."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)


def write_atomically(target: Path, data: bytes) -> None:
    """Write next to the target, then rename over it: readers never see half a file.

    A symlink at ``target`` is replaced by the new file, never written through (``os.replace``
    renames over the link itself), so an output cannot overwrite the file a link points to.
    """
    if target.is_dir() and not target.is_symlink():
        raise OutputError(f"output '{display_path(target)}' is a folder", hint="name a file")
    _write_beside(target, data, os.replace)


def write_cache_entry(target: Path, data: bytes) -> None:
    """Write a cache entry whole, as :func:`write_atomically` does, but remove the old entry
    before the rename instead of renaming over it.

    Renamed over a file, a new file is written out by ext4 at once (``auto_da_alloc``, which
    saves replaced files from a crash): 1.6 ms for a 3.5 MB pack, 8 ms of a one-chapter EPUB
    rebuild, for entries a crash may lose (a miss). A build reading meanwhile finds no entry,
    and misses; it never finds half of one. A folder in the entry's place fails (OSError).
    """
    _write_beside(target, data, _rename_into_place)


def _rename_into_place(temp_name: str, target: Path) -> None:
    try:
        os.unlink(target)  # a link is removed itself, never followed
    except FileNotFoundError:
        pass
    os.rename(temp_name, target)


def _write_beside(target: Path, data: bytes, rename: Callable[[str, Path], None]) -> None:
    handle, temp_name = _temporary_beside(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o644)
            stream.write(data)
        rename(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


_temporary_names = itertools.count()


def _temporary_beside(target: Path) -> tuple[int, str]:
    """A new file for this process alone beside ``target`` (its folder made when missing),
    opened for writing: the descriptor and the name.

    A cold build writes some six hundred cache entries; ``tempfile.mkstemp`` (random names,
    its checks) and a ``mkdir`` of the existing folder before each were a tenth of writing
    them. The name is this process's id and a counter; ``O_EXCL`` with ``O_NOFOLLOW`` never
    opens a file or link that is there already: then ``mkstemp`` picks a random name.
    """
    temp_name = os.path.join(target.parent, f".{target.name}.{os.getpid()}-{next(_temporary_names)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(temp_name, flags, 0o600), temp_name
    except FileNotFoundError:  # the folder is missing: made, then the open is tried again
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass
    return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)


def with_column(diagnostic: Diagnostic, root: Path) -> Diagnostic:
    """The diagnostic pointing at the column of the first text it quotes ('...') in its line,
    as a compiler would: ``02.md:9:52`` for a link target written at column 52. A diagnostic
    with a column already, or whose file below ``root`` cannot be read, is returned as it is."""
    import re

    location = diagnostic.location
    quoted = re.search(r"'([^']+)'", diagnostic.message)
    if not (location.file and location.line and not location.col and quoted):
        return diagnostic
    try:
        line = read_book_text(Path(location.file), root, "resource").splitlines()[location.line - 1]
    except (BookError, IndexError, OSError):
        return diagnostic
    col = line.find(quoted.group(1))
    if col < 0:
        return diagnostic
    return dataclasses.replace(diagnostic, location=Location(location.file, location.line, col + 1))


# ---- What a long-running process may take again from a file it read ----------------------

def file_identity(path: Path) -> tuple | None:
    """A regular file's identity, not through a link: device, inode, size, modification and
    change times (None: missing, a link, not a regular file). What a long-running process (the
    preview, ``build --watch``) checks before it uses again what it read from the file."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return stat_identity(info) if stat.S_ISREG(info.st_mode) else None


def stat_identity(info: os.stat_result) -> tuple:
    """The identity :func:`file_identity` gives, from a ``stat`` result in hand."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def settled(identity: tuple) -> bool:
    """A file identity (:func:`file_identity`) that had not changed in the moments before now:
    one that can stand for the file's bytes (a write within the same tick of the file
    system's clock could leave a younger one as it was)."""
    return time.time_ns() - max(identity[3], identity[4]) >= RACY_NS


# A file younger than this (its last change) may still change within one tick of its clock
RACY_NS = 2_000_000_000


def by_identity(memory: dict, path: Path, make: Callable[[], Any], *key: str) -> Any:
    """``make()``, remembered in ``memory`` (by the path, ``key`` and the file's identity)
    while the file's identity (:func:`file_identity`) stays the one it had, if that identity
    had settled when the file was read (:func:`settled`) and did not change while it was.
    What a long-running process (the preview, ``build --watch``) finds out from a file once.
    A file that is not there, or is a link, is asked of ``make`` every time; so is a value None."""
    identity = file_identity(path)
    if identity is None:
        return make()
    name = (str(path), *key, identity)
    value = memory.get(name)
    if value is None:
        value = make()
        if value is not None and settled(identity) and file_identity(path) == identity:
            if len(memory) >= 8192:
                memory.clear()
            memory[name] = value
    return value

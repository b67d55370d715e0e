"""Keyed caches in ``.bookbuild-cache/`` beside book.toml: what every cache of a build shares.

Each kind of entry (parsed chapters: sources/cache.py; transformed chapters:
transforms/memo.py; EPUB documents, deflated zip members, laid-out PDF pieces, the
generated cover, checked images, highlighted code) is named by a keyed hash (HMAC) with a
secret kept in the user's own cache folder (``$XDG_CACHE_HOME/bookbuild/cache-key``), so
an entry written elsewhere (a cache folder shipped inside someone else's book) never
matches; a cache folder that is a symlink, or lies outside the book, is not used at all.
Keys cover bookbuild's code and the libraries that shape the output (a developer's edit or
an upgrade counts), the book's metadata, options and stylesheets where they matter, and a
format number bumped whenever entries change shape. Entries are written atomically, any
unreadable entry is a miss, entries are JSON or plain bytes (never pickle), and the folder
is safe to delete at any time.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import logging
import os
import stat
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

from ..config.manifest import Manifest
from ..config.themes import theme_sheets
from ..errors import BookError
from ..files import (
    by_identity,
    read_book_file,
    read_own_file,
    settled,
    stat_identity,
    user_cache_folder,
    write_atomically,
    write_cache_entry,
    write_new_file,
)
from ..resources import PACKAGE_DIR, real_path, styles_dir, stylesheet, working_folder_path

CACHE_DIR_NAME = ".bookbuild-cache"
FORMAT = 2
# Libraries whose behaviour shapes a parsed chapter (and Babel, the title page's words:
# render/front_matter.py); their installed versions are in the key.
PARSING_LIBRARIES = ("markdown_it", "mdit_py_plugins", "lxml", "yaml", "babel")
SHARED_SHEETS = ("base.css", "epub.css", "print.css")

logger = logging.getLogger(__name__)


def cache_dir(manifest: Manifest) -> Path | None:
    """Where a book's cache lives: beside its book.toml; None when that place is not safe to use
    (a symlink or a file there, or a folder or link where a pack goes, as a hostile book might
    ship) or no cache secret can be had."""
    folder = manifest.root / CACHE_DIR_NAME
    root = manifest.root.resolve()
    for path in (folder, *(folder / name for name in FOLDERS)):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            return None
        if path.exists() and not path.resolve().is_relative_to(root):
            return None
    for path in (folder / f"{kind}.pack" for kind in PACKS):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return None
    return folder if cache_secret() is not None else None


# The kinds of entries kept a file each in a folder of the cache, and those kept in one pack (packs.py)
FOLDERS = ("pdf", "pdf-join", "cover", "page-starts", "words")
PACKS = ("chapters", "code", "deflate", "epub", "transforms")


@cache
def cache_secret() -> bytes | None:
    """This user's random key for cache entries, made on first use (None: no caching)."""
    path = user_cache_folder() / "bookbuild" / "cache-key"
    if not os.path.lexists(path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_new_file(path, os.urandom(32))
        except FileExistsError:  # another build made it first
            pass
        except OSError:
            return None
    try:
        return read_own_file(path)[:32] or None
    except BookError:
        return None


def prune_folder(folder: Path, used: set[str], suffixes: tuple[str, ...]) -> None:
    """Delete the entries (files with these suffixes) whose names this build did not use."""
    try:
        paths = list(folder.iterdir())
    except OSError:
        return
    for path in paths:
        if path.suffix in suffixes and path.stem not in used:
            path.unlink(missing_ok=True)


def working_folder() -> str:
    """The folder the build runs in: recorded warnings name files relative to it, so the
    entries that replay warnings are keyed by it too."""
    try:
        return working_folder_path()
    except OSError:
        return ""


def context_fingerprint(manifest: Manifest) -> str:
    """Everything besides the chapter itself that a cached chapter must agree with."""
    import bookbuild  # read at call time: the version is part of the key, whatever imported it

    digest = hashlib.sha256()
    parts = [
        f"format {FORMAT}",
        f"bookbuild {bookbuild.__version__}",
        code_fingerprint(),
        repr(manifest.meta),
        repr(manifest.pdf),
        repr(manifest.epub),
        f"math {manifest.math}",  # [book] math: how a chapter's dollars are read
    ]
    sheets = [stylesheet(name) for name in SHARED_SHEETS] + list(theme_sheets(manifest.theme)) + list(manifest.styles)
    parts += [f"{path}:{file_digest(path, (manifest.root, styles_dir()))}" for path in sheets]
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


@cache
def code_fingerprint() -> str:
    """bookbuild's own sources and templates, and the distributions beside the parsing libraries.

    Reading and hashing the ~280 files was 15 ms of every run. So the fingerprint is kept in the
    user's cache folder (with the cache secret) beside the files' identities (inode, size,
    modification and change times: a file written anew, an edit, a reinstall changes them) and
    the libraries' distributions, and used again while they are all the same."""
    files = _code_files()
    identities = hashlib.sha256()
    for name, info in files:
        identities.update(f"{name}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}\0".encode())
    distributions = _distributions()
    identities.update(distributions.encode())
    state = identities.hexdigest()
    kept_at = user_cache_folder() / "bookbuild" / "code-fingerprint"
    try:
        kept = read_own_file(kept_at).decode("ascii").split()
    except (BookError, UnicodeDecodeError):
        kept = []
    if len(kept) == 2 and kept[0] == state:
        return kept[1]
    digest = hashlib.sha256()
    for name, _info in files:
        digest.update(name.encode() + b"\0" + read_own_file(PACKAGE_DIR / name))
    digest.update(distributions.encode())
    fingerprint = digest.hexdigest()
    # A file changed within the last moments could change again within the same tick of the
    # file system's clock, with the same identity: not kept then (git's "racily clean" files).
    if all(settled(stat_identity(info)) for _name, info in files):
        try:
            write_atomically(kept_at, f"{state} {fingerprint}\n".encode("ascii"))
        except (OSError, BookError):
            pass  # a read-only home: made again next time
    return fingerprint


def _code_files() -> list[tuple[str, os.stat_result]]:
    """bookbuild's sources and templates as (path relative to the package, lstat), in order."""
    files = []
    for folder, folders, names in os.walk(PACKAGE_DIR):
        folders.sort()
        base = Path(folder).relative_to(PACKAGE_DIR).as_posix()
        for name in sorted(names):
            if name.endswith((".py", ".html", ".xhtml")):
                info = os.lstat(os.path.join(folder, name))
                if stat.S_ISREG(info.st_mode):
                    files.append((name if base == "." else f"{base}/{name}", info))
    return files


def _distributions() -> str:
    """The distributions installed beside the parsing libraries (their names carry versions)."""
    listed = []
    for folder in sorted(_library_folders()):
        try:
            names = sorted(name for name in os.listdir(folder) if name.endswith((".dist-info", ".egg-info")))
        except OSError:
            names = []
        listed.append(f"{folder}:{','.join(names)}")
    return "\0".join(listed)


def _library_folders() -> set[str]:
    """The folders the parsing libraries are installed in, found without importing them."""
    folders = set()
    for name in PARSING_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folders.add(str(Path(spec.origin).parent.parent))
    return folders


def keyed_hash(*parts: str) -> str:
    """A name for derived data: HMAC with the user's cache secret of the parts, the cache
    format and bookbuild's code, so that only this user's build of this code can make it."""
    digest = _keyed_start(cache_secret(), code_fingerprint()).copy()
    for part in parts:
        digest.update(hashlib.sha256(part.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()


@lru_cache(maxsize=4)
def _keyed_start(secret: bytes | None, fingerprint: str) -> hmac.HMAC:
    """The HMAC of every keyed hash up to its own parts (copied, never updated): keying it
    and hashing the format and fingerprint was half the cost of the 600 names of a rebuild."""
    digest = hmac.new(secret or b"", digestmod=hashlib.sha256)
    for part in (f"format {FORMAT}", fingerprint):
        digest.update(hashlib.sha256(part.encode("utf-8", "surrogatepass")).digest())
    return digest


def code_name(chapter: Path) -> str:
    """The name of a chapter file's highlighted code blocks in the book's code pack
    (sources/code.py)."""
    return keyed_hash("code blocks of", real_path(chapter))


def file_digest(path: Path, roots: Path | tuple[Path, ...]) -> str | None:
    """The SHA-256 of a book's file (inside ``roots``), or None when it cannot be read (a
    missing image is a state too)."""
    try:
        return hashlib.sha256(read_book_file(path, roots, "resource")).hexdigest()
    except BookError:
        return None


def remembered_digest(path: Path, root: Path) -> str | None:
    """:func:`file_digest`, remembered in this process while the file's identity stays: a
    rebuild after one edit need not read and hash every image of the book again."""
    return by_identity(_DIGESTS, path, lambda: file_digest(path, root), str(root))


_DIGESTS: dict[tuple, str] = {}


class DecodedEntries:
    """What a long-running process (the preview, ``build --watch``) decoded from cache entry
    files, by name, with the bytes it came from: an entry file that still holds exactly those
    bytes is read on every build but not decoded again. At most ``limit`` entries."""

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[object, tuple[bytes, object]] = {}
        self.limit = limit

    def get(self, name: object, raw: bytes) -> object | None:
        """What ``raw`` decoded to, if these are the bytes this process read or wrote under ``name``."""
        item = self._items.get(name)
        return item[1] if item is not None and item[0] == raw else None

    def put(self, name: object, raw: bytes, value: object) -> None:
        if len(self._items) >= self.limit:
            self._items.clear()
        self._items[name] = (raw, value)


def read_entry(path: Path, remember: bool = True) -> bytes | None:
    """A cache entry's bytes; None when it is missing, unreadable or a symlink (a book may
    ship one, and reads stay in the book).

    A long-running process (the preview, ``build --watch``) reads the same few hundred entries
    on every build: an entry file whose identity has not changed is not read again
    (:func:`by_identity`), and the very bytes object is handed back, so the decoded-entry
    memories (:class:`DecodedEntries`) compare it at no cost. Entries are replaced by renaming
    (a new inode), and any write changes the change time, which no one can set. A pack
    (packs.py), written anew by every build that changes it, is read without ``remember``:
    kept, each version of it would stay in memory as long as the process."""
    if not remember:
        return _read_entry(path)
    return by_identity(_SEEN, path, lambda: _read_entry(path))


def _read_entry(path: Path) -> bytes | None:
    try:  # a miss, said at once: the refusal's message (paths resolved for display) cost more
        if not stat.S_ISREG(os.lstat(path).st_mode):  # than the read, and a cold build misses ~600
            return None  # a link (a book may ship one) or a folder
    except OSError:
        return None
    try:
        return read_book_file(path, path.parent, "cache")
    except BookError:
        return None


# Entry files this process read (read_entry)
_SEEN: dict[tuple, bytes] = {}


def keep(path: Path, data: bytes, what: str) -> bool:
    """Write a cache entry atomically; a read-only book folder still builds, just without it."""
    try:
        write_cache_entry(path, data)
        return True
    except OSError as exc:
        logger.debug("cannot keep %s: %s", what, exc)
        return False


class CheckedImages:
    """Raster images that passed the image check before (``images.json`` in the cache).

    Checking an image decodes all of it; a rebuild need not decode again the same bytes with
    the same code. Entries are keyed hashes (HMAC with the cache secret) of the bytes, the
    suffix and bookbuild's code, so an entry can only come from this user's own check of
    exactly those bytes. SVG is never remembered: its check returns cleaned bytes.
    """

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "images.json" if folder is not None and cache_secret() is not None else None
        self.known: set[str] = set()
        self.used: set[str] = set()
        data = read_entry(self.path) if self.path is not None else None
        try:
            entry = json.loads(data) if data is not None else {}
            if entry.get("format") == FORMAT:
                self.known = {key for key in entry["checked"] if isinstance(key, str)}
        except (ValueError, KeyError, TypeError, AttributeError):
            pass

    def check(self, data: bytes, suffix: str, check: Callable[[bytes, str], bytes]) -> bytes:
        """``check(data, suffix)``, unless these bytes passed it before."""
        if self.path is None or suffix.lower() == ".svg":
            return check(data, suffix)
        key = _checked_key(suffix, hashlib.sha256(data).hexdigest())
        if key not in self.known:
            data = check(data, suffix)  # raises for a bad image: nothing remembered
        self.used.add(key)
        return data

    def passed(self, path: Path, root: Path, suffix: str) -> bool:
        """True when the file's bytes passed the check before, found by their digest as
        :func:`remembered_digest` keeps it by file identity: a rebuild in a running process
        need not read the book's images again to know they are good."""
        if self.path is None or suffix.lower() == ".svg":
            return False
        digest = remembered_digest(path, root)
        key = _checked_key(suffix, digest) if digest is not None else None
        if key is None or key not in self.known:
            return False
        self.used.add(key)
        return True

    def remember(self, keys: set[str]) -> None:
        """Add the keys of checks made elsewhere (by :meth:`check` in a chapter-reading
        worker, on this user's cache secret) and write them, for the build's link stage."""
        if self.path is not None and not keys <= self.known:
            self.known |= keys
            self._write(self.known)

    def save(self) -> None:
        """Keep the checks this build used, and forget the rest."""
        if self.path is not None and self.used != self.known:
            self._write(self.used)

    def _write(self, keys: set[str]) -> None:
        assert self.path is not None
        keep(self.path, json.dumps({"format": FORMAT, "checked": sorted(keys)}).encode("utf-8"), "the image checks")


@cache
def fontconfig_state() -> str:
    """The fontconfig caches' files, sizes and times: installing or removing a font changes them."""
    parts = []
    for folder in (Path("/var/cache/fontconfig"), user_cache_folder() / "fontconfig"):
        try:
            entries = sorted((entry.name, entry.stat().st_size, entry.stat().st_mtime_ns) for entry in os.scandir(folder))
        except OSError:
            entries = []
        parts.append(f"{folder}:{entries}")
    return "\0".join(parts)


def derived_file(folder: Path | None, kind: str, parts: list[str], make: Callable[[], bytes]) -> bytes:
    """``make()``, kept in the cache folder under a keyed hash of ``parts`` (with bookbuild's
    code) and reused while they are the same; always made afresh without a cache."""
    if folder is None or cache_secret() is None:
        return make()
    path = folder / kind / keyed_hash(kind, *parts)
    kept = read_entry(path)
    if kept is not None:
        return kept
    data = make()
    if keep(path, data, kind):
        prune_folder(path.parent, {path.stem}, ("",))  # one entry of each kind: the last one made
    return data


def _checked_key(suffix: str, digest: str) -> str:
    """The name of an image check: the image's suffix and the SHA-256 of its bytes, keyed."""
    return keyed_hash("checked image", suffix.lower(), digest)

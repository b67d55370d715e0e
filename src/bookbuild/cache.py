"""Incremental rebuilds: parsed chapters kept in ``.bookbuild-cache/`` beside book.toml.

Reading a chapter is pure (house rule 8): its result depends only on the chapter file, its
place in the book, the options and the code that parses it. So a parsed chapter is stored
under a key hashing all of those, and reused while the key matches. A wrong hit would
silently build an out-of-date book, the worst failure here, so the key errs on the side of
missing: it covers

* the chapter's bytes, absolute path, index and title override;
* the bookbuild version and the bytes of bookbuild's own code (a developer's edit counts),
  plus the installed distributions next to the parsing libraries (an upgrade counts);
* the book's metadata and format options, and every stylesheet (shared and the book's);
* a cache format number, bumped whenever the entries change shape.

An entry also lists the images its chapter shows, with their hashes; an entry whose images
changed (or appeared, or went away) is a miss. It keeps the warnings the chapter gave when it
was parsed (raw HTML cleaned, control characters removed, ...) and replays them on a hit, so a
cached build says what an uncached one says. A chapter that includes other files
(``{{#include ...}}``) is never cached: the key cannot see the included files. The folder is safe to delete at any time,
entries are written atomically, and any unreadable entry is simply a miss. Entries are JSON,
never pickle: a cache folder shipped inside someone else's book must not run code. Nor may it
smuggle content past the HTML cleaning: keys are keyed hashes (HMAC) with a secret kept in the
user's own cache folder (``$XDG_CACHE_HOME/bookbuild/cache-key``), so an entry written
elsewhere never matches; and a cache folder that is a symlink (or lies outside the book) is
not used at all, so the cache never reads or writes outside the book folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import html
import importlib.util
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from . import model
from .errors import Diagnostic, Location, Reporter
from .manifest import ChapterEntry, Manifest
from .resources import PACKAGE_DIR, is_external, split_reference, stylesheet

CACHE_DIR_NAME = ".bookbuild-cache"
FORMAT = 2
# Libraries whose behaviour shapes a parsed chapter; their installed versions are in the key.
PARSING_LIBRARIES = ("markdown_it", "mdit_py_plugins", "lxml", "yaml")
SHARED_SHEETS = ("base.css", "epub.css", "print.css")
_IMG_SRC = re.compile(r"<img\b[^>]*?\ssrc=\"([^\"]*)\"")
_MODEL_TYPES = {cls.__name__: cls for cls in (model.Heading, model.Footnote, model.Asset, model.Part, model.Chapter)}

logger = logging.getLogger(__name__)

# A parsed chapter and the warnings its reader gave.
Parsed = tuple[model.Chapter, list[Diagnostic]]
# read(entry, index, reporter, manifest): see api.ChapterReader
ChapterReader = Callable[[ChapterEntry, int, Reporter, Manifest], model.Chapter]
_INCLUDE = re.compile(rb"\{\{#(rustdoc_)?include\b")


def cache_dir(manifest: Manifest) -> Path | None:
    """Where a book's cache lives: beside its book.toml; None when that place is not safe to use
    (a symlink or a file there, as a hostile book might ship) or no cache secret can be had."""
    folder = manifest.root / CACHE_DIR_NAME
    root = manifest.root.resolve()
    for path in (folder, *(folder / name for name in ("chapters", "deflate", "pdf", "cover", "transforms", "epub", "code"))):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            return None
        if path.exists() and not path.resolve().is_relative_to(root):
            return None
    return folder if cache_secret() is not None else None


@cache
def cache_secret() -> bytes | None:
    """This user's random key for cache entries, made on first use (None: no caching)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "bookbuild" / "cache-key"
    try:
        return path.read_bytes()[:32] or None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(os.urandom(32))
        return path.read_bytes()[:32]
    except FileExistsError:  # another build made it first
        return path.read_bytes()[:32] or None
    except OSError:
        return None


class ChapterCache:
    """The parsed-chapter entries of one book, for one build's context (code, options, CSS)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        folder = cache_dir(manifest)
        self.enabled = folder is not None
        self.folder = (folder or manifest.root / CACHE_DIR_NAME) / "chapters"
        self.context = context_fingerprint(manifest)
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def key(self, entry: ChapterEntry, index: int, source: bytes) -> str:
        """The hash naming the entry for this chapter in this context."""
        digest = hmac.new(cache_secret() or b"", digestmod=hashlib.sha256)
        for part in (self.context, working_folder(), str(entry.path.resolve()), str(index), repr(entry.title)):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(source).digest())
        return digest.hexdigest()

    def lookup(self, entry: ChapterEntry, index: int) -> tuple[str | None, Parsed | None]:
        """The entry's key (None: this chapter is not cached) and, on a hit, the chapter and the
        warnings it gave when it was parsed."""
        try:
            source = entry.path.read_bytes()
        except OSError:
            return None, None  # the reader reports the problem with its location
        if not self.enabled or _INCLUDE.search(source):
            return None, None
        key = self.key(entry, index, source)
        self.used.add(key)
        cached = self._load(key, entry)
        if cached is None:
            self.misses += 1
        else:
            self.hits += 1
        return key, cached

    def put(self, key: str | None, parsed: Parsed) -> None:
        """Keep a freshly parsed chapter (and its warnings) under ``key`` from :meth:`lookup`."""
        if key is not None:
            self._store(key, *parsed)

    def get(self, entry: ChapterEntry, index: int, reporter: Reporter, read: ChapterReader) -> model.Chapter:
        """The cached chapter if its key and images still match, else ``read`` it and store it."""
        key, cached = self.lookup(entry, index)
        if cached is None:
            recorder = Reporter()
            try:
                cached = (read(entry, index, recorder, self.manifest), recorder.warnings)
            finally:
                replay(recorder.warnings, reporter)
            self.put(key, cached)
        else:
            replay(cached[1], reporter)
        return cached[0]

    def _load(self, key: str, entry: ChapterEntry) -> Parsed | None:
        try:
            data = loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if data.get("key") != key or data.get("format") != FORMAT:
                return None
            if any(file_digest(self.manifest.root / name) != digest for name, digest in data["images"]):
                return None
            chapter = data["chapter"]
            warnings = [Diagnostic("warning", message, Location(file, line, col), hint)
                        for message, file, line, col, hint in data["warnings"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(chapter, model.Chapter):
            return None
        return chapter.replace(source=entry.path), warnings

    def _store(self, key: str, chapter: model.Chapter, warnings: list[Diagnostic]) -> None:
        images = [[name, file_digest(self.manifest.root / name)] for name in image_dependencies(chapter, self.manifest)]
        recorded = [[w.message, w.location.file, w.location.line, w.location.col, w.hint] for w in warnings]
        data = {"format": FORMAT, "key": key, "images": images, "warnings": recorded, "chapter": encode(chapter)}
        try:
            write_atomically(self.folder / f"{key}.json", json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError as exc:  # a read-only book folder still builds, just never incrementally
            logger.debug("cannot write the chapter cache: %s", exc)

    def prune(self) -> None:
        """Drop entries this build did not use, so the folder does not grow without end."""
        if self.enabled:
            prune_folder(self.folder, self.used, (".json",))


def prune_folder(folder: Path, used: set[str], suffixes: tuple[str, ...]) -> None:
    """Delete the entries (files with these suffixes) whose names this build did not use."""
    try:
        paths = list(folder.iterdir())
    except OSError:
        return
    for path in paths:
        if path.suffix in suffixes and path.stem not in used:
            path.unlink(missing_ok=True)


def replay(warnings: list[Diagnostic], reporter: Reporter) -> None:
    """Hand recorded warnings to the build's reporter, as if they were given now."""
    for warning in warnings:
        reporter.warn(warning.message, warning.location.file, warning.location.line,
                      warning.location.col, warning.hint)


def working_folder() -> str:
    """The folder the build runs in: recorded warnings name files relative to it, so the
    entries that replay warnings are keyed by it too."""
    try:
        return str(Path.cwd().resolve())
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
    ]
    sheets = [stylesheet(name) for name in SHARED_SHEETS] + list(manifest.styles)
    parts += [f"{path}:{file_digest(path)}" for path in sheets]
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


@cache
def code_fingerprint() -> str:
    """bookbuild's own sources and templates, and the distributions beside the parsing libraries."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in {".py", ".html", ".xhtml"} and path.is_file():
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    for folder in sorted(_library_folders()):
        try:
            names = sorted(name for name in os.listdir(folder) if name.endswith((".dist-info", ".egg-info")))
        except OSError:
            names = []
        digest.update(f"{folder}:{','.join(names)}".encode() + b"\0")
    return digest.hexdigest()


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
    digest = hmac.new(cache_secret() or b"", digestmod=hashlib.sha256)
    for part in (f"format {FORMAT}", code_fingerprint(), *parts):
        digest.update(hashlib.sha256(part.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()


def code_file(folder: Path, chapter: Path) -> Path | None:
    """Where a chapter file's highlighted code blocks are kept (sources/code.py), in the
    book's cache ``folder``; None when this user has no cache secret."""
    if cache_secret() is None:
        return None
    return folder / "code" / f"{keyed_hash('code blocks of', str(chapter.resolve()))}.json"


def file_digest(path: Path) -> str | None:
    """The SHA-256 of a file, or None when it cannot be read (a missing image is a state too)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def image_dependencies(chapter: model.Chapter, manifest: Manifest) -> list[str]:
    """The local images a parsed chapter shows, as paths relative to the book folder."""
    names = set()
    root = manifest.root.resolve()
    for src in _IMG_SRC.findall(chapter.body):
        src = html.unescape(src)
        if not src or is_external(src):
            continue
        path, _fragment = split_reference(src)
        if not path:
            continue
        target = Path(os.path.normpath(chapter.source.parent / path))
        if target.is_relative_to(root):
            names.add(target.relative_to(root).as_posix())
    return sorted(names)


def encode(value: Any) -> Any:
    """Model values as JSON: dataclasses tagged with their type, paths tagged, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def loads(text: str) -> Any:
    """The inverse of ``json.dumps(encode(value))``; lists come back as tuples, as the model
    keeps them. Decoded as it is parsed: the parser calls
    :func:`_decoded` on each object, innermost first (a tenth of a rebuild was a recursive
    decode in Python)."""
    return json.loads(text, object_hook=_decoded)


def _decoded(value: dict) -> Any:
    items = {name: _tuples(item) for name, item in value.items()}
    if "__path__" in items:
        return Path(items["__path__"])
    if "__dict__" in items:
        return {key: item for key, item in items["__dict__"]}
    if "__type__" in items:
        cls = _MODEL_TYPES[items.pop("__type__")]
        return cls(**items)
    return items


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def write_atomically(target: Path, data: bytes) -> None:
    """Write beside the target, then rename: a reader never sees half an entry."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


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
        if self.path is not None and not self.path.is_symlink():
            try:
                entry = json.loads(self.path.read_text(encoding="utf-8"))
                if entry.get("format") == FORMAT:
                    self.known = {key for key in entry["checked"] if isinstance(key, str)}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass

    def check(self, data: bytes, suffix: str, check: Callable[[bytes, str], bytes]) -> bytes:
        """``check(data, suffix)``, unless these bytes passed it before."""
        if self.path is None or suffix.lower() == ".svg":
            return check(data, suffix)
        digest = hmac.new(cache_secret() or b"", digestmod=hashlib.sha256)
        for part in (f"format {FORMAT}", code_fingerprint(), suffix.lower()):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(data).digest())
        key = digest.hexdigest()
        if key not in self.known:
            data = check(data, suffix)  # raises for a bad image: nothing remembered
        self.used.add(key)
        return data

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
        try:
            write_atomically(self.path, json.dumps({"format": FORMAT, "checked": sorted(keys)}).encode("utf-8"))
        except OSError as exc:
            logger.debug("cannot write the image checks: %s", exc)


@cache
def fontconfig_state() -> str:
    """The fontconfig caches' files, sizes and times: installing or removing a font changes them."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    parts = []
    for folder in (Path("/var/cache/fontconfig"), home / "fontconfig"):
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
    if not path.is_symlink():
        try:
            return path.read_bytes()
        except OSError:
            pass
    data = make()
    try:
        write_atomically(path, data)
        for other in path.parent.iterdir():  # one entry of each kind: the last one made
            if other.name != path.name and not other.name.startswith("."):
                other.unlink(missing_ok=True)
    except OSError as exc:
        logger.debug("cannot keep %s: %s", kind, exc)
    return data

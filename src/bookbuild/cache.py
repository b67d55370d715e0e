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
changed (or appeared, or went away) is a miss. The folder is safe to delete at any time,
entries are written atomically, and any unreadable entry is simply a miss. Entries are JSON,
never pickle: a cache folder shipped inside someone else's book must not run code.
"""

from __future__ import annotations

import dataclasses
import hashlib
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
from .manifest import ChapterEntry, Manifest
from .resources import PACKAGE_DIR, is_external, split_reference, stylesheet

CACHE_DIR_NAME = ".bookbuild-cache"
FORMAT = 1
# Libraries whose behaviour shapes a parsed chapter; their installed versions are in the key.
PARSING_LIBRARIES = ("markdown_it", "mdit_py_plugins", "lxml", "yaml")
SHARED_SHEETS = ("base.css", "epub.css", "print.css")
_IMG_SRC = re.compile(r"<img\b[^>]*?\ssrc=\"([^\"]*)\"")
_MODEL_TYPES = {cls.__name__: cls for cls in (model.Heading, model.Footnote, model.Asset, model.Chapter)}

logger = logging.getLogger(__name__)

ChapterReader = Callable[[ChapterEntry, int], model.Chapter]


def cache_dir(manifest: Manifest) -> Path:
    """Where a book's cache lives: beside its book.toml."""
    return manifest.root / CACHE_DIR_NAME


def read_chapters(manifest: Manifest, read: ChapterReader | None = None, *,
                  enabled: bool = True) -> tuple[model.Chapter, ...]:
    """Every chapter of the book, parsed by ``read`` or taken from the cache when unchanged.

    The readers (markdown-it and friends) are imported only when a chapter must be parsed.
    """
    read = read or _read_chapter
    if not enabled:
        return tuple(read(entry, index) for index, entry in enumerate(manifest.chapters, start=1))
    store = ChapterCache(manifest)
    chapters = tuple(store.get(entry, index, read) for index, entry in enumerate(manifest.chapters, start=1))
    store.prune()
    return chapters


def _read_chapter(entry: ChapterEntry, index: int) -> model.Chapter:
    from .sources import read_chapter

    return read_chapter(entry, index)


class ChapterCache:
    """The parsed-chapter entries of one book, for one build's context (code, options, CSS)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.folder = cache_dir(manifest) / "chapters"
        self.context = context_fingerprint(manifest)
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def key(self, entry: ChapterEntry, index: int, source: bytes) -> str:
        """The hash naming the entry for this chapter in this context."""
        digest = hashlib.sha256()
        for part in (self.context, str(entry.path.resolve()), str(index), repr(entry.title)):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(source).digest())
        return digest.hexdigest()

    def get(self, entry: ChapterEntry, index: int, read: ChapterReader) -> model.Chapter:
        """The cached chapter if its key and images still match, else ``read`` it and store it."""
        try:
            source = entry.path.read_bytes()
        except OSError:
            return read(entry, index)  # the reader reports the problem with its location
        key = self.key(entry, index, source)
        self.used.add(key)
        chapter = self._load(key, entry)
        if chapter is not None:
            self.hits += 1
            return chapter
        self.misses += 1
        chapter = read(entry, index)
        self._store(key, chapter)
        return chapter

    def _load(self, key: str, entry: ChapterEntry) -> model.Chapter | None:
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if data.get("key") != key or data.get("format") != FORMAT:
                return None
            if any(file_digest(self.manifest.root / name) != digest for name, digest in data["images"]):
                return None
            chapter = decode(data["chapter"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(chapter, model.Chapter):
            return None
        return chapter.replace(source=entry.path)

    def _store(self, key: str, chapter: model.Chapter) -> None:
        images = [[name, file_digest(self.manifest.root / name)] for name in image_dependencies(chapter, self.manifest)]
        data = {"format": FORMAT, "key": key, "images": images, "chapter": encode(chapter)}
        try:
            write_atomically(self.folder / f"{key}.json", json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError as exc:  # a read-only book folder still builds, just never incrementally
            logger.debug("cannot write the chapter cache: %s", exc)

    def prune(self) -> None:
        """Drop entries this build did not use, so the folder does not grow without end."""
        try:
            names = list(self.folder.iterdir())
        except OSError:
            return
        for path in names:
            if path.suffix == ".json" and path.stem not in self.used:
                path.unlink(missing_ok=True)


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


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`; lists come back as tuples, as the model keeps them."""
    if isinstance(value, list):
        return tuple(decode(item) for item in value)
    if isinstance(value, dict):
        if "__path__" in value:
            return Path(value["__path__"])
        if "__dict__" in value:
            return {decode(k): decode(v) for k, v in value["__dict__"]}
        cls = _MODEL_TYPES[value["__type__"]]
        return cls(**{name: decode(item) for name, item in value.items() if name != "__type__"})
    return value


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

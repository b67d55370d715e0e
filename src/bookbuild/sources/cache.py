"""Incremental rebuilds: parsed chapters kept in ``.bookbuild-cache/chapters.pack``.

Reading a chapter is pure (house rule 8): its result depends only on the chapter file, its
place in the book, the options and the code that parses it. So a parsed chapter is stored
under a key hashing all of those, and reused while the key matches. A wrong hit would
silently build an out-of-date book, the worst failure here, so the key errs on the side of
missing: it covers

* the chapter's bytes, absolute path, index and title override;
* the bookbuild version and the bytes of bookbuild's own code (a developer's edit counts),
  plus the installed distributions next to the parsing libraries (an upgrade counts);
* the book's metadata and format options, and every stylesheet (shared and the book's);
* the working folder, since the warnings an entry replays name files relative to it;
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
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import cache, model
from ..cache import (
    FORMAT,
    cache_dir,
    cache_secret,
    context_fingerprint,
    file_digest,
    working_folder,
)
from ..cache.packs import EntryPack
from ..config.manifest import ChapterEntry, Manifest
from ..errors import BookError, Diagnostic, Location, Reporter
from ..files import by_identity, read_book_file
from ..resources import is_external, real_path, split_reference

_IMG_SRC = re.compile(r"<img\b[^>]*?\ssrc=\"([^\"]*)\"")
_MODEL_TYPES = {cls.__name__: cls for cls in (model.Heading, model.Footnote, model.Asset, model.Part, model.Chapter)}
_INCLUDE = re.compile(rb"\{\{#(rustdoc_)?include\b")

# A parsed chapter and the warnings its reader gave.
Parsed = tuple[model.Chapter, list[Diagnostic]]
# read(entry, index, reporter, manifest): see api.ChapterReader
ChapterReader = Callable[[ChapterEntry, int, Reporter, Manifest], model.Chapter]


class ChapterCache:
    """The parsed-chapter entries of one book, for one build's context (code, options, CSS)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        folder = cache_dir(manifest)
        self.enabled = folder is not None
        self.pack = EntryPack(folder, "chapters")
        self.context = context_fingerprint(manifest)
        self.hits = 0
        self.misses = 0

    def key(self, entry: ChapterEntry, index: int, source_digest: bytes) -> str:
        """The hash naming the entry for this chapter in this context (``source_digest``: the
        SHA-256 of the chapter file's bytes)."""
        digest = hmac.new(cache_secret() or b"", digestmod=hashlib.sha256)
        for part in (self.context, working_folder(), real_path(entry.path), str(index), repr(entry.title),
                     entry.kind, entry.ids):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(source_digest)
        return digest.hexdigest()

    def lookup(self, entry: ChapterEntry, index: int) -> tuple[str | None, Parsed | None]:
        """The entry's key (None: this chapter is not cached) and, on a hit, the chapter and the
        warnings it gave when it was parsed."""
        try:
            source_digest, includes = source_facts(entry.path, self.manifest.root)
        except BookError:
            return None, None  # the reader reports the problem with its location
        if not self.enabled or includes:
            return None, None
        key = self.key(entry, index, source_digest)
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
                report_again(recorder.warnings, reporter)
            self.put(key, cached)
        else:
            report_again(cached[1], reporter)
        return cached[0]

    def _load(self, key: str, entry: ChapterEntry) -> Parsed | None:
        raw = self.pack.get(key)
        if raw is None:
            return None
        remembered = _DECODED.get(key, raw)
        if remembered is not None:  # the very bytes this process read or wrote: decoded already
            images, chapter, warnings = remembered  # type: ignore[misc]
        else:
            try:
                data = loads(raw.decode("utf-8"))
                if data.get("key") != key or data.get("format") != FORMAT:
                    return None
                images = tuple((name, digest) for name, digest in data["images"])
                chapter = data["chapter"]
                warnings = [Diagnostic("warning", message, Location(file, line, col), hint)
                            for message, file, line, col, hint in data["warnings"]]
            except (OSError, ValueError, KeyError, TypeError):
                return None
            if not isinstance(chapter, model.Chapter):
                return None
            _DECODED.put(key, raw, (images, chapter, warnings))
        if any(cache.remembered_digest(self.manifest.root / name, self.manifest.root) != digest
               for name, digest in images):
            return None
        return chapter.replace(source=entry.path), list(warnings)

    def _store(self, key: str, chapter: model.Chapter, warnings: list[Diagnostic]) -> None:
        images = [[name, file_digest(self.manifest.root / name, self.manifest.root)]
                  for name in image_dependencies(chapter, self.manifest)]
        recorded = [[w.message, w.location.file, w.location.line, w.location.col, w.hint] for w in warnings]
        data = {"format": FORMAT, "key": key, "images": images, "warnings": recorded, "chapter": encode(chapter)}
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.pack.put(key, raw)
        _DECODED.put(key, raw, (tuple((name, digest) for name, digest in images), chapter, list(warnings)))

    def save(self) -> None:
        """Keep the entries this build used or made, and only those: the pack does not grow
        without end."""
        self.pack.save()


# Entries this process decoded (the preview, build --watch): the images each lists are
# checked on every use all the same
_DECODED = cache.DecodedEntries()


def source_facts(path: Path, root: Path) -> tuple[bytes, bool]:
    """The SHA-256 of a chapter file's bytes, and whether it includes other files; remembered by
    the file's identity (files.by_identity), so a running process (``build --watch``) does not
    read every chapter of the book again to find the one that changed."""
    def facts() -> tuple[bytes, bool]:
        source = read_book_file(path, root, "chapter")
        return hashlib.sha256(source).digest(), _INCLUDE.search(source) is not None

    return by_identity(_SOURCES, path, facts, str(root))


_SOURCES: dict[tuple, tuple[bytes, bool]] = {}


def report_again(warnings: list[Diagnostic], reporter: Reporter) -> None:
    """Hand recorded warnings to the build's reporter, as if they were given now."""
    for warning in warnings:
        reporter.warn(warning.message, warning.location.file, warning.location.line,
                      warning.location.col, warning.hint)


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
    """Model values as JSON: dataclasses tagged with their type, paths tagged, tuples as lists.

    The model's own types are looked up first, and a dataclass's field names kept per type:
    asking ``dataclasses`` for them at each of a large book's ten thousand values was most of
    the encoding."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [encode(item) for item in value]
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {"__type__": kind.__name__, **{name: encode(getattr(value, name)) for name in names}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(value))
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


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


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

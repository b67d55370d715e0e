"""The transforms' per-chapter memo: a rebuild after one chapter edit transforms that chapter only.

Every stage walks the chapters in reading order and carries book-wide state: the ids taken,
the figure and table counters, the assets in order of first use, the labels. So a chapter's
transformed result depends on its own parsed content and on what the other chapters put
into that state, their *exports*: structure (id, number, kind, part, matter), title,
headings, file path, footnote ids, every id in the body, the numbered figures, tables and
equations, and the images with the bytes of each file. Nothing else of another chapter is
read by any stage (their prose, their links, their code).

The memo hashes the exports of every chapter into one *book digest*. A chapter's entry is
keyed by the build's context (code, options, metadata, stylesheets: cache.py), the book
digest and the chapter's own content. So an edit that changes no export (a paragraph, a
sentence, a new link) leaves every other chapter's entry valid; an edit that changes an
export (a heading, an id, a figure, an image) misses every entry and the book is transformed
in full. A wrong hit would be the worst bug a cache can have: the digest errs on the side of
missing, and tests/test_transform_memo.py checks each export.

A long-running process (the preview, ``build --watch``) also keeps the entries it read or made
in memory with their bytes (cache.DecodedEntries): an entry file that still holds those bytes is
not decoded again. Image digests are remembered by file identity (cache.remembered_digest).

On a hit a stage does not parse the chapter: it advances its state from what the entry
recorded (ids taken, numbered things, image sources) and replays the warnings that stage
gave for it, so state, output and warnings are exactly those of a full run. Entries are JSON
named by keyed hashes (HMAC with the user's cache secret), as every entry in cache.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

from lxml import etree

from ..cache import (
    DecodedEntries,
    cache_secret,
    context_fingerprint,
    keyed_hash,
    remembered_digest,
    working_folder,
)
from ..cache.packs import EntryPack
from ..config import BuildContext
from ..errors import BookError, Diagnostic, Location, Reporter
from ..model import Book, Chapter, Footnote, Heading
from ..resources import is_external, real_path, resolve_in_book, split_reference
from ..xhtml import iter_elements
from .bodies import Bodies, numbered_kind
from .glossary_marks import glossary_exports, may_refer


@dataclass
class Transformed:
    """What the stages made of one chapter, and what a hit needs to advance their state."""

    body: str = ""
    notes: tuple[str, ...] = ()  # footnote bodies, in the chapter's order
    headings: tuple[Heading, ...] = ()
    anchors: tuple[tuple[str, str], ...] = ()
    title_id: str = ""
    images: tuple[str, ...] = ()  # asset hrefs
    taken: tuple[str, ...] = ()  # ids the chapter added to the book's taken ids
    numbered: tuple[tuple[str, str | None], ...] = ()  # (kind, id) of each numbered thing
    image_sources: tuple[str, ...] = ()  # local images resolved, in order (the assets' order)
    warnings: dict[str, list[Diagnostic]] = field(default_factory=dict)


class TransformMemo:
    """The memo of one build; a disabled one (no cache folder, remote fetching) never hits."""

    def __init__(self, book: Book, build: BuildContext, bodies: Bodies) -> None:
        self.entries: dict[str, Transformed] = {}  # chapter id -> hit
        self.made: dict[str, Transformed] = {}  # chapter id -> what this build records
        self.keys: dict[str, str] = {}  # chapter id -> entry key
        self.exports: dict[str, list] = {}  # chapter id -> tree_exports (the glossary stage reads them)
        self.pack: EntryPack | None = None
        if build.cache_dir is None or build.config.allow_remote or cache_secret() is None:
            return
        self.pack = EntryPack(build.cache_dir, "transforms")
        context = context_fingerprint(build.config)
        exports = _Exports(self.pack, bodies)
        digest = hashlib.sha256(context.encode())
        contents = {}
        for chapter in book.chapters:
            contents[chapter.id] = content = content_digest(chapter)
            self.exports[chapter.id] = tree = exports.of(chapter, content)
            digest.update(_chapter_exports(book, chapter, tree).encode() + b"\0")
        exports.save()
        book_digest = digest.hexdigest()
        for chapter in book.chapters:
            key = _mac(context, working_folder(), book_digest, contents[chapter.id])
            self.keys[chapter.id] = key
            entry = self._load(key)
            if entry is not None:
                self.entries[chapter.id] = entry

    def stored(self, chapter: Chapter) -> Transformed | None:
        """The chapter's recorded result, when it is valid for this build."""
        return self.entries.get(chapter.id)

    def entry(self, chapter: Chapter) -> Transformed:
        """Where the stages note what they did to a chapter they transformed."""
        return self.made.setdefault(chapter.id, Transformed())

    @contextmanager
    def stage(self, chapter: Chapter, name: str, reporter: Reporter) -> Iterator[Reporter]:
        """A reporter for one stage's work on one chapter that keeps its warnings for replay."""
        recorder = Reporter(sink=lambda d: reporter.warn(d.message, d.location.file, d.location.line,
                                                         d.location.col, d.hint))
        yield recorder
        self.entry(chapter).warnings[name] = recorder.warnings

    def report_warnings(self, entry: Transformed, name: str, reporter: Reporter) -> None:
        """The warnings a stage gave for a chapter when its entry was made."""
        for d in entry.warnings.get(name, ()):
            reporter.warn(d.message, d.location.file, d.location.line, d.location.col, d.hint)

    def save(self, book: Book) -> None:
        """Keep what this build transformed, and forget entries it did not use."""
        if self.pack is None:
            return
        for chapter in book.chapters:
            made = self.made.get(chapter.id)
            if made is None or chapter.id in self.entries:
                continue
            made = replace(made, body=chapter.body, notes=tuple(n.body for n in chapter.footnotes),
                           headings=chapter.headings, anchors=chapter.anchors, title_id=chapter.title_id,
                           images=chapter.images)
            self._store(self.keys[chapter.id], made)
        self.pack.save()  # with the entries this build used, and only those

    def _load(self, key: str) -> Transformed | None:
        assert self.pack is not None
        raw = self.pack.get(key)
        if raw is None:
            return None
        remembered = _DECODED.get(key, raw)
        if remembered is not None:  # the very bytes this process read or wrote: decoded already
            return remembered  # type: ignore[return-value]
        try:
            data, texts = _split_entry(raw)
            if data.get("key") != key:
                return None
            warnings = {name: [Diagnostic("warning", m, Location(f, line, col), hint)
                               for m, f, line, col, hint in items]
                        for name, items in data["warnings"].items()}
            entry = Transformed(
                body=texts[0], notes=texts[1:],
                headings=tuple(Heading(level, text, hid) for level, text, hid in data["headings"]),
                anchors=tuple((a, b) for a, b in data["anchors"]), title_id=data["title_id"],
                images=tuple(data["images"]), taken=tuple(data["taken"]),
                numbered=tuple((kind, nid) for kind, nid in data["numbered"]),
                image_sources=tuple(data["image_sources"]), warnings=warnings,
            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None
        _DECODED.put(key, raw, entry)
        return entry

    def _store(self, key: str, made: Transformed) -> None:
        assert self.pack is not None
        texts = [text.encode("utf-8") for text in (made.body, *made.notes)]
        data = {
            "key": key, "sizes": [len(text) for text in texts],
            "headings": [[h.level, h.text, h.id] for h in made.headings],
            "anchors": [list(a) for a in made.anchors], "title_id": made.title_id,
            "images": list(made.images), "taken": list(made.taken),
            "numbered": [list(n) for n in made.numbered], "image_sources": list(made.image_sources),
            "warnings": {name: [[d.message, d.location.file, d.location.line, d.location.col, d.hint]
                                for d in items] for name, items in made.warnings.items()},
        }
        raw = b"\n".join((json.dumps(data, ensure_ascii=False).encode("utf-8"), *texts))
        self.pack.put(key, raw)
        _DECODED.put(key, raw, made)


def _split_entry(raw: bytes) -> tuple[dict, tuple[str, ...]]:
    """An entry's JSON line, and the body and notes after it as they are (``sizes`` bytes each,
    after a newline): as JSON strings, a large book's bodies took 10 ms to write and as long to
    read, each quotation mark of their markup escaped (ValueError when it does not add up)."""
    end = raw.index(b"\n")
    data = json.loads(raw[:end])
    texts, at = [], end
    for size in data["sizes"]:
        if raw[at:at + 1] != b"\n" or not isinstance(size, int) or size < 0 or at + 1 + size > len(raw):
            raise ValueError("damaged entry")
        texts.append(raw[at + 1:at + 1 + size].decode("utf-8"))
        at += 1 + size
    if at != len(raw) or not texts:
        raise ValueError("damaged entry")
    return data, tuple(texts)


# Entries (by key) and the exports (by _EXPORTS) this process decoded, with their bytes
_DECODED = DecodedEntries()


_EXPORTS = "exports"  # the pack's entry of every chapter content's exports, so a hit needs no parse


class _Exports:
    """The exports read from a chapter's tree (ids, numbered things, image sources), kept by
    content digest: they depend on nothing else, and finding them needs a parse."""

    def __init__(self, pack: EntryPack, bodies: Bodies) -> None:
        self.pack = pack
        self.bodies = bodies
        self.known: dict[str, list] = {}
        self.used: dict[str, list] = {}
        raw = pack.get(_EXPORTS) or b"{}"
        remembered = _DECODED.get(_EXPORTS, raw)
        if remembered is not None:  # the bytes this process read or wrote last
            self.known = dict(remembered)  # type: ignore[call-overload]
            return
        try:
            for name, (value, mac) in json.loads(raw).items():
                if hmac.compare_digest(mac, _mac(name, json.dumps(value))):  # the file's value: not from memory
                    self.known[name] = value
        except (ValueError, TypeError, AttributeError):
            pass
        _DECODED.put(_EXPORTS, raw, dict(self.known))

    def of(self, chapter: Chapter, content: str) -> list:
        name = _exports_name(content)
        value = self.known.get(name)
        if value is None:
            value = tree_exports(self.bodies.chapter(chapter), may_refer(chapter.body))
        self.used[name] = value
        return value

    def save(self) -> None:
        if self.used == self.known:
            return
        data = {name: [value, _value_mac(name, value)] for name, value in self.used.items()}
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.pack.put(_EXPORTS, raw)
        _DECODED.put(_EXPORTS, raw, dict(self.used))


def _exports_name(content: str) -> str:
    """The name of a content's exports in exports.json."""
    return _keyed_exports_name(cache_secret(), content)


@lru_cache(maxsize=8192)
def _keyed_exports_name(secret: bytes | None, content: str) -> str:
    """Remembered with the secret the name is keyed by."""
    return _mac("exports", content)


def _value_mac(name: str, value: list) -> str:
    """The tag of one exports.json entry. An entry's value is a function of its content, which
    its name is a keyed hash of, so the tag is remembered by name: saving the file after one
    edit does not hash every entry again."""
    mac = _VALUE_MACS.get(name)
    if mac is None:
        if len(_VALUE_MACS) >= 8192:
            _VALUE_MACS.clear()
        mac = _VALUE_MACS[name] = _mac(name, json.dumps(value))
    return mac


_VALUE_MACS: dict[str, str] = {}


def tree_exports(wrapper: etree._Element, refers: bool = True) -> list:
    """What the stages read from a chapter's body on behalf of the other chapters: every id
    (and whether it calls a note), every numbered thing, every image source, in order; the
    terms it defines and those it refers to (glossary.py: they make the glossary's back-links)."""
    ids = [[node.get("id"), node.get("role") == "doc-noteref"] for node in iter_elements(wrapper) if node.get("id")]
    numbered = [[kind, node.get("id")] for node in wrapper.iter("figure", "table", "div")
                if (kind := numbered_kind(node)) is not None]
    images = [node.get("src") or "" for node in wrapper.iter("img")]
    return [ids, numbered, images, glossary_exports(wrapper, refers)]  # terms and references (glossary.py)


def content_digest(chapter: Chapter) -> str:
    """The chapter as the stages receive it: parsed content and structure (every field).

    Remembered by the chapter's value: a long-running process (the preview, ``build --watch``)
    hands the same bodies to every build, and a string keeps its hash, so finding an unchanged
    chapter costs a lookup where hashing every body was a twelfth of a preview's rebuild."""
    try:
        return _remembered_content_digest(chapter)
    except TypeError:  # a field that cannot be hashed: no memory of it
        return _content_digest(chapter)


@lru_cache(maxsize=4096)
def _remembered_content_digest(chapter: Chapter) -> str:
    return _content_digest(chapter)


def _content_digest(chapter: Chapter) -> str:
    digest = hashlib.sha256()
    for name in _CHAPTER_FIELDS:
        value = getattr(chapter, name)
        if name == "footnotes":
            for note in value:
                digest.update(repr((note.id, note.number, note.ref_ids)).encode() + b"\0")
                digest.update(note.body.encode("utf-8", "surrogatepass") + b"\0")
            value = len(value)
        # Text as it is (repr would copy a whole body to escape it), tagged by type.
        text = value if isinstance(value, str) else repr(value)
        digest.update(type(value).__name__.encode() + b":" + text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


_CHAPTER_FIELDS = tuple(f.name for f in fields(Chapter))
if {f.name for f in fields(Footnote)} != {"id", "number", "ref_ids", "body"}:  # pragma: no cover
    raise AssertionError("content_digest must hash every field of Footnote")


def _chapter_exports(book: Book, chapter: Chapter, tree: list) -> str:
    """One chapter's share of the book digest: its structure, headings, notes, tree exports,
    and each image it shows as the link stage would find it (resolved path and bytes)."""
    fields = [chapter.id, chapter.index, real_path(chapter.source), chapter.title, chapter.title_id,
              chapter.kind, repr(chapter.part), chapter.matter, chapter.number, repr(chapter.headings),
              [[n.id, n.number, list(n.ref_ids)] for n in chapter.footnotes], tree]
    images = []
    for src in tree[2]:
        if not src or is_external(src):
            images.append(src)
            continue
        try:
            path = resolve_in_book(book.root, chapter.source.parent, split_reference(src)[0], what="image")
            images.append([str(path), remembered_digest(path, book.root)])
        except BookError as exc:
            images.append([src, exc.diagnostic.message])
    fields.append(images)
    return json.dumps(fields, ensure_ascii=False)


def _mac(*parts: str) -> str:
    return keyed_hash("transforms", *parts)

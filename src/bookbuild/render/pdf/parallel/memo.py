"""The join's memo: each piece's part of the joined file, kept between builds (join.py).

A rebuild after editing one chapter takes every other piece from the cache of laid-out
pieces (cache.py), but joining them renumbered every object of every piece again: 1.9 s of
the 3.9 s rebuild of the large benchmark book. So the join numbers a piece's objects from
a ``base`` of its own and leaves room after them (join.OBJECTS_STEP), and its structure
parent keys likewise (join.KEYS_STEP); the font dictionaries have numbers reserved before
the first piece (fonts.py). A piece whose objects keep their count then leaves the numbers
of every piece after it as they were, and a piece's part of the file (its streams and
object streams, and where each object is in them) depends only on its PDF, its base, its
first key, and the fonts met before it. The memo keeps each part under a name made of
those (an HMAC with the user's cache secret, as every cache entry: cache.keyed_hash), with
what the book-wide objects need of the piece and what it said of its fonts, and the join
writes it again as it was. The font programs the pieces embed (by SHA-256, checked when
read) and the merged programs (by name, from the programs merged: fonts.py) are kept too,
so that an unchanged font is not merged again.

A piece renumbered as it was drawn (drawn.py: an edit before it added pages) differs from
the piece it was made from only in some content streams; its part is that piece's kept part
with those streams written anew (:func:`renumbered_part`). For that part to be at hand, the
join numbers each piece from where the last build did (``slots.json``) unless a piece before
it has outgrown the room it left, which is half as many numbers again as it used.

Entries live in ``.bookbuild-cache/pdf-join/``; unreadable, damaged or a link means a miss.
Without a cache folder the memo still serves the build itself: a join that starts again
(a piece laid out anew after it was joined) writes the other pieces' parts as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ....cache import keep, keyed_hash, prune_folder, read_entry

FOLDER = "pdf-join"
SLOTS = "slots.json"  # in FOLDER: each piece's base and first structure key in the last build
_HEAD = 8  # bytes of an entry's length of JSON, before the JSON and the part's bytes


class JoinMemo:
    """The kept parts of one book's joined PDF (see the module's docstring)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.folder = cache_dir / FOLDER if cache_dir is not None else None
        self.parts: dict[str, tuple[dict, bytes]] = {}  # made in this build, by name
        self.programs: dict[str, bytes] = {}  # font programs met in this build, by SHA-256
        self.merged_programs: dict[str, bytes] = {}  # merged in this build, by name
        self.used: set[str] = set()  # names this build's file is made of
        self.fonts: dict[str, list] = {}  # the fonts of every part read or made, by name
        self.pieces: set[str] = set()  # the first half of every kept part's name
        # where each piece's objects and structure keys were numbered from, by its index in the
        # book: the last build's (read) and this one's (written by save)
        self.slots: dict[int, tuple[int, int]] = {}
        self.new_slots: dict[int, tuple[int, int]] = {}
        # the entries in the folder: found there, or written by this build (_write)
        self.on_disk: set[str] = set()
        self.writable = self.folder is not None
        if self.folder is not None:
            self.slots = _read_slots(self.folder / SLOTS)
            try:
                self.on_disk = set(os.listdir(self.folder))
            except OSError:
                pass
            self.pieces = {name[:32] for name in self.on_disk if name.endswith(".chunk")}

    @staticmethod
    def _piece(digest: str) -> str:
        return keyed_hash("pdf join piece", digest)[:32]

    def name(self, digest: str, *where: str) -> str:
        """The name of a piece's part: its PDF's SHA-256, and where it goes (base, first key,
        fonts met)."""
        return self._piece(digest) + keyed_hash("pdf join part", *where)[:32]

    def has(self, result: dict) -> bool:
        """Whether some part of this piece, or of the piece it was renumbered from (drawn.py),
        is kept (then reading it ahead is likely wasted)."""
        digests = [hashlib.sha256(result["pdf"]).hexdigest()]
        if result.get("made from"):
            digests.append(result["made from"]["pdf"])
        pieces = [self._piece(digest) for digest in digests]
        return any(piece in self.pieces or any(name.startswith(piece) for name in self.parts) for piece in pieces)

    def get(self, name: str) -> tuple[dict, bytes] | None:
        """A kept part: (what the join needs of it, its bytes)."""
        found = self.parts.get(name)
        if found is None and self.folder is not None and name[:32] in self.pieces:
            found = _read_part(self.folder / f"{name}.chunk")
        if found is not None:
            self.used.add(name)
            self.fonts[name] = found[0]["fonts"]
        return found

    def put(self, name: str, meta: dict, data: bytes) -> None:
        """Keep a part made by the join, and write it to the folder now: the join runs while
        the workers lay out (join.BackgroundJoin), and what is written then is not left for
        :meth:`save`, after the last layout. Written at the end, a cold build's six hundred
        entries of the large benchmark book took 0.2 to 0.45 s with both workers idle."""
        meta = {**meta, "data": hashlib.sha256(data).hexdigest()}
        self.parts[name] = (meta, data)
        self.used.add(name)
        self.fonts[name] = meta["fonts"]
        self.on_disk.discard(f"{name}.chunk")  # there, it was damaged (get missed it): written again
        self._write_part(name)

    def _write_part(self, name: str) -> None:
        meta, data = self.parts[name]
        payload = json.dumps(meta, separators=(",", ":")).encode("utf-8")
        self._write(f"{name}.chunk", len(payload).to_bytes(_HEAD, "big") + payload + data, "the joined PDF's parts")

    def _write(self, file_name: str, data: bytes, what: str) -> None:
        """Write an entry once (a name is its content's); nothing more once the folder
        refuses one (a read-only cache)."""
        if self.writable and file_name not in self.on_disk:
            assert self.folder is not None
            self.writable = keep(self.folder / file_name, data, what)
            self.on_disk.add(file_name)

    def renumbered(self, name: str, made_from: dict | None, where: tuple[str, ...]) -> tuple[dict, bytes] | None:
        """The part ``name`` of a piece renumbered as drawn (drawn.py), made from the kept part
        of the piece it was made ``from``, at the same place; None when none is kept."""
        if not made_from:
            return None
        old = self.name(made_from["pdf"], *where)
        kept = self.get(old)
        self.used.discard(old)  # kept only if this file uses it as it is
        part = renumbered_part(*kept, made_from["streams"]) if kept is not None else None
        if part is not None:
            self.put(name, *part)
        return part

    def restart(self) -> None:
        """The join starts again: only the parts it then uses are kept."""
        self.used = set()

    def forget(self) -> None:
        """Drop every kept entry (a kept part's font program went missing): the join starts
        again from the pieces alone, and keeps its new parts."""
        self.used, self.fonts, self.pieces = set(), {}, set()
        self.parts.clear()
        self.merged_programs.clear()
        if self.folder is not None:
            prune_folder(self.folder, set(), (".chunk", ".font", ".merged"))
            self.on_disk = {name for name in self.on_disk if not name.endswith((".chunk", ".font", ".merged"))}

    # the font programs (fonts.Programs)
    def keep_program(self, digest: str, data: bytes) -> None:
        """Keep a font program a piece embeds, written now (see :meth:`put`)."""
        self.programs.setdefault(digest, data)
        self._write(f"{digest}.font", data, "a font program")

    def program(self, digest: str) -> bytes | None:
        data = self.programs.get(digest)
        if data is None and self.folder is not None:
            data = read_entry(self.folder / f"{digest}.font")
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                return None
        return data

    def merged_name(self, parts: list[str]) -> str:
        return keyed_hash("pdf join merged font", *parts)

    def merged(self, name: str) -> bytes | None:
        data = self.merged_programs.get(name)
        if data is None and self.folder is not None:
            data = read_entry(self.folder / f"{name}.merged")
        if data is not None:
            self.merged_programs[name] = data
        return data

    def merged_kept(self) -> bool:
        """Whether the folder holds merged programs (a rebuild: the join's fonts are then
        likely merged already, fonts.FontMerger)."""
        return any(name.endswith(".merged") for name in self.on_disk) or bool(self.merged_programs)

    def keep_merged(self, name: str, data: bytes) -> None:
        self.merged_programs[name] = data

    def save(self) -> None:
        """Write what this build's file is made of, and drop every other entry."""
        if self.folder is None:
            return
        if not keep(self.folder / SLOTS, json.dumps(sorted(self.new_slots.items())).encode("utf-8"),
                    "the joined PDF's slots"):
            return  # a read-only cache: nothing more is written
        for name in sorted(self.used & self.parts.keys()):  # written by put unless the folder refused
            self._write_part(name)
        fonts = {use[-1] for name in self.used for use in self.fonts[name]}
        for digest in sorted(fonts & self.programs.keys()):
            self._write(f"{digest}.font", self.programs[digest], "a font program")
        for name, data in self.merged_programs.items():
            self._write(f"{name}.merged", data, "a merged font program")
        prune_folder(self.folder, self.used | fonts | set(self.merged_programs), (".chunk", ".font", ".merged"))


def renumbered_part(meta: dict, data: bytes, streams: list[tuple[bytes, bytes]]) -> tuple[dict, bytes] | None:
    """The kept part (``meta``, ``data``) of a piece, for the piece renumbered from it
    (drawn.py): each content stream ``before`` written ``after``, with its ``/Length``, and the
    offsets of the objects past it moved. None when a stream is not found once, as the join
    writes it (pdf_file.PdfFile.put_stream)."""
    cut = meta["rows"]
    body, rows = data[:cut], data[cut:]
    edits = []
    for before, after in streams:
        at = body.find(before)
        if at < 0 or body.find(before, at + 1) >= 0:
            return None
        head = body.rfind(b"/Length ", max(0, at - 32), at)
        if head < 0 or body[head:at] != b"/Length %d>>\nstream\n" % len(before):
            return None
        edits.append((head, at + len(before), b"/Length %d>>\nstream\n%s" % (len(after), after)))
    edits.sort()
    pieces, done = [], 0
    for start, end, replaced in edits:
        pieces += [body[done:start], replaced]
        done = end
    pieces.append(body[done:])
    new_body = b"".join(pieces)

    def moved(offset: int) -> int:  # an object starts before its own stream's /Length
        return offset + sum(len(replaced) - (end - start) for start, end, replaced in edits if start < offset)

    placed = [[number, moved(offset)] for number, offset in meta["placed"]]
    return {**meta, "rows": len(new_body), "placed": placed}, new_body + rows


def _read_slots(path: Path) -> dict[int, tuple[int, int]]:
    raw = read_entry(path)
    try:
        rows = json.loads(raw) if raw is not None else []
        return {int(index): (int(base), int(keys)) for index, (base, keys) in rows}
    except (ValueError, TypeError):
        return {}


def _read_part(path: Path) -> tuple[dict, bytes] | None:
    raw = read_entry(path)
    if raw is None or len(raw) < _HEAD:
        return None
    length = int.from_bytes(raw[:_HEAD], "big")
    try:
        meta = json.loads(raw[_HEAD:_HEAD + length])
        data = raw[_HEAD + length:]
        if not isinstance(meta, dict) or meta.get("data") != hashlib.sha256(data).hexdigest():
            return None
    except ValueError:
        return None
    return meta, data

"""Cache entries of one kind in one file: ``<kind>.pack`` in ``.bookbuild-cache/``.

A cold build of a long book made some six hundred entries (a parsed chapter, a transformed
one, its EPUB document, its highlighted code, two deflated members, for every chapter). On
ext4 without a journal, which skips every inode freed in the last minute when it looks for a
free one, making a file right after a cache was emptied cost up to a millisecond of the
kernel's time: on the benchmark's machine, a third of a second of a two-second build. A
pack is one file for all the entries of a kind, read once and written once per build.

The file is a header line, then for each entry its name and size on a line and its bytes.
Names are keyed hashes (cache.keyed_hash, HMAC with the user's cache secret), so an entry
from a pack that someone else made, or shipped in a book, never matches; what each kind
keeps in an entry is its own (each checks its key, or a tag, as it did for one file each).
A pack that cannot be read, or is damaged anywhere, is empty: every entry a miss.

A build keeps the entries it used or made and nothing else, so a pack holds one book's
entries, as the folders did after their pruning. Writing is atomic (cache.keep); two builds
of one book at once each write their own entries, and the last pack wins, at worst a miss.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from ..files import file_identity, settled
from . import PACKS, cache_secret, keep, read_entry

MAGIC = b"bookbuild-pack 1\n"


class EntryPack:
    """The entries of one ``kind`` (cache.PACKS) in the book's cache ``folder``: :meth:`get`
    and :meth:`put` by name, :meth:`save` at the end of the build's stage. Without a folder,
    or a cache secret, it keeps nothing (``path`` is None)."""

    def __init__(self, folder: Path | None, kind: str) -> None:
        if kind not in PACKS:  # cache.cache_dir checks those places: a pack elsewhere would escape it
            raise ValueError(f"not a kind of pack: {kind}")
        self.path = folder / f"{kind}.pack" if folder is not None and cache_secret() is not None else None
        self.what = f"the {kind} pack"
        self._read: dict[str, bytes] | None = None  # the pack's entries, read at the first look
        self.used: dict[str, bytes] = {}  # what this build used or made
        self._lock = threading.Lock()  # entries are made on the deflating threads too

    def get(self, name: str) -> bytes | None:
        """The entry's bytes (None: a miss); it stays in the pack when it is saved."""
        data = self.used.get(name)
        if data is None and self.path is not None:
            data = self.entries().get(name)
            if data is not None:
                with self._lock:
                    self.used[name] = data
        return data

    def put(self, name: str, data: bytes) -> None:
        if self.path is not None:
            with self._lock:
                self.used[name] = data

    def save(self) -> bool:
        """Write the entries this build used or made, unless they are what the pack holds."""
        if self.path is None:
            return False
        with self._lock:
            used = dict(sorted(self.used.items()))
        read = self.entries()
        if used.keys() == read.keys() and all(read[name] is data or read[name] == data for name, data in used.items()):
            return False
        pieces = [MAGIC]
        for name, data in used.items():
            pieces += (b"%s %d\n" % (name.encode("ascii"), len(data)), data)
        raw = b"".join(pieces)
        if not keep(self.path, raw, self.what):
            return False
        self._read = used
        _remember(self.path, file_identity(self.path), used)  # its bytes are ours: no need to wait
        return True

    def entries(self) -> dict[str, bytes]:
        if self._read is None:
            self._read = _entries(self.path) if self.path is not None else {}
        return self._read


# The packs this process wrote or read, by path: (the file's identity then, its entries). A
# running process (build --watch, the preview) reads a pack again only when the file is not
# the one it wrote or read: reading and cutting up the large book's 12 MB of packs was 2 ms of
# every one-chapter rebuild. Never the only copy of anything: a file that changed is read.
_KNOWN: dict[str, tuple[tuple, dict[str, bytes]]] = {}


def _entries(path: Path) -> dict[str, bytes]:
    identity = file_identity(path)
    known = _KNOWN.get(str(path))
    if identity is not None and known is not None and known[0] == identity:
        return known[1]
    entries = _parse(path)
    if identity is not None and settled(identity) and file_identity(path) == identity:
        _remember(path, identity, entries)  # read whole while it did not change, and old enough to stay
    return entries


def _remember(path: Path, identity: tuple | None, entries: dict[str, bytes]) -> None:
    if identity is None:
        _KNOWN.pop(str(path), None)
        return
    if len(_KNOWN) >= 64:
        _KNOWN.clear()
    _KNOWN[str(path)] = (identity, entries)


def _parse(path: Path) -> dict[str, bytes]:
    """The entries of the pack at ``path``; none when it is missing or damaged. Read and cut
    up once per build unless this process knows the file (:func:`_entries`); a running process
    (the preview, ``build --watch``) also keeps what it decoded from an entry's bytes by kind
    (cache.DecodedEntries)."""
    raw = read_entry(path, remember=False)
    if raw is None:
        return {}
    entries: dict[str, bytes] = {}
    view = memoryview(raw)
    if not raw.startswith(MAGIC):
        return {}
    at = len(MAGIC)
    while at < len(raw):
        end = raw.find(b"\n", at, at + 200)
        try:
            name, size = raw[at:end].decode("ascii").split(" ")
            count = int(size)
        except ValueError:
            return {}
        if end < 0 or count < 0 or end + 1 + count > len(raw):
            return {}
        entries[name] = bytes(view[end + 1:end + 1 + count])
        at = end + 1 + count
    return entries


def remove_folders_before_packs(folder: Path) -> None:
    """Delete the folders an older bookbuild kept the packs' kinds in, a file an entry, in
    the cache ``folder``: 14 MB on the large benchmark book, never read again. A link in their place is left as
    it is, and nothing is followed out of the cache (``shutil.rmtree`` unlinks links inside)."""
    for name in PACKS:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)

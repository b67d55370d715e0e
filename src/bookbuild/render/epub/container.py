"""The EPUB container: a reproducible zip whose deflated members can come from a cache.

Deflating is a pure function of a member's bytes, and on a rebuild after one chapter edit
almost every member is byte-for-byte what it was; compressing them again was a quarter of
the rebuild. So each member's raw deflate stream is kept in the cache under a keyed hash
of its bytes, with a tag only this user's build could have made for that stream.
:mod:`zipfile` cannot write already-compressed data, hence this small writer; it produces
a plain zip (no zip64, no extra fields) any reader accepts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import struct
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ...cache import cache_secret, keyed_hash
from ...cache.packs import EntryPack

LEVEL = 6  # zlib's default: level 9 took 35% longer for 1% smaller text
_VERSION = 20  # "2.0": deflate
_MADE_BY = (3 << 8) | _VERSION  # Unix, so the permission bits below are honoured
_MODE = 0o644 << 16
_UTF8_NAME = 0x800


class DeflateCache:
    """Raw deflate streams of member bytes, in the ``deflate.pack`` of the book's cache
    ``folder``, each named by a keyed hash of the bytes.

    An entry is a tag and the stream: the tag is an HMAC (the user's cache secret) of the name
    and the stream's SHA-256, so a damaged entry, or one that a book shipped in its cache
    folder, is a miss. Checking the tag hashes the compressed stream; decompressing it to
    compare, as before, was a measurable part of a rebuild.
    """

    def __init__(self, folder: Path | None) -> None:
        self.pack = EntryPack(folder, "deflate")
        self.started: dict[bytes, Future[bytes]] = {}  # member bytes -> their stream, being made
        self.names: dict[bytes, str] = {}  # member bytes -> the name of their stream in the cache
        self.digests: dict[bytes, bytes] = {}  # member bytes -> their SHA-256
        self.present: set[str] | None = None  # the names in the folder when first asked
        self.pool: ThreadPoolExecutor | None = None
        self.cores = os.cpu_count() or 1  # asked once: it reads /sys, and start() is called per member

    def start(self, data: bytes) -> None:
        """Begin deflating ``data`` on a thread now, for :meth:`deflate` to find made: the
        EPUB's documents are deflated while the next ones are rendered, on the core that the
        chapters' readers have left idle, not all at the end (a fifth of a second of a cold
        build of the large benchmark book). A stream kept in the cache is left to be read then."""
        if len(data) < _EARLY or data in self.started or self.cores < 2:
            return
        if self._digest(data) in _STREAMS or (self.pack.path is not None and self._name(data) in self._present()):
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(min(4, self.cores), thread_name_prefix="bookbuild-deflate")
        self.started[data] = self.pool.submit(self._deflate, data)

    def close(self) -> None:
        """Let the threads go (every started stream was taken, or is dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        self.started.clear()
        self.names.clear()
        self.digests.clear()
        self.present = None

    def deflate(self, data: bytes) -> bytes:
        """The raw deflate stream of ``data``, from the cache when these bytes were seen before."""
        started = self.started.pop(data, None)
        if started is not None:
            return started.result()
        return self._deflate(data)

    def remembered(self, data: bytes) -> bytes | None:
        """The stream of ``data`` if this process read or made it before (None: ask
        :meth:`deflate`); put back in the cache folder if it is gone from there, for the next
        process."""
        if data in self.started:
            return None
        stream = _STREAMS.get(self._digest(data))
        if stream is not None and self.pack.path is not None:
            name = self._name(data)
            if self.pack.get(name) is None:  # the cache was emptied while this process ran
                self.pack.put(name, _tag(name, stream) + stream)
        return stream

    def _deflate(self, data: bytes) -> bytes:
        remembered = self.remembered(data)
        if remembered is not None:
            return remembered
        digest = self._digest(data)
        if self.pack.path is None:
            return _remember(digest, _deflate(data))
        name = self._name(data)
        cached = self.pack.get(name)
        if cached is not None and hmac.compare_digest(cached[:_TAG], _tag(name, cached[_TAG:])):
            return _remember(digest, cached[_TAG:])
        compressed = _deflate(data)
        self.pack.put(name, _tag(name, compressed) + compressed)
        return _remember(digest, compressed)

    def _digest(self, data: bytes) -> bytes:
        digest = self.digests.get(data)
        if digest is None:
            digest = self.digests[data] = hashlib.sha256(data).digest()
        return digest

    def _present(self) -> set[str]:
        if self.present is None:
            self.present = set(self.pack.entries())
        return self.present

    def _name(self, data: bytes) -> str:
        name = self.names.get(data)
        if name is None:
            name = self.names[data] = keyed_hash("deflate", self._digest(data).hex(), str(LEVEL))
        return name

    def save(self) -> None:
        """Keep the streams this build used or made, and forget the others: the pack does
        not grow without end."""
        self.pack.save()


# The streams this process read or made, by the SHA-256 of their member's bytes: a long-running
# process (build --watch, the preview) deflates or reads each member once, not on every build
# (reading and checking the large book's 210 streams was a sixth of a one-chapter rebuild).
# Deflating is a pure function of the bytes, so nothing but memory is trusted. At most _KEPT_BYTES.
_STREAMS: dict[bytes, bytes] = {}
_KEPT_BYTES = 64 * 1024 * 1024
_kept = [0]


def _remember(digest: bytes, stream: bytes) -> bytes:
    if _kept[0] + len(stream) > _KEPT_BYTES:
        _STREAMS.clear()
        _kept[0] = 0
    if _STREAMS.setdefault(digest, stream) is stream:
        _kept[0] += len(stream)
    return stream


# Members kept as they are, not deflated: the mimetype (OCF: first and stored), and files that
# deflating cannot make smaller (a photograph again took its CPU time for 0.1% of its size).
# Not PNG: its rows are deflated one filter at a time, and deflating the file again made the
# generated cover 16% smaller. Not GIF (LZW) either.
_COMPRESSED = (".jpg", ".jpeg", ".webp", ".woff", ".woff2")


def stored(name: str) -> bool:
    """Whether the zip keeps the member ``name`` as it is."""
    return name == "mimetype" or name.lower().endswith(_COMPRESSED)


_TAG = 32
_EARLY = 4096  # smaller members are deflated when the zip is written: a thread costs more


def _tag(name: str, stream: bytes) -> bytes:
    return hmac.new(cache_secret() or b"", name.encode() + hashlib.sha256(stream).digest(), hashlib.sha256).digest()


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _payloads(members: list[tuple[str, bytes, bool]], deflater: DeflateCache) -> list[bytes]:
    """The members' bytes as stored: those this process has made before at once, the others
    deflated on threads (zlib lets go of the GIL), which halves the deflating of a large book
    on two cores."""
    payloads = [data if stored else deflater.remembered(data) for _name, data, stored in members]
    todo = [index for index, payload in enumerate(payloads) if payload is None]  # not made by this process yet

    def made(index: int) -> bytes:
        return deflater.deflate(members[index][1])

    threads = min(4, deflater.cores)
    if threads < 2 or len(todo) < 8:
        streams: Iterable[bytes] = map(made, todo)
    else:
        with ThreadPoolExecutor(threads) as pool:
            streams = list(pool.map(made, todo))
    for index, stream in zip(todo, streams):
        payloads[index] = stream
    return payloads  # type: ignore[return-value]


def write_zip(members: Iterable[tuple[str, bytes, bool]], modified: dt.datetime, deflater: DeflateCache) -> bytes:
    """A zip of ``(name, data, stored)`` members in the given order, every timestamp ``modified``."""
    stamp = max(modified, dt.datetime(1980, 1, 1))
    dos_time = (stamp.hour << 11) | (stamp.minute << 5) | (stamp.second // 2)
    dos_date = ((stamp.year - 1980) << 9) | (stamp.month << 5) | stamp.day
    body = bytearray()
    directory = bytearray()
    count = 0
    members = list(members)
    for (name, data, stored), payload in zip(members, _payloads(members, deflater)):
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8_NAME
        method = 0 if stored else 8
        crc = zlib.crc32(data)
        fields = (_VERSION, flags, method, dos_time, dos_date, crc, len(payload), len(data), len(encoded))
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded + payload
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _MADE_BY, *fields, 0, 0, 0, 0, _MODE, offset)
        directory += encoded
        count += 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    deflater.close()
    deflater.save()
    return bytes(body + directory + end)

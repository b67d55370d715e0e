"""The EPUB's generated cover, drawn in a forked process from the first moment of a cold build.

Until the chapter readers start (sources/pool.py), a build runs on one core: imports, the
manifest, compiling the code blocks' lexers. The other core is idle. Drawing the cover there
takes it out of the reading, when two readers and the main process already share the two
cores (its 0.16 CPU s made the readers' chapters take twice their CPU time in wall time on
the medium benchmark book). This module imports nothing heavy: the child imports the EPUB
renderer and Pillow itself.

A process is forked only when it is safe and pays: POSIX, no other thread in this process
(``build --watch`` and the preview run threads, and fork copies their locks), and no cover
kept in the book's cache (a rebuild reads it back in a millisecond). Anything that goes wrong
in the child is drawn again in this process, which then reports it as a build would.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..config.manifest import Manifest


class ForkedCover:
    """The cover being drawn by a child process; :meth:`result` has its PNG bytes."""

    def __init__(self, pid: int, pipe: int, manifest: Manifest, cache_dir: Path | None) -> None:
        self.pid, self.pipe, self.manifest, self.cache_dir = pid, pipe, manifest, cache_dir
        self.data: bytes | None = None

    def result(self) -> bytes:
        if self.data is None:
            chunks = []
            while chunk := os.read(self.pipe, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
            _, status = self._end()
            if status != 0 or not data:  # drawn again here: a failure is reported as it would be
                from .epub import generated_cover

                data = generated_cover(self.manifest, self.cache_dir)
            self.data = data
        return self.data

    def close(self) -> None:
        """A build that ends without the cover: the child is told (its pipe closed) and reaped."""
        if self.pid:
            self._end()

    def _end(self) -> tuple[int, int]:
        os.close(self.pipe)
        ended = os.waitpid(self.pid, 0)
        self.pid = 0
        return ended


def fork_cover(manifest: Manifest, cache_dir: Path | None) -> ForkedCover | None:
    """Start drawing the generated cover in a child process, or None when that is not done
    here (see the module's text): the reading's thread draws it then (render/epub)."""
    if manifest.cover is not None or not manifest.epub.generate_cover or not hasattr(os, "fork"):
        return None
    if threading.active_count() > 1 or (cache_dir is not None and _kept(cache_dir / "cover")):
        return None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw, send, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read)
            from .epub import generated_cover

            data = generated_cover(manifest, cache_dir)
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return ForkedCover(pid, read, manifest, cache_dir)


def _kept(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError:
        return False

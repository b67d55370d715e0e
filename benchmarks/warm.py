"""One-chapter rebuilds in a running process: what ``--watch`` does after a save.

Two ways (``--via``):
  api    A cold build (cache deleted) runs first and is timed too; then, in the same
         process, each round edits one chapter (halfway through the book) and builds again
         through the Python API, as the watch loop does. Each rebuild is timed from the call
         to its return.
  watch  The real loop: ``bookbuild FORMAT BOOK -o OUT --watch`` runs as a command of its
         own (its first build cold, timed from its start to the output on disk); each round
         saves the edited chapter and times, from the moment the file is written and closed
         to the moment the new output is in place (the file renamed over the old one: a new
         inode), what an author waits for after saving: the watcher's notice and debounce,
         the build, the write. The first round warms up and is dropped.

Two kinds of edit (``--edit``):
  word   one word of a paragraph replaced by another of the same length: the chapter's page
         count stays (what most edits are)
  pages  about 1,500 words appended: the chapter grows by pages and every later one moves

Prints one JSON object: the cold build's seconds and each rebuild's.

Usage: python benchmarks/warm.py BOOK --format epub [--edit word] [--via api] [--rounds 5] [--out DIR]
(benchmarks/run.py runs it for the rows "... rebuild in a running process" and "... under --watch").
"""

from __future__ import annotations

import argparse
import json
import re
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

EDIT_CHAPTER = 0.5  # as benchmarks/run.py
WATCH_WARM_UP = 1  # rounds of the watch loop timed but dropped
# after a new output, the build may still be saving its cache: the next save waits this long
SETTLE = {"epub": 0.3, "pdf": 1.0}


def edited_text(original: str, edit: str, number: int) -> str:
    """The chapter with edit ``number`` made (each round's edit differs from the last)."""
    if edit == "pages":
        words = " ".join(f"grown{number}x{i}" for i in range(1500))
        return original + f"\n\nAn added passage: {words}.\n"
    # the first plain word of six letters in a paragraph line, changed to another six-letter word
    lines = original.split("\n")
    for index, line in enumerate(lines):
        if line and line[0].isalpha() and not line.startswith(("#", "!", "|")):
            match = re.search(r"\b[a-z]{6}\b", line)
            if match:
                word = f"w{number % 100000:05d}"
                lines[index] = line[:match.start()] + word + line[match.end():]
                return "\n".join(lines)
    raise SystemExit("no paragraph word to change in the edited chapter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("--format", choices=("epub", "pdf"), default="epub")
    parser.add_argument("--edit", choices=("word", "pages"), default="word")
    parser.add_argument("--via", choices=("api", "watch"), default="api")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bookbuild-warm"))
    args = parser.parse_args()

    import bookbuild

    chapters = sorted((args.book / "chapters").glob("*.md"))
    chapter = chapters[int(len(chapters) * EDIT_CHAPTER)]
    original = chapter.read_text(encoding="utf-8")
    output = args.out / f"{args.via}.{args.format}"
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(args.book / ".bookbuild-cache", ignore_errors=True)
    if args.via == "watch":
        try:
            cold, rebuilds = watched(args.book, args.format, args.edit, args.rounds, chapter, original, output)
        finally:
            chapter.write_text(original, encoding="utf-8")
        json.dump({"cold": cold, "rebuilds": rebuilds}, sys.stdout)
        print()
        return
    try:
        started = time.perf_counter()
        bookbuild.build(args.book, [args.format], output=output)
        cold = time.perf_counter() - started
        rebuilds = []
        for number in range(args.rounds):
            chapter.write_text(edited_text(original, args.edit, number), encoding="utf-8")
            started = time.perf_counter()
            bookbuild.build(args.book, [args.format], output=output)
            rebuilds.append(time.perf_counter() - started)
            # back to the book as it was: the next round's edit is again one edit from the original
            chapter.write_text(original, encoding="utf-8")
            bookbuild.build(args.book, [args.format], output=output)
    finally:
        chapter.write_text(original, encoding="utf-8")
    json.dump({"cold": cold, "rebuilds": rebuilds}, sys.stdout)
    print()


def watched(book: Path, fmt: str, edit: str, rounds: int, chapter: Path, original: str, output: Path
            ) -> tuple[float, list[float]]:
    """``bookbuild FORMAT --watch`` as a command: the seconds to its first output, and from
    each save of the edited chapter to the new output in place."""
    output.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bookbuild.cli", fmt, str(book), "-o", str(output), "--watch",
                                "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        _wait_for_line(lines, "watching", 600)
        cold = time.perf_counter() - started
        rebuilds = []
        for number in range(WATCH_WARM_UP + rounds):
            time.sleep(SETTLE[fmt])
            before = _identity(output)
            chapter.write_text(edited_text(original, edit, number), encoding="utf-8")
            saved = time.perf_counter()
            _wait_for_new(output, before, process)
            if number >= WATCH_WARM_UP:
                rebuilds.append(time.perf_counter() - saved)
            time.sleep(SETTLE[fmt])
            before = _identity(output)
            chapter.write_text(original, encoding="utf-8")  # the next round's edit is again one edit from it
            _wait_for_new(output, before, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return cold, rebuilds


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _wait_for_new(output: Path, before: tuple | None, process: subprocess.Popen, timeout: float = 300) -> None:
    """Until the output is another file than ``before`` (looked at every half millisecond)."""
    deadline = time.monotonic() + timeout
    while _identity(output) == before:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the watching build stopped or never wrote {output}")
        time.sleep(0.0005)


def _wait_for_line(lines: queue.Queue, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise SystemExit(f"no '{text}' from the watching build") from None
        if text in line:
            return


if __name__ == "__main__":
    main()

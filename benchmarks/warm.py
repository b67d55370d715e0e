"""One-chapter rebuilds in a running process: what ``bookbuild build --watch`` does after a save.

A cold build (cache deleted) runs first and is timed too; then, in the same process, each
round edits one chapter (halfway through the book) and builds again through the Python API,
as the watch loop does. Prints one JSON object: the cold build's seconds and each rebuild's.

Two kinds of edit (``--edit``):
  word   one word of a paragraph replaced by another of the same length: the chapter's page
         count stays (what most edits are)
  pages  about 1,500 words appended: the chapter grows by pages and every later one moves

Usage: python benchmarks/warm.py BOOK --format epub [--edit word] [--rounds 5] [--out DIR]
(benchmarks/run.py runs it as the rows "... rebuild in a running process").
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

EDIT_CHAPTER = 0.5  # as benchmarks/run.py


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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bookbuild-warm"))
    args = parser.parse_args()

    import bookbuild

    chapters = sorted((args.book / "chapters").glob("*.md"))
    chapter = chapters[int(len(chapters) * EDIT_CHAPTER)]
    original = chapter.read_text(encoding="utf-8")
    output = args.out / f"warm.{args.format}"
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(args.book / ".bookbuild-cache", ignore_errors=True)
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


if __name__ == "__main__":
    main()

"""The index's cost: the same generated book's cold PDF with N index marks and without (issue 26).

Both books come from one seed, so they differ only by the marks (and the index they make).
Each round builds both cold (``.bookbuild-cache/`` removed), alternating which goes first; each
command is a fresh process timed with its descendants (``os.wait4``, as benchmarks/run.py
does). Medians of wall and CPU time are printed with their ratio.

Usage (from the repository, in a venv with bookbuild installed):
    python benchmarks/index.py --size large --entries 500 --runs 2 --work /tmp/bookbuild-index-bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SIZES, generate  # noqa: E402
from run import measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bookbuild-index-bench"))
    args = parser.parse_args()
    work = args.work.resolve()
    books = {"without": work / f"{args.size}-plain", "with": work / f"{args.size}-index-{args.entries}"}
    for name, folder in books.items():
        if not (folder / "book.toml").is_file():
            generate(args.size, folder, index_entries=args.entries if name == "with" else 0)
    print(f"{args.size} book, {args.entries} index entries, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in books}
    for number in range(args.runs):
        for name in (("without", "with") if number % 2 == 0 else ("with", "without")):
            folder = books[name]
            shutil.rmtree(folder / ".bookbuild-cache", ignore_errors=True)
            command = [sys.executable, "-m", "bookbuild.cli", "-q", "pdf", str(folder), "-o", str(work / f"{name}.pdf")]
            wall, _rss, cpu = measure(command, work)
            samples[name].append((wall, cpu))
            print(f"run {number + 1}: {name:<8} {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
    wall = {name: statistics.median(s[0] for s in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(s[1] for s in runs) for name, runs in samples.items()}
    print(f"median: without {wall['without']:.1f} s, with {wall['with']:.1f} s: time ratio "
          f"{wall['with'] / wall['without']:.2f}x, CPU ratio {cpu['with'] / cpu['without']:.2f}x "
          f"(load average after {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()

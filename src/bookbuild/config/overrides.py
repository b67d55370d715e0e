"""Command-line overrides of book.toml, read by the same table readers as the file.

MkDocs' order: load the file, load the overrides, validate once. An override that the
reader refuses is a usage error naming the flag (exit 2), raised before anything is read
or written; after this, the options are trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

# book.toml key -> the command-line flag that overrides it
FLAGS = {
    ("pdf", "page_size"): "--page-size",
    ("pdf", "chapters"): "--chapters",
    ("pdf", "handout"): "--handout",
    ("pdf", "parallel"): "--parallel/--single-process",
    ("build", "allow_remote"): "--allow-remote",
    ("print", "preset"): "--for",
}


@dataclass(frozen=True)
class Overrides:
    """The options a command line may set over the manifest; None (or False) leaves it alone."""

    page_size: str | None = None
    chapters: str | None = None  # PDF: print only these chapters ("2-3", "1,4", file stems)
    handout: bool = False  # PDF: compact single-sided handout layout
    parallel: bool | None = None  # PDF: chapters in worker processes; None: [pdf] parallel
    allow_remote: bool = False  # fetch http(s) resources (public hosts only)
    printer: str | None = None  # --for kdp|ingramspark: the [print] preset (config/print.py)

    def tables(self) -> dict[str, dict[str, Any]]:
        """The overrides as TOML tables, to merge over the manifest's before it is read."""
        pdf: dict[str, Any] = {}
        if self.page_size is not None:
            pdf["page_size"] = self.page_size
        if self.chapters is not None:
            pdf["chapters"] = self.chapters
        if self.handout:
            pdf["handout"] = True
        if self.parallel is not None:
            pdf["parallel"] = self.parallel
        return {"pdf": pdf, "build": {"allow_remote": True} if self.allow_remote else {}}


class CommandLine:
    """The source of override values, for the table readers: its errors name the flag."""

    name = "command line"

    def error(self, message: str, table: str | None, key: str | None = None,
              needle: str | None = None, hint: str | None = None) -> UsageError:
        flag = FLAGS.get((table or "", key or ""), key or "")
        return UsageError(message.replace(f"[{table}] {key}:", f"{flag}:", 1), hint=hint)

"""Errors and warnings that carry their location.

Library code raises :class:`BookError` and reports warnings through a :class:`Reporter`;
only the CLI prints them (house rule 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in the user's files a diagnostic points."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<book>"]
        if self.line:
            parts.append(str(self.line))
            if self.col:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Diagnostic:
    """One message for the author: an error or a warning, with its location and a hint."""

    severity: str  # "error" or "warning"
    message: str
    location: Location = Location()
    hint: str | None = None

    @classmethod
    def at(cls, severity: str, message: str, file: str | Path | None = None, line: int | None = None,
           col: int | None = None, hint: str | None = None) -> Diagnostic:
        """A diagnostic at ``file:line:col`` (any of them may be unknown)."""
        return cls(severity, message, Location(str(file) if file is not None else None, line, col), hint)

    def format(self) -> str:
        """Compiler-style one line: ``file:line:col: severity: message (hint)``."""
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class BookError(Exception):
    """A mistake in the book's sources or options that stops the build."""

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic.at("error", message, file, line, col, hint)

    def __str__(self) -> str:
        return self.diagnostic.format()

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Every problem this error stands for (one, unless a subclass found several)."""
        return (self.diagnostic,)

    def __reduce__(self):  # noqa: ANN204 - keeps the location when sent from a worker process
        d = self.diagnostic
        return (type(self), (d.message, d.location.file, d.location.line, d.location.col, d.hint))


class ManifestError(BookError):
    """book.toml is missing, malformed or does not match the schema."""


class ManifestErrors(ManifestError):
    """Every problem of one book.toml, found in one run: its errors, and the warnings given
    while reading it, in the order of their lines (``diagnostics``); the first error is the
    message."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        first = next(d for d in diagnostics if d.severity == "error")
        super().__init__(first.message, first.location.file, first.location.line, first.location.col, first.hint)
        self.found = tuple(diagnostics)
        # the book as far as it could be read (config/manifest.py), for `check` to read its
        # chapters all the same; None when the [book] table or its chapters could not be read
        self.partial: object | None = None

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.found

    def __reduce__(self):  # noqa: ANN204 - all of them, when sent from a worker process
        return (type(self), (list(self.found),))


class SourceError(BookError):
    """A chapter or asset cannot be read or parsed."""


class UnreadableFile(SourceError):
    """A book's file that was not read: outside the book folder, not a regular file, too
    large, or gone (files.py). The message names the file."""


class SpecialFile(UnreadableFile):
    """A device, pipe or socket where a book's file should be (``/dev/zero``, a FIFO): never
    opened, and always an error, whichever reader met it: no book has a reason for one."""


class OutputError(BookError):
    """The output cannot be written where it was asked for."""


class UsageError(BookError):
    """A command-line option has a value bookbuild cannot use (exit 2, as click's own usage errors)."""

    def __init__(self, message: str, file: str | Path | None = "command line", line: int | None = None,
                 col: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, file, line, col, hint)


@dataclass
class Reporter:
    """Collects warnings during a build and hands each to an optional sink as it arrives."""

    sink: Callable[[Diagnostic], None] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # gives a warning written with its line but no column the column of what it quotes
    # (files.with_column, set by pipeline.load_config): a build says what `check` says
    column: Callable[[Diagnostic], Diagnostic] | None = None

    def warn(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        """Record a warning; the build goes on."""
        diagnostic = Diagnostic.at("warning", message, file, line, col, hint)
        if self.column is not None and col is None and line is not None:
            diagnostic = self.column(diagnostic)
        if diagnostic in self.diagnostics:
            return
        self.diagnostics.append(diagnostic)
        if self.sink is not None:
            self.sink(diagnostic)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

"""mdBook's include directives, expanded in a chapter's text before it is parsed.

``{{#include file.rs}}``, ``{{#include file.rs:3:10}}`` (lines 3 to 10; either end may be
left out), ``{{#include file.rs:name}}`` (between ``ANCHOR: name`` and ``ANCHOR_END: name``
comment lines, which are themselves dropped from any include) and ``{{#rustdoc_include}}``
(the same here). Paths are relative to the chapter file and must stay in the book folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import BookError, SourceError
from ..files import read_book_file
from ..resources import resolve_in_book

_DIRECTIVE = re.compile(r"\{\{#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
_ANCHOR = re.compile(r"\bANCHOR(_END)?:\s*([\w\-]+)")


class LineMap:
    """Maps a line of the expanded text back to the chapter file: warnings name the line the
    author wrote (an included region maps to its directive's line)."""

    def __init__(self) -> None:
        self.regions: list[tuple[int, int, int]] = []  # (first, last expanded line, directive line)

    def original(self, line: int) -> int:
        shift = 0
        for first, last, directive in self.regions:
            if line < first:
                break
            if line <= last:
                return directive
            shift = last - directive
        return line - shift


def expand_includes(text: str, chapter: Path, root: Path, file: str) -> tuple[str, LineMap]:
    """The chapter text with every include directive replaced by the lines it names."""
    lines = LineMap()
    if "{{#" not in text:
        return text, lines
    added = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal added
        line = text.count("\n", 0, match.start()) + 1
        path, _, selector = match.group(2).partition(":")
        source = resolve_in_book(root, chapter.parent, path, what="include", file=file, line=line,
                                 error=SourceError)
        try:
            raw = read_book_file(source, root, "include")
        except BookError as exc:  # named at the directive that includes it
            raise SourceError(exc.diagnostic.message, file, line, hint=exc.diagnostic.hint) from None
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"include '{path}' cannot be read as UTF-8 text: {exc}", file, line) from None
        included = _select(content, selector, file, line, path)
        extra = included.count("\n")
        lines.regions.append((line + added, line + added + extra, line))
        added += extra
        return included

    return _DIRECTIVE.sub(replace, text), lines


def _select(content: str, selector: str, file: str, line: int, path: str) -> str:
    lines = content.replace("\r\n", "\n").split("\n")
    if content.endswith("\n"):
        lines.pop()
    if not selector:
        chosen = lines
    elif re.fullmatch(r"\d*(:\d*)?", selector):
        start_text, _, end_text = selector.partition(":")
        start = int(start_text) - 1 if start_text else 0
        end = int(end_text) if end_text else (start + 1 if ":" not in selector else len(lines))
        chosen = lines[max(start, 0):end]
    else:
        chosen = _anchored(lines, selector, file, line, path)
    return "\n".join(text for text in chosen if not _ANCHOR.search(text))


def _anchored(lines: list[str], name: str, file: str, line: int, path: str) -> list[str]:
    start = end = None
    for number, text in enumerate(lines):
        match = _ANCHOR.search(text)
        if match and match.group(2) == name:
            if match.group(1) is None and start is None:
                start = number + 1
            elif match.group(1) is not None and start is not None:
                end = number
                break
    if start is None:
        raise SourceError(f"include '{path}': no 'ANCHOR: {name}' line", file, line,
                          hint=f"mark the region with comments ANCHOR: {name} ... ANCHOR_END: {name}")
    return lines[start:end]

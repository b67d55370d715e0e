"""A chapter file's kind, its id, and its text as the readers take it."""

from __future__ import annotations

from pathlib import Path

from ..errors import Reporter, SourceError
from ..files import read_book_file
from ..resources import display_path
from ..xhtml import XML_ILLEGAL

MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def chapter_id(index: int) -> str:
    """The book-wide id of chapter ``index`` (1-based); also its EPUB file stem."""
    return f"ch{index:02d}"


MAX_LINE_CHARS = 1_000_000  # a longer line is not prose; laying it out would take minutes


def read_text(path: Path, reporter: Reporter | None = None, root: Path | None = None) -> str:
    """A chapter file as text: UTF-8 (a BOM is dropped); invalid bytes name their line.

    The file is read inside ``root`` (the book folder; by default the chapter's own folder)
    by the one reader of book files (files.py: regular files only, at most 10 MB).
    Characters XML cannot hold (C0 controls other than tab and newline, U+FFFE/U+FFFF) are
    removed with a warning; absurdly long lines fail cleanly instead of hanging the layout.
    """
    name = display_path(path)
    raw = read_book_file(path, root or path.parent, "chapter")
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError("not valid UTF-8", name, line, hint="save the file as UTF-8") from None
    return _hygiene(text, name, reporter)


def _hygiene(text: str, name: str, reporter: Reporter | None) -> str:
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise SourceError(f"line is longer than {MAX_LINE_CHARS:,} characters", name, number,
                              hint="break it into paragraphs")
    match = XML_ILLEGAL.search(text)
    if match is None:
        return text
    line = text.count("\n", 0, match.start()) + 1
    if reporter is not None:
        reporter.warn(f"control character U+{ord(match.group()):04X} removed (XML cannot hold it)", name, line)
    return XML_ILLEGAL.sub("", text)

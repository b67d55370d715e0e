"""Readers: one chapter file in, one :class:`~bookbuild.model.Chapter` out.

Reading a chapter depends only on that file and its place in the book, so it can be cached
and run in parallel (house rule 8). Book-wide work (unique ids, links) is in transforms/.
Here (from text.py): the chapter files' kinds, their ids and the text reader; :func:`read_chapter` is in
chapter.py, imported when first asked for (it brings markdown-it and Pygments).
"""

from __future__ import annotations

from typing import Any

from .text import HTML_SUFFIXES, MARKDOWN_SUFFIXES, MAX_LINE_CHARS, chapter_id, read_text

__all__ = ["HTML_SUFFIXES", "MARKDOWN_SUFFIXES", "MAX_LINE_CHARS", "chapter_id", "read_chapter", "read_text"]


def __getattr__(name: str) -> Any:
    """:func:`read_chapter` (chapter.py), imported when first asked for."""
    if name == "read_chapter":
        from .chapter import read_chapter

        return read_chapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
